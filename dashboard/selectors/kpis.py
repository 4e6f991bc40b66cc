"""The KPI figures: orders per day, time from payment to shipping and per stage, on-time
shipping, perfect orders, returns and their reasons, for a date range in shop time and
optionally one warehouse and one carrier.

They are read from the daily rollup (``KpiDay``, ADR 0011): one row per day of the range
for the chosen scope, added up here, so the page costs the same two queries for a day or a
year, a hundred orders or millions. The rollup is brought up to date every minute
(``dashboard.services.kpi_rollup``), and the page says as of when. Percentiles come from
the days' duration histograms, within 2 % of the exact figure (``dashboard.histograms``).

What counts where (dispatch warehouse, carrier, placed vs shipped) is defined in
``dashboard.services.kpi_rollup``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from dashboard.histograms import histogram_percentiles, histograms_add
from dashboard.models import KpiDay, KpiRollupState
from dashboard.services.kpi_rollup import STAGES
from fulfillment.enums import AccuracyKind
from inventory.models import Warehouse
from shipping.models import Carrier

# Longest range the page accepts: the chart has a bar per day.
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30


@dataclass(frozen=True)
class KpiFilter:
    """What the figures cover: local days ``start``..``end`` inclusive in the shop's time zone,
    optionally one dispatch warehouse and one carrier."""

    start: date
    end: date
    warehouse: Warehouse | None = None
    carrier: Carrier | None = None

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
    # When the rollup was last brought up to date; None: it has never been built.
    as_of: datetime | None
    # Customers' ratings of the shipped orders: {1..5: orders}.
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_average(self) -> float | None:
        return sum(r * n for r, n in self.ratings.items()) / self.rated if self.rated else None

    @property
    def orders_total(self) -> int:
        return sum(d.orders for d in self.orders_per_day)


def kpi_figures(f: KpiFilter) -> Kpis:
    """Every figure of the KPI page from the rollup (two queries whatever the range)."""
    state = KpiRollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    rows = list(
        KpiDay.objects.filter(
            scope=KpiDay.scope_for(f.warehouse.pk if f.warehouse else None, f.carrier.pk if f.carrier else None),
            day__gte=f.start,
            day__lte=f.end,
        ).values_list(
            "day",
            "placed",
            "shipped",
            "with_ship_by",
            "on_time",
            "returned",
            "flawed",
            "flawed_returned",
            "durations",
            "return_reasons",
            "accuracy_errors",
            "ratings",
        )
    )
    placed: dict[date, int] = {}
    totals = Counter[str]()
    reasons = Counter[str]()
    ratings = Counter[int]()
    errors: dict[str, list[int]] = {}
    histograms: dict[str, list[dict[str, int]]] = {key: [] for key, *_rest in STAGES}
    for day, day_placed, shipped, with_ship_by, on_time, returned, flawed, flawed_returned, *json in rows:
        durations, day_reasons, day_errors, day_ratings = json
        ratings.update({int(r): n for r, n in day_ratings.items()})
        placed[day] = day_placed
        totals.update(
            shipped=shipped,
            with_ship_by=with_ship_by,
            on_time=on_time,
            returned=returned,
            flawed=flawed,
            flawed_returned=flawed_returned,
        )
        reasons.update(day_reasons)
        for kind, (events, orders) in day_errors.items():
            tally = errors.setdefault(kind, [0, 0])
            tally[0] += events
            tally[1] += orders
        for key, histogram in durations.items():
            histograms.setdefault(key, []).append(histogram)
    stages = []
    for key, label, _start, _end in STAGES:
        counts = histograms_add(histograms[key])
        median, p90 = histogram_percentiles(counts, (0.5, 0.9))
        stages.append(Stage(key, label, sum(counts.values()), _duration(median), _duration(p90)))
    shipped = totals["shipped"]
    # Perfect: neither flawed nor returned.
    perfect = shipped - totals["returned"] - (totals["flawed"] - totals["flawed_returned"])
    labels = dict(AccuracyKind.choices)
    return Kpis(
        filter=f,
        orders_per_day=[DayCount(day=day, orders=placed.get(day, 0)) for day in f.days],
        shipped=shipped,
        stages=stages,
        on_time=Rate(totals["on_time"], totals["with_ship_by"]),
        perfect=Rate(perfect, shipped),
        with_errors=totals["flawed"],
        returned=Rate(totals["returned"], shipped),
        return_reasons=[Reason(r, n) for r, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))],
        error_kinds=[
            ErrorKind(kind, str(labels.get(kind, kind)), events, orders)
            for kind, (events, orders) in sorted(errors.items(), key=lambda item: (-item[1][0], item[0]))
        ],
        as_of=state,
        ratings={r: ratings.get(r, 0) for r in range(1, 6)},
    )


def _duration(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))
