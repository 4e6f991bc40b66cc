"""Pick lists: creating them from the ready-to-pick queue, starting them (their orders move
to ``picking``), confirming picks by scan, short picks, aborting and cancelling.

``state._pick_list_set_status`` is the only writer of ``PickList.status``. Lock order: pick
list, then orders (by id), then stock rows (``docs/architecture.md``).
"""

from fulfillment.services.picking.lists import (
    DroppedOrder,
    StartResult,
    order_pick_abort,
    order_pick_start,
    pick_list_assign,
    pick_list_cancel,
    pick_list_create,
    pick_list_start,
)
from fulfillment.services.picking.scans import ScanResult, ShortResult, pick_scan, pick_short
from fulfillment.services.picking.state import PickListTransitionNotAllowed, record_accuracy

__all__ = [
    "DroppedOrder",
    "PickListTransitionNotAllowed",
    "ScanResult",
    "ShortResult",
    "StartResult",
    "order_pick_abort",
    "order_pick_start",
    "pick_list_assign",
    "pick_list_cancel",
    "pick_list_create",
    "pick_list_start",
    "pick_scan",
    "pick_short",
    "record_accuracy",
]
