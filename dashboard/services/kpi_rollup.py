"""The KPI rollup: each shop day's figures per scope (all orders, a dispatch warehouse, a
carrier, both), so that the KPI page reads one row per day of its range instead of every
order of it (ADR 0011).

A day's rows are always rebuilt whole from the orders, never adjusted: rebuilding is
idempotent, and a day comes out the same whichever change brought it up.

Which days to rebuild: the days an order was placed or shipped on, for each order saved
since the last look (``Order.updated_at``: every status change, payment, edit and refund
saves it), and the shipping days of each order given an accuracy-ledger entry or a rating,
or whose returns changed, since then, plus today. The look
goes back ``OMS_KPI_LOOKBACK_SECONDS`` before where the last one stopped, so that a change
committed by a transaction that began before that look is not missed.

Definitions (the page's help text says the same):

- *dispatch warehouse*: the warehouse of the pick list the order is on or was packed from,
  that is its pick-list entry neither removed nor left short (an order has at most one such
  entry). An order never put on a pick list counts only under all warehouses.
- *carrier*: the carrier of the order's shipment; an order without one counts only under
  all carriers.
- ``placed`` counts the orders placed on the day; every other figure the orders *shipped*
  on the day, whatever happened to them later (returned so far, delivered so far).
- *returned*: something of the order came back so far: a return of it was received
  (``returns``), or the whole order is ``returned`` (a parcel returned to sender). Its
  reasons are those the customer gave per returned line, an order counting once under each;
  an order returned without a return (to sender) counts under the note of its move.
- *ratings*: the customers' ratings (1-5) of the orders shipped on the day, given so far.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from dashboard.histograms import histogram_of
from dashboard.locks import lock_kpi_rollup_state
from dashboard.models import KpiDay, KpiRollupState
from fulfillment.enums import EntryState
from fulfillment.models import AccuracyEvent, PickListOrder
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, OrderFeedback
from returns.enums import ReturnReason, ReturnStatus
from returns.models import Return, ReturnLine
from shipping.models import Shipment

# Each stage: (key, label, from field, to field). The first is the whole paid -> shipped time.
STAGES: tuple[tuple[str, str, str, str], ...] = (
    ("paid_to_shipped", "Paid → shipped (total)", "paid_at", "shipped_at"),
    ("paid_to_picking", "Paid → picking started", "paid_at", "picking_at"),
    ("picking_to_packed", "Picking → packed", "picking_at", "packed_at"),
    ("packed_to_shipped", "Packed → shipped", "packed_at", "shipped_at"),
    ("shipped_to_executed", "Shipped → delivered", "shipped_at", "executed_at"),
)
# Returns whose units have arrived: the order counts as (partly) returned from then on.
RETURNS_BACK = (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED, ReturnStatus.REFUNDED)
# The note shipping.services.tracking writes when a carrier sends a parcel back, followed by
# the labels' numbers: grouped as one reason rather than one per parcel.
RETURNED_TO_SENDER = "Returned to sender"
REASON_NOT_RECORDED = "reason not recorded"

Scope = tuple[int | None, int | None]  # (warehouse id, carrier id); None: all


def scopes_of(warehouse_id: int | None, carrier_id: int | None) -> set[Scope]:
    """Every scope an order of this warehouse and carrier counts in."""
    return {(None, None), (warehouse_id, None), (None, carrier_id), (warehouse_id, carrier_id)}


def return_reason(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        return REASON_NOT_RECORDED
    if text.startswith(RETURNED_TO_SENDER):
        return RETURNED_TO_SENDER
    return text


def _warehouse_of_order() -> Subquery:
    """The order's dispatch warehouse, looked up per order (an index probe each) rather than
    joined: a join lets the planner hash every pick-list entry ever made."""
    return Subquery(
        PickListOrder.objects.filter(order=OuterRef("pk"))
        .exclude(state__in=(EntryState.REMOVED, EntryState.SHORT))
        .order_by()  # at most one such entry: no sort
        .values("pick_list__warehouse_id")[:1]
    )


def _carrier_of_order() -> Subquery:
    return Subquery(Shipment.objects.filter(order=OuterRef("pk")).order_by().values("carrier_id")[:1])


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The shop day's first moment and the next day's, in the shop's time zone."""
    tz = timezone.get_default_timezone()
    return datetime.combine(day, time.min, tzinfo=tz), datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


@dataclass
class _Figures:
    placed: int = 0
    shipped: int = 0
    with_ship_by: int = 0
    on_time: int = 0
    returned: int = 0
    flawed: int = 0
    flawed_returned: int = 0
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    reasons: Counter[str] = field(default_factory=Counter)
    ratings: Counter[str] = field(default_factory=Counter)
    errors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _day_figures(day: date) -> dict[Scope, _Figures]:
    """The figures of one day by scope (four queries whatever the scopes)."""
    start, end = day_bounds(day)
    tz = timezone.get_default_timezone()
    figures: dict[Scope, _Figures] = defaultdict(_Figures)
    placed = (
        Order.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(warehouse_key=_warehouse_of_order(), carrier_key=_carrier_of_order())
        .order_by()
        .values("warehouse_key", "carrier_key")
        .annotate(orders=Count("pk"))
        .values_list("warehouse_key", "carrier_key", "orders")
    )
    for warehouse_id, carrier_id, orders in placed:
        for scope in scopes_of(warehouse_id, carrier_id):
            figures[scope].placed += orders

    shipped_on_day = Order.objects.filter(shipped_at__gte=start, shipped_at__lt=end)
    times = ("paid_at", "picking_at", "packed_at", "shipped_at", "executed_at")
    rows = (
        shipped_on_day.annotate(
            warehouse_key=_warehouse_of_order(),
            carrier_key=_carrier_of_order(),
            flawed=Exists(AccuracyEvent.objects.filter(order_number=OuterRef("number"))),
            came_back=Exists(Return.objects.filter(order=OuterRef("pk"), status__in=RETURNS_BACK)),
            rating=Subquery(OrderFeedback.objects.filter(order=OuterRef("pk")).values("rating")[:1]),
            return_note=Subquery(
                OrderEvent.objects.filter(
                    order=OuterRef("pk"), kind=OrderEventKind.STATUS_CHANGED, to_status=OrderStatus.RETURNED
                )
                .order_by("-created_at", "-id")
                .values("note")[:1]
            ),
        )
        .order_by()
        .values_list(
            "number",
            "warehouse_key",
            "carrier_key",
            "ship_by",
            "returned_at",
            "flawed",
            "came_back",
            "rating",
            "return_note",
            *times,
        )
    )
    reason_labels = dict(ReturnReason.choices)
    reasons_by_number: dict[str, set[str]] = defaultdict(set)
    for number, reason in (
        ReturnLine.objects.filter(ret__order__in=shipped_on_day, ret__status__in=RETURNS_BACK, quantity_received__gt=0)
        .values_list("ret__order__number", "reason")
        .distinct()
    ):
        reasons_by_number[number].add(str(reason_labels.get(reason, reason)))
    scopes_by_number: dict[str, set[Scope]] = {}
    for number, warehouse_id, carrier_id, ship_by, returned_at, flawed, came_back, rating, note, *stamps in rows:
        at = dict(zip(times, stamps, strict=True))
        returned = returned_at is not None or came_back
        reasons = reasons_by_number.get(number) or ({return_reason(note)} if returned else set())
        scopes = scopes_by_number[number] = scopes_of(warehouse_id, carrier_id)
        on_time = ship_by is not None and at["shipped_at"].astimezone(tz).date() <= ship_by
        gaps = {
            key: (at[end_field] - at[start_field]).total_seconds()
            for key, _label, start_field, end_field in STAGES
            if at[start_field] is not None and at[end_field] is not None
        }
        for scope in scopes:
            f = figures[scope]
            f.shipped += 1
            f.with_ship_by += ship_by is not None
            f.on_time += on_time
            f.returned += returned
            f.flawed += flawed
            f.flawed_returned += flawed and returned
            f.reasons.update(reasons)
            if rating is not None:
                f.ratings[str(rating)] += 1
            for key, seconds in gaps.items():
                f.seconds[key].append(seconds)

    errors = (
        AccuracyEvent.objects.filter(order_number__in=shipped_on_day.values("number"))
        .order_by()
        .values("order_number", "kind")
        .annotate(events=Count("pk"))
        .values_list("order_number", "kind", "events")
    )
    for number, kind, events in errors:
        for scope in scopes_by_number.get(number, ()):
            tally = figures[scope].errors[kind]
            tally[0] += events
            tally[1] += 1
    return figures


def kpi_days_rebuild(days: Iterable[date]) -> int:
    """Rewrites the rollup rows of each day from the orders, each day atomically (the page
    sees a day before or after, never half of it). Returns the number of rows written."""
    written = 0
    for day in sorted(set(days)):
        rows = [
            KpiDay(
                day=day,
                scope=KpiDay.scope_for(warehouse_id, carrier_id),
                warehouse_id=warehouse_id,
                carrier_id=carrier_id,
                placed=f.placed,
                shipped=f.shipped,
                with_ship_by=f.with_ship_by,
                on_time=f.on_time,
                returned=f.returned,
                flawed=f.flawed,
                flawed_returned=f.flawed_returned,
                durations={key: histogram_of(seconds) for key, seconds in sorted(f.seconds.items())},
                return_reasons=dict(f.reasons.most_common()),
                ratings=dict(sorted(f.ratings.items())),
                accuracy_errors=dict(sorted(f.errors.items())),
                computed_at=timezone.now(),
            )
            for (warehouse_id, carrier_id), f in _day_figures(day).items()
        ]
        with transaction.atomic():
            KpiDay.objects.filter(day=day).delete()
            KpiDay.objects.bulk_create(rows)
        written += len(rows)
    return written


def _local_days(orders: QuerySet[Order], field_name: str) -> set[date]:
    tz = timezone.get_default_timezone()
    return set(
        orders.filter(**{f"{field_name}__isnull": False})
        .annotate(day=TruncDate(field_name, tzinfo=tz))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )


def kpi_days_changed_since(since: datetime) -> set[date]:
    """The days whose figures may have changed since ``since`` (five queries)."""
    saved = Order.objects.filter(updated_at__gte=since)
    ledger = Order.objects.filter(
        number__in=AccuracyEvent.objects.filter(created_at__gte=since).values("order_number"),
    )
    returns = Order.objects.filter(pk__in=Return.objects.filter(updated_at__gte=since).values("order_id"))
    rated = Order.objects.filter(pk__in=OrderFeedback.objects.filter(created_at__gte=since).values("order_id"))
    return (
        _local_days(saved, "created_at")
        | _local_days(saved, "shipped_at")
        | _local_days(ledger, "shipped_at")
        | _local_days(returns, "shipped_at")
        | _local_days(rated, "shipped_at")
    )


def kpi_days_all() -> list[date]:
    """Every day from the first order placed to today."""
    first = Order.objects.aggregate(first=Min("created_at"))["first"]
    today = timezone.localdate()
    if first is None:
        return []
    day = timezone.localtime(first).date()
    return [day + timedelta(days=n) for n in range((today - day).days + 1)]


@dataclass(frozen=True)
class RefreshResult:
    days: int
    rows: int
    skipped: bool = False  # another refresh held the rollup


def kpi_refresh(*, rebuild_all: bool = False) -> RefreshResult:
    """Brings the rollup up to date: rebuilds the days changed since the last refresh and
    today, or every day when asked or when the rollup was never built. Two refreshes never
    run at once: the second finds the state row locked and leaves (``skipped``).

    Side effects: rewrites ``KpiDay`` rows; moves the state's ``scanned_from`` to when this
    refresh began looking."""
    KpiRollupState.objects.get_or_create(pk=1)
    with transaction.atomic():
        state = lock_kpi_rollup_state()
        if state is None:
            return RefreshResult(days=0, rows=0, skipped=True)
        began = timezone.now()
        if rebuild_all or state.scanned_from is None:
            days = set(kpi_days_all())
        else:
            lookback = timedelta(seconds=settings.OMS_KPI_LOOKBACK_SECONDS)
            days = kpi_days_changed_since(state.scanned_from - lookback)
        days.add(timezone.localdate(began))
        rows = kpi_days_rebuild(days)
        state.scanned_from = began
        state.refreshed_at = timezone.now()
        state.save(update_fields=["scanned_from", "refreshed_at"])
    return RefreshResult(days=len(days), rows=rows)
