"""The packing station: opening an order, boxes, scans, weights and their overrides; and the
package types packers choose from."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment import selectors
from fulfillment.apis.common import (
    AUTH_ERRORS,
    INVALID,
    error_response,
    refused_response,
    request_caller,
)
from fulfillment.enums import OVERRIDE, PACK, FulfillmentErrorCode
from fulfillment.models import PackageItem, PackageType, PackingStation
from fulfillment.serializers.packing import (
    PackageCloseInput,
    PackageOpenInput,
    PackageTypeInput,
    PackageTypeOutput,
    PackageTypeUpdateInput,
    PackedOrderOutput,
    PackingLineOutput,
    PackingOpenInput,
    PackingSessionOutput,
    PackScanInput,
    PackScanOutput,
)
from fulfillment.services import package_types, packing
from oms.common.actors import Actor
from oms.common.errors import Forbidden, InvalidInput, NotFound
from oms.common.pagination import INVALID_CURSOR, DefaultCursorPagination
from oms.common.permissions import ActionPermission
from oms.common.throttling import PerAddressScopedThrottle

PACKING_NOT_OPEN = (
    "The order is not open at a packing station: open it with `POST /packing/` first (`packing_incomplete`), "
    "or it is not in `picking` at all (`transition_not_allowed`)"
)

PACKING_ORDER = OpenApiParameter(
    "order_number", str, OpenApiParameter.PATH, description="Number of the order being packed."
)


# --- packing --------------------------------------------------------------------------------


def _session_response(order_number: str, code: int = status.HTTP_200_OK) -> Response:
    return Response(PackingSessionOutput(selectors.packing_detail(order_number=order_number)).data, status=code)


def _station(code: str) -> PackingStation:
    station = PackingStation.objects.filter(code__iexact=code, is_active=True).first()
    if station is None:
        raise InvalidInput(
            f"No active packing station has the code {code}; check the station's label.",
            fields={"station": [f"No active packing station {code}."]},
        )
    return station


class PackingViewSet(viewsets.GenericViewSet):
    lookup_field = "order_number"
    lookup_value_regex = r"[^/]+"
    permission_classes = [ActionPermission]
    required_permissions = {
        "create": PACK,
        "retrieve": "fulfillment.view_packingsession",
        "packages": PACK,
        "scan": PACK,
        "close_package": PACK,
        "complete": PACK,
    }
    # Guesses at a supervisor's password are limited per client address (only requests that
    # send one are counted: see close_package).
    throttle_scope = "supervisor_override"

    @extend_schema(
        summary="Open an order for packing",
        description="Scan the order number or the tote label. Opens packing of a picked order, or resumes the "
        "packing already open (200).",
        request=PackingOpenInput,
        responses={
            201: OpenApiResponse(PackingSessionOutput, description="Packing opened now."),
            200: OpenApiResponse(PackingSessionOutput, description="Packing of this order was already open."),
            400: error_response("Invalid input (`invalid`): a blank code or an unknown station."),
            **AUTH_ERRORS,
            404: error_response("No order or tote with this code is waiting to be packed (`nothing_to_pack`)."),
            409: error_response(
                "The order is not in `picking` (`nothing_to_pack`), or units are still to pick "
                "(`order_not_picked`, `extra.picked` of `extra.needed`). Nothing was changed."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PackingOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        station = _station(v["station"]) if v.get("station") else None
        asked_at = timezone.now()
        session = packing.packing_open(actor=Actor.for_request(request), code=v["code"], station=station)
        opened_now = session.created_at >= asked_at
        return _session_response(session.order.number, status.HTTP_201_CREATED if opened_now else status.HTTP_200_OK)

    @extend_schema(
        summary="Get the packing of an order",
        description="The open packing of the order: its lines with the units verified, its packages.",
        parameters=[PACKING_ORDER],
        responses={
            200: PackingSessionOutput,
            **AUTH_ERRORS,
            404: error_response("The order is not open for packing (`packing_not_found`)."),
        },
    )
    def retrieve(self, request: Request, *args: Any, order_number: str | None = None, **kwargs: Any) -> Response:
        return _session_response(str(order_number))

    @extend_schema(
        summary="Start a box",
        description="Starts the order's next package, of the given type. An open box that is still empty just "
        "changes type.",
        parameters=[PACKING_ORDER],
        request=PackageOpenInput,
        responses={
            201: PackingSessionOutput,
            400: error_response("Invalid input (`invalid`): an unknown or inactive package type."),
            **AUTH_ERRORS,
            404: error_response("No order with this number (`order_not_found`)."),
            409: error_response(
                f"Another box is open with units in it: close it first (`package_not_open`). {PACKING_NOT_OPEN}."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def packages(self, request: Request, order_number: str | None = None) -> Response:
        data = PackageOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        packing.package_open(
            actor=Actor.for_request(request),
            order_number=str(order_number),
            package_type=data.validated_data["package_type"],
        )
        return _session_response(str(order_number), status.HTTP_201_CREATED)

    @extend_schema(
        summary="Verify units by scan",
        description="Scans units of the order into its open box.\n\nRefused with 409 and recorded in the accuracy "
        "ledger (the record is kept though the scan is refused): a unit that is not in the order "
        "(`not_in_order`) or one more than the order needs (`too_many_units`). Refused, without a record, when "
        "no box is open (`no_open_package`). `extra` has what was `scanned` and, when it is a unit of the "
        "order, its `sku` and the `quantity` the order needs.",
        parameters=[PACKING_ORDER],
        request=PackScanInput,
        responses={
            200: PackScanOutput,
            **INVALID,
            **AUTH_ERRORS,
            404: error_response("No order with this number (`order_not_found`)."),
            409: error_response(
                f"A refused scan (`not_in_order`, `too_many_units`, `no_open_package`). {PACKING_NOT_OPEN}."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def scan(self, request: Request, order_number: str | None = None) -> Response:
        data = PackScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        result = packing.pack_scan(
            actor=Actor.for_request(request), order_number=str(order_number), code=v["code"], quantity=v["quantity"]
        )
        line = result.line
        if not result.ok or result.package is None or line is None:
            extra: dict[str, Any] = {"scanned": v["code"].strip()}
            if line is not None:
                extra.update(sku=line.sku, quantity=line.quantity)
            return refused_response(result.code, result.message, extra)
        verified = PackageItem.objects.filter(package__session_id=result.package.session_id, line=line).aggregate(
            units=Sum("quantity")
        )["units"]
        body = {
            "ok": True,
            "message": result.message,
            "package": result.package.sequence,
            "line": PackingLineOutput(
                {
                    "sku": line.sku,
                    "name": line.name,
                    "barcode": line.product.barcode,
                    "quantity": line.quantity,
                    "verified": verified or 0,
                }
            ).data,
            "all_verified": result.all_verified,
        }
        return Response(PackScanOutput(body).data)

    @extend_schema(
        summary="Weigh and close a box",
        description="Compares the weight with the expected one (tare plus the catalogue weight of the units). "
        "Further off than the tolerance needs a supervisor's approval in `override`: the supervisor's "
        "`username` and `password` with a `reason`, or only a `reason` when the caller may approve weights "
        "themself. The approval is recorded on the package and in the accuracy ledger. Requests that carry a "
        "supervisor's password are limited per client address (10 a minute by default).",
        parameters=[
            PACKING_ORDER,
            OpenApiParameter("sequence", int, OpenApiParameter.PATH, description="The package's sequence."),
        ],
        request=PackageCloseInput,
        responses={
            200: PackingSessionOutput,
            **INVALID,
            401: AUTH_ERRORS[401],
            403: error_response(
                "The caller's role does not allow this (`permission_denied`); or the override cannot be accepted "
                "(`override_not_allowed`): the supervisor's username and password do not match, the supervisor "
                "may not approve weights, or no credentials were sent and the caller may not approve weights "
                "themself. Nothing was changed."
            ),
            404: error_response(
                "No order with this number (`order_not_found`), or no such package (`package_not_found`)."
            ),
            409: error_response(
                "The weight is outside the tolerance and no override was sent (`weight_out_of_tolerance`; `extra` "
                "has `weight_grams`, `expected_grams`, `tolerance_grams`), the package is already closed "
                f"(`package_not_open`) or empty (`package_empty`). {PACKING_NOT_OPEN}. Nothing was changed."
            ),
            429: error_response(
                "Too many requests with a supervisor's password from this address (`throttled`); wait "
                "`Retry-After` seconds."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"packages/(?P<sequence>[0-9]+)/close")
    def close_package(self, request: Request, order_number: str | None = None, sequence: str | None = None) -> Response:
        data = PackageCloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        override = self._override(request, v.get("override"))
        packing.package_close(
            actor=Actor.for_request(request),
            order_number=str(order_number),
            sequence=int(str(sequence)),
            weight_grams=v["weight_grams"],
            override=override,
        )
        return _session_response(str(order_number))

    def _override(self, request: Request, data: dict[str, Any] | None) -> packing.Override | None:
        """The approving supervisor: checked by password here, or the caller themself when
        they may approve weights. Whether the supervisor may approve is the service's check."""
        if data is None:
            return None
        if not data.get("username"):
            caller = request_caller(request)
            if not caller.has_perm(OVERRIDE):
                raise Forbidden(
                    "You may not approve package weights yourself: send the supervisor's username and password "
                    "with the reason.",
                    code=FulfillmentErrorCode.OVERRIDE_NOT_ALLOWED,
                )
            return packing.Override(supervisor=caller, reason=data["reason"])
        throttle = PerAddressScopedThrottle()
        if not throttle.allow_request(request, self):
            self.throttled(request, throttle.wait() or 0.0)
        supervisor = authenticate(request._request, username=data["username"], password=data["password"])
        if supervisor is None:
            raise Forbidden(
                "That supervisor username and password do not match, or the account is disabled. Ask the "
                "supervisor to enter them again.",
                code=FulfillmentErrorCode.OVERRIDE_NOT_ALLOWED,
            )
        return packing.Override(supervisor=cast(User, supervisor), reason=data["reason"])

    @extend_schema(
        summary="Complete packing",
        description="Every unit verified and every box weighed: the order becomes `packed` and its closed "
        "packages wait for their labels. An open box left empty is discarded.",
        parameters=[PACKING_ORDER],
        request=None,
        responses={
            200: PackedOrderOutput,
            **AUTH_ERRORS,
            404: error_response("No order with this number (`order_not_found`)."),
            409: error_response(
                "Units are not all verified (`packing_incomplete`, `extra.lines`), or a box is not weighed "
                f"(`packing_incomplete`, `extra.packages`). {PACKING_NOT_OPEN}. Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, order_number: str | None = None) -> Response:
        order = packing.packing_complete(actor=Actor.for_request(request), order_number=str(order_number))
        order.packed_packages = selectors.packages_of_order(order_number=order.number)  # type: ignore[attr-defined]
        return Response(PackedOrderOutput(order).data)


# --- package types --------------------------------------------------------------------------


class PackageTypePagination(DefaultCursorPagination):
    ordering = "code"


def _package_type(code: str) -> PackageType:
    package_type = PackageType.objects.filter(code=code).first()
    if package_type is None:
        raise NotFound(f"No package type has the code {code}.", code="package_type_not_found")
    return package_type


PACKAGE_TYPE_CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="Package type code.")


@extend_schema_view(
    list=extend_schema(
        summary="List package types",
        description="The boxes packers can choose now (active ones), by code.",
        responses={200: PackageTypeOutput(many=True), **AUTH_ERRORS, **INVALID_CURSOR},
    ),
)
class PackageTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    serializer_class = PackageTypeOutput
    pagination_class = PackageTypePagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "fulfillment.view_packagetype",
        "create": "fulfillment.add_packagetype",
        "partial_update": "fulfillment.change_packagetype",
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.package_type_list()

    @extend_schema(
        summary="Add a package type",
        description="A box or mailer packers may choose: its outer size and its own weight (tare), which the "
        "expected weight of every package of this type starts from.",
        request=PackageTypeInput,
        responses={
            201: PackageTypeOutput,
            400: error_response("Invalid input (`invalid`), or the code is taken (`duplicate`)."),
            **AUTH_ERRORS,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PackageTypeInput(data=request.data)
        data.is_valid(raise_exception=True)
        package_type = package_types.package_type_create(**data.validated_data)
        return Response(PackageTypeOutput(package_type).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change or (de)activate a package type",
        description="The code stays. Packages already weighed keep their expected weight.",
        parameters=[PACKAGE_TYPE_CODE],
        request=PackageTypeUpdateInput,
        responses={
            200: PackageTypeOutput,
            **INVALID,
            **AUTH_ERRORS,
            404: error_response("No package type with this code (`package_type_not_found`)."),
        },
    )
    def partial_update(self, request: Request, *args: Any, code: str | None = None, **kwargs: Any) -> Response:
        package_type = _package_type(str(code))
        data = PackageTypeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        package_type = package_types.package_type_update(package_type=package_type, **data.validated_data)
        return Response(PackageTypeOutput(package_type).data)
