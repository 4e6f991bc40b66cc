"""Every email the shop sends, rendered with sample data, for staff to judge wording and layout
before a customer sees it.

Nothing here reads or writes the database: the sample order and its lines are unsaved model
instances built in memory, so a preview works on an empty shop and leaves no trace. The
samples look like a real order (a paid two-item order, shipped in one parcel) so the layout is
judged on realistic lengths. Links are examples: the order-status link opens no order (the
status page answers "this link does not open an order"), and the tracking link points at
example.com.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.enums import STAFF_KINDS, NotificationErrorCode, NotificationKind
from notifications.rendering import RenderedEmail, render_email
from oms.common.errors import NotFound
from orders.enums import OrderStatus
from orders.models import Order, OrderLine

# Customer emails in the order a customer receives them, then the staff alerts.
PREVIEW_KINDS: list[str] = [kind.value for kind in NotificationKind]

# The order status each email is sent at, so the sample order's figures agree with the email.
_STATUS_AT: dict[str, str] = {
    NotificationKind.ORDER_RECEIVED: OrderStatus.UNHANDLED,
    NotificationKind.PAYMENT_CONFIRMED: OrderStatus.PAID,
    NotificationKind.ORDER_UPDATED: OrderStatus.PAID,
    NotificationKind.SHIPPED: OrderStatus.SHIPPED,
    NotificationKind.OUT_FOR_DELIVERY: OrderStatus.SHIPPED,
    NotificationKind.DELIVERED: OrderStatus.EXECUTED,
    NotificationKind.DELAYED: OrderStatus.SHIPPED,
    NotificationKind.CANCELLED: OrderStatus.CANCELLED,
    NotificationKind.RETURN_RECEIVED: OrderStatus.RETURNED,
    NotificationKind.REFUND_ISSUED: OrderStatus.RETURNED,
}

_SAMPLE_NUMBER_ID = 1042
_TRACKING_NUMBER = "JJD000390007451234"


def _sample_number() -> str:
    return f"{settings.OMS_ORDER_NUMBER_PREFIX}{_SAMPLE_NUMBER_ID:06d}"


def _sample_order(status: str, now: datetime) -> tuple[Order, list[OrderLine]]:
    """An unsaved order of two lines in the shop's currency, with the timestamps and amounts an
    order at ``status`` has."""
    currency = settings.OMS_DEFAULT_CURRENCY
    lines = [
        OrderLine(
            position=1,
            sku="TSHIRT-RED-M",
            name="Organic cotton T-shirt, red, M",
            unit_price=Decimal("29.90"),
            quantity=2,
        ),
        OrderLine(
            position=2, sku="MUG-350-WHT", name="Stoneware mug, white, 350 ml", unit_price=Decimal("14.50"), quantity=1
        ),
    ]
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    shipping = Decimal("4.99")
    total = subtotal + shipping
    placed = now - timedelta(days=3)
    order = Order(
        number=_sample_number(),
        channel="web",
        status=status,
        currency=currency,
        customer_email="ann.lee@example.com",
        customer_name="Ann Lee",
        subtotal=subtotal,
        shipping_price=shipping,
        total=total,
        created_at=placed,
        updated_at=now,
    )
    if status != OrderStatus.UNHANDLED and status != OrderStatus.CANCELLED:
        order.amount_paid = total
        order.paid_at = placed + timedelta(minutes=4)
        order.ship_by = (placed + timedelta(days=1)).date()
        order.promised_delivery = (placed + timedelta(days=4)).date()
    if status in (OrderStatus.SHIPPED, OrderStatus.EXECUTED, OrderStatus.RETURNED):
        order.shipped_at = placed + timedelta(days=1, hours=2)
    if status in (OrderStatus.EXECUTED, OrderStatus.RETURNED):
        order.executed_at = placed + timedelta(days=2, hours=5)
    if status == OrderStatus.RETURNED:
        order.returned_at = now - timedelta(hours=2)
    if status == OrderStatus.CANCELLED:
        order.cancelled_at = now - timedelta(hours=1)
        order.cancel_reason = "Customer changed their mind"
    return order, lines


def _customer_context(kind: str, now: datetime) -> dict[str, Any]:
    """What ``email_context.customer_context`` gives the templates, for the sample order."""
    order, lines = _sample_order(_STATUS_AT[kind], now)
    shipped = order.shipped_at is not None
    context: dict[str, Any] = {
        "order": order,
        "lines": lines,
        "customer_name": order.customer_name,
        # An example link: real emails carry the order's signed link (status_links.py).
        "status_url": f"{settings.OMS_SITE_URL}{reverse('order-status', kwargs={'token': 'example-link'})}",
        "carrier_name": "Example Express" if shipped else "",
        "parcels": (
            [{"tracking_number": _TRACKING_NUMBER, "url": f"https://tracking.example.com/{_TRACKING_NUMBER}"}]
            if shipped
            else []
        ),
        "promised_delivery": order.promised_delivery,
    }
    if kind == NotificationKind.OUT_FOR_DELIVERY:
        context["tracking"] = _tracking("out_for_delivery", "Out for delivery", "Out for delivery", now)
    elif kind == NotificationKind.DELAYED:
        context["tracking"] = _tracking("exception", "Exception", "Address unclear: house number missing", now)
    elif kind == NotificationKind.ORDER_UPDATED:
        context["changes"] = [
            "Shipping address changed to: Ann Lee, Long Street 12, 00-950 Warsaw, PL.",
            "Organic cotton T-shirt, red, M (TSHIRT-RED-M): quantity changed from 1 to 2.",
        ]
    elif kind == NotificationKind.REFUND_ISSUED:
        order.amount_refunded = order.amount_paid
        context["refund"] = {
            "id": 1,
            "method": "card",
            "amount": str(order.amount_paid),
            "currency": order.currency,
            "reference": "re_3PqL2x7Kd91",
            "reason": "Returned within 30 days",
            "created_at": now.isoformat(),
        }
    return context


def _tracking(status: str, label: str, description: str, now: datetime) -> dict[str, Any]:
    """The latest scan as the tracking event snapshot carries it (times as ISO strings)."""
    return {
        "tracking_number": _TRACKING_NUMBER,
        "status": status,
        "carrier_status": status.upper(),
        "description": description,
        "location": "Warsaw depot",
        "occurred_at": (now - timedelta(hours=1)).isoformat(),
        "status_label": label,
    }


def _site(path: str) -> str:
    return f"{settings.OMS_SITE_URL}{path}"


def _staff_context(kind: str, today: date) -> dict[str, Any]:
    """The contexts ``services/alerts.py`` gives the staff templates, with sample figures."""
    if kind == NotificationKind.STAFF_LOW_STOCK:
        return {
            "alerts": [
                {
                    "sku": "TSHIRT-RED-M",
                    "name": "Organic cotton T-shirt, red, M",
                    "warehouse": "MAIN",
                    "available": 4,
                    "reorder_point": 10,
                    "reorder_quantity": 50,
                }
            ],
            "stock_url": _site(f"{reverse('admin:inventory_stocklevel_changelist')}?q=TSHIRT-RED-M"),
        }
    if kind == NotificationKind.STAFF_LABEL_FAILED:
        return {
            "order_number": _sample_number(),
            "package": 2,
            "carrier": "FLEET",
            "error": "Postal code 00-01 is not valid for PL: use the form 00-000.",
            "labels_url": _site(reverse("shipping:labels")),
        }
    prefix = settings.OMS_ORDER_NUMBER_PREFIX
    return {
        "day": today,
        "orders": [
            {
                "number": f"{prefix}{1031:06d}",
                "status": OrderStatus.PAID,
                "status_label": OrderStatus.PAID.label,
                "customer_name": "Marta Nowak",
                "ship_by": today - timedelta(days=2),
                "promised_delivery": today + timedelta(days=1),
                "days_late": 2,
                "url": _site(reverse("admin:orders_order_change", args=[1031])),
            },
            {
                "number": f"{prefix}{1027:06d}",
                "status": OrderStatus.SHIPPED,
                "status_label": OrderStatus.SHIPPED.label,
                "customer_name": "Jonas Berg",
                "ship_by": today - timedelta(days=4),
                "promised_delivery": today - timedelta(days=1),
                "days_late": 1,
                "url": _site(reverse("admin:orders_order_change", args=[1027])),
            },
        ],
    }


def preview(kind: str) -> RenderedEmail:
    """The email ``kind`` rendered with sample data, through the same templates and branding
    as the real ones. Writes nothing. Raises NotFound ``template_not_found`` for a kind that
    is not one of ``PREVIEW_KINDS``."""
    if kind not in PREVIEW_KINDS:
        raise NotFound(
            f"There is no email called {kind!r}; choose one of: {', '.join(PREVIEW_KINDS)}.",
            code=NotificationErrorCode.TEMPLATE_NOT_FOUND,
            extra={"kind": kind, "kinds": PREVIEW_KINDS},
        )
    now = _sample_now()
    if kind in STAFF_KINDS:
        return render_email(kind, _staff_context(kind, now.date()))
    return render_email(kind, _customer_context(kind, now))


def _sample_now() -> datetime:
    """Today at a fixed time of day: the sample order looks recent, and the same preview renders
    the same all day (the staff page and its frame render it separately)."""
    return timezone.make_aware(datetime.combine(timezone.localdate(), time(10, 15)))
