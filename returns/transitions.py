"""The return lifecycle as data: which status may follow which. No database access here.

requested -> approved -> received -> inspected -> refunded
requested -> rejected            requested, approved -> cancelled
"""

from __future__ import annotations

from returns.enums import ReturnStatus as R

TRANSITIONS: dict[str, frozenset[str]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED, R.CANCELLED}),
    R.APPROVED: frozenset({R.RECEIVED, R.CANCELLED}),
    R.RECEIVED: frozenset({R.INSPECTED}),
    R.INSPECTED: frozenset({R.REFUNDED}),
    R.REFUNDED: frozenset(),
    R.REJECTED: frozenset(),
    R.CANCELLED: frozenset(),
}

INITIAL = R.REQUESTED
TERMINAL = frozenset(status for status, exits in TRANSITIONS.items() if not exits)
# Returns that still count against what can be returned of an order line.
LIVE = frozenset({R.REQUESTED, R.APPROVED, R.RECEIVED, R.INSPECTED, R.REFUNDED})

# The timestamp each status stamps on the return.
STAMP_FIELD: dict[str, str] = {
    R.APPROVED: "approved_at",
    R.REJECTED: "rejected_at",
    R.RECEIVED: "received_at",
    R.INSPECTED: "inspected_at",
    R.REFUNDED: "refunded_at",
    R.CANCELLED: "cancelled_at",
}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def allowed_from(status: str) -> frozenset[str]:
    return TRANSITIONS.get(status, frozenset())
