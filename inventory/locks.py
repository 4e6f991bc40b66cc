"""Row locks for stock. The one rule: before reading or changing stock counters,
reservations or allocations of some SKUs, lock every stock row of those SKUs, in primary-key
order (docs/architecture.md, "Lock order"). Everything that touches a SKU's stock therefore
queues on the same rows in the same order, which rules out both overselling and deadlocks.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import CycleCount, StockLevel
from oms.common.errors import NotFound


def lock_stock_of_products(product_ids: Iterable[int]) -> list[StockLevel]:
    """Locks all stock rows of the products (FOR NO KEY UPDATE, ordered by id) and returns
    them with their locations and warehouses."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    return list(
        StockLevel.objects.select_for_update(no_key=True, of=("self",))
        .select_related("location__warehouse")
        .filter(product_id__in=ids)
        .order_by("id")
    )


def lock_count(reference: str) -> CycleCount:
    """Locks a cycle count (taken before any stock lock). Raises NotFound."""
    try:
        return CycleCount.objects.select_for_update(no_key=True).get(reference=reference)
    except CycleCount.DoesNotExist:
        raise NotFound(f"No cycle count {reference}.", code="count_not_found") from None
