"""Invoices: one per paid order, numbered without gaps per calendar year."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.common.actors import Actor
from oms.common.errors import Conflict
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus
from orders.locks import lock_invoice_counter, lock_order
from orders.models import Invoice, Order
from orders.services.lifecycle import _record_event

# An order is invoiced once it has been paid; it keeps its invoice whatever happens next.
NOT_INVOICEABLE = frozenset({OrderStatus.UNHANDLED})


def format_invoice_number(year: int, sequence: int) -> str:
    return f"{settings.OMS_INVOICE_PREFIX}{year}-{sequence:06d}"


def _seller() -> dict[str, object]:
    """Who issues the invoice, from the settings of the day it is issued."""
    return {
        "name": settings.OMS_SELLER_NAME,
        "address": list(settings.OMS_SELLER_ADDRESS),
        "tax_id": settings.OMS_SELLER_TAX_ID,
        "website": settings.OMS_SITE_URL,
        "email": settings.OMS_SUPPORT_EMAIL,
        "phone": settings.OMS_SUPPORT_PHONE,
    }


def _bill_to(order: Order) -> dict[str, object]:
    a = order.billing_address
    country = str(getattr(a.country, "name", a.country))
    lines = [a.name, a.company, a.line1, a.line2, f"{a.postal_code} {a.city}".strip(), a.region, country]
    return {"name": a.name, "email": order.customer_email, "lines": [line for line in lines if line]}


@transaction.atomic
def invoice_issue(*, actor: Actor, number: str) -> Invoice:
    """Issues the order's invoice if it has none, and returns it (the one issued before
    otherwise: safe to call any number of times).

    The year's counter row is locked (after the order: lock order in docs/architecture.md)
    and raised in the same transaction that stores the invoice, so the numbers of a year run
    1, 2, 3... with no gap and no repeat. Raises Conflict ``order_not_invoiceable`` for an
    order that was never paid, NotFound for no such order.
    """
    order = lock_order(number=number)
    existing = Invoice.objects.filter(order=order).first()
    if existing is not None:
        return existing
    if order.status in NOT_INVOICEABLE or order.paid_at is None:
        raise Conflict(
            f"Order {order.number} has not been paid; it gets its invoice when it is.",
            code=OrderErrorCode.ORDER_NOT_INVOICEABLE,
            extra={"number": order.number, "status": order.status},
        )
    now = timezone.now()
    year = timezone.localdate(now).year
    counter = lock_invoice_counter(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    order = Order.objects.select_related("billing_address").get(pk=order.pk)
    lines = [
        {
            "sku": line.sku,
            "name": line.name,
            "quantity": line.quantity,
            "unit_price": str(line.unit_price),
            "line_total": str(line.line_total),
        }
        for line in order.lines.all()
    ]
    invoice = Invoice.objects.create(
        order=order,
        number=format_invoice_number(year, counter.last_number),
        year=year,
        sequence=counter.last_number,
        issued_at=now,
        currency=order.currency,
        subtotal=order.subtotal,
        shipping=order.shipping_price,
        total=order.total,
        seller=_seller(),
        bill_to=_bill_to(order),
        lines=lines,
    )
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.INVOICE_ISSUED,
        note=f"Invoice {invoice.number}",
        data={"invoice": invoice.number},
    )
    return invoice
