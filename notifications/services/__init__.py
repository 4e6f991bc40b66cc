"""Every write of notifications: emails (``emails``), staff alerts (``alerts``), webhooks (``webhooks``)."""
