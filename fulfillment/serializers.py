"""Input and output shapes of the fulfillment API. Input and output are separate classes and
carry no business rules: those live in ``fulfillment.services``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.enums import AccuracyKind, EntryState, PackageStatus, PackingStatus, PickListStatus, TaskStatus
from fulfillment.models import PackingSession, PickList
from inventory.models import CODE_PATTERN
from orders.enums import OrderStatus
from orders.serializers import OrderSummaryOutput

MAX_UNITS = 1_000_000
MAX_GRAMS = 1_000_000
CODE_ERRORS: dict[str, Any] = {
    "invalid": "Use letters, digits, dot, dash or underscore, starting with a letter or digit."
}


# --- status fields ---------------------------------------------------------------------------
# Each status set is one named component of the schema. Several outputs share a field name
# ("status") with different sets; naming each set here keeps their names stable for client
# generators without an entry in the project-wide ENUM_NAME_OVERRIDES.


def _enum_schema(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices.choices),
    }


@extend_schema_field(_enum_schema(PickListStatus), component_name="PickListStatusEnum")
class PickListStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(TaskStatus), component_name="PickTaskStatusEnum")
class TaskStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(EntryState), component_name="PickListOrderStateEnum")
class EntryStateField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(PackingStatus), component_name="PackingStatusEnum")
class PackingStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(PackageStatus), component_name="PackageStatusEnum")
class PackageStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(AccuracyKind), component_name="AccuracyKindEnum")
class AccuracyKindField(serializers.CharField):
    pass


def code_field(help_text: str, **kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        CODE_PATTERN, max_length=32, help_text=help_text, error_messages=CODE_ERRORS, **kwargs
    )


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


# --- packing: input -------------------------------------------------------------------------


class PackingOpenInput(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="The order number or the tote label scanned.")
    station = serializers.CharField(max_length=32, required=False, help_text="Code of the packing station.")


class PackageOpenInput(serializers.Serializer):
    package_type = serializers.CharField(max_length=32, help_text="Code of the box, such as BOX-S.")


class PackScanInput(serializers.Serializer):
    code = serializers.CharField(max_length=100, help_text="The barcode scanned, or the SKU typed.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, default=1)


class WeightOverrideInput(serializers.Serializer):
    username = serializers.CharField(
        max_length=150,
        required=False,
        help_text="The supervisor approving the weight. Leave out (with password) when the caller may approve "
        "weights themself.",
    )
    password = serializers.CharField(
        max_length=4096,
        required=False,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="The supervisor's password, checked here and never stored.",
    )
    reason = serializers.CharField(max_length=255, help_text="Why the weight is right after all.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("username")) != bool(attrs.get("password")):
            missing = "password" if attrs.get("username") else "username"
            raise serializers.ValidationError({missing: ["Send the supervisor's username and password together."]})
        return attrs


class PackageCloseInput(serializers.Serializer):
    weight_grams = serializers.IntegerField(
        min_value=1, max_value=MAX_GRAMS, help_text="What the scale shows for the closed box, in grams."
    )
    override = WeightOverrideInput(
        required=False,
        help_text="A supervisor's approval, needed only when the weight is outside the tolerance.",
    )


# --- packing: output ------------------------------------------------------------------------


class PackageItemOutput(serializers.Serializer):
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()


class PackageOutput(serializers.Serializer):
    sequence = serializers.IntegerField(help_text="1, 2, ... per order; names the package in other calls.")
    package_type = serializers.CharField(source="package_type.code")
    status = PackageStatusField()
    weight_grams = serializers.IntegerField(allow_null=True, help_text="As weighed; null while open.")
    expected_weight_grams = serializers.IntegerField(
        allow_null=True, help_text="Tare plus the catalogue weight of the units, when weighed."
    )
    weight_override_by = serializers.CharField(help_text="The supervisor who approved the weight, if one did.")
    weight_override_reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    items = PackageItemOutput(many=True, source="items.all")


class PackingLineOutput(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    barcode = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units the order needs.")
    verified = serializers.IntegerField(help_text="Units scanned into its packages so far.")


def _verified_by_line(session: PackingSession) -> dict[int, int]:
    """From the prefetched packages and items: no query."""
    verified: dict[int, int] = defaultdict(int)
    for package in session.packages.all():
        for item in package.items.all():
            verified[item.line_id] += item.quantity
    return verified


def _lines(session: PackingSession) -> list[dict[str, Any]]:
    verified = _verified_by_line(session)
    return [
        {
            "sku": line.sku,
            "name": line.name,
            "barcode": line.product.barcode,
            "quantity": line.quantity,
            "verified": verified.get(line.pk, 0),
        }
        for line in session.order.lines.all()
    ]


class PackingSessionOutput(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    order_status = serializers.ChoiceField(source="order.status", choices=OrderStatus.choices)
    status = PackingStatusField()
    station = serializers.CharField(source="station.code", allow_null=True)
    packer = serializers.CharField(source="packer.username", help_text="Username of who opened the packing.")
    created_at = serializers.DateTimeField()
    lines = serializers.SerializerMethodField()
    packages = PackageOutput(many=True, source="packages.all")
    open_package = serializers.SerializerMethodField(help_text="The box units are scanned into now, if any.")
    all_verified = serializers.SerializerMethodField(
        help_text="Every unit is verified: weigh and close the open box, then complete."
    )

    @extend_schema_field(PackingLineOutput(many=True))
    def get_lines(self, session: PackingSession) -> list[dict[str, Any]]:
        return _lines(session)

    def get_open_package(self, session: PackingSession) -> int | None:
        return next((p.sequence for p in session.packages.all() if p.status == PackageStatus.OPEN), None)

    def get_all_verified(self, session: PackingSession) -> bool:
        return all(line["verified"] >= line["quantity"] for line in _lines(session))


class PackScanOutput(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Always true here; a refused scan answers 409.")
    message = serializers.CharField(help_text="What to tell the packer.")
    package = serializers.IntegerField(help_text="Sequence of the box the units went into.")
    line = PackingLineOutput(help_text="The order line the units belong to, with its units verified now.")
    all_verified = serializers.BooleanField()


class PackedOrderOutput(OrderSummaryOutput):
    packages = PackageOutput(many=True, source="packed_packages", help_text="The closed packages, waiting for labels.")


# --- package types --------------------------------------------------------------------------


class PackageTypeInput(serializers.Serializer):
    code = code_field("Short code the packers type or scan, such as BOX-S; it cannot be changed later.")
    name = serializers.CharField(max_length=100)
    length_mm = serializers.IntegerField(min_value=1, max_value=100_000)
    width_mm = serializers.IntegerField(min_value=1, max_value=100_000)
    height_mm = serializers.IntegerField(min_value=1, max_value=100_000)
    tare_grams = serializers.IntegerField(min_value=0, max_value=MAX_GRAMS, help_text="The empty box's weight.")
    is_active = serializers.BooleanField(required=False, default=True)


class PackageTypeUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    length_mm = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    width_mm = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    height_mm = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    tare_grams = serializers.IntegerField(min_value=0, max_value=MAX_GRAMS, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="An inactive type is off the packers' list; packages made with it keep it."
    )


class PackageTypeOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    length_mm = serializers.IntegerField()
    width_mm = serializers.IntegerField()
    height_mm = serializers.IntegerField()
    tare_grams = serializers.IntegerField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# --- the accuracy ledger --------------------------------------------------------------------


class AccuracyEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = AccuracyKindField()
    order_number = serializers.CharField()
    pick_list = serializers.CharField(source="pick_list.number", allow_null=True)
    package = serializers.IntegerField(source="package.sequence", allow_null=True, help_text="Package sequence.")
    sku = serializers.CharField(help_text="The SKU expected (at a bin), or scanned (at packing).")
    location = serializers.CharField(help_text="Bin code, for picking events.")
    expected = serializers.CharField()
    actual = serializers.CharField()
    note = serializers.CharField()
    actor = serializers.CharField(source="actor_label", help_text="Who it happened to (user or API client).")
    user = serializers.CharField(source="user.username", allow_null=True)
    supervisor = serializers.CharField(
        source="supervisor.username", allow_null=True, help_text="Who approved a weight override."
    )
    created_at = serializers.DateTimeField()
