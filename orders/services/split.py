"""Splitting off the in-stock lines of a paid order that waits for the rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from inventory.selectors import reservations_of_order
from inventory.services.stock import SplitPart, reservations_split
from oms.common.actors import Actor
from oms.common.errors import Conflict
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus
from orders.locks import lock_order
from orders.models import Order, OrderLine
from orders.services.lifecycle import TransitionNotAllowed, _record_event
from orders.services.placement import CENT, _next_order_id, format_order_number


@dataclass
class SplitResult:
    order: Order  # the original, keeping what still waits for stock (and the shipping charge)
    new_order: Order  # the lines that are in stock, ready to be picked


@transaction.atomic
def order_split(*, actor: Actor, number: str) -> SplitResult:
    """Splits a paid order whose stock is partly there: the allocated units go on as a new
    order (linked by ``split_from``) that can be picked now; the rest waits on the original.

    The payment covers both: the new order counts as paid for its lines; the original keeps
    the shipping charge and the rest. Raises TransitionNotAllowed unless the order is paid,
    Conflict (``nothing_to_split``) when nothing or everything is allocated.
    """
    order = lock_order(number=number)
    if order.status != OrderStatus.PAID:
        raise TransitionNotAllowed(
            f"Order {number} is {order.status}; only a paid order that waits for stock can be split.",
            extra={"number": number, "status": order.status},
        )
    reservations = reservations_of_order(order_number=number)
    lines = list(order.lines.order_by("position"))
    allocated = {line.pk: reservations[line.pk].quantity_allocated if line.pk in reservations else 0 for line in lines}
    if not any(allocated.values()) or all(allocated[line.pk] == line.quantity for line in lines):
        raise Conflict(
            f"Order {number} has "
            + ("no line in stock" if not any(allocated.values()) else "every line in stock")
            + "; there is nothing to split.",
            code=OrderErrorCode.NOTHING_TO_SPLIT,
            extra={"number": number},
        )
    order_id = _next_order_id()
    new_order = Order(
        id=order_id,
        number=format_order_number(order_id) if order_id else f"pending-{uuid.uuid4().hex}",
        channel=order.channel,
        currency=order.currency,
        customer_email=order.customer_email,
        customer_name=order.customer_name,
        customer_phone=order.customer_phone,
        shipping_address_id=order.shipping_address_id,
        billing_address_id=order.billing_address_id,
        shipping_method_id=order.shipping_method_id,
        shipping_price=Decimal("0.00"),
        subtotal=Decimal("0.00"),
        total=Decimal("0.00"),
        customer_note=order.customer_note,
        status=OrderStatus.PAID,
        paid_at=order.paid_at,
        split_from=order,
    )
    new_order.save(force_insert=True)
    if order_id is None:
        new_order.number = format_order_number(new_order.pk)
        Order.objects.filter(pk=new_order.pk).update(number=new_order.number)

    moved_lines: list[tuple[OrderLine, OrderLine]] = []
    parts: list[SplitPart] = []
    for line in lines:
        units = allocated[line.pk]
        if not units:
            continue
        if units == line.quantity:
            line.order = new_order
            line.position = len(moved_lines)
            line.save(update_fields=["order", "position"])
            moved_lines.append((line, line))
        else:
            part = OrderLine.objects.create(
                order=new_order,
                position=len(moved_lines),
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                quantity=units,
            )
            line.quantity -= units
            line.save(update_fields=["quantity"])
            moved_lines.append((line, part))
        parts.append(SplitPart(line_id=line.pk, new_line_id=moved_lines[-1][1].pk, quantity=units))
    reservations_split(from_order=number, to_order=new_order.number, parts=parts)

    new_order.subtotal = sum((new.line_total for _old, new in moved_lines), Decimal("0.00")).quantize(CENT)
    new_order.total = new_order.subtotal
    new_order.amount_paid = new_order.total
    new_order.save(update_fields=["subtotal", "total", "amount_paid"])
    order.subtotal = sum((line.line_total for line in order.lines.all()), Decimal("0.00")).quantize(CENT)
    order.total = order.subtotal + order.shipping_price
    order.amount_paid -= new_order.total
    order.save(update_fields=["subtotal", "total", "amount_paid", "updated_at"])
    note = f"In-stock lines split off as {new_order.number}; the rest of {number} waits for stock."
    _record_event(order=order, actor=actor, kind=OrderEventKind.SPLIT, note=note, data={"new_order": new_order.number})
    _record_event(
        order=new_order,
        actor=actor,
        kind=OrderEventKind.CREATED,
        to_status=OrderStatus.PAID,
        note=f"Split from {number}",
        data={"split_from": number, "total": str(new_order.total)},
    )
    return SplitResult(order=order, new_order=new_order)
