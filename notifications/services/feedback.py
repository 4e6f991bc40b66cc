"""Asking customers how their order went: a few days after delivery
(``OMS_FEEDBACK_DELAY_DAYS``) an email invites them to rate it on their order-status page.

Each order is asked once: the outbox message's key and the email's key both name the order,
so the hourly run emitting the same order again writes nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from notifications.enums import NotificationKind
from notifications.models import Notification
from oms.common.outbox import outbox_emit
from orders.enums import OrderStatus
from orders.models import Order, OrderFeedback

# Orders delivered longer ago than the delay plus this are not asked any more (a worker that
# was down for a while catches up on a week, not on the shop's whole history).
CATCH_UP = timedelta(days=7)
BATCH = 1000


def feedback_requests_emit(*, now: datetime | None = None) -> int:
    """Emits ``order.feedback_requested`` for each order delivered between the delay and the
    delay plus a week ago, still delivered (not returned or otherwise moved on), not rated and
    not asked yet. Returns how many it emitted."""
    now = now or timezone.now()
    latest = now - timedelta(days=settings.OMS_FEEDBACK_DELAY_DAYS)
    numbers = list(
        Order.objects.filter(status=OrderStatus.EXECUTED, executed_at__lte=latest, executed_at__gt=latest - CATCH_UP)
        .exclude(customer_email="")
        .exclude(Exists(OrderFeedback.objects.filter(order=OuterRef("pk"))))
        .exclude(Exists(Notification.objects.filter(order=OuterRef("pk"), kind=NotificationKind.FEEDBACK_REQUEST)))
        .order_by("executed_at")
        .values_list("number", flat=True)[:BATCH]
    )
    emitted = 0
    for number in numbers:
        emitted += bool(
            outbox_emit(
                topic="order.feedback_requested",
                key=f"order.feedback_requested:{number}",
                payload={"order": number, "occurred_at": now.isoformat()},
            )
        )
    return emitted
