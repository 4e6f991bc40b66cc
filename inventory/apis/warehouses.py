"""The warehouses and bins (locations) REST API."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from inventory import selectors
from inventory.apis.filters import StrictBooleanFilter
from inventory.apis.responses import AUTH_ERRORS, INVALID, INVALID_FILTER, error
from inventory.models import CODE_PATTERN, Location, Warehouse
from inventory.services import warehouses as services
from oms.common.errors import InvalidInput
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission

CODE_ERRORS: dict[str, Any] = {
    "invalid": "Use letters, digits, dot, dash or underscore, starting with a letter or digit."
}
MAX_PICK_SEQUENCE = 2_147_483_647  # PositiveIntegerField on PostgreSQL


def code_field(help_text: str) -> serializers.RegexField:
    return serializers.RegexField(CODE_PATTERN, max_length=32, help_text=help_text, error_messages=CODE_ERRORS)


# --- warehouses -----------------------------------------------------------------------------


class WarehouseInputSerializer(serializers.Serializer):
    code = code_field("Short code of the warehouse, such as MAIN; it cannot be changed later.")
    name = serializers.CharField(max_length=200)
    is_active = serializers.BooleanField(required=False, default=True)


class WarehouseUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="An inactive warehouse keeps its stock but is not allocated from."
    )


class WarehouseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["code", "name", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class WarehouseFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = Warehouse
        fields = ["is_active"]


class CodePagination(DefaultCursorPagination):
    ordering = "code"


WAREHOUSE_NOT_FOUND = {404: error("No warehouse with this code (`not_found`).")}


@extend_schema_view(
    list=extend_schema(
        summary="List warehouses",
        responses={200: WarehouseOutputSerializer(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a warehouse", responses={200: WarehouseOutputSerializer, **AUTH_ERRORS, **WAREHOUSE_NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add a warehouse",
        description="A taken code answers 400 with code `duplicate`.",
        request=WarehouseInputSerializer,
        responses={201: WarehouseOutputSerializer, **INVALID, **AUTH_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Rename or (de)activate a warehouse",
        request=WarehouseUpdateSerializer,
        responses={200: WarehouseOutputSerializer, **INVALID, **AUTH_ERRORS, **WAREHOUSE_NOT_FOUND},
    ),
)
class WarehouseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    serializer_class = WarehouseOutputSerializer
    filterset_class = WarehouseFilter
    pagination_class = CodePagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "inventory.view_warehouse",
        "retrieve": "inventory.view_warehouse",
        "create": "inventory.add_warehouse",
        "partial_update": "inventory.change_warehouse",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.warehouse_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WarehouseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_create(**data.validated_data)
        return Response(WarehouseOutputSerializer(warehouse).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        warehouse = self.get_object()
        data = WarehouseUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        warehouse = services.warehouse_update(warehouse=warehouse, **data.validated_data)
        return Response(WarehouseOutputSerializer(warehouse).data)


# --- locations (bins) -----------------------------------------------------------------------


class LocationInputSerializer(serializers.Serializer):
    warehouse = serializers.CharField(max_length=32, help_text="Code of the warehouse the bin is in.")
    code = code_field("Bin code, unique across all warehouses, such as A-03-2.")
    pick_sequence = serializers.IntegerField(
        min_value=0,
        max_value=MAX_PICK_SEQUENCE,
        required=False,
        default=0,
        help_text="Pickers walk bins in ascending order; stock is allocated from bins in this order.",
    )
    is_active = serializers.BooleanField(required=False, default=True)


class LocationUpdateSerializer(serializers.Serializer):
    pick_sequence = serializers.IntegerField(min_value=0, max_value=MAX_PICK_SEQUENCE, required=False)
    is_active = serializers.BooleanField(
        required=False,
        help_text="An inactive bin keeps its stock and allocations, but new orders are not allocated from it.",
    )


class LocationOutputSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = Location
        fields = ["code", "warehouse", "pick_sequence", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class LocationFilter(django_filters.FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="Warehouse code.")
    is_active = StrictBooleanFilter(field_name="is_active")

    class Meta:
        model = Location
        fields = ["warehouse", "is_active"]


LOCATION_NOT_FOUND = {404: error("No location with this code (`not_found`).")}


@extend_schema_view(
    list=extend_schema(
        summary="List locations (bins)",
        responses={200: LocationOutputSerializer(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a location", responses={200: LocationOutputSerializer, **AUTH_ERRORS, **LOCATION_NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add a location (bin)",
        description="Bin codes are unique across warehouses: a taken code answers 400 `duplicate`; an unknown "
        "warehouse answers 400 naming `warehouse`.",
        request=LocationInputSerializer,
        responses={201: LocationOutputSerializer, **INVALID, **AUTH_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a location's pick sequence or (de)activate it",
        request=LocationUpdateSerializer,
        responses={200: LocationOutputSerializer, **INVALID, **AUTH_ERRORS, **LOCATION_NOT_FOUND},
    ),
)
class LocationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    serializer_class = LocationOutputSerializer
    filterset_class = LocationFilter
    pagination_class = CodePagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "inventory.view_location",
        "retrieve": "inventory.view_location",
        "create": "inventory.add_location",
        "partial_update": "inventory.change_location",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.location_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = LocationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        code = values.pop("warehouse")
        warehouse = selectors.warehouses_by_code([code]).get(code)
        if warehouse is None:
            raise InvalidInput(
                f"No warehouse with code {code}.", fields={"warehouse": [f"No warehouse with code {code}."]}
            )
        location = services.location_create(warehouse=warehouse, **values)
        return Response(LocationOutputSerializer(location).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        location = self.get_object()
        data = LocationUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location = services.location_update(location=location, **data.validated_data)
        return Response(LocationOutputSerializer(location).data)
