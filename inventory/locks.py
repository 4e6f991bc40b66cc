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
    while True:
        rows = list(
            StockLevel.objects.select_for_update(no_key=True, of=("self",))
            .select_related("location__warehouse")
            .filter(product_id__in=ids)
            .order_by("id")
        )
        # A locking SELECT that waited returns only rows that existed when it began: a
        # receipt into a new bin that held our first row commits that bin unseen (and may
        # have allocated from it). Look again with a fresh snapshot; lock any such rows too
        # (their ids are higher, so the id order holds).
        present = set(StockLevel.objects.filter(product_id__in=ids).values_list("id", flat=True))
        if present <= {row.pk for row in rows}:
            return rows


def lock_count(reference: str) -> CycleCount:
    """Locks a cycle count (taken before any stock lock). Raises NotFound."""
    try:
        return CycleCount.objects.select_for_update(no_key=True).get(reference=reference)
    except CycleCount.DoesNotExist:
        raise NotFound(f"No cycle count {reference}.", code="count_not_found") from None
