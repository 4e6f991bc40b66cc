"""Pick list statuses as data: which status may follow which. No database access here.

assigned -> picking -> completed; assigned, picking -> cancelled
"""

from __future__ import annotations

from fulfillment.enums import PickListStatus as S

PICK_LIST_TRANSITIONS: dict[str, frozenset[str]] = {
    S.ASSIGNED: frozenset({S.PICKING, S.CANCELLED}),
    S.PICKING: frozenset({S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL = frozenset(status for status, exits in PICK_LIST_TRANSITIONS.items() if not exits)


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in PICK_LIST_TRANSITIONS.get(from_status, frozenset())
