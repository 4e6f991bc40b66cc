"""Shipments: the list with filters, one order's shipment with every label and its events, the
staff retry of its labels, and the orders that must leave today with the time left to their
carrier's cut-off."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment.apis.common import AUTH_ERRORS, INVALID_FILTER, error_response
from oms.common.actors import Actor
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission
from shipping import selectors
from shipping.enums import MANAGE_LABELS, VIEW_SHIPMENTS, ShipmentStatus
from shipping.models import Shipment
from shipping.serializers import (
    LabelsRetryOutput,
    ShipmentDetailOutput,
    ShipmentOutput,
    ShipTodayOutput,
    ShipTodayQuery,
)
from shipping.services import labels as label_services

ORDER_NUMBER = OpenApiParameter("order_number", str, OpenApiParameter.PATH, description="The order's number.")


class ShipmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=ShipmentStatus.choices, help_text="Repeat to match several.", distinct=False
    )
    carrier = django_filters.CharFilter(field_name="carrier__code", lookup_expr="iexact", help_text="Carrier code.")
    order = django_filters.CharFilter(field_name="order__number", help_text="Order number.")

    class Meta:
        model = Shipment
        fields = ["status", "carrier", "order"]


@extend_schema_view(
    list=extend_schema(
        summary="List shipments",
        description="Newest first, cursor pages (follow `next`), with how many labels each has live, failed and "
        "still being made. Filter by `status` (repeat for several), `carrier` and `order`.",
        responses={200: ShipmentOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get an order's shipment",
        description="The shipment with every label of the order, voided ones too (package by package, oldest "
        "first: the history of reprints and replacements), and its events.",
        parameters=[ORDER_NUMBER],
        responses={
            200: ShipmentDetailOutput,
            **AUTH_ERRORS,
            404: error_response(
                "No such order, or it has no shipment yet: shipments open when labels are first requested, "
                "after packing (`shipment_not_found`)."
            ),
        },
    ),
)
class ShipmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "order_number"
    lookup_value_regex = r"[^/]+"
    serializer_class = ShipmentOutput
    filterset_class = ShipmentFilter
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": VIEW_SHIPMENTS,
        "retrieve": VIEW_SHIPMENTS,
        "retry_labels": MANAGE_LABELS,
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.shipment_list()

    def retrieve(self, request: Request, *args: Any, order_number: str | None = None, **kwargs: Any) -> Response:
        return Response(ShipmentDetailOutput(selectors.shipment_detail(order_number=str(order_number))).data)

    @extend_schema(
        summary="Retry an order's labels",
        description="After a final failure (the carrier refused, or stayed unreachable through every retry; "
        "`GET /labels/?status=failed` lists them): the order's failed labels are requested again and made in "
        "the background. Also makes labels still waiting for an unreachable carrier try again now, makes a "
        "label for a package left without one (voided without a replacement), and opens the shipment of a "
        "packed order that got none (such as a shipping method mapped to a carrier service since). Follow "
        "the outcome with `GET /shipments/{order_number}/`.",
        parameters=[ORDER_NUMBER],
        request=None,
        responses={
            202: LabelsRetryOutput,
            **AUTH_ERRORS,
            404: error_response("No order with this number (`order_not_found`)."),
            409: error_response(
                "Nothing to retry: no label of the order failed, none is being made and every package has a "
                "label (`label_not_failed`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="retry-labels")
    def retry_labels(self, request: Request, order_number: str | None = None) -> Response:
        number = str(order_number)
        retried = label_services.labels_retry(actor=Actor.for_request(request), order_number=number)
        message = (
            f"{len(retried)} label(s) of {number} requested again; they are made in the background."
            if retried
            else f"Labels of {number} are being made again in the background."
        )
        body = {"order": number, "labels": retried, "message": message}
        return Response(LabelsRetryOutput(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="List the orders to ship today",
        description="Orders not handed over yet (paid, picking or packed) whose ship-by day is today or already "
        "past (shop time), with their carrier service's cut-off and the time left to it: `seconds_left` is "
        "negative and `late` true once it has passed. Soonest cut-off first, so late orders lead; not paged "
        "(a day's orders). `?late=true` gives only the late ones, `false` the others.",
        parameters=[OpenApiParameter("late", bool, description="true: only late orders; false: only the others.")],
        responses={200: ShipTodayOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class ShipTodayViewSet(viewsets.GenericViewSet):
    serializer_class = ShipTodayOutput
    permission_classes = [ActionPermission]
    required_permissions = {"list": VIEW_SHIPMENTS}
    filter_backends: list[Any] = []  # not a queryset: ShipTodayQuery reads the filter
    pagination_class = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = ShipTodayQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        late = query.validated_data.get("late")
        rows = selectors.ship_today(now=timezone.now())
        if late is not None:
            rows = [row for row in rows if row.late is late]
        return Response(ShipTodayOutput(rows, many=True).data)
