"""Row locks for orders. Lock order (docs/architecture.md): order, then its lines, then stock."""

from __future__ import annotations

from django.db.models import F

from oms.common.errors import NotFound
from orders.models import InvoiceSequence, Order


def lock_order(*, number: str) -> Order:
    """Locks the order row for the rest of the transaction (FOR NO KEY UPDATE).

    NO KEY leaves rows that reference the order (payments, events) free to be inserted.
    Raises NotFound if there is no such order.
    """
    try:
        return Order.objects.select_for_update(no_key=True).get(number=number)
    except Order.DoesNotExist:
        raise NotFound(f"No order with number {number}.", code="order_not_found") from None


def lock_orders(*, numbers: list[str]) -> list[Order]:
    """Locks several orders in primary-key order (the global order for order rows) and returns
    them in that order; numbers that do not exist are simply absent."""
    return list(Order.objects.select_for_update(no_key=True).filter(number__in=set(numbers)).order_by("id"))


def lock_free_orders(*, ids: list[int], exclude: set[int], limit: int) -> list[Order]:
    """Locks up to ``limit`` of the orders that no other transaction holds, earliest ship-by
    day first, then oldest payment, skipping locked ones (SKIP LOCKED with a LIMIT locks only
    the rows returned), so two pickers taking a batch at once get different orders instead
    of waiting."""
    return list(
        Order.objects.select_for_update(no_key=True, skip_locked=True)
        .filter(pk__in=ids)
        .exclude(pk__in=exclude)
        .order_by(F("ship_by").asc(nulls_last=True), F("paid_at").asc(nulls_last=True), "id")[:limit]
    )


def lock_invoice_counter(*, year: int) -> InvoiceSequence:
    """The year's invoice counter, created if the year has none yet, locked for the rest of
    the transaction: invoices issued at the same moment take numbers one after the other, and
    a rollback gives the number back (taken after the order: docs/architecture.md)."""
    InvoiceSequence.objects.get_or_create(year=year)
    return InvoiceSequence.objects.select_for_update().get(year=year)
