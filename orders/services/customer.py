"""What customers do themselves on their order-status page: cancel an order before picking
starts, and change where it goes before its parcel is labelled.

The signed link is the customer's proof (``notifications/status_links.py``); these services
trust the caller to have checked it and record ``Actor.customer()`` as who acted. Their
errors speak to the customer, since the page shows them as they are.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.outbox import outbox_emit
from orders.enums import CustomerCancelReason, OrderErrorCode, OrderEventKind, OrderStatus
from orders.locks import lock_order
from orders.models import Address, Order
from orders.services.editing import _clean_address, address_data_of, address_line
from orders.services.lifecycle import _record_event, order_cancel
from orders.services.placement import CENT, AddressData
from orders.snapshots import order_snapshot

S = OrderStatus

# Nothing has been taken off a shelf yet: the order can go without anyone unpacking it.
CUSTOMER_CANCELLABLE_STATUSES = frozenset({S.UNHANDLED, S.PAID})
# Labels are made once the order is packed; until then the parcel can still go elsewhere.
CUSTOMER_ADDRESS_STATUSES = frozenset({S.UNHANDLED, S.PAID, S.PICKING})

_COMMENT_MAX = 500

_CANCEL_REFUSALS: dict[str, str] = {
    S.PICKING: "our warehouse has already started preparing it",
    S.PACKED: "it is already packed and waits for the courier",
    S.SHIPPED: "it has already left our warehouse",
    S.EXECUTED: "it has already been delivered",
}
_ADDRESS_REFUSALS: dict[str, str] = {
    S.PACKED: "it is already packed for the courier",
    S.SHIPPED: "it is already on its way with the courier",
    S.EXECUTED: "it has already been delivered",
}


def customer_cancel_refusal(order: Order) -> str | None:
    """Why the customer can no longer cancel ``order``, in a sentence for them; None while
    they can."""
    if order.status in CUSTOMER_CANCELLABLE_STATUSES:
        return None
    if order.status == S.CANCELLED:
        return f"Order {order.number} is already cancelled."
    if order.status == S.RETURNED:
        return f"Order {order.number} has come back to us; there is nothing left to cancel."
    return (
        f"Order {order.number} can no longer be cancelled: {_CANCEL_REFUSALS[order.status]}. "
        "Once it has arrived you can ask for a return on your order page."
    )


def customer_address_refusal(order: Order) -> str | None:
    """Why the customer can no longer change where ``order`` goes, in a sentence for them;
    None while they can."""
    if order.status in CUSTOMER_ADDRESS_STATUSES:
        return None
    if order.status == S.CANCELLED:
        return f"Order {order.number} is cancelled; there is nothing to deliver."
    if order.status == S.RETURNED:
        return f"Order {order.number} has come back to us; there is nothing to deliver."
    return (
        f"The delivery address of order {order.number} can no longer be changed: "
        f"{_ADDRESS_REFUSALS[order.status]}. Write to us straight away if it must go elsewhere."
    )


def refund_due(order: Order) -> Decimal:
    """What the customer has paid for ``order`` and not had back."""
    return max(order.amount_paid - order.amount_refunded, Decimal("0.00"))


def _cancel_note(reason: str, comment: str) -> str:
    if reason not in CustomerCancelReason.values:
        choices = ", ".join(str(label) for label in CustomerCancelReason.labels)
        raise InvalidInput(f"Choose why you cancel: {choices}.", fields={"reason": ["Choose one of the reasons."]})
    comment = " ".join(comment.split())
    if len(comment) > _COMMENT_MAX:
        message = f"Keep the comment to {_COMMENT_MAX} characters."
        raise InvalidInput(message, fields={"comment": [message]})
    note = f"Cancelled by the customer: {CustomerCancelReason(reason).label}."
    return f"{note} {comment}" if comment else note


@transaction.atomic
def order_cancel_by_customer(*, number: str, reason: str, comment: str = "") -> Order:
    """Cancels an unhandled or paid order at its customer's request, as ``order_cancel`` does
    (its stock released, ``order.cancelled`` in the outbox: the customer's email and the
    webhooks). ``reason`` is a ``CustomerCancelReason`` value; ``comment`` is free text.

    When money was paid and not refunded, records a ``refund_due`` event with the amount and
    currency, in the same transaction: the cancellation and the debt are written together or
    not at all. The refund itself is staff's to make and record (``refund_record``).

    Raises InvalidInput for an unknown reason or an overlong comment, NotFound (no such order)
    and Conflict ``order_not_cancellable`` once picking has started, writing nothing.
    """
    note = _cancel_note(reason, comment)
    order = lock_order(number=number)
    refusal = customer_cancel_refusal(order)
    if refusal is not None:
        raise Conflict(
            refusal,
            code=OrderErrorCode.ORDER_NOT_CANCELLABLE,
            extra={"number": order.number, "status": order.status},
        )
    actor = Actor.customer()
    order = order_cancel(actor=actor, number=number, reason=note)
    due = refund_due(order)
    if due > 0:
        _record_event(
            order=order,
            actor=actor,
            kind=OrderEventKind.REFUND_DUE,
            note=f"{due.quantize(CENT)} {order.currency} to refund: the customer cancelled a paid order.",
            data={"amount": str(due.quantize(CENT)), "currency": order.currency},
        )
    return order


@transaction.atomic
def order_change_address_by_customer(*, number: str, address: AddressData) -> Order:
    """Replaces the shipping address of an order that is not packed yet, within the same
    country (another country changes the shipping price and the promise: staff handle it).

    Writes a new address row (split orders may share the old one; the billing address stays),
    records an ``edited`` event with the address before and after, and emits
    ``order.updated`` (the customer's email saying what changed), as ``order_edit`` does.

    Raises InvalidInput for a missing field, InvalidInput ``country_not_changeable`` for
    another country and ``order_unchanged`` for the same address, NotFound (no such order) and
    Conflict ``address_not_changeable`` once the order is packed, writing nothing.
    """
    address = _clean_address(address)
    order = lock_order(number=number)
    refusal = customer_address_refusal(order)
    if refusal is not None:
        raise Conflict(
            refusal,
            code=OrderErrorCode.ADDRESS_NOT_CHANGEABLE,
            extra={"number": order.number, "status": order.status},
        )
    old = address_data_of(order.shipping_address)
    if address.country != old.country:
        message = (
            f"Order {order.number} can only be sent elsewhere in the same country: another country "
            "changes the shipping price and the delivery date. Write to us and we will sort it out."
        )
        raise InvalidInput(message, fields={"country": [message]}, code=OrderErrorCode.COUNTRY_NOT_CHANGEABLE)
    if address == old:
        raise InvalidInput(
            f"Order {order.number} already goes to this address.", fields={}, code=OrderErrorCode.ORDER_UNCHANGED
        )

    order.shipping_address = Address.objects.create(**vars(address))
    order.save(update_fields=["shipping_address", "updated_at"])
    changes = [f"Shipping address changed to: {address_line(address)}."]
    event = _record_event(
        order=order,
        actor=Actor.customer(),
        kind=OrderEventKind.EDITED,
        note="Changed by the customer on the order-status page.",
        data={
            "changes": changes,
            "before": {"shipping_address": vars(old)},
            "after": {"shipping_address": vars(address)},
            "payment": "",
        },
    )
    outbox_emit(
        topic="order.updated",
        key=f"order.updated:{order.number}:{event.pk}",
        payload={
            "order": order.number,
            "event": event.pk,
            "occurred_at": event.created_at.isoformat(),
            "snapshot": order_snapshot(order, order.lines.order_by("position")),
            "changes": changes,
        },
    )
    return order
