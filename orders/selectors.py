"""Reads of orders, with their joins and prefetches decided once."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from oms.common.errors import NotFound
from orders.models import Order, OrderEvent


def order_list() -> QuerySet[Order]:
    """Orders for lists: the summary columns only, no per-row queries."""
    return Order.objects.all()


def order_detail(*, number: str) -> Order:
    """One order with addresses, lines, payments and its timeline. Raises NotFound."""
    order = (
        Order.objects.select_related("shipping_address", "billing_address")
        .prefetch_related(
            "lines",
            "payments",
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        )
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotFound(f"No order with number {number}.", code="order_not_found")
    return order
