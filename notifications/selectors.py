"""Reads of notifications for the staff pages and the admin: each with the order, the user
who asked for a resend and the notification it repeats joined once, so a page of fifty rows
costs one query."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from notifications.enums import NotificationState
from notifications.models import Notification
from oms.common.errors import NotFound
from orders.models import Order

_RELATED = ("order", "requested_by", "resend_of")


def _notifications() -> QuerySet[Notification]:
    return Notification.objects.select_related(*_RELATED)


def notification_list(
    *, state: str | None = None, kind: str | None = None, q: str | None = None
) -> QuerySet[Notification]:
    """Newest first. ``q`` finds a part of an order number or of a recipient's address (a
    customer calling about an email gives one or the other)."""
    notifications = _notifications()
    if state:
        notifications = notifications.filter(state=state)
    if kind:
        notifications = notifications.filter(kind=kind)
    text = (q or "").strip()
    if text:
        notifications = notifications.filter(Q(order__number__icontains=text) | Q(recipients__icontains=text))
    return notifications


def notifications_undelivered_count() -> int:
    """Failed notifications nobody has resent yet. A resend settles its original whatever
    becomes of it: a resend that fails is counted itself, so an email counts once."""
    resent = Notification.objects.filter(resend_of=OuterRef("pk"))
    return Notification.objects.filter(state=NotificationState.FAILED).exclude(Exists(resent)).count()


def notifications_of_order(number: str) -> QuerySet[Notification]:
    """Every notification of one order, newest first. Raises NotFound ``order_not_found`` when
    no order has the number (an order without notifications yet is an empty list)."""
    if not Order.objects.filter(number=number).exists():
        raise NotFound(f"No order has the number {number}. Check it and try again.", code="order_not_found")
    return _notifications().filter(order__number=number)


def notification_detail(pk: int) -> Notification:
    """One notification with its resends (``resends``, oldest first, each with who asked for
    it). Raises NotFound ``notification_not_found``."""
    resends = Notification.objects.select_related("requested_by").order_by("created_at", "id")
    notification = _notifications().prefetch_related(Prefetch("resends", queryset=resends)).filter(pk=pk).first()
    if notification is None:
        raise NotFound(
            f"No notification {pk}: check the address, or find it in the notifications list.",
            code="notification_not_found",
        )
    return notification
