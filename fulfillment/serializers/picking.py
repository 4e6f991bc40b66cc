"""Input and output shapes of the pick list endpoints and the ready-to-pick queue."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.enums import PickListStatus, TaskStatus
from fulfillment.models import PickList
from fulfillment.serializers.fields import MAX_UNITS, EntryStateField, PickListStatusField, TaskStatusField
from orders.enums import OrderStatus

# --- pick lists: input ----------------------------------------------------------------------


class PickListCreateInput(serializers.Serializer):
    orders = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        allow_empty=False,
        max_length=1000,
        help_text="Order numbers to put on the list, all or none (at most OMS_PICK_BATCH_SIZE). "
        "Leave out to take the oldest orders of the ready-to-pick queue.",
    )
    picker = serializers.CharField(
        max_length=150,
        required=False,
        help_text="Username of the picker the list is for; the caller when left out. Naming someone else "
        "needs the right to manage pick lists.",
    )
    warehouse = serializers.CharField(
        max_length=32,
        required=False,
        help_text="Warehouse code. From the queue: the warehouse to take orders in (else that of the oldest "
        "ready order). With named orders: required only when they hold nothing in bins.",
    )
    max_orders = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="How many orders to take from the queue, 1 to OMS_PICK_BATCH_SIZE (the default).",
    )


class PickListStartInput(serializers.Serializer):
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Kept in each order's timeline."
    )


class PickScanInput(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="The barcode scanned, or the SKU typed.")
    task = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The task (id) being picked; the next one on the path when left out.",
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_UNITS, default=1, help_text="Units confirmed by this scan."
    )


class PickShortInput(serializers.Serializer):
    found = serializers.IntegerField(
        min_value=0, max_value=MAX_UNITS, help_text="Units found in the bin, fewer than the task still asks for."
    )


class PickListAssignInput(serializers.Serializer):
    picker = serializers.CharField(max_length=150, help_text="Username of the picker who takes the list over.")


class PickListCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Why the list is cancelled; kept on the list.")


# --- pick lists: output ---------------------------------------------------------------------


class PickTaskOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Send it as `task` when scanning, or in the short-pick address.")
    location = serializers.CharField(source="location.code", help_text="The bin to take the units from.")
    pick_sequence = serializers.IntegerField(source="location.pick_sequence")
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    barcode = serializers.CharField(source="product.barcode")
    quantity = serializers.IntegerField(help_text="Units to take from this bin.")
    quantity_picked = serializers.IntegerField()
    remaining = serializers.IntegerField()
    status = TaskStatusField()
    order = serializers.CharField(source="entry.order.number", help_text="The order the units are for.")
    tote = serializers.CharField(source="entry.tote", help_text="The tote the units go into.")


class PickListOrderOutput(serializers.Serializer):
    number = serializers.CharField(source="order.number")
    order_status = serializers.ChoiceField(source="order.status", choices=OrderStatus.choices)
    position = serializers.IntegerField()
    tote = serializers.CharField()
    state = EntryStateField(help_text="Where the order stands on this list.")
    note = serializers.CharField(help_text="Why it was removed or fell short, when it was.")


class PickListOutput(serializers.Serializer):
    number = serializers.CharField()
    status = PickListStatusField()
    warehouse = serializers.CharField(source="warehouse.code")
    picker = serializers.CharField(source="picker.username", help_text="Username of the assigned picker.")
    order_count = serializers.IntegerField(help_text="Orders on the list, not counting removed ones.")
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()


class PickListDetailOutput(PickListOutput):
    orders = PickListOrderOutput(many=True, source="entries.all")
    tasks = PickTaskOutput(many=True, source="path", help_text="In walking order: bins by pick sequence.")
    next_task = serializers.SerializerMethodField(
        help_text="The first open task on the path while the list is picking; null before the start (tasks "
        "are laid out again when the list starts, so their ids change then) and when nothing is left."
    )

    @extend_schema_field(PickTaskOutput(allow_null=True))
    def get_next_task(self, pick_list: PickList) -> dict[str, Any] | None:
        if pick_list.status != PickListStatus.PICKING:
            return None
        task = next((t for t in pick_list.path if t.status == TaskStatus.OPEN), None)  # type: ignore[attr-defined]
        return PickTaskOutput(task).data if task is not None else None


class DroppedOrderOutput(serializers.Serializer):
    number = serializers.CharField()
    reason = serializers.CharField()


class PickListStartOutput(PickListDetailOutput):
    dropped = DroppedOrderOutput(
        many=True, help_text="Orders taken off the list at the start (cancelled, split or short since), and why."
    )


class PickScanOutput(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Always true here; a refused scan answers 409.")
    message = serializers.CharField(help_text="What to tell the picker.")
    task = PickTaskOutput(help_text="The task the units were confirmed on.")
    list_completed = serializers.BooleanField(help_text="No task is left open: the list is complete.")
    next_task = PickTaskOutput(allow_null=True, help_text="The next open task on the path, if any.")


class PickShortOutput(serializers.Serializer):
    message = serializers.CharField(help_text="What to tell the picker.")
    count_reference = serializers.CharField(help_text="The cycle count raised (or reused) for the bin.")
    task = PickTaskOutput(help_text="The task reported short.")
    new_tasks = PickTaskOutput(many=True, help_text="Tasks in other bins that cover the missing units.")
    order_back_to_paid = serializers.BooleanField(
        help_text="No bin covers the missing units: the order went back to `paid` as short of stock and its "
        "tote is set aside."
    )
    list_completed = serializers.BooleanField()
    next_task = PickTaskOutput(allow_null=True)


class ReadyOrderOutput(serializers.Serializer):
    number = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.IntegerField(source="line_count", help_text="Order lines.")
    units = serializers.IntegerField(source="unit_count", help_text="Units over all lines.")
    warehouse = serializers.CharField(
        source="warehouse_code",
        allow_null=True,
        help_text="The warehouse holding its units; null when they are held in several (split it first).",
    )
