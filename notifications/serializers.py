"""Input and output shapes of the webhook endpoints. Input and output are separate classes and
carry no business rules: the services validate URLs and event types, so the API and the
admin refuse the same things with the same codes."""

from __future__ import annotations

from rest_framework import serializers

from notifications.enums import DeliveryState, WebhookEventType

EVENT_TYPES_HELP = "Event types to deliver: " + ", ".join(f"`{t}`" for t in WebhookEventType.values) + "."


class EventTypeField(serializers.CharField):
    """An event type, checked by the service (which answers ``unknown_event_type`` with the
    allowed list) rather than by DRF, so the API and the admin refuse it alike."""


# --- input ----------------------------------------------------------------------------------


class WebhookSubscriptionCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the endpoint is, such as `ERP production`.")
    url = serializers.CharField(
        max_length=500, help_text="Where events are POSTed: an http(s) URL. Redirects are not followed."
    )
    event_types = serializers.ListField(child=EventTypeField(max_length=50), help_text=EVENT_TYPES_HELP)
    is_active = serializers.BooleanField(default=True, help_text="false: events are not delivered to it.")


class WebhookSubscriptionUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    url = serializers.CharField(max_length=500, required=False)
    event_types = serializers.ListField(child=EventTypeField(max_length=50), required=False, help_text=EVENT_TYPES_HELP)
    is_active = serializers.BooleanField(
        required=False,
        help_text="false pauses it: events that happen meanwhile are not delivered to it, and deliveries "
        "still being retried become dead.",
    )


# --- output ---------------------------------------------------------------------------------


class WebhookSubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    event_types = serializers.ListField(child=EventTypeField())
    is_active = serializers.BooleanField()
    api_client = serializers.CharField(
        source="api_client.name", allow_null=True, default=None, help_text="The API client that created it, if any."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookSubscriptionSecretOutput(WebhookSubscriptionOutput):
    secret = serializers.CharField(
        help_text="Signs every delivery (`X-OMS-Signature`). Shown only here, when the subscription is created "
        "or its secret rotated: store it now."
    )


class WebhookEventSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField(source="event_id", help_text="The event's id, as in the body's `id`.")
    type = serializers.ChoiceField(choices=WebhookEventType.choices)
    occurred_at = serializers.DateTimeField(help_text="When it happened (the body's `created`).")


class WebhookEventOutput(WebhookEventSummaryOutput):
    data = serializers.JSONField(  # type: ignore[assignment]  # the metaclass turns it into a field
        help_text="The body's `data`: the snapshot taken when it happened."
    )
    created_at = serializers.DateTimeField()


class WebhookAttemptOutput(serializers.Serializer):
    number = serializers.IntegerField(help_text="Counts from 1 over the delivery's life, redeliveries included.")
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="null: no HTTP answer (see `error`).")
    duration_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(help_text="The first 500 characters of the answer's body.")
    error = serializers.CharField(help_text="Empty when the receiver answered 2xx.")


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event = WebhookEventSummaryOutput()
    subscription = serializers.IntegerField(source="subscription_id")
    state = serializers.ChoiceField(choices=DeliveryState.choices)
    attempts = serializers.IntegerField()
    redeliveries = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    dead_at = serializers.DateTimeField(allow_null=True)
    attempts_log = WebhookAttemptOutput(many=True, help_text="Every HTTP call, oldest first.")
