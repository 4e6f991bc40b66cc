"""Input and output shapes of the packing station and of package types."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.enums import PackageStatus
from fulfillment.models import PackingSession
from fulfillment.serializers.fields import MAX_GRAMS, MAX_UNITS, PackageStatusField, PackingStatusField, code_field
from orders.enums import OrderStatus
from orders.serializers import OrderSummaryOutput

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
