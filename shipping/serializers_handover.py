"""Input and output shapes of the courier hand-over endpoints: manifests, scans, and the
parcels waiting for pickup."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.enums import OrderStatus
from shipping.enums import ManifestStatus


def _enum_schema(choices: type[models.TextChoices]) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(choices.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices.choices),
    }


@extend_schema_field(_enum_schema(ManifestStatus), component_name="ManifestStatusEnum")
class ManifestStatusField(serializers.CharField):
    pass


# --- input ----------------------------------------------------------------------------------


class ManifestOpenInput(serializers.Serializer):
    carrier = serializers.CharField(
        max_length=32, help_text="Code of the carrier whose driver collects, such as FLEET."
    )
    pickup_date = serializers.DateField(
        required=False, help_text="The day the driver collects (shop time); today when left out. Not in the past."
    )


class ParcelCodeInput(serializers.Serializer):
    code = serializers.CharField(
        max_length=100, help_text="The parcel's tracking number, as scanned from its label (spaces and case ignored)."
    )


# --- output ---------------------------------------------------------------------------------


class ManifestOutput(serializers.Serializer):
    number = serializers.CharField(help_text="MF-000001; names the manifest in other calls.")
    carrier = serializers.CharField(source="carrier.code")
    carrier_name = serializers.CharField(source="carrier.name")
    pickup_date = serializers.DateField()
    status = ManifestStatusField()
    parcel_count = serializers.IntegerField(help_text="Parcels scanned onto the manifest.")
    weight_grams = serializers.IntegerField(help_text="Their weight together, as weighed at packing.")
    opened_by = serializers.CharField()
    opened_at = serializers.DateTimeField(source="created_at")
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(help_text="Empty while open.")


class ManifestParcelOutput(serializers.Serializer):
    tracking_number = serializers.CharField()
    order = serializers.CharField(source="order_number")
    order_status = serializers.ChoiceField(choices=OrderStatus.choices)
    package = serializers.IntegerField(help_text="Which package of the order this is: n of `packages`.")
    packages = serializers.IntegerField(help_text="How many packages the order has.")
    recipient_city = serializers.CharField()
    recipient_country = serializers.CharField(help_text="ISO 3166 code.")
    weight_grams = serializers.IntegerField(allow_null=True)
    scanned_out_at = serializers.DateTimeField()
    scanned_out_by = serializers.CharField()


class ManifestDetailOutput(ManifestOutput):
    parcels = ManifestParcelOutput(many=True, help_text="In the order they were scanned.")


class ParcelScanOutput(serializers.Serializer):
    message = serializers.CharField(help_text="What happened, in a sentence for the person at the dock.")
    manifest = serializers.CharField()
    tracking_number = serializers.CharField()
    order = serializers.CharField(source="order_number")
    package = serializers.IntegerField(help_text="Which package of the order this is: n of `packages`.")
    packages = serializers.IntegerField(help_text="How many packages the order has.")
    scanned = serializers.IntegerField(help_text="How many of them are scanned out now.")
    shipped = serializers.BooleanField(help_text="This scan shipped the order: its last parcel is out.")


class ManifestClosedOutput(serializers.Serializer):
    message = serializers.CharField()
    incomplete_orders = serializers.ListField(
        child=serializers.CharField(),
        source="incomplete",
        help_text="Orders with parcels on the manifest and others still at the dock (not shipped yet).",
    )
    manifest = ManifestDetailOutput()


class WaitingParcelOutput(serializers.Serializer):
    tracking_number = serializers.CharField()
    order = serializers.CharField(source="order_number")
    package = serializers.IntegerField()
    packages = serializers.IntegerField()
    carrier = serializers.CharField(source="carrier.code")
    service = serializers.CharField(source="service.code")
    leave_by = serializers.DateField(
        help_text="The day it must be handed over: the order's ship-by day, or for an order without one the "
        "first pickup day after its label was issued."
    )
    cutoff_at = serializers.DateTimeField(help_text="The carrier service's cut-off on that day.")
    overdue = serializers.BooleanField(help_text="The cut-off has passed and the parcel is still here.")
    overdue_seconds = serializers.SerializerMethodField(help_text="How long past the cut-off (0 before it).")

    def get_overdue_seconds(self, parcel: Any) -> int:
        return int(parcel.overdue_by.total_seconds())
