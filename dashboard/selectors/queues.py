"""Reads behind the queue pages (/staff/queues/<stage>/) and the staff search.

A queue lists exactly the orders its counter on the staff home counts (the conditions come
from ``dashboard.selectors.home.stage_filters``), filtered and sorted from a whitelist. Pages
are cut with LIMIT/OFFSET and one extra row tells whether a next page exists: with a million
orders a ``COUNT(*)`` per page view would cost more than the page itself, and staff work a
queue from its top, not by jumping to page 4,000.

Search answers an order number or a tracking number by opening the order; anything else is
looked up as a customer's name or email, the start of an order or tracking number, or a SKU,
each bounded by a LIMIT and walked newest first along the primary key, so an unlucky word
never reads the whole table twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import OrderBy

from dashboard.models import Incident
from dashboard.selectors.home import (
    AWAITING_PAYMENT,
    AWAITING_STOCK,
    EXCEPTIONS,
    IN_TRANSIT,
    LATE,
    PICKING,
    READY_TO_PICK,
    TO_PACK,
    TO_SHIP_TODAY,
    stage_filters,
)
from fulfillment.enums import ACTIVE_ENTRY_STATES, EntryState
from fulfillment.models import PickListOrder
from inventory.models import Allocation, Product, Warehouse
from orders.enums import OrderStatus
from orders.models import Order, OrderLine, ShippingMethod
from shipping.models import Label, ShippingMethodService

PER_PAGE = 50
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class Stage:
    slug: str
    title: str
    description: str
    default_sort: str  # a key of SORTS, "-" in front for descending
    by_warehouse: bool = False  # the warehouse filter applies (the orders' stock sits in one)


STAGES: dict[str, Stage] = {
    s.slug: s
    for s in (
        Stage(AWAITING_PAYMENT, "Awaiting payment", "Orders placed but not paid yet.", "created"),
        Stage(AWAITING_STOCK, "Awaiting stock", "Paid orders with units not in stock yet.", "created"),
        Stage(
            READY_TO_PICK,
            "Ready to pick",
            "Paid orders with every unit in a bin and on no pick list.",
            "ship_by",
            by_warehouse=True,
        ),
        Stage(PICKING, "Picking", "Orders on a pick list, not picked yet.", "ship_by", by_warehouse=True),
        Stage(TO_PACK, "To pack", "Orders picked and waiting at the packing tables.", "ship_by", by_warehouse=True),
        Stage(
            TO_SHIP_TODAY,
            "To ship today",
            "Orders that must be handed to the carrier today, or should have been already.",
            "ship_by",
            by_warehouse=True,
        ),
        Stage(IN_TRANSIT, "In transit", "Orders handed to the carrier and not delivered yet.", "created"),
        Stage(EXCEPTIONS, "Exceptions", "Orders with a problem in the exception inbox.", "created"),
        Stage(
            LATE,
            "Late",
            "Orders past their ship-by day, or shipped and past the promised delivery day.",
            "ship_by",
        ),
    )
}

# The only columns a queue sorts by; each sort ends with the primary key so pages never
# overlap or skip a row when values tie.
SORTS: dict[str, tuple[str, str, str]] = {  # key: (column, ascending label, descending label)
    "created": ("created_at", "Oldest first", "Newest first"),
    "ship_by": ("ship_by", "Ship-by day, soonest first", "Ship-by day, latest first"),
    "total": ("total", "Total, lowest first", "Total, highest first"),
    "number": ("number", "Order number, ascending", "Order number, descending"),
}

_ROW_FIELDS = (
    "number",
    "status",
    "channel",
    "currency",
    "customer_name",
    "customer_email",
    "total",
    "ship_by",
    "promised_delivery",
    "created_at",
)


def shop_day_start(day: date) -> datetime:
    """Midnight of a shop day (``OMS_TIME_ZONE``), so a date range uses the created_at index."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


@dataclass(frozen=True)
class QueueFilters:
    channel: str = ""
    shipping_method: str = ""
    warehouse_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    sort: str = ""  # a key of SORTS, "-" in front for descending; empty: the stage's default


def _stage_condition(stage: str, today: date) -> Q:
    if stage == TO_SHIP_TODAY:
        # The rows of shipping.selectors.ship_today (and the home counter): not handed over,
        # due today or before, on a method some carrier service carries.
        mapped = ShippingMethodService.objects.values("shipping_method_id")
        return Q(
            status__in=(OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED),
            ship_by__lte=today,
            shipping_method_id__in=mapped,
        )
    if stage == EXCEPTIONS:
        return Q(pk__in=Incident.objects.filter(resolved_at__isnull=True, order__isnull=False).values("order_id"))
    return stage_filters(today=today)[stage]


def _in_warehouse(stage: str, warehouse: int) -> Q:
    """Orders of the stage handled in ``warehouse``: for orders not on a pick list yet, where
    all their units are held; for the others, the warehouse of their pick list."""
    if stage == READY_TO_PICK:
        held = Allocation.objects.filter(reservation__order_number=OuterRef("number"))
        return Exists(held.filter(stock__location__warehouse_id=warehouse)) & ~Exists(
            held.exclude(stock__location__warehouse_id=warehouse)
        )
    entries = PickListOrder.objects.filter(order=OuterRef("pk"), pick_list__warehouse_id=warehouse)
    if stage in (PICKING, TO_PACK):
        entries = entries.filter(state__in=ACTIVE_ENTRY_STATES)
    else:
        entries = entries.exclude(state=EntryState.REMOVED)
    return Q(Exists(entries))


def _ordering(sort: str) -> list[OrderBy]:
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")][0]
    if descending:
        return [F(column).desc(nulls_last=True), F("id").desc()]
    return [F(column).asc(nulls_last=True), F("id").asc()]


def valid_sort(stage: Stage, sort: str) -> str:
    return sort if sort.lstrip("-") in SORTS else stage.default_sort


def queue_orders(*, stage: Stage, filters: QueueFilters, today: date) -> QuerySet[Order]:
    """The orders of a stage, filtered and sorted; only the columns a queue shows."""
    orders = Order.objects.filter(_stage_condition(stage.slug, today))
    if filters.channel:
        orders = orders.filter(channel=filters.channel)
    if filters.shipping_method:
        orders = orders.filter(shipping_method__code=filters.shipping_method)
    if filters.warehouse_id is not None and stage.by_warehouse:
        orders = orders.filter(_in_warehouse(stage.slug, filters.warehouse_id))
    if filters.created_from:
        orders = orders.filter(created_at__gte=shop_day_start(filters.created_from))
    if filters.created_to:
        orders = orders.filter(created_at__lt=shop_day_start(filters.created_to + timedelta(days=1)))
    return orders.only(*_ROW_FIELDS).order_by(*_ordering(valid_sort(stage, filters.sort)))


@dataclass(frozen=True)
class QueuePage:
    orders: list[Order]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.orders else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * PER_PAGE + len(self.orders)


def queue_page(*, stage: Stage, filters: QueueFilters, page: int, today: date) -> QueuePage:
    """One page of a queue in one query: PER_PAGE rows and one more to know a next page
    exists (no count of the whole queue)."""
    page = max(page, 1)
    offset = (page - 1) * PER_PAGE
    rows = list(queue_orders(stage=stage, filters=filters, today=today)[offset : offset + PER_PAGE + 1])
    return QueuePage(orders=rows[:PER_PAGE], number=page, has_next=len(rows) > PER_PAGE)


def warehouse_choices() -> list[tuple[int, str]]:
    """(id, "CODE · name") of every warehouse, for the filter."""
    return [
        (pk, f"{code} · {name}")
        for pk, code, name in Warehouse.objects.order_by("code").values_list("pk", "code", "name")
    ]


def shipping_method_choices() -> list[tuple[str, str]]:
    return list(ShippingMethod.objects.order_by("code").values_list("code", "name"))


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    order: Order
    matched: str  # what matched, in words: "customer email", "SKU MUG"...


@dataclass(frozen=True)
class SearchResult:
    query: str
    open_order: str | None  # one order found by its number or tracking number: open it
    hits: list[SearchHit]
    truncated: bool  # more matched than are shown


def _spellings(text: str) -> list[str]:
    """As typed and in capitals: order numbers, tracking numbers and SKUs are usually written
    in capitals, and an exact comparison keeps their unique indexes usable."""
    return list(dict.fromkeys([text, text.upper()]))


def order_search(*, query: str, limit: int = SEARCH_LIMIT) -> SearchResult:
    """Finds orders by what staff have at hand. An exact order number, or a tracking number
    of exactly one order, answers with that order to open. Otherwise every order whose
    number or tracking number starts with the text, whose customer email starts with it or
    customer name contains it, or with a line of that SKU: newest first, at most ``limit``."""
    text = query.strip()[:100]
    if not text:
        return SearchResult(query=text, open_order=None, hits=[], truncated=False)
    spellings = _spellings(text)
    exact = list(Order.objects.filter(number__in=spellings).values_list("number", flat=True)[:2])
    if len(exact) == 1:
        return SearchResult(query=text, open_order=exact[0], hits=[], truncated=False)
    tracked = list(
        Label.objects.filter(tracking_number__in=spellings)
        .values_list("shipment__order__number", flat=True)
        .distinct()[:2]
    )
    if len(tracked) == 1:
        return SearchResult(query=text, open_order=tracked[0], hits=[], truncated=False)

    hits: dict[str, SearchHit] = {}
    truncated = False
    for orders in _search_queries(text, spellings, limit):
        rows = list(orders.only(*_ROW_FIELDS).order_by("-id")[: limit + 1])
        truncated = truncated or len(rows) > limit
        for order in rows[:limit]:
            hits.setdefault(order.number, SearchHit(order=order, matched=order.matched))  # type: ignore[attr-defined]
    ordered = sorted(hits.values(), key=lambda h: h.order.pk, reverse=True)
    return SearchResult(query=text, open_order=None, hits=ordered[:limit], truncated=truncated or len(ordered) > limit)


def _search_queries(text: str, spellings: list[str], limit: int) -> list[QuerySet[Order]]:
    """One bounded query per kind of key, each row annotated with what matched. Keys that
    live in other tables (tracking numbers, SKUs) are looked up there first, by their own
    indexes, newest first and at most ``limit`` + 1: joining them to all orders and sorting
    by order would read every order when nothing matches."""
    prefix = text.upper()
    tracked = dict(
        Label.objects.filter(tracking_number__startswith=prefix, shipment__isnull=False)
        .order_by("-id")
        .values_list("shipment__order_id", "tracking_number")[: limit + 1]
    )
    product_ids = list(Product.objects.filter(sku__in=spellings).values_list("pk", flat=True))
    with_sku = (
        list(
            OrderLine.objects.filter(product_id__in=product_ids)
            .order_by("-order_id")
            .values_list("order_id", flat=True)[: limit + 1]
        )
        if product_ids
        else []
    )
    return [
        Order.objects.filter(number__startswith=prefix).annotate(
            matched=Value("order number", output_field=CharField())
        ),
        Order.objects.filter(pk__in=list(tracked)).annotate(
            matched=Case(
                *[When(pk=pk, then=Value(f"tracking number {number}")) for pk, number in tracked.items()],
                default=Value("tracking number"),
                output_field=CharField(),
            )
        ),
        Order.objects.filter(pk__in=with_sku).annotate(matched=Value(f"SKU {text}", output_field=CharField())),
        # One pass over the orders for both customer keys (trigram indexes on PostgreSQL,
        # orders/migrations/0010_customer_search).
        Order.objects.filter(Q(customer_email__istartswith=text) | Q(customer_name__icontains=text)).annotate(
            matched=Case(
                When(customer_email__istartswith=text, then=Value("customer email")),
                default=Value("customer name"),
                output_field=CharField(),
            )
        ),
    ]
