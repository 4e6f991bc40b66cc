"""Picking and packing: pick lists with their tasks, packing sessions and packages, and the
accuracy ledger. Statuses change only through ``fulfillment.services``."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from fulfillment.enums import (
    ACTIVE_ENTRY_STATES,
    AccuracyKind,
    EntryState,
    PackageStatus,
    PackingStatus,
    PickListStatus,
    TaskStatus,
)
from inventory.models import Location, Product, Warehouse, code_validator
from oms.common.models import TimeStampedModel
from orders.models import Order, OrderLine


class PickList(TimeStampedModel):
    """A round through one warehouse for one or more orders, assigned to one picker."""

    number = models.CharField(max_length=32, unique=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    picker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pick_lists")
    status = models.CharField(max_length=20, choices=PickListStatus.choices, default=PickListStatus.ASSIGNED)
    created_by = models.CharField(max_length=200)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["picker", "status"], name="pick_list_picker_status")]
        permissions = [
            ("pick", "Can take pick lists and pick them"),
            ("manage_pick_lists", "Can assign and cancel anyone's pick lists"),
        ]

    def __str__(self) -> str:
        return self.number


class PickListOrder(models.Model):
    """One order on a pick list and the tote its units go into."""

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="entries")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="pick_entries")
    position = models.PositiveSmallIntegerField()
    tote = models.CharField(max_length=40, validators=[code_validator])
    state = models.CharField(max_length=20, choices=EntryState.choices, default=EntryState.QUEUED)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["pick_list_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pick_list", "position"], name="pick_entry_position_unique"),
            # The database's word on "two pickers cannot take the same order".
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(state__in=ACTIVE_ENTRY_STATES), name="one_active_pick_entry"
            ),
            models.UniqueConstraint(
                fields=["tote"], condition=models.Q(state__in=ACTIVE_ENTRY_STATES), name="one_active_tote"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pick_list_id}#{self.position} {self.order_id}"


class PickTask(models.Model):
    """Units of one order line to take from one bin into the order's tote."""

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="tasks")
    entry = models.ForeignKey(PickListOrder, on_delete=models.CASCADE, related_name="tasks")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_picked = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="pick_task_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(quantity_picked__lte=models.F("quantity")), name="pick_task_picked_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_picked}/{self.quantity} of {self.product_id} at {self.location_id}"

    @property
    def remaining(self) -> int:
        return self.quantity - self.quantity_picked


class PackageType(TimeStampedModel):
    """A box or mailer the packers use: its outer size and its own weight."""

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100)
    length_mm = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    width_mm = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    height_mm = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    tare_grams = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PackingStation(TimeStampedModel):
    """A packing table with its scale and label printer."""

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    label_format = models.CharField(
        max_length=3,
        blank=True,
        choices=[("pdf", "PDF, 4 x 6 inch"), ("zpl", "ZPL for a thermal printer")],
        help_text="What its label printer takes; empty for the carrier's default.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class PackingSession(TimeStampedModel):
    """Packing one order: every unit verified by a scan into one of its packages."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="packing_sessions")
    station = models.ForeignKey(PackingStation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    packer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=PackingStatus.choices, default=PackingStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status=PackingStatus.OPEN), name="one_open_packing_session"
            ),
        ]
        permissions = [
            ("pack", "Can pack orders"),
            ("override_package_weight", "Can approve a package weight outside the tolerance"),
        ]

    def __str__(self) -> str:
        return f"packing {self.order_id}"


class Package(TimeStampedModel):
    """One parcel of an order: what went into it, its type and its weighed weight."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="packages")
    session = models.ForeignKey(PackingSession, on_delete=models.CASCADE, related_name="packages")
    sequence = models.PositiveSmallIntegerField()
    package_type = models.ForeignKey(PackageType, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=PackageStatus.choices, default=PackageStatus.OPEN)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    expected_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    weight_override_by = models.CharField(max_length=200, blank=True)
    weight_override_reason = models.CharField(max_length=255, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="package_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} package {self.sequence}"


class PackageItem(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="items")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["package", "line"], name="package_item_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="package_item_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class AccuracyEvent(models.Model):
    """The accuracy ledger: every wrong scan, short pick and weight override, as it happened.

    A refused scan is answered with a result, not an exception, so its event is committed
    with the refusal instead of being rolled back with it.
    """

    kind = models.CharField(max_length=30, choices=AccuracyKind.choices)
    order_number = models.CharField(max_length=32, db_index=True)
    pick_list = models.ForeignKey(PickList, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    sku = models.CharField(max_length=64, blank=True, help_text="The SKU that was expected (or scanned at packing).")
    location = models.CharField(max_length=32, blank=True, help_text="Bin code, for picking events.")
    expected = models.CharField(max_length=100, blank=True)
    actual = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=255, blank=True)
    actor_label = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_number}"
