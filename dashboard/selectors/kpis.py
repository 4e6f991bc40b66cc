"""The KPI figures: orders per day, time from payment to shipping and per stage, on-time
shipping, perfect orders, returns and their reasons, for a date range in shop time and
optionally one warehouse and one carrier.

Everything is aggregated in the database over the range only, a fixed number of queries
whatever the number of orders. Percentiles use PostgreSQL's ``percentile_cont``; on another
database (the SQLite dev default) they are computed in Python over at most
``PYTHON_PERCENTILE_LIMIT`` orders, and the page says when that sample is partial.

Definitions (also in the page's help text):

- *dispatch warehouse*: the warehouse of the pick list the order is on or was packed from,
  that is its pick-list entry neither removed nor left short (an order has at most one such
  entry; it is the latest pick list that ``fulfillment.selectors.dispatch_warehouse`` reads).
  An order never put on a pick list has no warehouse and drops out when one is chosen.
- *carrier*: the carrier of the order's shipment; an order without a shipment drops out
  when one is chosen.
- the shipping figures count the orders *shipped* in the range (``shipped_at`` in it),
  whatever happened to them later: returned so far, delivered so far.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Trim, TruncDate
from django.utils import timezone

from fulfillment.enums import AccuracyKind, EntryState
from fulfillment.models import AccuracyEvent, PickListOrder
from inventory.models import Warehouse
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent
from shipping.models import Carrier, Shipment

# Longest range the page accepts: the chart has a bar per day.
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
# Orders read into Python for percentiles when the database has no percentile_cont.
PYTHON_PERCENTILE_LIMIT = 50_000
# The note shipping.services.tracking writes when a carrier sends a parcel back, followed by
# the labels' numbers: grouped as one reason rather than one per parcel.
RETURNED_TO_SENDER = "Returned to sender"
REASON_NOT_RECORDED = "reason not recorded"


@dataclass(frozen=True)
class KpiFilter:
    """What the figures cover: local days ``start``..``end`` inclusive in the shop's time zone,
    optionally one dispatch warehouse and one carrier."""

    start: date
    end: date
    warehouse: Warehouse | None = None
    carrier: Carrier | None = None

    @property
    def tz(self) -> tzinfo:
        return timezone.get_default_timezone()

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """Exclusive: midnight after the last day, in shop time."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def kpi_default_range(*, today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included, in the shop's time zone."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_RANGE_DAYS - 1), today


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    day: date
    orders: int


@dataclass(frozen=True)
class Stage:
    """Time spent in one step, over the orders shipped in the range that went through it."""

    key: str
    label: str
    orders: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class Reason:
    reason: str
    orders: int


@dataclass(frozen=True)
class ErrorKind:
    kind: str
    label: str
    events: int
    orders: int


@dataclass(frozen=True)
class Rate:
    """``part`` of ``whole``; ``value`` is None when there is nothing to measure."""

    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> str:
        value = self.value
        return "—" if value is None else f"{value * 100:.1f} %"


@dataclass(frozen=True)
class Kpis:
    filter: KpiFilter
    orders_per_day: list[DayCount]
    shipped: int
    stages: list[Stage]
    on_time: Rate
    perfect: Rate
    with_errors: int
    returned: Rate
    return_reasons: list[Reason]
    error_kinds: list[ErrorKind]
    # None: exact (PostgreSQL). Otherwise the number of orders the Python percentiles used.
    percentile_sample: int | None = None

    @property
    def orders_total(self) -> int:
        return sum(d.orders for d in self.orders_per_day)

    @property
    def percentiles_partial(self) -> bool:
        return self.percentile_sample is not None and self.percentile_sample < self.shipped


# Each stage: (key, label, from field, to field). The first is the whole paid -> shipped time.
STAGES: tuple[tuple[str, str, str, str], ...] = (
    ("paid_to_shipped", "Paid → shipped (total)", "paid_at", "shipped_at"),
    ("paid_to_picking", "Paid → picking started", "paid_at", "picking_at"),
    ("picking_to_packed", "Picking → packed", "picking_at", "packed_at"),
    ("packed_to_shipped", "Packed → shipped", "packed_at", "shipped_at"),
    ("shipped_to_executed", "Shipped → delivered", "shipped_at", "executed_at"),
)


class PercentilesCont(Aggregate):
    """PostgreSQL's ``percentile_cont(ARRAY[f1, f2...]) WITHIN GROUP (ORDER BY x)``: the
    continuous percentiles, interpolated between the nearest values, from one sort of the
    values; NULLs are ignored. On intervals, so durations come back as ``timedelta``."""

    function = "PERCENTILE_CONT"
    name = "PercentilesCont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fractions: Sequence[float], **extra: Any) -> None:
        if not fractions or not all(0 <= f <= 1 for f in fractions):
            raise ValueError("fractions must be between 0 and 1")
        # Floats we own, never user input: safe to write into the SQL.
        written = ", ".join(repr(float(f)) for f in fractions)
        super().__init__(expression, fractions=written, output_field=ArrayField(DurationField()), **extra)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont`` in Python: linear interpolation between the closest ranks of the
    sorted ``values``; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def kpi_orders(f: KpiFilter) -> QuerySet[Order]:
    """All orders, narrowed to the filter's warehouse and carrier (not to its dates)."""
    # Both are looked up per order of the range (an index probe each) rather than joined:
    # a join lets the planner hash every pick list entry or shipment ever made, which costs
    # more the longer the shop runs; the probes cost what the range holds.
    orders = Order.objects.all()
    if f.warehouse is not None:
        orders = orders.alias(
            dispatch_warehouse=Subquery(
                PickListOrder.objects.filter(order=OuterRef("pk"))
                .exclude(state__in=(EntryState.REMOVED, EntryState.SHORT))
                .order_by()  # at most one such entry: no sort
                .values("pick_list__warehouse_id")[:1]
            )
        ).filter(dispatch_warehouse=f.warehouse.pk)
    if f.carrier is not None:
        orders = orders.alias(
            carrier=Subquery(Shipment.objects.filter(order=OuterRef("pk")).order_by().values("carrier_id")[:1])
        ).filter(carrier=f.carrier.pk)
    return orders


def kpi_shipped_orders(f: KpiFilter) -> QuerySet[Order]:
    """The orders shipped in the range: the population of every shipping figure."""
    return kpi_orders(f).filter(shipped_at__gte=f.start_at, shipped_at__lt=f.end_at)


def kpi_orders_per_day(f: KpiFilter) -> list[DayCount]:
    """Orders placed per local day, days without orders included (one query)."""
    counts = dict(
        kpi_orders(f)
        .filter(created_at__gte=f.start_at, created_at__lt=f.end_at)
        .annotate(day=TruncDate("created_at", tzinfo=f.tz))
        .order_by()
        .values("day")
        .annotate(orders=Count("pk"))
        .values_list("day", "orders")
    )
    return [DayCount(day=day, orders=counts.get(day, 0)) for day in f.days]


def kpi_figures(f: KpiFilter) -> Kpis:
    """Every figure of the KPI page, read in one transaction (one snapshot, so the figures
    agree with each other): six queries whatever the number of orders."""
    # PostgreSQL's JIT is off for the project's connections (settings): compiling these
    # aggregates took longer than running them.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The percentiles sort every duration of the range; with the default 4 MB they
            # spill to temporary files (docs/performance.md, Dashboard).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
        return _kpi_figures(f)


def _kpi_figures(f: KpiFilter) -> Kpis:
    shipped_qs = kpi_shipped_orders(f)
    exact = connection.vendor == "postgresql"
    aggregates: dict[str, Any] = {
        "shipped": Count("pk"),
        "with_ship_by": Count("pk", filter=Q(ship_by__isnull=False)),
        "on_time": Count("pk", filter=Q(ship_by__isnull=False, shipped_day__lte=F("ship_by"))),
        "returned": Count("pk", filter=Q(returned_at__isnull=False)),
    }
    if exact:
        for key, _label, start, end in STAGES:
            gap = F(end) - F(start)
            aggregates[f"{key}__n"] = Count(gap)
            aggregates[f"{key}__p"] = PercentilesCont(gap, [0.5, 0.9])
    totals = shipped_qs.annotate(shipped_day=TruncDate("shipped_at", tzinfo=f.tz)).order_by().aggregate(**aggregates)
    # Apart, so the ledger is probed once per order (in the query above PostgreSQL would
    # repeat the probe for each figure that reads it).
    flawed = (
        shipped_qs.filter(Exists(AccuracyEvent.objects.filter(order_number=OuterRef("number"))))
        .order_by()
        .aggregate(orders=Count("pk"), returned=Count("pk", filter=Q(returned_at__isnull=False)))
    )
    # Perfect: neither flawed nor returned.
    perfect = totals["shipped"] - totals["returned"] - (flawed["orders"] - flawed["returned"])
    sample: int | None = None
    if exact:
        stages = [
            Stage(key, label, totals[f"{key}__n"], *(totals[f"{key}__p"] or [None, None]))
            for key, label, _start, _end in STAGES
        ]
    else:
        stages, sample = _stages_in_python(shipped_qs)
    return Kpis(
        filter=f,
        orders_per_day=kpi_orders_per_day(f),
        shipped=totals["shipped"],
        stages=stages,
        on_time=Rate(totals["on_time"], totals["with_ship_by"]),
        perfect=Rate(perfect, totals["shipped"]),
        with_errors=flawed["orders"],
        returned=Rate(totals["returned"], totals["shipped"]),
        return_reasons=kpi_return_reasons(f),
        error_kinds=kpi_error_kinds(f),
        percentile_sample=sample,
    )


def _stages_in_python(shipped_qs: QuerySet[Order]) -> tuple[list[Stage], int]:
    """Percentiles without ``percentile_cont``: over the latest ``PYTHON_PERCENTILE_LIMIT``
    shipped orders (one query). Returns the stages and the number of orders read."""
    fields = ("paid_at", "picking_at", "packed_at", "shipped_at", "executed_at")
    rows = list(shipped_qs.order_by("-shipped_at").values_list(*fields)[:PYTHON_PERCENTILE_LIMIT])
    index = {name: i for i, name in enumerate(fields)}
    stages = []
    for key, label, start, end in STAGES:
        gaps = [
            (row[index[end]] - row[index[start]]).total_seconds()
            for row in rows
            if row[index[start]] is not None and row[index[end]] is not None
        ]
        p50, p90 = percentile(gaps, 0.5), percentile(gaps, 0.9)
        stages.append(
            Stage(
                key,
                label,
                len(gaps),
                None if p50 is None else timedelta(seconds=p50),
                None if p90 is None else timedelta(seconds=p90),
            )
        )
    return stages, len(rows)


def kpi_return_reasons(f: KpiFilter) -> list[Reason]:
    """Why the orders shipped in the range came back: the note of their move to returned,
    blank notes grouped as "reason not recorded" and a carrier's return to sender as one
    reason. Most frequent first (one query)."""
    reasons = (
        OrderEvent.objects.filter(
            kind=OrderEventKind.STATUS_CHANGED,
            to_status=OrderStatus.RETURNED,
            # Only returned orders have such an event; saying so first spares the filters'
            # look-ups for every other order.
            order__in=kpi_shipped_orders(f).filter(returned_at__isnull=False).values("pk"),
        )
        .annotate(note_text=Trim("note"))
        .annotate(
            reason=Case(
                When(note_text="", then=Value(REASON_NOT_RECORDED)),
                When(note_text__startswith=RETURNED_TO_SENDER, then=Value(RETURNED_TO_SENDER)),
                default=F("note_text"),
                output_field=TextField(),
            )
        )
        .order_by()
        .values("reason")
        .annotate(orders=Count("order_id", distinct=True))
        .order_by("-orders", "reason")
        .values_list("reason", "orders")
    )
    return [Reason(reason, orders) for reason, orders in reasons]


def kpi_error_kinds(f: KpiFilter) -> list[ErrorKind]:
    """The accuracy ledger's entries for the orders shipped in the range, by kind (one
    query): what made those orders imperfect."""
    rows = (
        AccuracyEvent.objects.filter(order_number__in=kpi_shipped_orders(f).values("number"))
        .order_by()
        .values("kind")
        .annotate(events=Count("pk"), orders=Count("order_number", distinct=True))
        .order_by("-events", "kind")
        .values_list("kind", "events", "orders")
    )
    labels = dict(AccuracyKind.choices)
    return [ErrorKind(kind, str(labels.get(kind, kind)), events, orders) for kind, events, orders in rows]
