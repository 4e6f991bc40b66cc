"""Reads for fulfillment screens, APIs and documents, with their joins done once."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from fulfillment.enums import ACTIVE_ENTRY_STATES, PackageStatus, PackingStatus, PickListStatus, TaskStatus
from fulfillment.models import (
    AccuracyEvent,
    Package,
    PackageType,
    PackingSession,
    PickList,
    PickListOrder,
    PickTask,
)
from inventory.models import Allocation, Reservation, Warehouse
from oms.common.errors import NotFound
from orders.enums import OrderStatus
from orders.models import Order

PATH_ORDER = ("location__pick_sequence", "location__code", "entry__position", "id")


def orders_ready_to_pick(*, warehouse: Warehouse | None = None) -> QuerySet[Order]:
    """Paid orders with every unit secured and on no active pick list: earliest ship-by day
    first, then oldest payment; orders without a promise yet (no carrier service mapped, or
    not stamped yet) come last. With ``warehouse``: only orders whose units are all held
    there."""
    short = Reservation.objects.filter(order_number=OuterRef("number"), quantity_allocated__lt=F("quantity"))
    on_list = PickListOrder.objects.filter(order=OuterRef("pk"), state__in=ACTIVE_ENTRY_STATES)
    orders = Order.objects.filter(status=OrderStatus.PAID).exclude(Exists(short)).exclude(Exists(on_list))
    if warehouse is not None:
        held = Allocation.objects.filter(reservation__order_number=OuterRef("number"))
        orders = orders.filter(Exists(held.filter(stock__location__warehouse=warehouse))).exclude(
            Exists(held.exclude(stock__location__warehouse=warehouse))
        )
    return orders.order_by(F("ship_by").asc(nulls_last=True), F("paid_at").asc(nulls_last=True), "id")


def pick_list_list() -> QuerySet[PickList]:
    return PickList.objects.select_related("warehouse", "picker").order_by("-id")


def pick_lists_of_picker(user_id: int) -> QuerySet[PickList]:
    """A picker's lists still to do: being picked first, then assigned, oldest first."""
    return (
        pick_list_list()
        .filter(picker_id=user_id, status__in=[PickListStatus.PICKING, PickListStatus.ASSIGNED])
        .order_by("-status", "id")  # "picking" sorts after "assigned" alphabetically
    )


def pick_list_tasks(pick_list: PickList) -> list[PickTask]:
    """The tasks in walking order: bins by pick sequence, then by order position."""
    return list(
        PickTask.objects.filter(pick_list=pick_list)
        .select_related("product", "location", "entry__order", "line")
        .order_by(*PATH_ORDER)
    )


def pick_list_detail(*, number: str) -> PickList:
    """A pick list with its orders and its tasks in walking order (``pick_list.path``)."""
    pick_list = (
        PickList.objects.select_related("warehouse", "picker")
        .prefetch_related(Prefetch("entries", queryset=PickListOrder.objects.select_related("order")))
        .filter(number=number)
        .first()
    )
    if pick_list is None:
        raise NotFound(f"No pick list {number}.", code="pick_list_not_found")
    pick_list.path = pick_list_tasks(pick_list)  # type: ignore[attr-defined]
    return pick_list


def next_task(pick_list: PickList) -> PickTask | None:
    path = getattr(pick_list, "path", None) or pick_list_tasks(pick_list)
    return next((t for t in path if t.status == TaskStatus.OPEN), None)


def package_type_list() -> QuerySet[PackageType]:
    return PackageType.objects.filter(is_active=True).order_by("code")


def packing_detail(*, order_number: str) -> PackingSession:
    """The open packing session of an order with its packages and items."""
    session = (
        PackingSession.objects.select_related("order", "station", "packer")
        .prefetch_related(
            Prefetch(
                "packages",
                queryset=Package.objects.select_related("package_type").prefetch_related("items__product"),
            ),
            "order__lines__product",
        )
        .filter(order__number=order_number, status=PackingStatus.OPEN)
        .first()
    )
    if session is None:
        raise NotFound(f"Order {order_number} is not open for packing.", code="packing_not_found")
    return session


def packages_of_order(*, order_number: str) -> list[Package]:
    return list(
        Package.objects.select_related("package_type")
        .prefetch_related("items__product", "items__line")
        .filter(order__number=order_number)
        .exclude(Q(session__status=PackingStatus.OPEN) & Q(items__isnull=True))
        .order_by("sequence")
        .distinct()
    )


def accuracy_event_list() -> QuerySet[AccuracyEvent]:
    return AccuracyEvent.objects.select_related("user", "supervisor", "pick_list", "package").order_by("-id")


def dispatch_warehouse(order: Order) -> Warehouse | None:
    """The warehouse an order leaves from: where it was picked (its latest pick list), else
    the station it was packed at."""
    entry = PickListOrder.objects.filter(order=order).select_related("pick_list__warehouse").order_by("-id").first()
    if entry is not None:
        return entry.pick_list.warehouse
    session = (
        PackingSession.objects.filter(order=order, station__isnull=False)
        .select_related("station__warehouse")
        .order_by("-id")
        .first()
    )
    return session.station.warehouse if session is not None and session.station is not None else None


def closed_packages(order: Order) -> list[Package]:
    """The order's weighed packages, with their type and station, in sequence."""
    return list(
        Package.objects.filter(order=order, status=PackageStatus.CLOSED)
        .select_related("package_type", "session__station")
        .order_by("sequence")
    )
