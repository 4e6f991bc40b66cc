"""The fulfillment REST API, for handheld scanner apps and integrators: pick lists and their
scans, the ready-to-pick queue, the packing station, package types, the accuracy ledger, and
the order actions ``start-picking``, ``abort-picking`` and ``pack`` (ADR 0005).

Each endpoint validates its input, calls one service and serializes the result. A refused
scan is a result of its service, not an exception, so its accuracy event is committed; it is
answered here with the usual error body and 409, built from the result after the service's
transaction has ended.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

import django_filters
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment import selectors
from fulfillment.enums import AccuracyKind, EntryState, FulfillmentErrorCode, PickListStatus
from fulfillment.models import AccuracyEvent, PackageItem, PackageType, PackingStation, PickList, PickTask
from fulfillment.serializers import (
    AccuracyEventOutput,
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
    PickListAssignInput,
    PickListCancelInput,
    PickListCreateInput,
    PickListDetailOutput,
    PickListOutput,
    PickListStartInput,
    PickListStartOutput,
    PickScanInput,
    PickScanOutput,
    PickShortInput,
    PickShortOutput,
    ReadyOrderOutput,
)
from fulfillment.services import package_types, packing, picking
from inventory.apis.filters import StrictBooleanFilter
from inventory.models import Allocation, Warehouse
from oms.common.actors import Actor
from oms.common.api_errors import ErrorSerializer
from oms.common.errors import Forbidden, InvalidInput, NotFound
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission
from oms.common.throttling import PerAddressScopedThrottle
from orders import selectors as order_selectors
from orders.serializers import NoteInput, OrderDetailOutput

PICK = "fulfillment.pick"
MANAGE = "fulfillment.manage_pick_lists"
PACK = "fulfillment.pack"
OVERRIDE = "fulfillment.override_package_weight"


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


AUTH_ERRORS = {
    401: _err(
        "No credentials, or the key or token is invalid, expired or revoked (`not_authenticated`, "
        "`authentication_failed`)."
    ),
    403: _err("The caller's role does not allow this (`permission_denied`)."),
}
INVALID = {400: _err("Invalid input (`invalid`): `fields` names every bad field with the reason.")}
INVALID_FILTER = {400: _err("A filter has an invalid value (`invalid`); `fields` names it.")}
PICK_LIST_NOT_FOUND = {404: _err("No pick list with this number (`pick_list_not_found`).")}
NOT_YOURS = _err(
    "The caller's role does not allow this (`permission_denied`), or the list is assigned to someone else "
    "and the caller does not manage pick lists (`not_your_pick_list`; `extra.picker` names the picker)."
)
NOT_PICKING = (
    "The list is not picking: not started yet, completed or cancelled (`pick_list_transition_not_allowed`, "
    "`extra.status`)"
)
PACKING_NOT_OPEN = (
    "The order is not open at a packing station: open it with `POST /packing/` first (`packing_incomplete`), "
    "or it is not in `picking` at all (`transition_not_allowed`)"
)

PICK_LIST_NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="Pick list number, PL-000001.")
ORDER_NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="Order number.")
PACKING_ORDER = OpenApiParameter(
    "order_number", str, OpenApiParameter.PATH, description="Number of the order being packed."
)


def _refused(code: str, message: str, extra: dict[str, Any]) -> Response:
    """A refused scan, in the error body every other refusal has."""
    return Response({"code": code, "message": message, "extra": extra}, status=status.HTTP_409_CONFLICT)


def _caller(request: Request) -> User:
    return cast(User, request.user)


def _user_named(username: str, field: str) -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise InvalidInput(
            f"No user has the username {username}; check its spelling.",
            fields={field: [f"No user with username {username}."]},
        )
    return cast(User, user)


def _warehouse(code: str) -> Warehouse:
    warehouse = Warehouse.objects.filter(code=code).first()
    if warehouse is None:
        raise InvalidInput(
            f"No warehouse has the code {code}; use the code of an existing warehouse, such as MAIN.",
            fields={"warehouse": [f"No warehouse with code {code}."]},
        )
    return warehouse


# --- pick lists -----------------------------------------------------------------------------


def _pick_list(number: str) -> PickList:
    """The list with its orders and its path, counted as the list endpoint counts it."""
    pick_list = selectors.pick_list_detail(number=number)
    pick_list.order_count = sum(1 for e in pick_list.entries.all() if e.state != EntryState.REMOVED)  # type: ignore[attr-defined]
    return pick_list


def _next_task(task: PickTask) -> PickTask | None:
    return selectors.next_task(task.pick_list) if task.pick_list.status == PickListStatus.PICKING else None


class PickListFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PickListStatus.choices, help_text="Repeat to match several.")
    picker = django_filters.CharFilter(field_name="picker__username", help_text="Username of the picker.")
    warehouse = django_filters.CharFilter(field_name="warehouse__code", help_text="Warehouse code.")
    mine = StrictBooleanFilter(
        method="filter_mine", help_text="true: only the caller's lists still to do (assigned or picking)."
    )

    class Meta:
        model = PickList
        fields = ["status", "picker", "warehouse", "mine"]

    def filter_mine(self, queryset: QuerySet[PickList], name: str, value: bool | None) -> QuerySet[PickList]:
        if not value:
            return queryset
        return queryset.filter(
            picker_id=self.request.user.pk, status__in=[PickListStatus.ASSIGNED, PickListStatus.PICKING]
        )


@extend_schema_view(
    list=extend_schema(
        summary="List pick lists",
        description="Newest first, cursor pages (follow `next`). `?mine=true` gives the caller's lists still to "
        "do, the handheld's start screen.",
        responses={200: PickListOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    ),
)
class PickListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"
    serializer_class = PickListOutput
    filterset_class = PickListFilter
    pagination_class = DefaultCursorPagination
    permission_classes = [ActionPermission]
    required_permissions = {
        "list": "fulfillment.view_picklist",
        "retrieve": "fulfillment.view_picklist",
        "create": PICK,
        "start": PICK,
        "scan": PICK,
        "short": PICK,
        "assign": MANAGE,
        "cancel": PICK,
    }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.pick_list_list().annotate(
            order_count=Count("entries", filter=~Q(entries__state=EntryState.REMOVED))
        )

    @extend_schema(
        summary="Get a pick list",
        description="Its orders with their totes, its tasks in walking order, and the next task while picking.",
        parameters=[PICK_LIST_NUMBER],
        responses={200: PickListDetailOutput, **AUTH_ERRORS, **PICK_LIST_NOT_FOUND},
    )
    def retrieve(self, request: Request, *args: Any, number: str | None = None, **kwargs: Any) -> Response:
        return Response(PickListDetailOutput(_pick_list(str(number))).data)

    @extend_schema(
        summary="Make a pick list",
        description="Either the named `orders` (all of them or none), or the oldest orders of the ready-to-pick "
        "queue of one warehouse (up to `max_orders`). The list is assigned to `picker`, the caller by default; "
        "naming another picker needs the right to manage pick lists. Its orders stay `paid` until it starts, "
        "but no other list can take them.",
        request=PickListCreateInput,
        responses={
            201: PickListDetailOutput,
            400: _err(
                "Invalid input (`invalid`): an unknown picker or warehouse, a picker without the picker role, "
                "more orders than a list takes, or named orders that hold nothing in bins and no `warehouse`."
            ),
            401: AUTH_ERRORS[401],
            403: _err(
                "The caller's role does not allow this, or names another picker without the right to manage "
                "pick lists (`permission_denied`)."
            ),
            404: _err("A named order does not exist (`order_not_found`)."),
            409: _err(
                "Nothing was created. A named order is on another list (`order_on_pick_list`) or is not ready: not "
                "paid or short of stock (`order_not_ready_to_pick`, `extra.orders` says why for each; one order "
                "alone answers as its own move would: `transition_not_allowed`, `order_short_of_stock`); the "
                "orders are held in several warehouses (`orders_in_several_warehouses`); or the queue has no "
                "ready order (`nothing_to_pick`)."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PickListCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        caller = _caller(request)
        picker = caller
        if v.get("picker") and v["picker"] != caller.get_username():
            if not caller.has_perm(MANAGE):
                raise Forbidden(
                    "Only a manager can make a pick list for someone else; leave out picker to take it yourself."
                )
            picker = _user_named(v["picker"], "picker")
        pick_list = picking.pick_list_create(
            actor=Actor.for_request(request),
            picker=picker,
            order_numbers=v.get("orders"),
            warehouse=_warehouse(v["warehouse"]) if v.get("warehouse") else None,
            max_orders=v.get("max_orders"),
        )
        return Response(
            PickListDetailOutput(_pick_list(pick_list.number)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/pick-lists/{pick_list.number}/"},
        )

    @extend_schema(
        summary="Start a pick list",
        description="Its orders move to `picking` and the tasks are laid out again from what is held for them "
        "now. An order cancelled, split or short since the list was made is dropped (`dropped` says why); when "
        "none is left the list is cancelled.",
        parameters=[PICK_LIST_NUMBER],
        request=PickListStartInput,
        responses={
            200: PickListStartOutput,
            **INVALID,
            401: AUTH_ERRORS[401],
            403: NOT_YOURS,
            **PICK_LIST_NOT_FOUND,
            409: _err(
                "The list is not assigned: already started, completed or cancelled "
                "(`pick_list_transition_not_allowed`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, number: str | None = None) -> Response:
        data = PickListStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = picking.pick_list_start(
            actor=Actor.for_request(request), number=str(number), note=data.validated_data["note"]
        )
        pick_list = _pick_list(str(number))
        pick_list.dropped = result.dropped  # type: ignore[attr-defined]
        return Response(PickListStartOutput(pick_list).data)

    @extend_schema(
        summary="Confirm a pick by scan",
        description="The code scanned (or the SKU typed) must be the task's product; the units then leave the "
        "bin through the stock ledger. Without `task`, the next open task on the path is meant.\n\n"
        "A wrong item is refused with 409 `wrong_item` and recorded in the accuracy ledger (the record is kept "
        "though the scan is refused); `extra` has the `task` id, the `expected_sku` and its `expected_name`, "
        "the bin (`location`) and what was `scanned`.",
        parameters=[PICK_LIST_NUMBER],
        request=PickScanInput,
        responses={
            200: PickScanOutput,
            400: _err("Invalid input (`invalid`): blank code, or a quantity over what the task still asks for."),
            401: AUTH_ERRORS[401],
            403: NOT_YOURS,
            404: _err(
                "No pick list with this number (`pick_list_not_found`), or it has no such task (`pick_task_not_found`)."
            ),
            409: _err(
                f"A wrong item (`wrong_item`, recorded in the accuracy ledger, nothing else changed). {NOT_PICKING}; "
                "the task is done, short or cancelled, or nothing is left to pick (`task_not_open`); or the bin no "
                "longer holds the units for this order: report a short pick (`not_held_in_bin`). Nothing was changed."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def scan(self, request: Request, number: str | None = None) -> Response:
        data = PickScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        result = picking.pick_scan(
            actor=Actor.for_request(request),
            number=str(number),
            code=v["code"],
            task_id=v.get("task"),
            quantity=v["quantity"],
        )
        task = result.task
        if not result.ok:
            return _refused(
                result.code,
                result.message,
                {
                    "task": task.pk,
                    "expected_sku": task.product.sku,
                    "expected_name": task.product.name,
                    "location": task.location.code,
                    "scanned": v["code"].strip(),
                },
            )
        body = {
            "ok": True,
            "message": result.message,
            "task": task,
            "list_completed": result.list_completed,
            "next_task": _next_task(task),
        }
        return Response(PickScanOutput(body).data)

    @extend_schema(
        summary="Report a short pick",
        description="The bin holds fewer units than the task asks for: the `found` ones are taken, the short pick "
        "is recorded in the accuracy ledger, a cycle count is raised for the bin, and the missing units are "
        "allocated from other bins of the warehouse (`new_tasks` on this list). What no bin covers sends the "
        "order back to `paid` as short of stock (`order_back_to_paid`); set its tote aside.",
        parameters=[
            PICK_LIST_NUMBER,
            OpenApiParameter("task_id", int, OpenApiParameter.PATH, description="The task reported short."),
        ],
        request=PickShortInput,
        responses={
            200: PickShortOutput,
            400: _err("Invalid input (`invalid`): `found` is not below what the task still asks for."),
            401: AUTH_ERRORS[401],
            403: NOT_YOURS,
            404: _err(
                "No pick list with this number (`pick_list_not_found`), or it has no such task (`pick_task_not_found`)."
            ),
            409: _err(f"{NOT_PICKING}, or the task is not open (`task_not_open`). Nothing was changed."),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"tasks/(?P<task_id>[0-9]+)/short")
    def short(self, request: Request, number: str | None = None, task_id: str | None = None) -> Response:
        data = PickShortInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = picking.pick_short(
            actor=Actor.for_request(request),
            number=str(number),
            task_id=int(str(task_id)),
            found=data.validated_data["found"],
        )
        new_tasks = list(
            PickTask.objects.select_related("product", "location", "entry__order")
            .filter(pk__in=[t.pk for t in result.new_tasks])
            .order_by(*selectors.PATH_ORDER)
        )
        body = {
            "message": result.message,
            "count_reference": result.count_reference,
            "task": result.task,
            "new_tasks": new_tasks,
            "order_back_to_paid": result.order_back_to_paid,
            "list_completed": result.list_completed,
            "next_task": _next_task(result.task),
        }
        return Response(PickShortOutput(body).data)

    @extend_schema(
        summary="Give a pick list to another picker",
        description="Only a list not yet started can be reassigned.",
        parameters=[PICK_LIST_NUMBER],
        request=PickListAssignInput,
        responses={
            200: PickListDetailOutput,
            400: _err("Invalid input (`invalid`): an unknown user, or one without the picker role."),
            **AUTH_ERRORS,
            **PICK_LIST_NOT_FOUND,
            409: _err("The list is already started, completed or cancelled (`pick_list_transition_not_allowed`)."),
        },
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, number: str | None = None) -> Response:
        data = PickListAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        picker = _user_named(data.validated_data["picker"], "picker")
        picking.pick_list_assign(actor=Actor.for_request(request), number=str(number), picker=picker)
        return Response(PickListDetailOutput(_pick_list(str(number))).data)

    @extend_schema(
        summary="Cancel a pick list",
        description="Allowed while it is assigned or picking. Its orders in `picking` go back to `paid` (units "
        "already picked stay counted as picked, in their totes); orders already picked and waiting for packing "
        "stay as they are.",
        parameters=[PICK_LIST_NUMBER],
        request=PickListCancelInput,
        responses={
            200: PickListDetailOutput,
            **INVALID,
            401: AUTH_ERRORS[401],
            403: NOT_YOURS,
            **PICK_LIST_NOT_FOUND,
            409: _err("The list is completed or cancelled (`pick_list_transition_not_allowed`). Nothing changed."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, number: str | None = None) -> Response:
        data = PickListCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        picking.pick_list_cancel(
            actor=Actor.for_request(request), number=str(number), reason=data.validated_data["reason"]
        )
        return Response(PickListDetailOutput(_pick_list(str(number))).data)


# --- the ready-to-pick queue ----------------------------------------------------------------


class ReadyToPickPagination(DefaultCursorPagination):
    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return ("paid_at", "id")  # the queue's order: oldest payment first


@extend_schema_view(
    list=extend_schema(
        summary="The ready-to-pick queue",
        description="Paid orders with every unit held in bins and on no active pick list, oldest payment first, "
        "in cursor pages (follow `next`).",
        parameters=[
            OpenApiParameter(
                "warehouse", str, description="Warehouse code: only orders whose units are all held there."
            )
        ],
        responses={200: ReadyOrderOutput(many=True), **INVALID_FILTER, **AUTH_ERRORS},
    )
)
class ReadyToPickViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReadyOrderOutput
    pagination_class = ReadyToPickPagination
    filter_backends: list[Any] = []
    permission_classes = [ActionPermission]
    required_permissions = {"list": "fulfillment.view_picklist"}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        code = self.request.query_params.get("warehouse")
        warehouse = _warehouse(code) if code else None
        return selectors.orders_ready_to_pick(warehouse=warehouse).annotate(
            line_count=Count("lines"), unit_count=Sum("lines__quantity")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        held: dict[str, set[str]] = defaultdict(set)
        for number, code in (
            Allocation.objects.filter(reservation__order_number__in=[o.number for o in page])
            .values_list("reservation__order_number", "stock__location__warehouse__code")
            .distinct()
        ):
            held[number].add(code)
        for order in page:
            codes = held.get(order.number, set())
            order.warehouse_code = next(iter(codes)) if len(codes) == 1 else None  # type: ignore[attr-defined]
        return self.get_paginated_response(ReadyOrderOutput(page, many=True).data)


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
            400: _err("Invalid input (`invalid`): a blank code or an unknown station."),
            **AUTH_ERRORS,
            404: _err("No order or tote with this code is waiting to be packed (`nothing_to_pack`)."),
            409: _err(
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
            404: _err("The order is not open for packing (`packing_not_found`)."),
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
            400: _err("Invalid input (`invalid`): an unknown or inactive package type."),
            **AUTH_ERRORS,
            404: _err("No order with this number (`order_not_found`)."),
            409: _err(
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
            404: _err("No order with this number (`order_not_found`)."),
            409: _err(f"A refused scan (`not_in_order`, `too_many_units`, `no_open_package`). {PACKING_NOT_OPEN}."),
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
            return _refused(result.code, result.message, extra)
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
            403: _err(
                "The caller's role does not allow this (`permission_denied`); or the override cannot be accepted "
                "(`override_not_allowed`): the supervisor's username and password do not match, the supervisor "
                "may not approve weights, or no credentials were sent and the caller may not approve weights "
                "themself. Nothing was changed."
            ),
            404: _err("No order with this number (`order_not_found`), or no such package (`package_not_found`)."),
            409: _err(
                "The weight is outside the tolerance and no override was sent (`weight_out_of_tolerance`; `extra` "
                "has `weight_grams`, `expected_grams`, `tolerance_grams`), the package is already closed "
                f"(`package_not_open`) or empty (`package_empty`). {PACKING_NOT_OPEN}. Nothing was changed."
            ),
            429: _err(
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
            caller = _caller(request)
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
            404: _err("No order with this number (`order_not_found`)."),
            409: _err(
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
        responses={200: PackageTypeOutput(many=True), **AUTH_ERRORS},
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
            400: _err("Invalid input (`invalid`), or the code is taken (`duplicate`)."),
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
            404: _err("No package type with this code (`package_type_not_found`)."),
        },
    )
    def partial_update(self, request: Request, *args: Any, code: str | None = None, **kwargs: Any) -> Response:
        package_type = _package_type(str(code))
        data = PackageTypeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        package_type = package_types.package_type_update(package_type=package_type, **data.validated_data)
        return Response(PackageTypeOutput(package_type).data)


# --- the accuracy ledger --------------------------------------------------------------------


class AccuracyEventFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=AccuracyKind.choices, help_text="Repeat to match several.")
    order_number = django_filters.CharFilter(field_name="order_number")
    pick_list = django_filters.CharFilter(field_name="pick_list__number", help_text="Pick list number.")
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    user = django_filters.CharFilter(field_name="user__username", help_text="Username of who it happened to.")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

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


# --- the order actions that run the warehouse's work (ADR 0005) -------------------------------

ORDER_ERRORS = {
    400: _err("Invalid input (`invalid`): the note is too long."),
    **AUTH_ERRORS,
    404: _err("No order with this number (`order_not_found`)."),
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
            400: _err("Invalid input (`invalid`): the note is too long, or the caller does not have the picker role."),
            409: _err(
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
            409: _err(
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
            409: _err(
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
