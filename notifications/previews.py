"""Every email the shop sends, rendered with sample data, for staff to judge wording and layout
before a customer sees it.

Nothing here reads or writes the database: the sample order, its lines and its return are
unsaved model instances built in memory, so a preview works on an empty shop and leaves no
trace. The samples look like a real order (a paid two-item order, shipped in one parcel; for
the return emails, a return of part of it) so the layout is judged on realistic lengths.
Links are examples: the order-status link opens no order (the status page answers "this link
does not open an order"), and the tracking link points at example.com.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.email_context import refund_reason_beyond_return
from notifications.enums import STAFF_KINDS, NotificationErrorCode, NotificationKind
from notifications.rendering import RenderedEmail, render_email
from oms.common.errors import NotFound
from orders.enums import OrderStatus
from orders.models import Order, OrderLine
from returns.enums import ReturnReason, ReturnStatus
from returns.models import Return, ReturnLine

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
    # The sample return takes back part of the order, which stays delivered.
    NotificationKind.RETURN_REQUESTED: OrderStatus.EXECUTED,
    NotificationKind.RETURN_APPROVED: OrderStatus.EXECUTED,
    NotificationKind.RETURN_REJECTED: OrderStatus.EXECUTED,
    NotificationKind.RETURN_RECEIVED: OrderStatus.EXECUTED,
    NotificationKind.REFUND_ISSUED: OrderStatus.EXECUTED,
    NotificationKind.FEEDBACK_REQUEST: OrderStatus.EXECUTED,
}
# The status the sample return has when each email about it is sent.
_RETURN_STATUS_AT: dict[str, str] = {
    NotificationKind.RETURN_REQUESTED: ReturnStatus.REQUESTED,
    NotificationKind.RETURN_APPROVED: ReturnStatus.APPROVED,
    NotificationKind.RETURN_REJECTED: ReturnStatus.REJECTED,
    NotificationKind.RETURN_RECEIVED: ReturnStatus.RECEIVED,
    NotificationKind.REFUND_ISSUED: ReturnStatus.REFUNDED,
}

_SAMPLE_NUMBER_ID = 1042
_SAMPLE_RETURN_ID = 7
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


def _sample_return(kind: str, order: Order, lines: list[OrderLine], now: datetime) -> tuple[Return, list[ReturnLine]]:
    """An unsaved return of one T-shirt (too small) and the mug (arrived damaged) at the status
    ``kind`` is sent at; received in full from the "received" email on."""
    status = _RETURN_STATUS_AT[kind]
    ret = Return(
        number=f"{settings.OMS_RETURN_NUMBER_PREFIX}{_SAMPLE_RETURN_ID:06d}",
        order=order,
        status=status,
        comment="The T-shirt is a size too small; the mug had a chip in the rim.",
        created_at=now - timedelta(days=1),
        updated_at=now,
    )
    received = 1 if status in (ReturnStatus.RECEIVED, ReturnStatus.REFUNDED) else 0
    return_lines = [
        ReturnLine(ret=ret, order_line=lines[0], quantity=1, reason=ReturnReason.TOO_SMALL, quantity_received=received),
        ReturnLine(ret=ret, order_line=lines[1], quantity=1, reason=ReturnReason.DAMAGED, quantity_received=received),
    ]
    if status == ReturnStatus.REJECTED:
        ret.decision_note = "The return window of this order closed before the request arrived."
    return ret, return_lines


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
    if kind in _RETURN_STATUS_AT:
        ret, return_lines = _sample_return(kind, order, lines, now)
        context["rma"] = ret
        context["return_lines"] = return_lines
    if kind == NotificationKind.RETURN_APPROVED:
        context["return_address"] = {
            "name": settings.OMS_SHOP_NAME,
            "line1": "Magazynowa 3",
            "line2": "Gate 2",
            "postal_code": "05-800",
            "city": "Pruszków",
            "country": "Poland",
        }
    elif kind == NotificationKind.REFUND_ISSUED:
        # The refund of the sample return: what came back, at the prices paid.
        amount = sum(
            (line.order_line.unit_price * line.quantity_received for line in context["return_lines"]), Decimal()
        )
        order.amount_refunded = amount
        context["refund"] = {
            "id": 1,
            "method": "card",
            "amount": str(amount),
            "currency": order.currency,
            "reference": "re_3PqL2x7Kd91",
            "reason": refund_reason_beyond_return(f"Return {context['rma'].number}", context["rma"].number),
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
