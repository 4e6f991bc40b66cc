"""Money given back to customers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from oms.common.actors import Actor
from oms.common.errors import Conflict
from oms.common.outbox import outbox_emit
from orders.enums import OrderErrorCode, OrderEventKind
from orders.locks import lock_order
from orders.models import Order, Refund
from orders.services.lifecycle import _record_event
from orders.services.placement import CENT
from orders.snapshots import order_snapshot, refund_snapshot


@dataclass
class RefundResult:
    refund: Refund
    created: bool
    order: Order


@transaction.atomic
def refund_record(
    *, actor: Actor, number: str, amount: Decimal, method: str, reference: str, reason: str = ""
) -> RefundResult:
    """Records a refund the shop has made (through its payment provider or bank) and tells
    the customer (``refund.issued``: the refund email and webhooks, from the outbox).

    A reference already recorded for this order changes nothing and returns that refund
    (``created`` False). Raises NotFound (no such order), Conflict ``refund_reference_in_use``
    (the reference belongs to another order's refund) and Conflict
    ``refund_exceeds_payments`` (more than was paid and not yet refunded), writing nothing.
    """
    order = lock_order(number=number)
    existing = Refund.objects.select_related("order").filter(method=method, reference=reference).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise Conflict(
                f"Refund reference {reference} ({method}) is already recorded for another order.",
                code=OrderErrorCode.REFUND_REFERENCE_IN_USE,
                extra={"reference": reference, "method": method},
            )
        return RefundResult(refund=existing, created=False, order=order)
    amount = amount.quantize(CENT)
    refundable = order.amount_paid - order.amount_refunded
    if amount > refundable:
        raise Conflict(
            f"Order {order.number} has {refundable} {order.currency} paid and not yet refunded; "
            f"a refund of {amount} {order.currency} is more than that.",
            code=OrderErrorCode.REFUND_EXCEEDS_PAYMENTS,
            extra={"refundable": str(refundable), "currency": order.currency},
        )
    refund = Refund.objects.create(
        order=order,
        amount=amount,
        currency=order.currency,
        method=method,
        reference=reference,
        reason=reason,
        actor_label=actor.label,
    )
    order.amount_refunded += amount
    order.save(update_fields=["amount_refunded", "updated_at"])
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.REFUND_RECORDED,
        note=reason,
        data={
            "refund_id": refund.pk,
            "amount": str(amount),
            "method": method,
            "reference": reference,
            "amount_refunded": str(order.amount_refunded),
        },
    )
    outbox_emit(
        topic="refund.issued",
        key=f"refund.issued:{refund.pk}",
        payload={
            "order": order.number,
            "refund": refund.pk,
            "occurred_at": refund.created_at.isoformat(),
            "snapshot": {"order": order_snapshot(order), "refund": refund_snapshot(refund)},
        },
    )
    return RefundResult(refund=refund, created=True, order=order)
