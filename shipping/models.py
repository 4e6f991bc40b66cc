"""Carriers, the services they sell, their calendars and prices, and which service carries
each of the shop's shipping methods."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from inventory.models import code_validator
from oms.common.models import TimeStampedModel
from orders.models import ShippingMethod

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

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

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
