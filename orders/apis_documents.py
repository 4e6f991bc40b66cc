"""An order's invoice and refunds over the REST API: validate input, call one service,
serialize the result.

The invoice answers its PDF by default (what a browser or ``curl -O`` wants) and its details
as JSON to ``Accept: application/json`` (or ``?format=json``). Errors are JSON whatever the
client accepts, in the one error shape of the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from oms.common.actors import Actor
from oms.common.errors import NotFound
from oms.common.permissions import ActionPermission
from orders import services
from orders.apis import AUTH_ERRORS, INVALID, _err
from orders.invoice_pdf import invoice_filename, invoice_pdf
from orders.models import Order, Refund
from orders.selectors import invoice_of_order
from orders.serializers_documents import InvoiceOutput, RefundInput, RefundOutput, RefundResultOutput

# Granted by orders/migrations/0007_refund_invoice_roles.py.
DOWNLOAD_INVOICE = "orders.download_invoice"
VIEW_REFUNDS = "orders.view_refund"
REFUND_ORDER = "orders.refund_order"

NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="The order's number.")
ORDER_NOT_FOUND = {404: _err("No order with this number (`order_not_found`).")}


class PdfRenderer(BaseRenderer):
    """Names the PDF among what the invoice endpoint can answer; the file itself is sent as
    it is, never through a renderer."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        return data


class JsonAnswers(DefaultContentNegotiation):
    """Everything the view answers through DRF (the JSON details, every error) is JSON, so a
    client asking for ``application/pdf`` gets its 404 readable instead of a 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _wants_json(request: Request) -> bool:
    """JSON when the client prefers it to a PDF (``Accept``, ``?format=json``); the PDF for
    ``*/*``, a browser, or no Accept header. Raises NotAcceptable when it accepts neither."""
    renderer, _media_type = DefaultContentNegotiation().select_renderer(request, [PdfRenderer(), JSONRenderer()])
    return isinstance(renderer, JSONRenderer)


def _order_id(number: str) -> int:
    order_id = Order.objects.filter(number=number).values_list("pk", flat=True).first()
    if order_id is None:
        raise NotFound(f"No order with number {number}.", code="order_not_found")
    return order_id


class OrderDocumentsViewSet(viewsets.ViewSet):
    """``orders/{number}/invoice/`` and ``orders/{number}/refunds/`` (routed in
    ``orders/api_urls_documents.py``)."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonAnswers
    permission_classes = [ActionPermission]
    required_permissions = {
        "invoice": DOWNLOAD_INVOICE,
        "refunds": VIEW_REFUNDS,
        "refund_create": REFUND_ORDER,
    }

    @extend_schema(
        summary="Get the invoice",
        description="The order's invoice as a PDF (`Content-Disposition: attachment; filename=\"<invoice "
        'number>.pdf"`), or, to `Accept: application/json` or `?format=json`, its number, issue time and totals '
        "with the address of the PDF. An order is invoiced once, when it is paid; the invoice is the same file "
        "every time, whatever happens to the order afterwards.",
        parameters=[NUMBER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The invoice, A4."),
            (200, "application/json"): OpenApiResponse(InvoiceOutput, description="The invoice's details."),
            **AUTH_ERRORS,
            404: _err(
                "No order with this number (`order_not_found`), or the order has no invoice yet "
                "(`invoice_not_issued`): its invoice is issued once the order is paid."
            ),
            406: _err("The client accepts neither a PDF nor JSON (`not_acceptable`)."),
        },
    )
    def invoice(self, request: Request, number: str) -> HttpResponse:
        invoice = invoice_of_order(number=number)
        if _wants_json(request):
            response: HttpResponse = Response(InvoiceOutput(invoice, context={"request": request}).data)
        else:
            response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice)}"'
        response["Vary"] = "Accept"
        return response

    @extend_schema(
        summary="List an order's refunds",
        description="Every refund recorded for the order, oldest first.",
        parameters=[NUMBER],
        responses={200: RefundOutput(many=True), **AUTH_ERRORS, **ORDER_NOT_FOUND},
    )
    def refunds(self, request: Request, number: str) -> Response:
        refunds = Refund.objects.filter(order_id=_order_id(number)).order_by("created_at", "id")
        return Response(RefundOutput(refunds, many=True).data)

    @extend_schema(
        summary="Record a refund",
        description="Records money the shop gave back (through its payment provider or bank) and tells the "
        "customer (the refund email and the webhooks). Sending a reference already recorded for this order "
        "(same method) records nothing more and answers 200 with that refund.",
        parameters=[NUMBER],
        request=RefundInput,
        responses={
            201: RefundResultOutput,
            200: OpenApiResponse(RefundResultOutput, description="This reference was already recorded."),
            **INVALID,
            **AUTH_ERRORS,
            **ORDER_NOT_FOUND,
            409: _err(
                "The amount is more than was paid and not yet refunded (`refund_exceeds_payments`; `extra` has "
                "the refundable amount), or the reference belongs to another order's refund "
                "(`refund_reference_in_use`). Nothing was changed."
            ),
        },
    )
    def refund_create(self, request: Request, number: str) -> Response:
        data = RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.refund_record(actor=Actor.for_request(request), number=number, **data.validated_data)
        result.refund.order = result.order
        return Response(
            RefundResultOutput(result.refund).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
