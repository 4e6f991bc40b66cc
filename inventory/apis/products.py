from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from inventory import selectors
from inventory.models import SKU_PATTERN, Product
from inventory.services import products as services
from oms.common.api_errors import ErrorSerializer
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission


class ProductInputSerializer(serializers.Serializer):
    sku = serializers.RegexField(
        SKU_PATTERN,
        max_length=64,
        help_text="Your stock-keeping unit code: letters, digits, dot, dash or underscore.",
        error_messages={"invalid": "Use letters, digits, dot, dash or underscore, starting with a letter or digit."},
    )
    name = serializers.CharField(max_length=255)
    barcode = serializers.RegexField(
        r"^[0-9A-Za-z\-]+$",
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "Use digits, letters or dashes only."},
    )
    weight_grams = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False, default=0)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    is_active = serializers.BooleanField(required=False, default=True)


class ProductUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    barcode = serializers.RegexField(
        r"^[0-9A-Za-z\-]+$",
        max_length=64,
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Use digits, letters or dashes only."},
    )
    weight_grams = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["sku", "name", "barcode", "weight_grams", "price", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku")
    barcode = django_filters.CharFilter(field_name="barcode")
    is_active = django_filters.BooleanFilter(field_name="is_active")

    class Meta:
        model = Product
        fields = ["sku", "barcode", "is_active"]


class ProductPagination(DefaultCursorPagination):
    ordering = "sku"


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; `fields` names every bad field."),
    401: OpenApiResponse(ErrorSerializer, description="No or invalid API key."),
    403: OpenApiResponse(ErrorSerializer, description="The caller's role does not allow this."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No product with this SKU.")}


@extend_schema_view(
    list=extend_schema(summary="List products", responses={200: ProductOutputSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(summary="Get a product", responses={200: ProductOutputSerializer, **ERRORS, **NOT_FOUND}),
    create=extend_schema(
        summary="Add a product",
        request=ProductInputSerializer,
        responses={201: ProductOutputSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a product",
        description="Past order lines keep the name and price they were ordered with.",
        request=ProductUpdateSerializer,
        responses={200: ProductOutputSerializer, **ERRORS, **NOT_FOUND},
    ),
)
class ProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    lookup_field = "sku"
    lookup_value_regex = r"[^/]+"
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    pagination_class = ProductPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "inventory.view_product",
        "retrieve": "inventory.view_product",
        "create": "inventory.add_product",
        "partial_update": "inventory.change_product",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.product_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**data.validated_data)
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = self.get_object()
        data = ProductUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_update(product=product, **data.validated_data)
        return Response(ProductOutputSerializer(product).data)
