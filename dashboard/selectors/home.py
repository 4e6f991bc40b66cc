"""The staff home's counters: how many orders stand at each stage of the operation.

They are read on every visit to /staff/ and must stay cheap with a million orders: one
aggregate over the orders still in play (found through the ``(status, created_at)`` index, so
the delivered, returned and cancelled history is never read), one count of open incidents, and the
ship-today orders grouped by shipping method and day, whose cut-offs depend on each
carrier's calendar.

The stages of an order still being worked on partition it: a paid order is on a pick list
(picking), or short of stock, or ready to pick; an order in ``picking`` is picked and waiting
for the packer (its pick-list entry says ``picked``), or not yet. "To ship today", "late" and
"exceptions" cut across the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q

from dashboard.models import Incident
from fulfillment.enums import ACTIVE_ENTRY_STATES, EntryState
from fulfillment.models import PickListOrder
from inventory.models import Reservation
from orders.enums import OrderStatus
from orders.models import Order
from shipping.calendar import is_late, time_to_cutoff
from shipping.selectors import services_by_method

AWAITING_PAYMENT = "awaiting_payment"
AWAITING_STOCK = "awaiting_stock"
READY_TO_PICK = "ready_to_pick"
PICKING = "picking"
TO_PACK = "to_pack"
TO_SHIP_TODAY = "to_ship_today"
IN_TRANSIT = "in_transit"
EXCEPTIONS = "exceptions"
LATE = "late"

# Not yet handed to the carrier: these can miss their ship-by day.
_NOT_HANDED_OVER = (OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED)
# Every status a stage counts; executed, returned and cancelled orders (nearly all of a
# million) are left out by the index before anything is counted.
_IN_PLAY = (OrderStatus.UNHANDLED, *_NOT_HANDED_OVER, OrderStatus.SHIPPED)


def shop_today(now: datetime) -> date:
    """Today in shop time (``OMS_TIME_ZONE``): ship-by and promised days are shop days."""
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def stage_filters(*, today: date) -> dict[str, Q]:
    """The condition on ``Order`` of each stage counted in SQL, by stage slug, so a queue page
    can list exactly the orders its counter counts. "To ship today" is not here: it needs the
    carriers' calendars (``shipping.selectors.ship_today``); nor "exceptions", which are
    incidents."""
    short = Exists(Reservation.objects.filter(order_number=OuterRef("number"), quantity_allocated__lt=F("quantity")))
    on_list = Exists(PickListOrder.objects.filter(order=OuterRef("pk"), state__in=ACTIVE_ENTRY_STATES))
    picked = Exists(PickListOrder.objects.filter(order=OuterRef("pk"), state=EntryState.PICKED))
    paid, picking = Q(status=OrderStatus.PAID), Q(status=OrderStatus.PICKING)
    return {
        AWAITING_PAYMENT: Q(status=OrderStatus.UNHANDLED),
        AWAITING_STOCK: Q(paid, ~on_list, short),
        # The same orders as fulfillment.selectors.orders_ready_to_pick().
        READY_TO_PICK: Q(paid, ~on_list, ~short),
        # A paid order on a list not started yet is a picker's already: counted here, not
        # left out of every stage.
        PICKING: Q(paid, on_list) | Q(picking, ~picked),
        TO_PACK: Q(picking, picked),
        IN_TRANSIT: Q(status=OrderStatus.SHIPPED),
        LATE: Q(status__in=_NOT_HANDED_OVER, ship_by__lt=today)
        | Q(status=OrderStatus.SHIPPED, promised_delivery__lt=today),
    }


@dataclass(frozen=True)
class ShipTodaySummary:
    count: int  # must leave today or should have left already
    late: int  # of those, past their cut-off
    next_time_left: timedelta | None  # to the nearest cut-off not passed yet


@dataclass(frozen=True)
class StageCounts:
    counts: dict[str, int]  # by stage slug, every stage
    ship_today: ShipTodaySummary


def stage_counts(*, now: datetime) -> StageCounts:
    """How many orders stand at each stage now. Queries: one aggregate over the orders in
    play, one count of open incidents, and the ship-today summary (the shipping methods'
    services, one per service for its holidays, and one grouped count)."""
    filters = stage_filters(today=shop_today(now))
    counts: dict[str, int] = Order.objects.filter(status__in=_IN_PLAY).aggregate(
        **{stage: Count("pk", filter=condition) for stage, condition in filters.items()}
    )
    # Orders with an open incident: what the exceptions queue lists (one order may have several).
    counts[EXCEPTIONS] = (
        Incident.objects.filter(resolved_at__isnull=True, order__isnull=False).values("order_id").distinct().count()
    )
    summary = ship_today_summary(now=now)
    counts[TO_SHIP_TODAY] = summary.count
    return StageCounts(counts=counts, ship_today=summary)


def ship_today_summary(*, now: datetime) -> ShipTodaySummary:
    """The rows of ``shipping.selectors.ship_today`` summed up, without loading them: the
    same orders counted per shipping method and ship-by day, and each group judged by its
    carrier's calendar as that list judges each row. A backlog of thousands costs a handful
    of groups, not thousands of rows in Python."""
    today = shop_today(now)
    by_method = services_by_method()
    groups = (
        Order.objects.filter(status__in=_NOT_HANDED_OVER, ship_by__lte=today, shipping_method_id__in=list(by_method))
        .values_list("shipping_method_id", "ship_by")
        .annotate(orders=Count("pk"))
        .order_by()
    )
    count = late = 0
    upcoming: list[timedelta] = []
    for method, ship_by, orders in groups:
        _, calendar = by_method[str(method)]
        count += orders
        if is_late(calendar, ship_by, now=now, handed_over_at=None):
            late += orders
        else:
            upcoming.append(time_to_cutoff(calendar, ship_by, now=now))
    return ShipTodaySummary(count=count, late=late, next_time_left=min(upcoming) if upcoming else None)
