"""The accuracy ledger: every wrong scan, short pick and weight override."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from fulfillment import selectors
from fulfillment.apis.common import AUTH_ERRORS, INVALID_FILTER
from fulfillment.enums import AccuracyKind
from fulfillment.models import AccuracyEvent
from fulfillment.serializers.accuracy import AccuracyEventOutput
from oms.common.filters import UtcIsoDateTimeFilter
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission

# --- the accuracy ledger --------------------------------------------------------------------


class AccuracyEventFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(
        choices=AccuracyKind.choices, help_text="Repeat to match several.", distinct=False
    )
    order_number = django_filters.CharFilter(field_name="order_number")
    pick_list = django_filters.CharFilter(field_name="pick_list__number", help_text="Pick list number.")
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    user = django_filters.CharFilter(field_name="user__username", help_text="Username of who it happened to.")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AccuracyEvent
        fields = ["kind", "order_number", "pick_list", "sku", "user"]


@extend_schema_view(
    list=extend_schema(
        summary="The accuracy ledger",
        description="Every wrong scan, short pick and weight override, newest first, in cursor pages.",
        responses={200: AccuracyEventOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class AccuracyEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AccuracyEventOutput
    filterset_class = AccuracyEventFilter
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {"list": "fulfillment.view_accuracyevent"}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.accuracy_event_list()
