"""Money received for orders."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.outbox import outbox_emit
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus, PaymentStatus
from orders.locks import lock_order
from orders.models import Order, Payment
from orders.services.lifecycle import _order_set_status, _record_event
from orders.services.placement import CENT
from orders.snapshots import order_snapshot, payment_snapshot


@dataclass
class PaymentResult:
    payment: Payment
    created: bool
    order: Order


# --- payments -------------------------------------------------------------------------------

NOT_PAYABLE = frozenset({OrderStatus.CANCELLED, OrderStatus.RETURNED})


def payment_record(
    *, actor: Actor, number: str, amount: Decimal, method: str, reference: str, currency: str | None = None
) -> PaymentResult:
    """Records captured money; the order becomes ``paid`` once payments cover its total.

    An underpayment is recorded (and audited) without moving the order. A reference already
    recorded for this order changes nothing and returns that payment (``created`` False).
    Raises NotFound, InvalidInput (currency differs from the order's), Conflict (reference
    used for another order, or the order is cancelled or returned).
    """
    try:
        return _payment_record(
            actor=actor, number=number, amount=amount, method=method, reference=reference, currency=currency
        )
    except IntegrityError:
        # Another order's payment took this reference between our check and insert.
        existing = Payment.objects.select_related("order").filter(method=method, reference=reference).first()
        if existing is None:
            raise
        return _existing_payment(existing, number)


def _existing_payment(existing: Payment, number: str) -> PaymentResult:
    if existing.order.number != number:
        raise Conflict(
            f"Payment reference {existing.reference} ({existing.method}) is already recorded for another order.",
            code=OrderErrorCode.PAYMENT_REFERENCE_IN_USE,
            extra={"reference": existing.reference, "method": existing.method},
        )
    return PaymentResult(payment=existing, created=False, order=existing.order)


@transaction.atomic
def _payment_record(
    *, actor: Actor, number: str, amount: Decimal, method: str, reference: str, currency: str | None
) -> PaymentResult:
    order = lock_order(number=number)
    existing = Payment.objects.select_related("order").filter(method=method, reference=reference).first()
    if existing is not None:
        return _existing_payment(existing, number)
    if currency and currency != order.currency:
        raise InvalidInput(
            f"Order {order.number} is in {order.currency}; record the payment in {order.currency}.",
            fields={"currency": [f"Must be {order.currency}, the order's currency."]},
            code=OrderErrorCode.CURRENCY_MISMATCH,
        )
    if order.status in NOT_PAYABLE:
        raise Conflict(
            f"Order {order.number} is {order.status}; it takes no more payments. Refund the customer instead.",
            code=OrderErrorCode.ORDER_NOT_PAYABLE,
            extra={"number": order.number, "status": order.status},
        )
    amount = amount.quantize(CENT)
    payment = Payment.objects.create(
        order=order,
        method=method,
        amount=amount,
        currency=order.currency,
        reference=reference,
        status=PaymentStatus.CAPTURED,
    )
    order.amount_paid += amount
    order.save(update_fields=["amount_paid", "updated_at"])
    short = order.total - order.amount_paid
    _record_event(
        order=order,
        actor=actor,
        kind=OrderEventKind.PAYMENT_RECORDED,
        note=f"Underpaid by {short} {order.currency}" if short > 0 else "",
        data={
            "payment_id": payment.pk,
            "amount": str(amount),
            "method": method,
            "reference": reference,
            "amount_paid": str(order.amount_paid),
            "total": str(order.total),
        },
    )
    outbox_emit(
        topic="payment.received",
        key=f"payment.received:{payment.pk}",
        payload={
            "order": order.number,
            "payment": payment.pk,
            "occurred_at": payment.received_at.isoformat(),
            "snapshot": {"order": order_snapshot(order), "payment": payment_snapshot(payment)},
        },
    )
    if order.status == OrderStatus.UNHANDLED and short <= 0:
        _order_set_status(order=order, to_status=OrderStatus.PAID, actor=actor, note="Payments cover the total.")
    return PaymentResult(payment=payment, created=True, order=order)
