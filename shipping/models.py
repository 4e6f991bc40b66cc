"""Carriers, the services they sell, their calendars and prices, and which service carries
each of the shop's shipping methods."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from fulfillment.models import Package
from inventory.models import code_validator
from oms.common.models import TimeStampedModel
from orders.models import Order, ShippingMethod
from shipping.enums import (
    CURRENT_LABEL_STATES,
    AdapterKind,
    LabelFormat,
    LabelStatus,
    ManifestStatus,
    ShipmentStatus,
    TrackingStatus,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class ServiceLevel(models.TextChoices):
    ECONOMY = "economy", "Economy"
    STANDARD = "standard", "Standard"
    EXPRESS = "express", "Express"
    SAME_DAY = "same_day", "Same day"
    PICKUP_POINT = "pickup_point", "Pick-up point"


def validate_weekdays(value: list[int]) -> None:
    if not isinstance(value, list) or not value or any(d not in range(7) for d in value):
        raise ValidationError("List the pickup weekdays as numbers 0 (Monday) to 6 (Sunday), at least one.")
    if len(set(value)) != len(value):
        raise ValidationError("Name each pickup weekday once.")


def validate_tracking_template(value: str) -> None:
    if value and "{tracking_number}" not in value:
        raise ValidationError("The tracking URL must contain {tracking_number}, where the number goes.")


def validate_countries(value: list[str]) -> None:
    if not isinstance(value, list) or any(
        not isinstance(c, str) or len(c) != 2 or not c.isalpha() or not c.isupper() for c in value
    ):
        raise ValidationError('List countries as ISO 3166 codes in capitals, such as ["PL", "DE"].')


class Carrier(TimeStampedModel):
    """A courier or the shop's own fleet."""

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=100)
    tracking_url_template = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_tracking_template],
        help_text="Address customers follow, with {tracking_number} where the number goes.",
    )
    is_active = models.BooleanField(default=True)
    adapter = models.CharField(
        max_length=20,
        choices=AdapterKind.choices,
        default=AdapterKind.OWN_FLEET,
        help_text="How labels are made and tracking is read for this carrier.",
    )
    tracking_prefix = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Two capital letters, such as FL.")],
        help_text="Own fleet: the two letters tracking numbers start with.",
    )
    last_serial = models.PositiveIntegerField(default=0, editable=False)
    label_format = models.CharField(
        max_length=3,
        choices=LabelFormat.choices,
        default=LabelFormat.PDF,
        help_text="Label format for stations that do not choose their own.",
    )
    webhook_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shared secret the carrier signs tracking webhooks with (HMAC-SHA256). Empty refuses every call.",
    )
    karrio_carrier = models.CharField(
        max_length=50,
        blank=True,
        help_text="karrio carrier name (such as dhl_express); its credentials come from the environment.",
    )
    return_labels = models.BooleanField(
        default=False,
        help_text="The carrier takes parcels back on labels the shop issues: an approved return gets one.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.adapter == AdapterKind.OWN_FLEET and not self.tracking_prefix:
            raise ValidationError(
                {"tracking_prefix": "An own-fleet carrier needs two letters for its tracking numbers."}
            )
        if self.adapter == AdapterKind.KARRIO and not self.karrio_carrier:
            raise ValidationError({"karrio_carrier": "Name the karrio carrier, such as dhl_express."})

    def tracking_url(self, tracking_number: str) -> str:
        return (
            self.tracking_url_template.replace("{tracking_number}", tracking_number)
            if self.tracking_url_template
            else ""
        )


class CarrierHoliday(models.Model):
    """A day the carrier neither collects nor delivers."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["carrier", "date"], name="carrier_holiday_unique")]

    def __str__(self) -> str:
        return f"{self.carrier_id} {self.date}"


class CarrierService(TimeStampedModel):
    """One product of a carrier (standard parcel, express...): when it collects, by when
    parcels must be handed over that day, and how many business days it takes."""

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="services")
    code = models.CharField(max_length=32, validators=[code_validator])
    name = models.CharField(max_length=100)
    service_level = models.CharField(max_length=20, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD)
    transit_days = models.PositiveSmallIntegerField(help_text="Business days from hand-over to delivery.")
    cutoff_time = models.TimeField(
        default=time(15, 0), help_text="Orders paid before this time on a pickup day ship that day (shop time)."
    )
    pickup_weekdays = models.JSONField(
        default=list, validators=[validate_weekdays], help_text="Weekdays the carrier collects: 0 Monday ... 6 Sunday."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier_id", "code"]
        constraints = [models.UniqueConstraint(fields=["carrier", "code"], name="carrier_service_unique")]

    def __str__(self) -> str:
        return f"{self.carrier_id}/{self.code}"


class PriceRule(models.Model):
    """What a service costs to a destination: flat plus a price per started kilogram. A rule
    with no countries is the service's default for destinations no other rule names."""

    service = models.ForeignKey(CarrierService, on_delete=models.CASCADE, related_name="price_rules")
    zone = models.CharField(max_length=50, help_text="A name for the destinations, such as 'domestic' or 'EU'.")
    countries = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_countries],
        help_text="ISO 3166 codes; empty for every other country.",
    )
    flat = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    per_kg = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["service_id", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["service", "zone"], name="price_rule_zone_unique"),
            models.CheckConstraint(condition=models.Q(flat__gte=0, per_kg__gte=0), name="price_rule_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.zone}"


class ShippingMethodService(models.Model):
    """Which carrier service delivers a shipping method customers choose at checkout."""

    shipping_method = models.OneToOneField(
        ShippingMethod, on_delete=models.CASCADE, to_field="code", related_name="carrier_service_link"
    )
    service = models.ForeignKey(CarrierService, on_delete=models.PROTECT, related_name="shipping_methods")

    def __str__(self) -> str:
        return f"{self.shipping_method_id} -> {self.service_id}"


class Shipment(TimeStampedModel):
    """An order on its way: the carrier service that takes it, its labels (one live label per
    package) and where it stands, from waiting for labels to delivered or returned."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="shipment")
    service = models.ForeignKey(CarrierService, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(
        max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.AWAITING_LABELS, editable=False
    )
    handed_over_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    tracking_status = models.CharField(max_length=30, choices=TrackingStatus.choices, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="When the latest tracking event happened.")
    stale_since = models.DateTimeField(
        null=True, blank=True, help_text="Set when no tracking event arrived for too long; cleared by the next one."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "carrier"], name="shipment_status_carrier")]
        permissions = [
            ("manage_labels", "Can retry, reprint, void and regenerate shipping labels"),
            ("hand_over", "Can scan parcels out to the courier and close manifests"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} via {self.service_id}"


class ShipmentEvent(models.Model):
    """The audit trail of a shipment and its labels: who did what, when."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.kind}"


class Manifest(TimeStampedModel):
    """One courier pickup: the parcels scanned out to a carrier, signed for by its driver."""

    number = models.CharField(max_length=32, unique=True, editable=False)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="manifests")
    pickup_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=ManifestStatus.choices, default=ManifestStatus.OPEN, editable=False
    )
    opened_by = models.CharField(max_length=200)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-pickup_date", "-id"]

    def __str__(self) -> str:
        return self.number


class Label(models.Model):
    """A carrier label for one package. Voided labels stay as history; at most one label of a
    package is current (requested, live or failed), which the database enforces."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="labels")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="labels")
    status = models.CharField(max_length=10, choices=LabelStatus.choices, default=LabelStatus.REQUESTED, editable=False)
    tracking_number = models.CharField(max_length=64, null=True, blank=True, unique=True)
    carrier_reference = models.CharField(max_length=100, blank=True, help_text="The carrier's id for the label.")
    format = models.CharField(max_length=3, choices=LabelFormat.choices, default=LabelFormat.PDF)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    zpl = models.TextField(blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    print_count = models.PositiveIntegerField(default=0)
    last_printed_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.CharField(max_length=200, blank=True)
    void_reason = models.CharField(max_length=255, blank=True)
    manifest = models.ForeignKey(Manifest, on_delete=models.PROTECT, null=True, blank=True, related_name="labels")
    scanned_out_at = models.DateTimeField(null=True, blank=True)
    scanned_out_by = models.CharField(max_length=200, blank=True)
    tracking_status = models.CharField(max_length=30, choices=TrackingStatus.choices, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["package_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["package"],
                condition=models.Q(status__in=CURRENT_LABEL_STATES),
                name="label_one_current_per_package",
            ),
        ]
        indexes = [models.Index(fields=["status", "shipment"], name="label_status_shipment")]

    def __str__(self) -> str:
        return self.tracking_number or f"label {self.pk}"


class TrackingEvent(models.Model):
    """A carrier's tracking event for one parcel: as received (raw) and normalised."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="tracking_events")
    dedup_key = models.CharField(max_length=200, help_text="Same event, same key: stored once.")
    status = models.CharField(max_length=30, choices=TrackingStatus.choices)
    carrier_status = models.CharField(max_length=100, blank=True, help_text="The carrier's own code or text.")
    description = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20, help_text="Which payload shape it came in.")
    raw = models.JSONField()

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["label", "dedup_key"], name="tracking_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"
