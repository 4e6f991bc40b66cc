"""What the system told people and machines: customer emails and staff alerts
(``Notification``), and integrator webhooks (subscriptions, events snapshotted when they
happened, one delivery per event and subscription with every attempt logged)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from notifications.enums import DeliveryState, NotificationKind, NotificationState


class Notification(models.Model):
    """One email, rendered when it is prepared and kept as sent, so staff read exactly what
    the customer got. ``key`` names its cause: the same cause prepares one notification, and
    a resend is a new notification pointing at the one it repeats."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    recipients = models.JSONField(help_text="Email addresses it goes to.")
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField()
    attach_invoice = models.BooleanField(default=False, help_text="The order's invoice PDF goes with it.")
    message_id = models.CharField(max_length=255, unique=True, help_text="The Message-ID header it is sent with.")
    state = models.CharField(max_length=10, choices=NotificationState.choices, default=NotificationState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["order", "created_at"], name="notification_order_created"),
            models.Index(fields=["state", "created_at"], name="notification_state_created"),
        ]
        permissions = [
            ("resend_notification", "Can resend a notification"),
            ("preview_notification", "Can preview the email templates"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.recipients)}"


class WebhookSubscription(models.Model):
    """An integrator's endpoint and the event types it wants. The secret signs every
    delivery (``X-OMS-Signature``); it is shown when the subscription is created."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    event_types = models.JSONField(help_text="Event types delivered, such as order.created.")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    api_client = models.ForeignKey(
        "common.ApiClient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_subscriptions",
        help_text="The API client that created it, if one did.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} -> {self.url}"


class WebhookEvent(models.Model):
    """Something integrators hear of, with its payload as it was when it happened."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(max_length=200, unique=True, help_text="Its cause: the same cause is one event.")
    type = models.CharField(max_length=50)
    occurred_at = models.DateTimeField()
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["type", "occurred_at"], name="webhook_event_type_time")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event to one subscription: retried with backoff for ``OMS_WEBHOOK_RETRY_HOURS``,
    then dead until someone redelivers it."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    redeliveries = models.PositiveIntegerField(default=0, help_text="Manual redeliveries so far.")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="webhook_delivery_once_per_subscription"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="webhook_delivery_state")]
        permissions = [("redeliver_webhookdelivery", "Can redeliver a webhook delivery")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription_id} ({self.state})"


class WebhookAttempt(models.Model):
    """One HTTP call of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery_id", "attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
