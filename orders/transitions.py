"""The order lifecycle as data: which status may follow which. No database access here.

unhandled -> paid -> picking -> packed -> shipped -> executed -> returned
unhandled, paid -> cancelled      picking -> paid (pick aborted)
shipped -> returned (returned to sender)
"""

from __future__ import annotations

from orders.enums import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.UNHANDLED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PICKING, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.PAID}),
    S.PACKED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.EXECUTED, S.RETURNED}),
    S.EXECUTED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}

INITIAL = S.UNHANDLED
TERMINAL = frozenset(status for status, exits in TRANSITIONS.items() if not exits)

# The timestamp each status stamps on the order the first time it enters it (an order that
# goes back from picking to paid keeps the time it was paid; the events keep every move).
STAMP_FIELD: dict[str, str] = {
    S.PAID: "paid_at",
    S.PICKING: "picking_at",
    S.PACKED: "packed_at",
    S.SHIPPED: "shipped_at",
    S.EXECUTED: "executed_at",
    S.RETURNED: "returned_at",
    S.CANCELLED: "cancelled_at",
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def allowed_from(status: str) -> frozenset[str]:
    return TRANSITIONS.get(status, frozenset())
