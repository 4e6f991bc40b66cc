"""Proves the stock counters against what explains them: the ledger and the allocations.

Read-only. ``manage.py stock_reconcile`` prints the report; the concurrency tests assert it
is clean after racing every stock service against the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

# What a counter is compared with, as the report names it.
ON_HAND_VS_LEDGER = "on_hand vs ledger"
ALLOCATED_VS_LEDGER = "allocated vs ledger"
ALLOCATED_VS_ALLOCATIONS = "allocated vs allocations"
RESERVATION_VS_ALLOCATIONS = "quantity_allocated vs allocations"


@dataclass(frozen=True)
class Drift:
    """One counter that differs from what should explain it. ``expected`` is the sum of the
    ledger rows or allocations; ``actual`` is the stored counter (0 when there is no row)."""

    sku: str
    location: str  # bin code; empty for a reservation
    counter: str
    expected: int
    actual: int
    order_number: str = ""  # for a reservation
    line_id: int | None = None  # for a reservation


@dataclass(frozen=True)
class ReconcileReport:
    stock_levels_checked: int
    reservations_checked: int
    drifts: list[Drift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts


# One pass over each table, grouped and joined in the database, so the cost grows with the
# tables and not with round trips, and only rows that drift come back. FULL JOIN: ledger rows
# for a (SKU, bin) without a stock row are drift too (their counters are 0).
_STOCK_DRIFT_SQL = """
WITH ledger AS (
    SELECT product_id, location_id, SUM(on_hand_delta) AS on_hand, SUM(allocated_delta) AS allocated
    FROM inventory_stockmovement
    GROUP BY product_id, location_id
), held AS (
    SELECT stock_id, SUM(quantity) AS quantity
    FROM inventory_allocation
    GROUP BY stock_id
)
SELECT
    p.sku,
    l.code,
    COALESCE(s.on_hand, 0),
    COALESCE(s.allocated, 0),
    COALESCE(g.on_hand, 0),
    COALESCE(g.allocated, 0),
    COALESCE(h.quantity, 0)
FROM inventory_stocklevel s
FULL JOIN ledger g ON g.product_id = s.product_id AND g.location_id = s.location_id
LEFT JOIN held h ON h.stock_id = s.id
JOIN inventory_product p ON p.id = COALESCE(s.product_id, g.product_id)
JOIN inventory_location l ON l.id = COALESCE(s.location_id, g.location_id)
WHERE COALESCE(s.on_hand, 0) <> COALESCE(g.on_hand, 0)
   OR COALESCE(s.allocated, 0) <> COALESCE(g.allocated, 0)
   OR COALESCE(s.allocated, 0) <> COALESCE(h.quantity, 0)
ORDER BY p.sku, l.code
"""

_RESERVATION_DRIFT_SQL = """
SELECT p.sku, r.order_number, r.line_id, r.quantity_allocated, COALESCE(a.quantity, 0) + r.quantity_picked
FROM inventory_reservation r
JOIN inventory_product p ON p.id = r.product_id
LEFT JOIN (
    SELECT reservation_id, SUM(quantity) AS quantity
    FROM inventory_allocation
    GROUP BY reservation_id
) a ON a.reservation_id = r.id
WHERE r.quantity_allocated <> COALESCE(a.quantity, 0) + r.quantity_picked
ORDER BY r.order_number, r.line_id
"""

_COUNTS_SQL = "SELECT (SELECT COUNT(*) FROM inventory_stocklevel), (SELECT COUNT(*) FROM inventory_reservation)"


def stock_reconcile() -> ReconcileReport:
    """Checks that every StockLevel's ``on_hand`` and ``allocated`` equal the sums of its
    ledger rows, that ``allocated`` equals the sum of its allocations, and that every
    reservation's ``quantity_allocated`` equals the sum of its allocations plus the units
    already picked for it.

    Reads only, in three statements. On PostgreSQL they share one REPEATABLE READ snapshot,
    so a live system shows no drift from writes committed between them. No side effects.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost and connection.vendor == "postgresql":
            # Must be the transaction's first statement; inside a caller's transaction
            # the caller's snapshot rules apply.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(_COUNTS_SQL)
        stock_levels, reservations = cursor.fetchone()
        cursor.execute(_STOCK_DRIFT_SQL)
        stock_rows = cursor.fetchall()
        cursor.execute(_RESERVATION_DRIFT_SQL)
        reservation_rows = cursor.fetchall()

    drifts: list[Drift] = []
    for sku, location, on_hand, allocated, ledger_on_hand, ledger_allocated, held in stock_rows:
        for counter, expected, actual in (
            (ON_HAND_VS_LEDGER, ledger_on_hand, on_hand),
            (ALLOCATED_VS_LEDGER, ledger_allocated, allocated),
            (ALLOCATED_VS_ALLOCATIONS, held, allocated),
        ):
            if expected != actual:
                drifts.append(Drift(sku, location, counter, int(expected), int(actual)))
    for sku, order_number, line_id, quantity_allocated, held in reservation_rows:
        drifts.append(
            Drift(
                sku,
                "",
                RESERVATION_VS_ALLOCATIONS,
                int(held),
                int(quantity_allocated),
                order_number=order_number,
                line_id=line_id,
            )
        )
    return ReconcileReport(stock_levels_checked=stock_levels, reservations_checked=reservations, drifts=drifts)
