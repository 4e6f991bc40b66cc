"""Pick lists and their scans, and the ready-to-pick queue they are made from."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet, Sum
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fulfillment import selectors
from fulfillment.apis.common import (
    AUTH_ERRORS,
    INVALID,
    INVALID_FILTER,
    error_response,
    refused_response,
    request_caller,
)
from fulfillment.enums import MANAGE, PICK, EntryState, PickListStatus
from fulfillment.models import PickList, PickTask
from fulfillment.serializers.picking import (
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
from fulfillment.services import picking
from inventory.apis.filters import StrictBooleanFilter
from inventory.models import Allocation, Warehouse
from oms.common.actors import Actor
from oms.common.errors import Forbidden, InvalidInput
from oms.common.pagination import DefaultCursorPagination
from oms.common.permissions import ActionPermission

PICK_LIST_NOT_FOUND = {404: error_response("No pick list with this number (`pick_list_not_found`).")}
NOT_YOURS = error_response(
    "The caller's role does not allow this (`permission_denied`), or the list is assigned to someone else "
    "and the caller does not manage pick lists (`not_your_pick_list`; `extra.picker` names the picker)."
)
NOT_PICKING = (
    "The list is not picking: not started yet, completed or cancelled (`pick_list_transition_not_allowed`, "
    "`extra.status`)"
)

PICK_LIST_NUMBER = OpenApiParameter("number", str, OpenApiParameter.PATH, description="Pick list number, PL-000001.")


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
    status = django_filters.MultipleChoiceFilter(
        choices=PickListStatus.choices, help_text="Repeat to match several.", distinct=False
    )
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
            400: error_response(
                "Invalid input (`invalid`): an unknown picker or warehouse, a picker without the picker role, "
                "more orders than a list takes, or named orders that hold nothing in bins and no `warehouse`."
            ),
            401: AUTH_ERRORS[401],
            403: error_response(
                "The caller's role does not allow this, or names another picker without the right to manage "
                "pick lists (`permission_denied`)."
            ),
            404: error_response("A named order does not exist (`order_not_found`)."),
            409: error_response(
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
        caller = request_caller(request)
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
            409: error_response(
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
            400: error_response(
                "Invalid input (`invalid`): blank code, or a quantity over what the task still asks for."
            ),
            401: AUTH_ERRORS[401],
            403: NOT_YOURS,
            404: error_response(
                "No pick list with this number (`pick_list_not_found`), or it has no such task (`pick_task_not_found`)."
            ),
            409: error_response(
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
            return refused_response(
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
            400: error_response("Invalid input (`invalid`): `found` is not below what the task still asks for."),
            401: AUTH_ERRORS[401],
            403: NOT_YOURS,
            404: error_response(
                "No pick list with this number (`pick_list_not_found`), or it has no such task (`pick_task_not_found`)."
            ),
            409: error_response(f"{NOT_PICKING}, or the task is not open (`task_not_open`). Nothing was changed."),
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
            400: error_response("Invalid input (`invalid`): an unknown user, or one without the picker role."),
            **AUTH_ERRORS,
            **PICK_LIST_NOT_FOUND,
            409: error_response(
                "The list is already started, completed or cancelled (`pick_list_transition_not_allowed`)."
            ),
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
            409: error_response(
                "The list is completed or cancelled (`pick_list_transition_not_allowed`). Nothing changed."
            ),
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
