"""Staff alerts: low stock to the role that reorders, a failed label to the role that ships,
and a daily digest of late orders, each emailed to the members of the role named in
``settings.OMS_ALERT_ROLES`` (active users with an email address).

Alerts follow the customer emails' rule (``services/emails.py``): prepared once under a key
naming their cause, then sent unless sent already, so a message run twice sends one email.
A role with nobody to tell prepares nothing and is logged: the cause stays visible on its own
screen (open low-stock alerts, failed labels), and an alert prepared for nobody would sit in
the log as if it had been sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, DateField, F, Q, QuerySet, When
from django.urls import reverse
from django.utils import timezone

from inventory.models import LowStockAlert
from notifications.enums import NotificationKind
from notifications.models import Notification
from notifications.rendering import render_email
from notifications.services.emails import (
    notification_deliver,
    notification_enqueue,
    notification_mark_failed,
    notification_prepare,
)
from oms.common.outbox import GiveUp
from orders.enums import OrderStatus
from orders.models import Order
from shipping.enums import LabelStatus
from shipping.models import Label

logger = logging.getLogger(__name__)

# An order in these statuses is late once its ship-by day has passed; a shipped one once its
# promised delivery day has.
NOT_HANDED_OVER = (OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED)


def staff_recipients(kind: str) -> list[str]:
    """The addresses of the active members of the role that acts on ``kind``."""
    role = settings.OMS_ALERT_ROLES[kind]
    emails = (
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(emails)


def _absolute(path: str) -> str:
    return f"{settings.OMS_SITE_URL}{path}"


# --- event alerts (outbox handlers) ------------------------------------------------------------


@dataclass(frozen=True)
class _Alert:
    kind: str
    key: str


def _alert_of(payload: dict[str, Any]) -> _Alert | None:
    topic = payload.get("topic", "")
    if topic == "stock.low":
        kind = NotificationKind.STAFF_LOW_STOCK
        return _Alert(kind, f"alert:{kind}:{payload['alert']}")
    if topic == "label.failed":
        kind = NotificationKind.STAFF_LABEL_FAILED
        return _Alert(kind, f"alert:{kind}:{payload['label']}:{payload['failure']}")
    return None


def _low_stock_context(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The figures as they were when the alert was raised; None once it is resolved (the
    stock is back above the reorder point, or the rule was removed): nothing to reorder."""
    alert = LowStockAlert.objects.select_related("product").filter(pk=payload["alert"]).first()
    if alert is None or alert.resolved_at is not None:
        return None
    snapshot = payload["snapshot"]
    return {
        "alerts": [
            {
                "sku": snapshot["sku"],
                "name": alert.product.name,
                "warehouse": snapshot["warehouse"],
                "available": snapshot["available"],
                "reorder_point": snapshot["reorder_point"],
                "reorder_quantity": snapshot["reorder_quantity"],
            }
        ],
        # Every bin of the SKU, in every warehouse: stock elsewhere may be moved instead of bought.
        "stock_url": _absolute(
            f"{reverse('admin:inventory_stocklevel_changelist')}?{urlencode({'q': snapshot['sku']})}"
        ),
    }


def _label_failed_context(payload: dict[str, Any]) -> dict[str, Any] | None:
    """None once the label is no longer failed (staff retried or voided it meanwhile)."""
    if not Label.objects.filter(pk=payload["label"], status=LabelStatus.FAILED).exists():
        return None
    return {
        "order_number": payload["order"],
        "package": payload["package"],
        "carrier": payload["carrier"],
        "error": payload["error"],
        "labels_url": _absolute(reverse("shipping:labels")),
    }


def alert_for_event(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler (stock.low, label.failed): prepares the alert for the role that acts on
    it and sends it. Sends nothing when its cause has passed or the role has no one with an
    email address. Raises TryLater while the mail server does not take it, GiveUp when it
    refuses it for good or the topic has no alert."""
    alert = _alert_of(payload)
    if alert is None:
        raise GiveUp(f"No staff alert for topic {payload.get('topic')!r}; route only stock.low and label.failed here.")
    notification = Notification.objects.filter(key=alert.key).first()
    if notification is None:
        if alert.kind == NotificationKind.STAFF_LOW_STOCK:
            context = _low_stock_context(payload)
        else:
            context = _label_failed_context(payload)
        if context is None:
            logger.info("Staff alert %s not sent: its cause has passed.", alert.key)
            return
        recipients = staff_recipients(alert.kind)
        if not recipients:
            logger.warning(
                "Staff alert %s not sent: role %r has no active member with an email address.",
                alert.key,
                settings.OMS_ALERT_ROLES[alert.kind],
            )
            return
        order = Order.objects.filter(number=payload["order"]).first() if "order" in payload else None
        notification = notification_prepare(
            key=alert.key,
            kind=alert.kind,
            recipients=recipients,
            rendered=render_email(alert.kind, context),
            order=order,
        )
    notification_deliver(notification.pk, attempt)


def alert_for_event_failed(payload: dict[str, Any], error: str) -> None:
    """The outbox gave up: the alert shows as failed, with the reason, in the notification log."""
    alert = _alert_of(payload)
    if alert is None:
        return
    notification = Notification.objects.filter(key=alert.key).first()
    if notification is not None:
        notification_mark_failed(notification.pk, error)


# --- the late-orders digest (daily, from beat) -------------------------------------------------


def late_orders(today: date) -> QuerySet[Order]:
    """Orders not handed to the carrier by their ship-by day, and shipped orders not delivered
    by their promised day, as of ``today``; the most overdue first, each annotated with
    ``due`` (the day it missed)."""
    return (
        Order.objects.filter(
            Q(status__in=NOT_HANDED_OVER, ship_by__lt=today)
            | Q(status=OrderStatus.SHIPPED, promised_delivery__lt=today)
        )
        .annotate(
            due=Case(
                When(status=OrderStatus.SHIPPED, then=F("promised_delivery")),
                default=F("ship_by"),
                output_field=DateField(),
            )
        )
        .order_by("due", "number")
    )


def _digest_row(order: Order, today: date) -> dict[str, Any]:
    due: date = order.due  # type: ignore[attr-defined]  # annotated by late_orders()
    return {
        "number": order.number,
        "status": order.status,
        "status_label": order.get_status_display(),
        "customer_name": order.customer_name,
        "ship_by": order.ship_by,
        "promised_delivery": order.promised_delivery,
        "days_late": (today - due).days,
        # No staff order page yet: the admin's page of the order, which managers may open.
        "url": _absolute(reverse("admin:orders_order_change", args=[order.pk])),
    }


def late_orders_digest(today: date | None = None) -> int:
    """Prepares the day's digest of late orders for the role in
    ``OMS_ALERT_ROLES["staff_late_orders"]`` and queues it (sent after commit, from the
    outbox). ``today`` is the shop's day (``TIME_ZONE``). One digest a day: a second run the
    same day prepares nothing. Nothing is prepared when no order is late or the role has no
    one with an email address. Returns how many orders the digest it prepared lists (0 when
    it prepared none)."""
    today = today or timezone.localdate()
    kind = NotificationKind.STAFF_LATE_ORDERS
    key = f"digest:late_orders:{today.isoformat()}"
    if Notification.objects.filter(key=key).exists():
        return 0
    orders = [_digest_row(order, today) for order in late_orders(today)]
    if not orders:
        return 0
    recipients = staff_recipients(kind)
    if not recipients:
        logger.warning(
            "Late-orders digest of %s not sent: role %r has no active member with an email address.",
            today.isoformat(),
            settings.OMS_ALERT_ROLES[kind],
        )
        return 0
    rendered = render_email(kind, {"day": today, "orders": orders})
    with transaction.atomic():
        notification = notification_prepare(key=key, kind=kind, recipients=recipients, rendered=rendered)
        notification_enqueue(notification)
    return len(orders)
