"""The returns REST API: integrators ask for a return on a customer's behalf and follow it;
staff decide, receive, inspect and refund. Each endpoint validates its input, calls one
service and answers the return as it now is."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.models import Location
from inventory.selectors import locations_by_code
from oms.common.actors import Actor
from oms.common.api_errors import ErrorSerializer
from oms.common.errors import Forbidden, InvalidInput, NotFound
from oms.common.filters import UtcIsoDateTimeFilter
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission
from orders.apis_documents import JsonAnswers, PdfRenderer
from returns import selectors, services
from returns.enums import ReturnStatus
from returns.models import Return
from returns.serializers import (
    ReturnCreateInput,
    ReturnDecisionInput,
    ReturnDetailOutput,
    ReturnInspectInput,
    ReturnNoteInput,
    ReturnReceiveInput,
    ReturnRefundInput,
    ReturnSummaryOutput,
)

# Granted by returns/migrations/0002_roles.py.
VIEW_RETURNS = "returns.view_return"
ADD_RETURNS = "returns.add_return"
HANDLE_RETURNS = "returns.handle_return"
RECEIVE_RETURNS = "returns.receive_return"
REQUEST_LATE_RETURNS = "returns.request_late_return"


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


RETURN_NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="The RMA number, RMA-000001.")
AUTH_ERRORS = {
    401: _err(
        "No credentials, or the key or token is invalid, expired or revoked (`not_authenticated`, "
        "`authentication_failed`)."
    ),
    403: _err("The caller's role does not allow this (`permission_denied`)."),
}
INVALID = {400: _err("Invalid input (`invalid`): `fields` names every bad field with the reason.")}
NOT_FOUND = {404: _err("No return with this number (`return_not_found`).")}
NOTHING_CHANGED = "Nothing was changed."
NOT_ALLOWED = (
    "the return's status does not allow it (`return_transition_not_allowed`; `extra` has the current status "
    "and the allowed ones)"
)


class ActionPermissionAnyOf(ActionPermission):
    """ActionPermission where an action may name a tuple of permissions, any one of which
    allows it (cancelling: whoever handles returns, or whoever asked for them)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        required = view.required_permissions.get(getattr(view, "action", None))
        if isinstance(required, tuple):
            user = request.user
            return bool(user and user.is_authenticated and any(user.has_perm(perm) for perm in required))
        return super().has_permission(request, view)


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=ReturnStatus.choices, help_text="Repeat to match several.", distinct=False
    )
    order = django_filters.CharFilter(field_name="order__number", help_text="The order's number.")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Return
        fields = ["status", "order"]


def _detail(number: str, code: int = status.HTTP_200_OK, **kwargs: Any) -> Response:
    return Response(ReturnDetailOutput(selectors.return_detail(number=number)).data, status=code, **kwargs)


def _bin(code: str) -> Location | None:
    """The bin a code names, None for no code. Raises InvalidInput naming ``location``."""
    if not code:
        return None
    location = locations_by_code([code]).get(code)
    if location is None:
        raise InvalidInput(
            f"No bin with code {code}.", fields={"location": [f"No bin with code {code}; check the label on the bin."]}
        )
    return location


@extend_schema_view(
    list=extend_schema(
        summary="List returns",
        description="Newest first, with each return's lines. Pages are cursor-based: follow `next`. Filter by "
        "`status` (repeat for several), `order` (its number), `created_after` and `created_before`.",
        responses={
            200: ReturnSummaryOutput(many=True),
            400: _err("A filter has an invalid value (`invalid`); `fields` names it."),
            **AUTH_ERRORS,
        },
    ),
)
class ReturnViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    serializer_class = ReturnSummaryOutput
    filterset_class = ReturnFilter
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermissionAnyOf]
    required_permissions: dict[str, str | tuple[str, ...]] = {
        "list": VIEW_RETURNS,
        "retrieve": VIEW_RETURNS,
        "create": ADD_RETURNS,
        "approve": HANDLE_RETURNS,
        "reject": HANDLE_RETURNS,
        # An integrator withdraws what it asked for; staff who handle returns cancel too.
        "cancel": (HANDLE_RETURNS, ADD_RETURNS),
        "receive": RECEIVE_RETURNS,
        "inspect": RECEIVE_RETURNS,
        "refund": HANDLE_RETURNS,
        "label": VIEW_RETURNS,
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.return_list()

    @extend_schema(
        summary="Ask for a return",
        description="On a customer's behalf: units of a delivered order, each line with its SKU and a reason. "
        "The return starts as `requested`, gets its RMA number, and the customer is emailed it with what to do "
        "next. Within the return window only (`OMS_RETURN_WINDOW_DAYS` after delivery), unless `allow_late` is "
        "sent by a caller allowed to (`returns.request_late_return`).",
        request=ReturnCreateInput,
        responses={
            201: ReturnDetailOutput,
            400: _err(
                "Invalid input (`invalid`): `fields` names every bad field with the reason, such as "
                "`lines.0.quantity` (more than can still be returned: other returns ask for the rest) or "
                "`lines.0.sku` (not on the order). Nothing was written."
            ),
            401: AUTH_ERRORS[401],
            403: _err(
                "The caller's role does not allow asking for returns, or `allow_late` was sent without "
                "`returns.request_late_return` (`permission_denied`). Nothing was written."
            ),
            404: _err("No order with this number (`order_not_found`)."),
            409: _err(
                "The order is not delivered (`return_not_allowed`), or its return window closed "
                "(`return_window_closed`; `extra.closed_on`). Nothing was written."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ReturnCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v["allow_late"] and not request.user.has_perm(REQUEST_LATE_RETURNS):
            raise Forbidden(
                "Your account may not ask for a return after the return window closed; send allow_late false "
                "or ask a manager."
            )
        ret = services.return_request(
            actor=Actor.for_request(request),
            order_number=v["order"],
            lines=[services.ReturnLineData(**line) for line in v["lines"]],
            comment=v["comment"],
            allow_late=v["allow_late"],
        )
        return _detail(ret.number, status.HTTP_201_CREATED, headers={"Location": f"/api/v1/returns/{ret.number}/"})

    @extend_schema(
        summary="Get a return",
        description="With its lines and each unit's inspection, the refund (null until recorded), what the "
        "received units are worth (`refund_due`), the statuses it can move to next, and its timeline.",
        parameters=[RETURN_NUMBER],
        responses={200: ReturnDetailOutput, **AUTH_ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request: Request, *args: Any, number: str | None = None, **kwargs: Any) -> Response:
        return _detail(str(number))

    @extend_schema(
        summary="Approve a return",
        description="The shop takes a `requested` return; the customer is emailed how to send it.",
        parameters=[RETURN_NUMBER],
        request=ReturnNoteInput,
        responses={
            200: ReturnDetailOutput,
            **INVALID,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(f"Refused: {NOT_ALLOWED}. {NOTHING_CHANGED}"),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, number: str | None = None) -> Response:
        data = ReturnNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_approve(actor=Actor.for_request(request), number=str(number), **data.validated_data)
        return _detail(str(number))

    @extend_schema(
        summary="Reject a return",
        description="The shop refuses a `requested` return, saying why; the customer is told. Its units can be "
        "asked for again.",
        parameters=[RETURN_NUMBER],
        request=ReturnDecisionInput,
        responses={
            200: ReturnDetailOutput,
            **INVALID,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(f"Refused: {NOT_ALLOWED}. {NOTHING_CHANGED}"),
        },
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, number: str | None = None) -> Response:
        data = ReturnDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_reject(actor=Actor.for_request(request), number=str(number), **data.validated_data)
        return _detail(str(number))

    @extend_schema(
        summary="Cancel a return",
        description="Withdraws a return before its parcel arrives (`requested` or `approved`), such as when the "
        "customer keeps the items; its units can be asked for again. Open to whoever may ask for returns or "
        "handle them.",
        parameters=[RETURN_NUMBER],
        request=ReturnDecisionInput,
        responses={
            200: ReturnDetailOutput,
            **INVALID,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(f"Refused: {NOT_ALLOWED}, such as after the parcel arrived. {NOTHING_CHANGED}"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str | None = None) -> Response:
        data = ReturnDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_cancel(actor=Actor.for_request(request), number=str(number), **data.validated_data)
        return _detail(str(number))

    @extend_schema(
        summary="Receive a return's parcel",
        description="Records how many units of each SKU arrived (all that were asked for when `received` is left "
        "out) and moves an `approved` return to `received`. When every unit the order shipped has come back over "
        "its returns, the order becomes `returned`.",
        parameters=[RETURN_NUMBER],
        request=ReturnReceiveInput,
        responses={
            200: ReturnDetailOutput,
            400: _err(
                "Invalid input (`invalid`): `received.<sku>` names an SKU not on the return or more units than "
                "asked for; `received` says when no unit at all is recorded (cancel the return instead). "
                f"{NOTHING_CHANGED}"
            ),
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(f"Refused: {NOT_ALLOWED}, such as before approval. {NOTHING_CHANGED}"),
        },
    )
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, number: str | None = None) -> Response:
        data = ReturnReceiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_receive(actor=Actor.for_request(request), number=str(number), **data.validated_data)
        return _detail(str(number))

    @extend_schema(
        summary="Inspect returned units",
        description="Records received units of one SKU as inspected: `restock` puts them back into the bin "
        "`location` (a `return` movement of the stock ledger, which also serves orders waiting for stock); "
        "`scrap` writes them off, `note` saying why. Once every received unit is inspected the return becomes "
        "`inspected`, ready to refund.",
        parameters=[RETURN_NUMBER],
        request=ReturnInspectInput,
        responses={
            200: ReturnDetailOutput,
            400: _err(
                "Invalid input (`invalid`): `fields` names `sku` (not on the return), `location` (no bin with "
                "that code, or none given to restock), `note` (no reason to scrap), `outcome` or `quantity`. "
                f"{NOTHING_CHANGED}"
            ),
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(
                f"Refused: {NOT_ALLOWED}, such as before the parcel arrived; or fewer received units of the SKU "
                f"are left to inspect (`nothing_left_to_inspect`; `extra.left`). {NOTHING_CHANGED}"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def inspect(self, request: Request, number: str | None = None) -> Response:
        data = ReturnInspectInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.return_inspect(
            actor=Actor.for_request(request),
            number=str(number),
            sku=v["sku"],
            outcome=v["outcome"],
            quantity=v["quantity"],
            location=_bin(v["location"].strip()),
            note=v["note"],
        )
        return _detail(str(number))

    @extend_schema(
        summary="Refund a return",
        description="Records the refund of an `inspected` return as a refund of its order (the order's refunded "
        "amount, the customer's refund email) and closes the return as `refunded`. The amount is usually "
        "`refund_due`.",
        parameters=[RETURN_NUMBER],
        request=ReturnRefundInput,
        responses={
            200: ReturnDetailOutput,
            **INVALID,
            **AUTH_ERRORS,
            **NOT_FOUND,
            409: _err(
                f"Refused: {NOT_ALLOWED}, such as before inspection; the amount is more than was paid and not yet "
                "refunded (`refund_exceeds_payments`); or the reference is already recorded "
                f"(`refund_reference_in_use`). {NOTHING_CHANGED}"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, number: str | None = None) -> Response:
        data = ReturnRefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.return_refund(
            actor=Actor.for_request(request),
            number=str(number),
            refund=services.RefundData(amount=v["amount"], method=v["method"], reference=v["reference"]),
            note=v["note"],
        )
        return _detail(str(number))

    @extend_schema(
        summary="Download a return's label",
        description="The customer's return label as a PDF (`Content-Disposition: attachment; "
        'filename="<RMA number>-label.pdf"`), once a worker has made it after approval. Only orders whose '
        "carrier takes return labels get one; the return's `label` says where it stands.",
        parameters=[RETURN_NUMBER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The return label."),
            **AUTH_ERRORS,
            404: _err(
                "No return with this number (`return_not_found`), or it has no label ready "
                "(`return_label_not_ready`): not approved yet, still being made, failed, or the carrier "
                "takes no return labels."
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, PdfRenderer],
        content_negotiation_class=JsonAnswers,
    )
    def label(self, request: Request, number: str | None = None) -> HttpResponse:
        found = selectors.return_label_pdf(number=str(number))
        if found is None:
            raise NotFound(
                f"Return {number} has no label ready: it comes once the return is approved, when the order's "
                "carrier takes return labels.",
                code="return_label_not_ready",
            )
        _tracking, pdf = found
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{number}-label.pdf"'
        return response
