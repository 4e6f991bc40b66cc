"""The shipment lifecycle as data.

awaiting_labels -> labelled -> handed_over -> delivered
labelled -> awaiting_labels (a label voided to be made again)
handed_over -> returned (returned to sender)
"""

from __future__ import annotations

from shipping.enums import ShipmentStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_LABELS: frozenset({S.LABELLED}),
    S.LABELLED: frozenset({S.AWAITING_LABELS, S.HANDED_OVER}),
    S.HANDED_OVER: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
}

INITIAL = S.AWAITING_LABELS
TERMINAL = frozenset(status for status, exits in TRANSITIONS.items() if not exits)


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())
