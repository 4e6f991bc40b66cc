"""The courier hand-over: manifests per carrier and pickup day, parcels scanned out onto
them at the dock, the manifest PDF the driver signs, and the parcels still waiting for
pickup with their cut-off flags."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment.apis.common import AUTH_ERRORS, INVALID, INVALID_FILTER, error_response
from oms.common.actors import Actor
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission
from shipping import documents, selectors_handover
from shipping.enums import HAND_OVER, ManifestStatus
from shipping.models import Manifest
from shipping.selectors_handover import VIEW_MANIFESTS
from shipping.serializers_handover import (
    ManifestClosedOutput,
    ManifestDetailOutput,
    ManifestOpenInput,
    ManifestOutput,
    ParcelCodeInput,
    ParcelScanOutput,
    WaitingParcelOutput,
)
from shipping.services import handover

MANIFEST_NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="Manifest number, MF-000001.")
MANIFEST_NOT_FOUND = {404: error_response("No manifest with this number (`manifest_not_found`).")}
CLOSED = "the manifest is closed (`manifest_closed`: open the next one)"


class ManifestFilter(django_filters.FilterSet):
    carrier = django_filters.CharFilter(field_name="carrier__code", lookup_expr="iexact", help_text="Carrier code.")
    status = django_filters.ChoiceFilter(choices=ManifestStatus.choices)
    pickup_date = django_filters.DateFilter(help_text="The pickup day, YYYY-MM-DD.")

    class Meta:
        model = Manifest
        fields = ["carrier", "status", "pickup_date"]


def _detail(number: str, code: int = status.HTTP_200_OK, **kwargs: Any) -> Response:
    return Response(ManifestDetailOutput(selectors_handover.manifest_detail(number=number)).data, status=code, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="List manifests",
        description="Newest first, cursor pages (follow `next`), with each manifest's parcel count and weight. "
        "Filter by `carrier`, `status` and `pickup_date`.",
        responses={200: ManifestOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class ManifestViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    serializer_class = ManifestOutput
    filterset_class = ManifestFilter
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": VIEW_MANIFESTS,
        "retrieve": VIEW_MANIFESTS,
        "pdf": VIEW_MANIFESTS,
        "create": HAND_OVER,
        "scan": HAND_OVER,
        "unscan": HAND_OVER,
        "close": HAND_OVER,
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors_handover.manifest_list()

    @extend_schema(
        summary="Open the manifest of a pickup",
        description="The open manifest of the carrier for the pickup day (today in shop time when left out): "
        "made now (201), or the one already open (200), so every dock scanning for that pickup uses the same "
        "manifest. A manifest closed earlier that day stays closed; parcels after the pickup go on a new one.",
        request=ManifestOpenInput,
        responses={
            201: OpenApiResponse(ManifestDetailOutput, description="A new manifest."),
            200: OpenApiResponse(ManifestDetailOutput, description="The manifest already open for that pickup."),
            400: error_response("Invalid input (`invalid`): no such active carrier, or a pickup day in the past."),
            **AUTH_ERRORS,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ManifestOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        manifest, created = handover.manifest_open(
            actor=Actor.for_request(request), carrier_code=v["carrier"], pickup_date=v.get("pickup_date")
        )
        return _detail(
            manifest.number,
            status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": f"/api/v1/manifests/{manifest.number}/"},
        )

    @extend_schema(
        summary="Get a manifest",
        description="The manifest with its parcels in the order they were scanned.",
        parameters=[MANIFEST_NUMBER],
        responses={200: ManifestDetailOutput, **AUTH_ERRORS, **MANIFEST_NOT_FOUND},
    )
    def retrieve(self, request: Request, *args: Any, number: str | None = None, **kwargs: Any) -> Response:
        return _detail(str(number))

    @extend_schema(
        summary="Scan a parcel out",
        description="Puts the parcel with this tracking number on the manifest (spaces and case in the code do "
        "not matter). When it is the last parcel of its order, the order becomes `shipped` (`shipped` is "
        "true); until then `scanned` of `packages` says how many of the order's parcels are out. `message` is "
        "the sentence to show at the dock.",
        parameters=[MANIFEST_NUMBER],
        request=ParcelCodeInput,
        responses={
            200: ParcelScanOutput,
            **INVALID,
            **AUTH_ERRORS,
            404: error_response(
                "No manifest with this number (`manifest_not_found`), or no parcel with this tracking number "
                "(`parcel_not_found`)."
            ),
            409: error_response(
                f"Nothing was changed: {CLOSED}; the label is not live (`label_not_live`; when it was voided, "
                "`extra.replaced_by` names the label that replaced it, if any); the parcel is already scanned "
                "(`parcel_already_scanned`, `extra.manifest`); or it goes with another carrier "
                "(`parcel_other_carrier`, `extra.carrier`)."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def scan(self, request: Request, number: str | None = None) -> Response:
        data = ParcelCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = handover.parcel_scan_out(
            actor=Actor.for_request(request), manifest_number=str(number), code=data.validated_data["code"]
        )
        return Response(ParcelScanOutput(result).data)

    @extend_schema(
        summary="Take a parcel off the manifest",
        description="For a parcel scanned by mistake: while the manifest is open and its order is not shipped.",
        parameters=[MANIFEST_NUMBER],
        request=ParcelCodeInput,
        responses={
            200: ParcelScanOutput,
            **INVALID,
            **AUTH_ERRORS,
            404: error_response(
                "No manifest with this number (`manifest_not_found`), or no parcel with this tracking number "
                "(`parcel_not_found`)."
            ),
            409: error_response(
                f"Nothing was changed: {CLOSED}; the parcel is not on this manifest (`parcel_not_on_manifest`); "
                "or its order is already shipped (`parcel_handed_over`)."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def unscan(self, request: Request, number: str | None = None) -> Response:
        data = ParcelCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = handover.parcel_unscan(
            actor=Actor.for_request(request), manifest_number=str(number), code=data.validated_data["code"]
        )
        return Response(ParcelScanOutput(result).data)

    @extend_schema(
        summary="Close a manifest",
        description="The driver has collected the parcels: no parcel can be scanned onto the manifest or taken "
        "off it after. `incomplete_orders` names orders with parcels on it and others still at the dock.",
        parameters=[MANIFEST_NUMBER],
        request=None,
        responses={
            200: ManifestClosedOutput,
            **AUTH_ERRORS,
            **MANIFEST_NOT_FOUND,
            409: error_response(
                "Nothing was changed: the manifest is already closed (`manifest_closed`), or it has no parcels "
                "(`manifest_empty`)."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, number: str | None = None) -> Response:
        closed = handover.manifest_close(actor=Actor.for_request(request), manifest_number=str(number))
        body = {
            "message": closed.message,
            "incomplete": closed.incomplete,
            "manifest": selectors_handover.manifest_detail(number=closed.manifest.number),
        }
        return Response(ManifestClosedOutput(body).data)

    @extend_schema(
        summary="Print a manifest",
        description="The manifest as an A4 PDF for the driver to sign: carrier, pickup day, every parcel with "
        "its order, destination, weight and package n of N, the totals, and lines for the driver's name, "
        "signature and time.",
        parameters=[MANIFEST_NUMBER],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            **AUTH_ERRORS,
            **MANIFEST_NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, number: str | None = None) -> HttpResponse:
        name = selectors_handover.normalise_manifest_number(str(number))
        response = HttpResponse(documents.manifest_pdf(name), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response


class AwaitingPickupQuery(serializers.Serializer):
    carrier = serializers.CharField(max_length=32, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema_view(
    list=extend_schema(
        summary="List parcels waiting for pickup",
        description="Labelled parcels not scanned out yet, with the cut-off they must leave by: the carrier "
        "service's cut-off on the order's ship-by day (an order without one: the first pickup day after its "
        "label was issued). `overdue` flags those past it, with how long in `overdue_seconds`. Overdue ones "
        "first, then the nearest cut-off; not paged (the day's parcels at the dock).",
        parameters=[
            OpenApiParameter("carrier", str, description="Carrier code."),
            OpenApiParameter(
                "overdue", bool, description="true: only parcels past their cut-off; false: only those before it."
            ),
        ],
        responses={200: WaitingParcelOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class ParcelAwaitingPickupViewSet(viewsets.GenericViewSet):
    serializer_class = WaitingParcelOutput
    permission_classes = [ActionPermission]
    required_permissions = {"list": VIEW_MANIFESTS}
    filter_backends: list[Any] = []  # not a queryset: AwaitingPickupQuery reads the filters

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = AwaitingPickupQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        carrier = query.validated_data.get("carrier") or None
        overdue = query.validated_data.get("overdue")
        parcels = selectors_handover.parcels_waiting_for_pickup(now=timezone.now(), carrier=carrier)
        if overdue is not None:
            parcels = [p for p in parcels if p.overdue is overdue]
        return Response(WaitingParcelOutput(parcels, many=True).data)
