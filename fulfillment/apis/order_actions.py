"""The order actions ``start-picking``, ``abort-picking`` and ``pack``, which run the
warehouse's work (ADR 0005)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment.apis.common import AUTH_ERRORS, error_response
from fulfillment.services import packing, picking
from oms.common.actors import Actor
from oms.common.permissions import ActionPermission
from orders import selectors as order_selectors
from orders.serializers import NoteInput, OrderDetailOutput

ORDER_NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="Order number.")

# --- the order actions that run the warehouse's work (ADR 0005) -------------------------------

ORDER_ERRORS = {
    400: error_response("Invalid input (`invalid`): the note is too long."),
    **AUTH_ERRORS,
    404: error_response("No order with this number (`order_not_found`)."),
}


class OrderWarehouseActionViewSet(viewsets.GenericViewSet):
    """``POST /orders/{number}/start-picking/``, ``abort-picking/`` and ``pack/``: the order
    actions of the lifecycle that need the warehouse's work behind them. Registered on the
    ``orders`` prefix next to ``orders.apis.OrderViewSet``, which does not declare them."""

    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    permission_classes = [ActionPermission]
    required_permissions = {
        "start_picking": "orders.start_picking_order",
        "abort_picking": "orders.abort_picking_order",
        "pack": "orders.pack_order",
    }

    @extend_schema(
        summary="Start picking",
        description="Moves a `paid` order to `picking`: makes a one-order pick list assigned to the caller and "
        "starts it (see `GET /pick-lists/?mine=true`).",
        parameters=[ORDER_NUMBER],
        request=NoteInput,
        responses={
            200: OrderDetailOutput,
            **ORDER_ERRORS,
            400: error_response(
                "Invalid input (`invalid`): the note is too long, or the caller does not have the picker role."
            ),
            409: error_response(
                "Not allowed from the order's status (`transition_not_allowed`; `extra` has the current status "
                "and the allowed ones); its stock is short (`order_short_of_stock`, with the short lines); or "
                "it is already on a pick list (`order_on_pick_list`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="start-picking")
    def start_picking(self, request: Request, number: str | None = None) -> Response:
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        picking.order_pick_start(actor=Actor.for_request(request), number=str(number), note=data.validated_data["note"])
        return Response(OrderDetailOutput(order_selectors.order_detail(number=str(number))).data)

    @extend_schema(
        summary="Abort picking",
        description="Moves an order in `picking` back to `paid` and takes it off its pick list. Units already "
        "picked stay counted as picked, in the order's tote.",
        parameters=[ORDER_NUMBER],
        request=NoteInput,
        responses={
            200: OrderDetailOutput,
            **ORDER_ERRORS,
            409: error_response(
                "Not allowed from the order's status (`transition_not_allowed`; `extra` has the current status "
                "and the allowed ones). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="abort-picking")
    def abort_picking(self, request: Request, number: str | None = None) -> Response:
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        picking.order_pick_abort(actor=Actor.for_request(request), number=str(number), note=data.validated_data["note"])
        return Response(OrderDetailOutput(order_selectors.order_detail(number=str(number))).data)

    @extend_schema(
        summary="Mark packed",
        description="Completes the order's packing: moves an order in `picking` to `packed` once it has been "
        "packed at a packing station (`/packing/`), every unit verified by scan and every box weighed.",
        parameters=[ORDER_NUMBER],
        request=NoteInput,
        responses={
            200: OrderDetailOutput,
            **ORDER_ERRORS,
            409: error_response(
                "Not allowed from the order's status (`transition_not_allowed`; `extra` has the current status "
                "and the allowed ones), or the order was not packed at a station: not opened there, units not "
                "all verified or a box not weighed (`packing_incomplete`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def pack(self, request: Request, number: str | None = None) -> Response:
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        packing.packing_complete(
            actor=Actor.for_request(request), order_number=str(number), note=data.validated_data["note"]
        )
        return Response(OrderDetailOutput(order_selectors.order_detail(number=str(number))).data)
