"""Labels: the list (such as the failures staff must retry), one label, its document to print,
voiding with or without a replacement, and bulk printing of many orders' labels in one file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment.apis.common import AUTH_ERRORS, INVALID, INVALID_FILTER, error_response
from oms.common.actors import Actor
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission
from shipping import selectors
from shipping.enums import MANAGE_LABELS, LabelFormat, LabelStatus
from shipping.models import Label
from shipping.serializers import LabelDocumentQuery, LabelOutput, LabelsPrintInput, LabelVoidInput, LabelVoidOutput
from shipping.services import labels as label_services
from shipping.services.labels import LabelDocument

VIEW_LABELS = "shipping.view_label"
ORDERS_WITHOUT_LABELS = "X-OMS-Orders-Without-Labels"

LABEL_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The label's id.")
LABEL_NOT_FOUND = {404: error_response("No label with this id (`label_not_found`).")}
_DOCUMENT = "The file to print: a PDF with one 4 x 6 inch page a label, or ZPL II for a thermal printer."
DOCUMENT = {
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=_DOCUMENT),
    (200, "application/zpl"): OpenApiResponse(OpenApiTypes.BINARY, description=_DOCUMENT),
}


class LabelFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=LabelStatus.choices,
        help_text="Repeat to match several; `failed` lists what staff must retry.",
        distinct=False,
    )
    order = django_filters.CharFilter(field_name="shipment__order__number", help_text="Order number.")
    carrier = django_filters.CharFilter(
        field_name="shipment__carrier__code", lookup_expr="iexact", help_text="Carrier code."
    )

    class Meta:
        model = Label
        fields = ["status", "order", "carrier"]


class LabelDocumentNegotiation(DefaultContentNegotiation):
    """The document's type is chosen by ``format`` (the label's, not a renderer's), and a
    printer asking for ``Accept: application/pdf`` must not be refused: errors answer JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _file(document: LabelDocument, filename: str) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _extension(document: LabelDocument) -> str:
    return "zpl" if document.content_type == "application/zpl" else "pdf"


@extend_schema_view(
    list=extend_schema(
        summary="List labels",
        description="Newest first, cursor pages (follow `next`). `?status=failed` lists the labels that failed for "
        "good (the carrier refused, or stayed unreachable through every retry), with `last_error`: retry them "
        "with `POST /shipments/{order_number}/retry-labels/`. Filter by `status` (repeat for several), `order` "
        "and `carrier`.",
        responses={200: LabelOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="Get a label",
        description="Its status, tracking number and page, attempts and last error, prints, and void details.",
        parameters=[LABEL_ID],
        responses={200: LabelOutput, **AUTH_ERRORS, **LABEL_NOT_FOUND},
    ),
)
class LabelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"
    serializer_class = LabelOutput
    filterset_class = LabelFilter
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": VIEW_LABELS,
        "retrieve": VIEW_LABELS,
        "document": MANAGE_LABELS,
        "void": MANAGE_LABELS,
        "print_labels": MANAGE_LABELS,
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.label_list()

    def retrieve(self, request: Request, *args: Any, pk: str | None = None, **kwargs: Any) -> Response:
        return Response(LabelOutput(selectors.label_detail(label_id=int(str(pk)))).data)

    @extend_schema(
        summary="Print a label",
        description="The label to print: PDF (4 x 6 inch) by default, `?format=zpl` for a thermal printer (a "
        "carrier that made no ZPL gives the PDF). Counts a print on the label (`print_count`).",
        parameters=[
            LABEL_ID,
            OpenApiParameter("format", str, enum=list(LabelFormat.values), description="`pdf` (default) or `zpl`."),
        ],
        responses={
            **DOCUMENT,
            **INVALID,
            **AUTH_ERRORS,
            **LABEL_NOT_FOUND,
            409: error_response("The label is not live: being made, failed or voided (`label_not_live`)."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=LabelDocumentNegotiation)
    def document(self, request: Request, pk: str | None = None) -> HttpResponse:
        query = LabelDocumentQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        label = selectors.label_detail(label_id=int(str(pk)))
        document = label_services.labels_print(
            actor=Actor.for_request(request), label_ids=[label.pk], fmt=query.validated_data["format"]
        )
        return _file(document, f"{label.tracking_number or label.pk}.{_extension(document)}")

    @extend_schema(
        summary="Void a label",
        description="Voids a live or failed label, with the reason; it stays in the shipment's history. With "
        '`"regenerate": true` a new label is requested for the package at once and made in the background '
        "(`replacement`); without it the package waits without a label (retry the order's labels to make "
        "one). The carrier is told first: when it does not answer, nothing is changed.",
        parameters=[LABEL_ID],
        request=LabelVoidInput,
        responses={
            200: LabelVoidOutput,
            **INVALID,
            **AUTH_ERRORS,
            **LABEL_NOT_FOUND,
            409: error_response(
                "Nothing was changed: the label is voided already, still being made, or its parcel is handed over "
                "(`label_not_live`); the carrier did not answer (`carrier_unavailable`: try again) or refused "
                "(`carrier_refused`)."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        data = LabelVoidInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        voided = label_services.label_void(
            actor=Actor.for_request(request), label_id=int(str(pk)), reason=v["reason"], regenerate=v["regenerate"]
        )
        replacement = selectors.current_label_of_package(voided.package_id) if v["regenerate"] else None
        name = voided.tracking_number or f"label {voided.pk}"
        message = f"Label {name} of package {voided.package.sequence} voided" + (
            "; a new label is being made." if replacement else "."
        )
        body = {
            "message": message,
            "voided": selectors.label_detail(label_id=voided.pk),
            "replacement": replacement,
        }
        return Response(LabelVoidOutput(body).data)

    @extend_schema(
        summary="Print many labels at once",
        description="One document with the live labels of the selected orders (`orders`: order by order, in the "
        "order given, package by package) or of the given labels (`labels`, in that order): a PDF with one "
        "4 x 6 inch page a label, or ZPL. Orders without a live label (still being made, failed, voided, or "
        "no such order) are left out and named, comma separated, in the `X-OMS-Orders-Without-Labels` "
        "header. Counts a print on each label printed.",
        request=LabelsPrintInput,
        responses={
            **DOCUMENT,
            **INVALID,
            **AUTH_ERRORS,
            409: error_response(
                "Nothing was printed: none of the orders has a live label (`no_labels`, `extra."
                "orders_without_labels`), or a label named is not live (`label_not_live`, `extra.labels`)."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="print", content_negotiation_class=LabelDocumentNegotiation)
    def print_labels(self, request: Request) -> HttpResponse:
        data = LabelsPrintInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        actor = Actor.for_request(request)
        fmt = v.get("format", "")
        without: list[str] = []
        if "orders" in v:
            document, without = label_services.labels_print_orders(actor=actor, order_numbers=v["orders"], fmt=fmt)
        else:
            document = label_services.labels_print(actor=actor, label_ids=v["labels"], fmt=fmt)
        response = _file(document, f"labels.{_extension(document)}")
        if without:
            response[ORDERS_WITHOUT_LABELS] = ",".join(without)
        return response
