"""Delivery promises: the ship-by day and the promised delivery of each paid order, from the
carrier service its shipping method maps to, computed as of the payment time (ADR 0006)."""

from __future__ import annotations

from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order
from orders.services import order_set_promise
from shipping.calendar import promised_delivery, ship_by
from shipping.selectors import services_by_method

# Orders that can still use a promise: paid and not yet handed over.
_OPEN = [OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED]


def promises_stamp(*, limit: int = 500) -> list[str]:
    """Computes the promise of paid orders that have none yet and whose shipping method is
    mapped to a carrier service; returns their numbers. Each order is stamped in its own
    transaction; one already stamped meanwhile keeps its promise."""
    by_method = services_by_method()
    if not by_method:
        return []
    actor = Actor.system("system: delivery promise")
    stamped = []
    orders = (
        Order.objects.filter(
            status__in=_OPEN, paid_at__isnull=False, ship_by__isnull=True, shipping_method_id__in=list(by_method)
        )
        .order_by("paid_at", "id")
        .values_list("number", "shipping_method_id", "paid_at")[:limit]
    )
    for number, method, paid_at in orders:
        if paid_at is None:  # excluded by the query; narrows the type
            continue
        _service, calendar = by_method[str(method)]  # the method code (to_field)
        day = ship_by(calendar, paid_at)
        order_set_promise(actor=actor, number=number, ship_by=day, promised_delivery=promised_delivery(calendar, day))
        stamped.append(number)
    return stamped
