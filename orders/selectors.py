"""Reads of orders, with their joins and prefetches decided once."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Prefetch, QuerySet

from inventory.models import Reservation
from inventory.selectors import reservations_of_order
from oms.common.errors import NotFound
from orders.enums import OrderErrorCode
from orders.models import Invoice, Order, OrderEvent, OrderLine, Payment


def order_list() -> QuerySet[Order]:
    """Orders for lists: the summary columns only, no per-row queries."""
    return Order.objects.all()


def order_detail(*, number: str) -> Order:
    """One order with addresses, lines, payments and its timeline. Raises NotFound."""
    order = (
        Order.objects.select_related("shipping_address", "billing_address", "split_from")
        .prefetch_related(
            Prefetch("split_orders", queryset=Order.objects.only("id", "number", "split_from_id").order_by("id")),
            "lines",
            "payments",
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotFound(f"No order with number {number}.", code="order_not_found")
    _attach_allocation(order, reservations_of_order(order_number=order.number))
    return order


def _attach_allocation(order: Order, reservations: dict[int, Reservation]) -> None:
    """Puts on each line how many of its units are held in stock (``quantity_allocated``)."""
    for line in order.lines.all():
        reservation = reservations.get(line.pk)
        line.quantity_allocated = reservation.quantity_allocated if reservation else 0  # type: ignore[attr-defined]


def _as_prefetched(model: type[Model], rows: list[Any]) -> QuerySet[Any]:
    queryset = model._default_manager.all()
    queryset._result_cache = rows  # type: ignore[attr-defined]
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    return queryset


def order_detail_of_new(
    *, order: Order, lines: list[OrderLine], events: list[OrderEvent], reservations: list[Reservation]
) -> Order:
    """The detail of an order that was just placed, from the rows the placement wrote.

    A new order has exactly these lines and events and no payments, and its addresses are
    the objects it was saved with, so nothing needs reading back (no query).
    """
    order._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "split_orders": _as_prefetched(Order, []),
        "lines": _as_prefetched(OrderLine, lines),
        "payments": _as_prefetched(Payment, []),
        "events": _as_prefetched(OrderEvent, events),
    }
    _attach_allocation(order, {r.line_id: r for r in reservations})
    return order


def invoice_of_order(*, number: str) -> Invoice:
    """The issued invoice of order ``number`` (with its order). Raises NotFound
    ``order_not_found`` (no such order) or ``invoice_not_issued`` (not paid yet, or paid a
    moment ago and the invoice is still being issued)."""
    invoice = Invoice.objects.select_related("order").filter(order__number=number).first()
    if invoice is not None:
        return invoice
    status = Order.objects.filter(number=number).values_list("status", flat=True).first()
    if status is None:
        raise NotFound(f"No order with number {number}.", code="order_not_found")
    raise NotFound(
        f"Order {number} has no invoice yet: its invoice is issued once the order is paid.",
        code=OrderErrorCode.INVOICE_NOT_ISSUED,
        extra={"number": number, "status": status},
    )
