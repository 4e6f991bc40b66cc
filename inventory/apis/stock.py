"""The stock REST API: levels per SKU and bin, the ledger, receipts and adjustments.

Counters are never written directly: ``PUT /stock/{sku}/{location}/``, adjustments and
receipts go through ``inventory.services.stock``, which writes a ledger row for every change.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from inventory import selectors
from inventory.apis.filters import StrictBooleanFilter
from inventory.apis.responses import AUTH_ERRORS, INVALID, INVALID_FILTER, error
from inventory.models import AdjustmentReason, Location, MovementKind, Product, StockLevel, StockMovement
from inventory.services import stock as services
from oms.common.actors import Actor
from oms.common.errors import InvalidInput
from oms.common.filters import UtcIsoDateTimeFilter
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission

MAX_UNITS = 1_000_000
# Reasons a person gives for a manual change; "count" and "import" are written by cycle
# counts and stock imports.
MANUAL_REASONS = [
    (r.value, r.label)
    for r in (AdjustmentReason.DAMAGED, AdjustmentReason.LOST, AdjustmentReason.FOUND, AdjustmentReason.CORRECTION)
]


# --- output ---------------------------------------------------------------------------------


class StockLevelOutputSerializer(serializers.Serializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)
    warehouse = serializers.CharField(source="location.warehouse.code", read_only=True)
    on_hand = serializers.IntegerField(read_only=True, help_text="Units in the bin.")
    allocated = serializers.IntegerField(read_only=True, help_text="Units in the bin held for orders.")
    available = serializers.IntegerField(read_only=True, help_text="on_hand - allocated.")


class StockMovementOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)
    warehouse = serializers.CharField(source="location.warehouse.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "sku",
            "location",
            "warehouse",
            "kind",
            "on_hand_delta",
            "allocated_delta",
            "reason",
            "note",
            "order_number",
            "reference",
            "actor_kind",
            "actor_label",
            "created_at",
        ]
        read_only_fields = fields


# --- input ----------------------------------------------------------------------------------


class StockLevelSetSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField(min_value=0, max_value=MAX_UNITS, help_text="The new number of units on hand.")
    reason = serializers.ChoiceField(choices=MANUAL_REASONS)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StockAdjustmentInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=32, help_text="Bin code.")
    delta = serializers.IntegerField(
        min_value=-MAX_UNITS, max_value=MAX_UNITS, help_text="Units to add (positive) or take away (negative)."
    )
    reason = serializers.ChoiceField(choices=MANUAL_REASONS)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Give a change other than zero.")
        return value


class ReceiptLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    location = serializers.CharField(max_length=32, help_text="Bin code the units are put away in.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)


class ReceiptInputSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100, help_text="Purchase order or delivery note number.")
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False, max_length=1000)  # type: ignore[call-arg]


class ReceiptOutputSerializer(serializers.Serializer):
    reference = serializers.CharField(read_only=True)
    movements = StockMovementOutputSerializer(many=True, read_only=True, help_text="One receipt row per line.")


# --- resolving references in a body ---------------------------------------------------------


def _resolve(skus: list[str], locations: list[str], prefix: str = "") -> tuple[list[Product], list[Location]]:
    """The products and bins a body names, in order (two queries). Raises InvalidInput
    naming every unknown one (``sku``, ``lines.2.location``, ...)."""
    products = selectors.products_by_sku(skus)
    bins = selectors.locations_by_code(locations)
    errors: dict[str, list[str]] = {}
    for index, (sku, code) in enumerate(zip(skus, locations, strict=True)):
        at = f"{prefix}.{index}." if prefix else ""
        if sku not in products:
            errors[f"{at}sku"] = [f"No product with SKU {sku}."]
        if code not in bins:
            errors[f"{at}location"] = [f"No location with code {code}."]
    if errors:
        raise InvalidInput(
            "The request names what does not exist. "
            + "; ".join(f"{name}: {reasons[0].rstrip('.')}" for name, reasons in errors.items())
            + ".",
            fields=errors,
        )
    return [products[s] for s in skus], [bins[c] for c in locations]


def _with_relations(stock: StockLevel, product: Product, location: Location) -> StockLevel:
    stock.product = product
    stock.location = location
    return stock


# --- stock levels ---------------------------------------------------------------------------


class StockLevelFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="location__warehouse__code", help_text="Warehouse code.")
    location = django_filters.CharFilter(field_name="location__code", help_text="Bin code.")
    below_reorder_point = StrictBooleanFilter(
        method="filter_below_reorder_point",
        help_text="true: only rows of SKUs whose available units in the row's warehouse are below the "
        "warehouse's reorder point; false: every other row.",
    )

    class Meta:
        model = StockLevel
        fields = ["sku", "warehouse", "location"]

    def filter_below_reorder_point(
        self, queryset: QuerySet[StockLevel], name: str, value: bool
    ) -> QuerySet[StockLevel]:
        return selectors.stock_levels_below_reorder_point(queryset, below=value)


class IdPagination(DefaultCursorPagination):
    ordering = "id"


class NewestFirstPagination(DefaultCursorPagination):
    ordering = "-id"


SKU_PARAM = OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH, description="The product's SKU.")
LOCATION_PARAM = OpenApiParameter("location", OpenApiTypes.STR, OpenApiParameter.PATH, description="Bin code.")


@extend_schema_view(
    list=extend_schema(
        summary="List stock levels",
        description="One row per SKU and bin. Pages are cursor-based: follow `next`.",
        responses={200: StockLevelOutputSerializer(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class StockLevelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "sku"
    lookup_value_regex = r"[^/]+"
    serializer_class = StockLevelOutputSerializer
    filterset_class = StockLevelFilter
    pagination_class = IdPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "inventory.view_stocklevel",
        "set_level": "inventory.adjust_stock",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.stock_level_list()

    @extend_schema(
        summary="Set the units on hand in a bin",
        description="Sets the absolute quantity, recorded in the ledger as an adjustment with the reason. "
        "Setting it below what is allocated releases the bin's newest allocations first; their orders "
        "show as short of stock and wait for the next receipt. Sending the current quantity changes nothing.",
        parameters=[SKU_PARAM, LOCATION_PARAM],
        request=StockLevelSetSerializer,
        responses={
            200: StockLevelOutputSerializer,
            **INVALID,
            **AUTH_ERRORS,
            404: error("Unknown SKU (`product_not_found`) or bin (`location_not_found`). Nothing was written."),
        },
    )
    @action(detail=True, methods=["put"], url_path=r"(?P<location>[^/]+)", url_name="level")
    def set_level(self, request: Request, sku: str, location: str) -> Response:
        product = selectors.product_get(sku=sku)
        bin_ = selectors.location_get(code=location)
        data = StockLevelSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        stock = services.stock_adjust(
            actor=Actor.for_request(request),
            product=product,
            location=bin_,
            on_hand=v["on_hand"],
            reason=v["reason"],
            note=v["note"],
        )
        return Response(StockLevelOutputSerializer(_with_relations(stock, product, bin_)).data)


# --- the ledger -----------------------------------------------------------------------------


class StockMovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    location = django_filters.CharFilter(field_name="location__code", help_text="Bin code.")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    order_number = django_filters.CharFilter(field_name="order_number")
    reference = django_filters.CharFilter(field_name="reference")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockMovement
        fields = ["sku", "location", "kind", "order_number", "reference"]


@extend_schema_view(
    list=extend_schema(
        summary="List stock movements (the ledger)",
        description="Every change of a stock counter, newest first. Pages are cursor-based: follow `next`.",
        responses={200: StockMovementOutputSerializer(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class StockMovementViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = StockMovementOutputSerializer
    filterset_class = StockMovementFilter
    pagination_class = NewestFirstPagination
    permission_classes = [ActionPermission]
    required_permissions = {"list": "inventory.view_stockmovement"}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.stock_movement_list()


# --- receipts and adjustments ---------------------------------------------------------------


class StockReceiptViewSet(viewsets.GenericViewSet):
    serializer_class = ReceiptOutputSerializer
    permission_classes = [ActionPermission]
    required_permissions = {"create": "inventory.receive_stock"}

    @extend_schema(
        summary="Receive stock",
        description="Books every line into its bin, then allocates waiting backorders (paid orders first, by "
        "payment time). An unknown SKU or bin, a non-positive quantity or an inactive bin answers 400 naming "
        "`lines.N.field`, and nothing is booked.",
        request=ReceiptInputSerializer,
        responses={201: ReceiptOutputSerializer, **INVALID, **AUTH_ERRORS},
    )
    def create(self, request: Request) -> Response:
        data = ReceiptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        lines = v["lines"]
        products, bins = _resolve([li["sku"] for li in lines], [li["location"] for li in lines], prefix="lines")
        rows = services.stock_receive(
            actor=Actor.for_request(request),
            reference=v["reference"],
            lines=[
                services.ReceiptLine(product=p, location=b, quantity=li["quantity"])
                for p, b, li in zip(products, bins, lines, strict=True)
            ],
        )
        by_product = {p.pk: p for p in products}
        by_location = {b.pk: b for b in bins}
        for row in rows:
            row.product = by_product[row.product_id]
            row.location = by_location[row.location_id]
        body = ReceiptOutputSerializer({"reference": v["reference"], "movements": rows}).data
        return Response(body, status=status.HTTP_201_CREATED)


class StockAdjustmentViewSet(viewsets.GenericViewSet):
    serializer_class = StockLevelOutputSerializer
    permission_classes = [ActionPermission]
    required_permissions = {"create": "inventory.adjust_stock"}

    @extend_schema(
        summary="Adjust stock in a bin",
        description="Adds or takes away units with a reason (damaged, lost, found, correction), recorded in "
        "the ledger; answers with the bin's stock level after the change. Taking units below what is allocated "
        "releases the bin's newest allocations first. An unknown SKU or bin, a zero change or a result below "
        "zero answers 400 and nothing is written.",
        request=StockAdjustmentInputSerializer,
        responses={201: StockLevelOutputSerializer, **INVALID, **AUTH_ERRORS},
    )
    def create(self, request: Request) -> Response:
        data = StockAdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        (product,), (bin_,) = _resolve([v["sku"]], [v["location"]])
        stock = services.stock_adjust(
            actor=Actor.for_request(request),
            product=product,
            location=bin_,
            delta=v["delta"],
            reason=v["reason"],
            note=v["note"],
        )
        body = StockLevelOutputSerializer(_with_relations(stock, product, bin_)).data
        return Response(body, status=status.HTTP_201_CREATED)
