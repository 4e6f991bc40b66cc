"""Input and output shapes of the shipment, label and ship-today endpoints. Shapes only: what a
request may carry and how an answer looks; the rules are the services'."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.enums import OrderStatus
from shipping.enums import LabelFormat, LabelStatus, ShipmentStatus, TrackingStatus
from shipping.models import Label

MAX_PRINT = 500  # labels or orders in one bulk print: a day's parcels at a busy dock


def _enum_schema(choices: type[models.TextChoices], blank: bool = False) -> dict[str, Any]:
    values: list[str] = list(choices.values)
    described = "\n".join(f"* `{value}` - {label}" for value, label in choices.choices)
    if blank:
        values.append("")
        described += "\n* `` - none yet"
    return {"type": "string", "enum": values, "description": described}


@extend_schema_field(_enum_schema(ShipmentStatus), component_name="ShipmentStatusEnum")
class ShipmentStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(LabelStatus), component_name="LabelStatusEnum")
class LabelStatusField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(LabelFormat), component_name="LabelFormatEnum")
class LabelFormatField(serializers.CharField):
    pass


@extend_schema_field(_enum_schema(TrackingStatus, blank=True), component_name="ShipmentTrackingStatusEnum")
class TrackingStatusField(serializers.CharField):
    pass


# --- input ----------------------------------------------------------------------------------


class LabelVoidInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=255, help_text="Why the label is voided (smudged, wrong box...); kept on the label."
    )
    regenerate = serializers.BooleanField(
        default=False, help_text="true: request a new label for the package at once (made in the background)."
    )


class LabelsPrintInput(serializers.Serializer):
    orders = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        allow_empty=False,
        max_length=MAX_PRINT,
        help_text="Order numbers: their live labels, order by order and package by package. Orders without a "
        "live label are named in the `X-OMS-Orders-Without-Labels` header.",
    )
    labels = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=MAX_PRINT,
        help_text="Label ids, printed in this order; every one must be live.",
    )
    format = serializers.ChoiceField(
        choices=LabelFormat.choices,
        required=False,
        help_text="`pdf` (one 4 x 6 page per label) or `zpl`. Left out: the labels' own format, PDF when they differ.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("orders" in attrs) == ("labels" in attrs):
            raise serializers.ValidationError(
                {"orders": ["Send either `orders` (order numbers) or `labels` (label ids), not both or neither."]}
            )
        return attrs


class LabelDocumentQuery(serializers.Serializer):
    format = serializers.ChoiceField(choices=LabelFormat.choices, default=LabelFormat.PDF)


class ShipTodayQuery(serializers.Serializer):
    late = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- output ---------------------------------------------------------------------------------


class LabelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField(source="shipment.order.number")
    package = serializers.IntegerField(source="package.sequence", help_text="Which package of the order: 1, 2...")
    status = LabelStatusField(
        help_text="`requested`: being made; `live`: printable; `failed`: staff must retry; `voided`: history."
    )
    carrier = serializers.CharField(source="shipment.carrier.code")
    tracking_number = serializers.CharField(allow_null=True)
    tracking_url = serializers.SerializerMethodField(
        help_text="Where the parcel can be followed (empty when the carrier has no tracking page)."
    )
    format = LabelFormatField(help_text="The label's own format (the packing station's or the carrier's).")
    attempts = serializers.IntegerField(help_text="Attempts with the carrier so far.")
    last_error = serializers.CharField(help_text="Why the last attempt failed; empty once the label is live.")
    created_at = serializers.DateTimeField()
    issued_at = serializers.DateTimeField(allow_null=True)
    print_count = serializers.IntegerField()
    last_printed_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    voided_by = serializers.CharField()
    void_reason = serializers.CharField()
    manifest = serializers.CharField(source="manifest.number", allow_null=True, default=None)
    scanned_out_at = serializers.DateTimeField(allow_null=True)

    def get_tracking_url(self, label: Label) -> str:
        return label.shipment.carrier.tracking_url(label.tracking_number) if label.tracking_number else ""


class ShipmentEventOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="opened, label_created, label_failed, label_voided, status_changed...")
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    created_at = serializers.DateTimeField()


class ShipmentOutput(serializers.Serializer):
    order = serializers.CharField(source="order.number")
    order_status = serializers.ChoiceField(source="order.status", choices=OrderStatus.choices)
    status = ShipmentStatusField()
    carrier = serializers.CharField(source="carrier.code")
    service = serializers.CharField(source="service.code")
    tracking_status = TrackingStatusField(help_text="The latest tracking event's status; empty before the first.")
    live_labels = serializers.IntegerField()
    failed_labels = serializers.IntegerField()
    requested_labels = serializers.IntegerField(help_text="Labels still being made.")
    created_at = serializers.DateTimeField()
    handed_over_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)


class ShipmentLabelOutput(LabelOutput):
    """A label inside its shipment: order and carrier are the shipment's."""

    order = None  # type: ignore[assignment]
    carrier = None  # type: ignore[assignment]


class ShipmentDetailOutput(ShipmentOutput):
    labels = ShipmentLabelOutput(many=True, help_text="Every label, voided ones too, package by package.")
    events = ShipmentEventOutput(many=True, help_text="What happened to the shipment, oldest first.")


class LabelsRetryOutput(serializers.Serializer):
    order = serializers.CharField()
    labels = serializers.ListField(
        child=serializers.IntegerField(), help_text="Failed labels requested again (empty when none had failed)."
    )
    message = serializers.CharField()


class LabelVoidOutput(serializers.Serializer):
    message = serializers.CharField()
    voided = LabelOutput()
    replacement = LabelOutput(
        allow_null=True, help_text="The new label requested for the package (being made), when `regenerate` was true."
    )


class ShipTodayOutput(serializers.Serializer):
    order = serializers.CharField(source="number")
    status = serializers.ChoiceField(choices=OrderStatus.choices, help_text="The order's status.")
    carrier = serializers.CharField(source="service.carrier.code")
    service = serializers.CharField(source="service.code")
    ship_by = serializers.DateField(help_text="The day it must be handed over (shop time).")
    cutoff_at = serializers.DateTimeField(help_text="The carrier service's cut-off on that day.")
    seconds_left = serializers.SerializerMethodField(help_text="Until the cut-off; negative once it has passed.")
    late = serializers.BooleanField(help_text="The cut-off has passed and the order is not handed over.")

    def get_seconds_left(self, row: Any) -> int:
        return int(row.time_left.total_seconds())
