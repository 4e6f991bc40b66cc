"""Orders as integrators and emails see them at the moment of an event: plain JSON values
taken from rows already in memory (no query), written into the outbox with the event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from orders.models import Order, OrderLine, Payment, Refund


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_snapshot(order: Order, lines: Iterable[OrderLine] | None = None) -> dict[str, Any]:
    """The order's public fields; with ``lines`` given, its lines too."""
    data: dict[str, Any] = {
        "number": order.number,
        "status": order.status,
        "channel": order.channel,
        "external_reference": order.external_reference,
        "currency": order.currency,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "shipping_method": order.shipping_method_id,
        "subtotal": str(order.subtotal),
        "shipping_price": str(order.shipping_price),
        "total": str(order.total),
        "amount_paid": str(order.amount_paid),
        "amount_refunded": str(order.amount_refunded),
        "created_at": _when(order.created_at),
        "updated_at": _when(order.updated_at),
        "ship_by": order.ship_by.isoformat() if order.ship_by else None,
        "promised_delivery": order.promised_delivery.isoformat() if order.promised_delivery else None,
    }
    if lines is not None:
        data["lines"] = [
            {"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": str(line.unit_price)}
            for line in lines
        ]
    return data


def payment_snapshot(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "method": payment.method,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "reference": payment.reference,
        "received_at": _when(payment.received_at),
    }


def refund_snapshot(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "method": refund.method,
        "amount": str(refund.amount),
        "currency": refund.currency,
        "reference": refund.reference,
        "reason": refund.reason,
        "created_at": _when(refund.created_at),
    }
