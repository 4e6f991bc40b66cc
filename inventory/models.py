from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from oms.common.models import TimeStampedModel

# No slash: a SKU is part of the product's URL (/api/v1/products/<sku>/).
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
sku_validator = RegexValidator(
    SKU_PATTERN, "Use letters, digits, dot, dash or underscore, starting with a letter or digit."
)
barcode_validator = RegexValidator(r"^[0-9A-Za-z\-]+$", "Use digits, letters or dashes only.")


class Product(TimeStampedModel):
    """A stock-keeping unit the shop sells. Order lines snapshot its name and price."""

    sku = models.CharField("SKU", max_length=64, unique=True, validators=[sku_validator])
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=64, blank=True, validators=[barcode_validator])
    weight_grams = models.PositiveIntegerField(default=0)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["barcode"], condition=~models.Q(barcode=""), name="product_barcode_unique"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
code_validator = RegexValidator(CODE_PATTERN, "Use letters, digits, dot, dash or underscore.")


class Warehouse(TimeStampedModel):
    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # The dispatch address: the sender on shipping labels and where returns come back to.
    sender_name = models.CharField(max_length=200, blank=True, help_text="Sender on labels; the shop's name if empty.")
    line1 = models.CharField(max_length=200, blank=True)
    line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code, such as PL.")
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["code"]
        permissions = [
            ("receive_stock", "Can receive stock"),
            ("adjust_stock", "Can adjust stock levels"),
            ("count_stock", "Can enter cycle counts"),
            ("approve_count", "Can approve cycle count variances"),
        ]

    def __str__(self) -> str:
        return self.code


class Location(TimeStampedModel):
    """A bin in a warehouse. Pickers walk bins in ``pick_sequence`` order."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    pick_sequence = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["warehouse_id", "pick_sequence", "code"]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """Units of one SKU in one bin. Only ``inventory.services`` changes the counters, always
    with a ledger row; the database refuses any state that would oversell."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=models.Q(allocated__gte=0), name="stock_allocated_not_negative"),
            models.CheckConstraint(
                condition=models.Q(allocated__lte=models.F("on_hand")), name="stock_allocated_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.on_hand} on hand, {self.allocated} allocated"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ALLOCATION = "allocation", "Allocation"
    RELEASE = "release", "Release"
    PICK = "pick", "Pick"
    ADJUSTMENT = "adjustment", "Adjustment"
    COUNT = "count", "Count"
    RETURN = "return", "Return"


class StockMovement(models.Model):
    """The append-only ledger: one row per change of a stock counter. The counters of every
    StockLevel equal the sums of its rows (``manage.py stock_reconcile`` proves it)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField(default=0)
    allocated_delta = models.IntegerField(default=0)
    reason = models.CharField(max_length=30, blank=True)
    note = models.CharField(max_length=255, blank=True)
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    reference = models.CharField(max_length=100, blank=True, help_text="Receipt, count or import reference.")
    actor_kind = models.CharField(max_length=20)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["product", "location"], name="movement_product_location")]

    def __str__(self) -> str:
        return f"{self.kind} {self.on_hand_delta:+d}/{self.allocated_delta:+d}"


class Reservation(models.Model):
    """The demand of one order line on stock: how many units it needs and how many are held
    for it. Orders refer to it by order number and line id, so inventory needs no orders."""

    order_number = models.CharField(max_length=32, db_index=True)
    line_id = models.BigIntegerField(unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    # Units secured for the line: still held in bins (its allocations) or already picked.
    quantity_allocated = models.PositiveIntegerField(default=0)
    quantity_picked = models.PositiveIntegerField(default=0)
    # Backorders are served first come, first served by payment time; unpaid ones after.
    priority_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_allocated__lte=models.F("quantity")), name="reservation_within_quantity"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_picked__lte=models.F("quantity_allocated")),
                name="reservation_picked_within_allocated",
            ),
        ]
        indexes = [
            models.Index(
                fields=["product", "priority_at", "id"],
                name="reservation_waiting",
                condition=models.Q(quantity_allocated__lt=models.F("quantity")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_number}/{self.line_id}: {self.quantity_allocated}/{self.quantity}"

    @property
    def quantity_short(self) -> int:
        return self.quantity - self.quantity_allocated


class Allocation(models.Model):
    """Units of a reservation held in one bin."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="allocations")
    stock = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "stock"], name="allocation_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.reservation_id} at {self.stock_id}"


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged"
    LOST = "lost", "Lost"
    FOUND = "found", "Found"
    CORRECTION = "correction", "Correction"
    COUNT = "count", "Cycle count"
    IMPORT = "import", "Stock import"


class ReorderRule(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reorder_rules")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reorder_rules")
    reorder_point = models.PositiveIntegerField(help_text="Alert when available stock falls below this.")
    reorder_quantity = models.PositiveIntegerField(help_text="How many to order when it does.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "warehouse"], name="reorder_rule_unique")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id} < {self.reorder_point}"


class LowStockAlert(models.Model):
    """Raised once when available stock crosses below the reorder point; resolved when it
    is back at or above it. At most one open alert per SKU and warehouse."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="+")
    available = models.IntegerField(help_text="Available units when the alert was raised.")
    reorder_point = models.PositiveIntegerField()
    reorder_quantity = models.PositiveIntegerField()
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse"], condition=models.Q(resolved_at__isnull=True), name="one_open_alert"
            ),
        ]

    def __str__(self) -> str:
        return f"low stock {self.product_id}@{self.warehouse_id}"


class CountStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class CycleCount(TimeStampedModel):
    """A count task over a set of bins. Counters enter what they see without being shown what
    the system expects; a manager approves the variance into adjustments."""

    reference = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=20, choices=CountStatus.choices, default=CountStatus.OPEN)
    locations = models.ManyToManyField(Location, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    created_by = models.CharField(max_length=200)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.reference


class CycleCountEntry(models.Model):
    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="entries")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    counted = models.PositiveIntegerField()
    # What the system held when the count was entered; never shown to the counter. The
    # variance (counted - expected) is applied as a change, so picks between entry and
    # approval are not undone.
    expected = models.IntegerField()
    counted_by = models.CharField(max_length=200)
    counted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["count", "location", "product"], name="count_entry_unique")]

    def __str__(self) -> str:
        return f"{self.count_id}: {self.counted} at {self.location_id}"

    @property
    def variance(self) -> int:
        return self.counted - self.expected
