"""Row locks for stock. The one rule: before reading or changing stock counters,
reservations or allocations of some SKUs, lock every stock row of those SKUs, in primary-key
order (docs/architecture.md, "Lock order"). Everything that touches a SKU's stock therefore
queues on the same rows in the same order, which rules out both overselling and deadlocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.db import connection
from django.db.transaction import TransactionManagementError

from inventory.models import CycleCount, StockLevel
from oms.common.errors import NotFound
from oms.common.rows import Joined


def lock_stock_of_products(product_ids: Iterable[int]) -> list[StockLevel]:
    """Locks all stock rows of the products (FOR NO KEY UPDATE, ordered by id) and returns
    them with their locations and warehouses."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    if connection.vendor == "postgresql":
        return _lock_in_sql(ids)
    return _lock_with_orm(ids)


def _lock_with_orm(ids: list[int]) -> list[StockLevel]:
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


# Every placement takes this lock, so on PostgreSQL it is two hand-written statements whose
# rows become model instances directly (``oms.common.rows``): same rows, same order, same
# second look as the ORM's version.
_STOCK_WITH_BIN = Joined(StockLevel, ["location", "location__warehouse"])


@cache
def _lock_statements() -> tuple[str, str]:
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    lock = f"{_STOCK_WITH_BIN.select} WHERE t0.product_id = ANY(%s) ORDER BY t0.id FOR NO KEY UPDATE OF t0"
    return lock, f"SELECT id FROM {table} WHERE product_id = ANY(%s)"  # noqa: S608  (name from the model)


def _lock_in_sql(ids: list[int]) -> list[StockLevel]:
    if connection.get_autocommit():  # as the ORM's select_for_update: a lock needs a transaction
        raise TransactionManagementError("lock_stock_of_products cannot be used outside of a transaction.")
    lock, look_again = _lock_statements()
    with connection.cursor() as cursor:
        while True:
            cursor.execute(lock, [ids])
            rows = cursor.fetchall()
            cursor.execute(look_again, [ids])  # see _lock_with_orm
            if {found for (found,) in cursor.fetchall()} <= {row[0] for row in rows}:
                break
    return [_STOCK_WITH_BIN.build(row) for row in rows]


def lock_count(reference: str) -> CycleCount:
    """Locks a cycle count (taken before any stock lock). Raises NotFound."""
    try:
        return CycleCount.objects.select_for_update(no_key=True).get(reference=reference)
    except CycleCount.DoesNotExist:
        raise NotFound(f"No cycle count {reference}.", code="count_not_found") from None
