"""Returns made through the returns services on a delivered order, walked as far as a test
needs, and the outbox messages their events left for the email and webhook tasks."""

from __future__ import annotations

from typing import Any

from oms.common.actors import Actor
from oms.common.models import OutboxMessage
from orders.enums import PaymentMethod
from orders.models import Order
from returns.models import Return
from returns.services import (
    RefundData,
    ReturnLineData,
    return_approve,
    return_inspect,
    return_receive,
    return_refund,
    return_refund_due,
    return_reject,
    return_request,
)
from tests.factories import SYSTEM
from tests.returns.helpers import delivered_order

EMAIL_TASK = "notifications.tasks.email_customer"
CUSTOMER = Actor.customer()
# delivered_order's lines: two mugs and a T-shirt, each in a bin of warehouse MAIN.
BOTH = (("MUG", 2, "damaged"), ("TEE", 1, "too_small"))


def requested(order: Order | None = None, *lines: tuple[str, int, str], comment: str = "") -> Return:
    """A return the customer asked for (two mugs, damaged, unless ``lines`` say otherwise)."""
    order = order or delivered_order()
    return return_request(
        actor=CUSTOMER,
        order_number=order.number,
        lines=[ReturnLineData(sku, quantity, reason) for sku, quantity, reason in (lines or (("MUG", 2, "damaged"),))],
        comment=comment,
    )


def approved(order: Order | None = None, *lines: tuple[str, int, str]) -> Return:
    ret = requested(order, *lines)
    return return_approve(actor=SYSTEM, number=ret.number)


def rejected(reason: str, order: Order | None = None) -> Return:
    ret = requested(order)
    return return_reject(actor=SYSTEM, number=ret.number, reason=reason)


def received(order: Order | None = None, *lines: tuple[str, int, str], counts: dict[str, int] | None = None) -> Return:
    """An approved return whose parcel arrived with ``counts`` units per SKU (all of them
    when None)."""
    ret = approved(order, *lines)
    return return_receive(actor=SYSTEM, number=ret.number, received=counts)


def refunded(order: Order | None = None, *lines: tuple[str, int, str], note: str = "") -> Return:
    """A return received in full, every unit scrapped, refunded what it is worth."""
    ret = received(order, *lines)
    for line in ret.lines.select_related("order_line"):
        return_inspect(
            actor=SYSTEM,
            number=ret.number,
            sku=line.order_line.sku,
            outcome="scrap",
            quantity=line.quantity_received,
            note="Broken in the parcel",
        )
    ret = Return.objects.get(pk=ret.pk)
    return return_refund(
        actor=SYSTEM,
        number=ret.number,
        refund=RefundData(return_refund_due(ret), PaymentMethod.CARD, f"re-{ret.number}"),
        note=note,
    )


def outbox_payload(task: str, topic: str, *, order: Order, ret: Return | None = None) -> dict[str, Any]:
    """The payload the outbox handed ``task`` for ``topic`` (the newest one of the order, or
    of the return when given)."""
    messages = OutboxMessage.objects.filter(task=task, payload__topic=topic, payload__order=order.number)
    if ret is not None:
        messages = messages.filter(payload__return=ret.number)
    message = messages.order_by("-pk").first()
    assert message is not None, f"no {topic} message for {task} of {order.number}"
    return dict(message.payload)
