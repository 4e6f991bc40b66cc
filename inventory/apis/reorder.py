"""The reorder rules and low-stock alerts REST API."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from inventory import selectors
from inventory.apis.filters import StrictBooleanFilter
from inventory.apis.responses import AUTH_ERRORS, INVALID, INVALID_FILTER, error
from inventory.models import LowStockAlert, ReorderRule
from inventory.services import reorder_rules as services
from oms.common.errors import InvalidInput
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission

MAX_UNITS = 1_000_000

# --- reorder rules --------------------------------------------------------------------------


class ReorderRuleInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    warehouse = serializers.CharField(max_length=32, help_text="Warehouse code.")
    reorder_point = serializers.IntegerField(
        min_value=0, max_value=MAX_UNITS, help_text="Alert when available units in the warehouse fall below this."
    )
    reorder_quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, help_text="How many to order.")


class ReorderRuleUpdateSerializer(serializers.Serializer):
    reorder_point = serializers.IntegerField(min_value=0, max_value=MAX_UNITS, required=False)
    reorder_quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, required=False)


class ReorderRuleOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = ReorderRule
        fields = ["id", "sku", "warehouse", "reorder_point", "reorder_quantity"]
        read_only_fields = fields


class ReorderRuleFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="Warehouse code.")

    class Meta:
        model = ReorderRule
        fields = ["sku", "warehouse"]


class IdPagination(DefaultCursorPagination):
    ordering = "id"


class NewestFirstPagination(DefaultCursorPagination):
    ordering = "-id"


RULE_NOT_FOUND = {404: error("No reorder rule with this id (`not_found`).")}


@extend_schema_view(
    list=extend_schema(
        summary="List reorder rules",
        responses={200: ReorderRuleOutputSerializer(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a reorder rule", responses={200: ReorderRuleOutputSerializer, **AUTH_ERRORS, **RULE_NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add a reorder rule",
        description="One rule per SKU and warehouse (another answers 400 `duplicate`, `extra.id` names the "
        "existing rule). If available stock is already below the point, a low-stock alert is raised at once.",
        request=ReorderRuleInputSerializer,
        responses={201: ReorderRuleOutputSerializer, **INVALID, **AUTH_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a reorder rule",
        description="The SKU's low-stock alert in the warehouse is raised or resolved to match the new point.",
        request=ReorderRuleUpdateSerializer,
        responses={200: ReorderRuleOutputSerializer, **INVALID, **AUTH_ERRORS, **RULE_NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Remove a reorder rule",
        description="Its open low-stock alert, if any, is resolved.",
        responses={204: None, **AUTH_ERRORS, **RULE_NOT_FOUND},
    ),
)
class ReorderRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "id"
    lookup_value_regex = r"[0-9]+"
    serializer_class = ReorderRuleOutputSerializer
    filterset_class = ReorderRuleFilter
    pagination_class = IdPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "inventory.view_reorderrule",
        "retrieve": "inventory.view_reorderrule",
        "create": "inventory.add_reorderrule",
        "partial_update": "inventory.change_reorderrule",
        "destroy": "inventory.delete_reorderrule",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.reorder_rule_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ReorderRuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        sku, code = v.pop("sku"), v.pop("warehouse")
        product = selectors.products_by_sku([sku]).get(sku)
        warehouse = selectors.warehouses_by_code([code]).get(code)
        errors: dict[str, list[str]] = {}
        if product is None:
            errors["sku"] = [f"No product with SKU {sku}."]
        if warehouse is None:
            errors["warehouse"] = [f"No warehouse with code {code}."]
        if product is None or warehouse is None:
            raise InvalidInput("The rule names something that does not exist.", fields=errors)
        rule = services.reorder_rule_create(product=product, warehouse=warehouse, **v)
        return Response(ReorderRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        data = ReorderRuleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.reorder_rule_update(rule=rule, **data.validated_data)
        return Response(ReorderRuleOutputSerializer(rule).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.reorder_rule_delete(rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- low-stock alerts -----------------------------------------------------------------------


class LowStockAlertOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.IntegerField(read_only=True, help_text="Available units when the alert was raised.")
    available_now = serializers.IntegerField(read_only=True, help_text="Available units in the warehouse now.")
    days_of_cover = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="available_now / average daily demand over the last 30 days (units reserved by orders "
        "placed in that time / 30), one decimal; null when there was no demand.",
    )

    class Meta:
        model = LowStockAlert
        fields = [
            "id",
            "sku",
            "warehouse",
            "available",
            "available_now",
            "reorder_point",
            "reorder_quantity",
            "days_of_cover",
            "raised_at",
            "resolved_at",
        ]
        read_only_fields = fields


class LowStockAlertFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="Warehouse code.")
    include_resolved = StrictBooleanFilter(
        method="filter_include_resolved", help_text="true: resolved alerts too. Open alerts only by default."
    )

    class Meta:
        model = LowStockAlert
        fields = ["sku", "warehouse"]

    def filter_include_resolved(
        self, queryset: QuerySet[LowStockAlert], name: str, value: bool
    ) -> QuerySet[LowStockAlert]:
        return queryset  # applied in filter_queryset, which also runs when the parameter is absent

    def filter_queryset(self, queryset: QuerySet[LowStockAlert]) -> QuerySet[LowStockAlert]:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_resolved"):
            queryset = queryset.filter(resolved_at__isnull=True)
        return queryset


@extend_schema_view(
    list=extend_schema(
        summary="List low-stock alerts",
        description="Open alerts, newest first (`include_resolved=true` adds resolved ones). An alert is raised "
        "once when a SKU's available units in a warehouse fall below its reorder point and resolved when "
        "they are back at or above it.",
        responses={200: LowStockAlertOutputSerializer(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class LowStockAlertViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = LowStockAlertOutputSerializer
    filterset_class = LowStockAlertFilter
    pagination_class = NewestFirstPagination
    permission_classes = [ActionPermission]
    required_permissions = {"list": "inventory.view_lowstockalert"}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        # Resolved ones are narrowed away by the filter unless the caller asks for them.
        return selectors.low_stock_alert_list(include_resolved=True)
