"""The orders REST API: validate input, call one service, serialize the result."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from oms.common.actors import Actor
from oms.common.api_errors import ErrorSerializer
from oms.common.errors import InvalidInput
from oms.common.filters import UtcIsoDateTimeFilter
from oms.common.models import ApiClient
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission
from oms.common.services import idempotency_check
from orders import selectors, services
from orders.enums import OrderStatus, SalesChannel
from orders.models import Order
from orders.serializers import (
    CancelInput,
    NoteInput,
    OrderCreateInput,
    OrderDetailOutput,
    OrderSummaryOutput,
    PaymentInput,
    PaymentResultOutput,
    order_create_input,
    order_detail_data,
)


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


AUTH_ERRORS = {
    401: _err("No API key, or the key is invalid or revoked (`not_authenticated`, `authentication_failed`)."),
    403: _err("The caller's role does not allow this (`permission_denied`)."),
}
INVALID = {400: _err("Invalid input (`invalid`): `fields` names every bad field with the reason.")}
NOT_FOUND = {404: _err("No order with this number (`order_not_found`).")}
NOT_ALLOWED = {
    409: _err(
        "Not allowed from the order's current status (`transition_not_allowed`); `extra` has the current "
        "status and the allowed ones. Nothing was changed."
    )
}
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (up to 255 characters), such as a UUID. A retry with the same key and the same "
        "body returns the order created the first time (with header `Idempotent-Replayed: true`) instead of "
        "creating another; the same key with a different body answers 422."
    ),
)


class OrderFilter(django_filters.FilterSet):
    # distinct=False: a filter on the order's own column cannot repeat a row, and the SELECT
    # DISTINCT django-filter adds by default sorts the page on every column (with parallel
    # workers at a million orders) instead of reading it from the (status, created_at) index.
    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, help_text="Repeat to match several.", distinct=False
    )
    channel = django_filters.ChoiceFilter(choices=SalesChannel.choices)
    customer_email = django_filters.CharFilter(field_name="customer_email", lookup_expr="iexact")
    external_reference = django_filters.CharFilter(field_name="external_reference")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["status", "channel", "customer_email", "external_reference"]


def _idempotency(request: Request) -> services.IdempotencyData | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise InvalidInput(
            "The Idempotency-Key header must be 1 to 255 characters.",
            fields={"Idempotency-Key": ["Must be 1 to 255 characters."]},
        )
    client = request.auth
    owner = f"client:{client.pk}" if isinstance(client, ApiClient) else f"user:{request.user.pk}"
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return services.IdempotencyData(owner=owner, key=key, fingerprint=hashlib.sha256(body.encode()).hexdigest())


def _transition_action(
    name: str, url_path: str, service: Callable[..., Order], summary: str, description: str
) -> Callable[..., Response]:
    """Builds the POST endpoint for one lifecycle move: optional note in, order detail out."""

    def view(self: OrderViewSet, request: Request, number: str | None = None) -> Response:
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        service(actor=Actor.for_request(request), number=number, note=data.validated_data["note"])
        return Response(order_detail_data(selectors.order_detail(number=str(number))))

    view.__name__ = name
    view = action(detail=True, methods=["post"], url_path=url_path)(view)
    return extend_schema(
        summary=summary,
        description=description,
        request=NoteInput,
        responses={200: OrderDetailOutput, **INVALID, **AUTH_ERRORS, **NOT_FOUND, **NOT_ALLOWED},
    )(view)


@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Newest first by default; `ordering` takes created_at, updated_at (prefix - for descending). "
        "Pages are cursor-based: follow `next`.",
        responses={200: OrderSummaryOutput(many=True), **INVALID, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get an order",
        description="With addresses, lines, payments and the full timeline of events.",
        responses={200: OrderDetailOutput, **AUTH_ERRORS, **NOT_FOUND},
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    serializer_class = OrderSummaryOutput
    filterset_class = OrderFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["created_at", "updated_at"]
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "orders.view_order",
        "retrieve": "orders.view_order",
        "create": "orders.add_order",
        "payments": "orders.record_payment",
        "cancel": "orders.cancel_order",
        "ship": "orders.ship_order",
        "execute": "orders.execute_order",
        "mark_returned": "orders.return_order",
        "split": "orders.split_order",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.order_list()

    def retrieve(self, request: Request, *args: Any, number: str | None = None, **kwargs: Any) -> Response:
        return Response(order_detail_data(selectors.order_detail(number=str(number))))

    @extend_schema(
        summary="Place an order",
        description="Totals are computed here from the catalogue (or the channel's line prices) and the "
        "shipping method. The order starts as `unhandled` and becomes `paid` when payments cover its total.",
        parameters=[IDEMPOTENCY_HEADER],
        request=OrderCreateInput,
        responses={
            201: OrderDetailOutput,
            **INVALID,
            **AUTH_ERRORS,
            409: _err(
                "Stock is short and backorders are not allowed (`insufficient_stock`; `extra.lines` names every "
                "short line with what is available), or the channel already has an order with this "
                "`external_reference` (`duplicate_external_reference`; `extra.number` names it). Nothing was written."
            ),
            422: _err("The Idempotency-Key was used before with a different body (`idempotency_key_reused`)."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        idempotency = _idempotency(request)
        try:
            v = order_create_input(request.data)
        except ValidationError:
            # A key used before with another body answers 422 even when this body is invalid,
            # so the client learns it reused a key. A valid body needs no look here: the
            # service's claim of the key, its first statement, answers the same 422.
            if idempotency is not None:
                idempotency_check(
                    owner=idempotency.owner, scope=services.IDEMPOTENCY_SCOPE, key=idempotency.key,
                    fingerprint=idempotency.fingerprint,
                )  # fmt: skip
            raise
        result = services.order_create(
            actor=Actor.for_request(request),
            draft=services.OrderDraft(
                channel=v["channel"],
                currency=v["currency"],
                customer=services.CustomerData(**v["customer"]),
                shipping_address=services.AddressData(**v["shipping_address"]),
                billing_address=services.AddressData(**v["billing_address"]) if "billing_address" in v else None,
                lines=[services.LineData(**line) for line in v["lines"]],
                shipping_method=v["shipping_method"],
                shipping_price=v.get("shipping_price"),
                external_reference=v["external_reference"],
                customer_note=v["customer_note"],
                allow_backorder=v.get("allow_backorder"),
            ),
            idempotency=idempotency,
        )
        headers = {"Location": f"/api/v1/orders/{result.order.number}/"}
        if result.created:
            order = selectors.order_detail_of_new(
                order=result.order, lines=result.lines, events=result.events, reservations=result.reservations
            )
        else:
            order = selectors.order_detail(number=result.order.number)
            headers["Idempotent-Replayed"] = "true"
        return Response(order_detail_data(order), status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        summary="Record a payment",
        description="Records money received. When captured payments cover the total, an `unhandled` order "
        "becomes `paid`; less is recorded as an underpayment and the order waits. Sending a reference already "
        "recorded for this order changes nothing and answers 200 with that payment.",
        request=PaymentInput,
        responses={
            201: PaymentResultOutput,
            200: OpenApiResponse(PaymentResultOutput, description="This reference was already recorded."),
            **INVALID,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(
                "The order is cancelled or returned (`order_not_payable`), or the reference belongs to "
                "another order (`payment_reference_in_use`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def payments(self, request: Request, number: str | None = None) -> Response:
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.payment_record(actor=Actor.for_request(request), number=str(number), **data.validated_data)
        result.payment.order = result.order
        return Response(
            PaymentResultOutput(result.payment).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Cancel an order",
        description="Allowed while the order is `unhandled` or `paid`.",
        request=CancelInput,
        responses={200: OrderDetailOutput, **INVALID, **AUTH_ERRORS, **NOT_FOUND, **NOT_ALLOWED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str | None = None) -> Response:
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_cancel(actor=Actor.for_request(request), number=str(number), **data.validated_data)
        return Response(order_detail_data(selectors.order_detail(number=str(number))))

    @extend_schema(
        summary="Split off the lines in stock",
        description="For a paid order that waits for part of its stock: the allocated units go on as a new "
        "order, paid and ready to pick, linked to this one (`split_from`, `split_orders`); the rest waits here. "
        "Answers the new order.",
        request=None,
        responses={
            201: OrderDetailOutput,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(
                "The order is not paid (`transition_not_allowed`), or nothing or everything is in stock "
                "(`nothing_to_split`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def split(self, request: Request, number: str | None = None) -> Response:
        result = services.order_split(actor=Actor.for_request(request), number=str(number))
        return Response(
            order_detail_data(selectors.order_detail(number=result.new_order.number)),
            status=status.HTTP_201_CREATED,
        )

    # start-picking, abort-picking and pack need the warehouse's work behind them: they are
    # served on the same paths by fulfillment.apis.order_actions (ADR 0005).
    ship = _transition_action(
        "ship", "ship", services.order_mark_shipped, "Mark shipped", "Moves a `packed` order to `shipped`."
    )
    execute = _transition_action(
        "execute", "execute", services.order_mark_executed,
        "Mark executed", "The customer received the package: moves a `shipped` order to `executed`.",
    )  # fmt: skip
    mark_returned = _transition_action(
        "mark_returned", "return", services.order_mark_returned,
        "Mark returned", "The goods came back: from `executed` (a return) or `shipped` (returned to sender).",
    )  # fmt: skip
