"""The webhook REST API: subscriptions, their deliveries with the attempts log, and events."""
