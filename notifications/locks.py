"""Row locks of notifications and webhook deliveries (lock order: docs/architecture.md; each
is taken alone, with no other row of this app held)."""

from __future__ import annotations

from notifications.models import Notification, WebhookDelivery


def lock_notification(notification_id: int) -> Notification | None:
    """The notification (with its order), locked for the rest of the transaction: two resends
    of one email number their copies one after the other. None when there is no such row."""
    return (
        Notification.objects.select_for_update(of=("self",)).select_related("order").filter(pk=notification_id).first()
    )


def lock_webhook_delivery(delivery_id: int) -> WebhookDelivery | None:
    """The delivery, locked for the rest of the transaction (an attempt being logged, a
    redelivery). None when there is no such row."""
    return WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
