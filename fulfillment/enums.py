from django.db import models

# The permissions the fulfillment use cases check (granted by migrations/0002_roles.py).
PICK = "fulfillment.pick"
MANAGE = "fulfillment.manage_pick_lists"
PACK = "fulfillment.pack"
OVERRIDE = "fulfillment.override_package_weight"


class PickListStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    PICKING = "picking", "Picking"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class EntryState(models.TextChoices):
    """Where one order stands on a pick list."""

    QUEUED = "queued", "Queued"  # on the list, the list not started
    PICKING = "picking", "Picking"
    PICKED = "picked", "Picked, waiting to be packed"
    PACKED = "packed", "Packed"
    SHORT = "short", "Short of stock, back in the queue"
    REMOVED = "removed", "Removed from the list"


# An order is on at most one pick list in these states (a partial unique index says so).
ACTIVE_ENTRY_STATES = (EntryState.QUEUED, EntryState.PICKING, EntryState.PICKED)


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    SHORT = "short", "Short"
    CANCELLED = "cancelled", "Cancelled"


class PackingStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"


class PackageStatus(models.TextChoices):
    OPEN = "open", "Open"  # being filled
    CLOSED = "closed", "Closed and weighed"


class AccuracyKind(models.TextChoices):
    WRONG_SCAN = "wrong_scan", "Wrong item scanned at a bin"
    SHORT_PICK = "short_pick", "Short pick"
    WRONG_PACK_SCAN = "wrong_pack_scan", "Unit not in the order scanned at packing"
    OVER_PACK = "over_pack", "One unit too many scanned at packing"
    WEIGHT_OVERRIDE = "weight_override", "Package weight outside tolerance, approved by a supervisor"


class FulfillmentErrorCode(models.TextChoices):
    PICK_LIST_TRANSITION_NOT_ALLOWED = "pick_list_transition_not_allowed"
    ORDER_NOT_READY = "order_not_ready_to_pick"
    ORDER_ON_PICK_LIST = "order_on_pick_list"
    SEVERAL_WAREHOUSES = "orders_in_several_warehouses"
    NOTHING_TO_PICK = "nothing_to_pick"
    NOT_YOUR_PICK_LIST = "not_your_pick_list"
    TASK_NOT_OPEN = "task_not_open"
    WRONG_ITEM = "wrong_item"
    NOTHING_TO_PACK = "nothing_to_pack"
    ORDER_NOT_PICKED = "order_not_picked"
    NOT_IN_ORDER = "not_in_order"
    TOO_MANY_UNITS = "too_many_units"
    NO_OPEN_PACKAGE = "no_open_package"
    PACKAGE_NOT_OPEN = "package_not_open"
    PACKAGE_EMPTY = "package_empty"
    WEIGHT_OUT_OF_TOLERANCE = "weight_out_of_tolerance"
    OVERRIDE_NOT_ALLOWED = "override_not_allowed"
    PACKING_INCOMPLETE = "packing_incomplete"
