"""The KPI rollup: the first refresh builds every day, later ones rebuild only the days whose
orders changed (a return, a delivery, a ledger entry), an order counts under each scope it
belongs to, two refreshes never run at once, the page says as of when, and the command
rebuilds on demand."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.locks import lock_kpi_rollup_state
from dashboard.models import KpiDay, KpiRollupState
from dashboard.selectors.kpis import KpiFilter, kpi_figures
from dashboard.services.kpi_rollup import kpi_days_rebuild, kpi_refresh
from dashboard.tasks import refresh_kpis
from fulfillment.enums import AccuracyKind
from fulfillment.models import AccuracyEvent
from fulfillment.services import packing
from inventory.models import Warehouse
from oms.common.actors import Actor
from orders.enums import OrderStatus as S
from orders.models import Order
from orders.services import order_feedback_give, order_mark_returned, order_mark_shipped
from returns.services import ReturnLineData, return_approve, return_receive, return_request
from shipping.models import Carrier
from shipping.services.shipments import shipment_open
from tests.factories import SYSTEM, make_order
from tests.fulfillment.helpers import manager, packed_at_station, paid_order, stock
from tests.returns.helpers import delivered_order
from tests.shipping.helpers import fleet

pytestmark = pytest.mark.django_db


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_default_timezone())


def shipped_on(day: date, *, changed_at: datetime | None = None) -> Order:
    """An order placed the day before ``day``, paid, picked and packed in the morning and
    shipped at noon; last saved ``changed_at`` (by default when the day ended)."""
    order = make_order(S.SHIPPED)
    noon = at_noon(day)
    Order.objects.filter(pk=order.pk).update(
        created_at=noon - timedelta(days=1),
        paid_at=noon - timedelta(hours=4),
        picking_at=noon - timedelta(hours=3),
        packed_at=noon - timedelta(hours=2),
        shipped_at=noon,
        updated_at=changed_at or noon + timedelta(hours=12),
    )
    return Order.objects.get(pk=order.pk)


def everything(day: date) -> KpiDay:
    return KpiDay.objects.get(day=day, scope="*:*")


def figures(start: date, end: date) -> Any:
    return kpi_figures(KpiFilter(start=start, end=end))


def test_the_first_refresh_builds_every_day_from_the_first_order_to_today() -> None:
    shipped_on(days_ago(3))

    result = kpi_refresh()

    assert (result.days, result.skipped) == (5, False)  # placed 4 days ago: 4 days back and today
    assert (everything(days_ago(4)).placed, everything(days_ago(3)).shipped) == (1, 1)
    state = KpiRollupState.objects.get()
    assert state.scanned_from is not None and state.refreshed_at is not None
    assert figures(days_ago(6), timezone.localdate()).orders_total == 1


def test_a_return_recorded_later_shows_at_the_next_refresh_on_the_day_the_order_shipped() -> None:
    order = shipped_on(days_ago(10))
    kpi_refresh()
    assert everything(days_ago(10)).returned == 0

    order_mark_returned(actor=SYSTEM, number=order.number, note="Too small")
    result = kpi_refresh()

    # The days it was placed and shipped on, and today.
    assert result.days == 3
    k = figures(days_ago(10), days_ago(10))
    assert (k.returned.part, k.returned.whole, k.perfect.part) == (1, 1, 0)
    assert [(r.reason, r.orders) for r in k.return_reasons] == [("Too small", 1)]


def test_an_accuracy_entry_made_after_shipping_shows_at_the_next_refresh() -> None:
    order = shipped_on(days_ago(2))
    kpi_refresh()

    AccuracyEvent.objects.create(kind=AccuracyKind.WRONG_PACK_SCAN, order_number=order.number, actor_label="support")
    kpi_refresh()

    k = figures(days_ago(2), days_ago(2))
    assert (k.perfect.part, k.with_errors) == (0, 1)
    assert [(e.kind, e.events, e.orders) for e in k.error_kinds] == [("wrong_pack_scan", 1, 1)]


def test_a_refresh_rebuilds_only_the_days_that_changed() -> None:
    shipped_on(days_ago(20))
    kpi_refresh()
    untouched = everything(days_ago(20)).computed_at
    # Saved long before the last look (and its look-back): not looked at again.
    shipped_on(days_ago(30), changed_at=timezone.now() - timedelta(days=1))

    result = kpi_refresh()

    assert result.days == 1  # today
    assert everything(days_ago(20)).computed_at == untouched
    assert not KpiDay.objects.filter(day=days_ago(30)).exists()


def test_a_change_made_just_before_the_last_look_is_looked_at_again() -> None:
    kpi_refresh()
    state = KpiRollupState.objects.get()
    # Saved by a transaction that began before the last look and committed after it.
    shipped_on(days_ago(5), changed_at=state.scanned_from - timedelta(seconds=settings.OMS_KPI_LOOKBACK_SECONDS - 5))

    kpi_refresh()

    assert everything(days_ago(5)).shipped == 1


def test_rebuilding_a_day_twice_gives_the_same_rows() -> None:
    shipped_on(days_ago(1))
    kpi_days_rebuild([days_ago(1)])
    first = list(KpiDay.objects.filter(day=days_ago(1)).values("scope", "shipped", "durations", "placed"))

    kpi_days_rebuild([days_ago(1)])

    assert list(KpiDay.objects.filter(day=days_ago(1)).values("scope", "shipped", "durations", "placed")) == first


def test_an_order_counts_under_all_orders_its_warehouse_its_carrier_and_both() -> None:
    boss = Actor.for_user(manager())
    stock("MUG", 10, "M-01", 1, weight_grams=300)
    fleet()
    order = packed_at_station(paid_order({"MUG": 1}), boss)
    packing.packing_complete(actor=boss, order_number=order.number)
    shipment_open(actor=boss, order_number=order.number)
    order_mark_shipped(actor=boss, number=order.number)

    kpi_days_rebuild([timezone.localdate()])

    main, carrier = Warehouse.objects.get(code="MAIN").pk, Carrier.objects.get(code="FLEET").pk
    rows = dict(KpiDay.objects.filter(day=timezone.localdate()).values_list("scope", "shipped"))
    assert rows == {"*:*": 1, f"{main}:*": 1, f"*:{carrier}": 1, f"{main}:{carrier}": 1}


def test_the_page_warns_until_the_figures_are_first_computed_then_says_as_of_when() -> None:
    client = Client()
    client.force_login(manager())

    before = client.get(reverse("dashboard:kpis")).content.decode()
    kpi_refresh()
    after = client.get(reverse("dashboard:kpis")).content.decode()

    assert "The figures have not been computed yet" in before
    assert "Figures as of" not in before
    assert "Figures as of" in after and "not been computed" not in after


def test_the_beat_refreshes_the_kpis_every_minute() -> None:
    shipped_on(days_ago(1))

    entry = settings.CELERY_BEAT_SCHEDULE["refresh-kpis"]

    assert (entry["task"], entry["schedule"]) == ("dashboard.tasks.refresh_kpis", 60)
    assert refresh_kpis() == 3  # placed 2 days ago: those two days and today
    assert everything(days_ago(1)).shipped == 1


def test_the_command_rebuilds_every_day_or_the_days_asked() -> None:
    shipped_on(days_ago(3))
    out = StringIO()

    call_command("kpi_rebuild", stdout=out)
    call_command("kpi_rebuild", "--start", days_ago(3).isoformat(), "--end", days_ago(3).isoformat(), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Rebuilt 5 days of KPIs")
    assert lines[1].startswith("Rebuilt 1 days of KPIs")
    assert everything(days_ago(3)).shipped == 1


@pytest.mark.parametrize(
    "args", [["--start", "2025-03-01"], ["--start", "2025-03-05", "--end", "2025-03-01"], ["--end", "2025-03-01"]]
)
def test_the_command_refuses_half_a_range_or_one_backwards(args: list[str]) -> None:
    with pytest.raises(CommandError, match="Give both --start and --end"):
        call_command("kpi_rebuild", *args, stdout=StringIO())
    assert not KpiDay.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_finds_another_running_leaves_the_work_to_it() -> None:
    kpi_refresh()
    holding, release = threading.Event(), threading.Event()

    def other_refresh() -> None:
        try:
            with transaction.atomic():
                assert lock_kpi_rollup_state() is not None
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_refresh)
    thread.start()
    try:
        assert holding.wait(10)
        result = kpi_refresh()
    finally:
        release.set()
        thread.join()

    assert result.skipped and result.days == 0


def test_a_received_return_counts_its_order_as_returned_under_each_reason_given() -> None:
    order = delivered_order({"MUG": 2, "TEE": 1})
    Order.objects.filter(pk=order.pk).update(shipped_at=at_noon(days_ago(5)), updated_at=at_noon(days_ago(4)))
    kpi_refresh()
    customer = Actor.customer()
    ret = return_request(
        actor=customer,
        order_number=order.number,
        lines=[ReturnLineData("MUG", 1, "damaged"), ReturnLineData("TEE", 1, "too_small")],
    )
    return_approve(actor=SYSTEM, number=ret.number)
    kpi_refresh()
    assert figures(days_ago(5), days_ago(5)).returned.part == 0  # asked for, not back yet

    return_receive(actor=SYSTEM, number=ret.number)
    kpi_refresh()

    k = figures(days_ago(5), days_ago(5))
    assert (k.returned.part, k.returned.whole, k.perfect.part) == (1, 1, 0)
    assert [(r.reason, r.orders) for r in k.return_reasons] == [("Arrived damaged", 1), ("Too small", 1)]
    assert Order.objects.get(pk=order.pk).status == S.EXECUTED  # one mug is still with the customer


def test_customer_ratings_feed_the_satisfaction_figures_of_the_day_the_order_shipped() -> None:
    orders = [shipped_on(days_ago(3)) for _ in range(3)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=S.EXECUTED, executed_at=at_noon(days_ago(2)))
    kpi_refresh()
    for order, rating in zip(orders[:2], (5, 2), strict=True):
        order_feedback_give(number=order.number, rating=rating, comment="ok")

    kpi_refresh()

    k = figures(days_ago(3), days_ago(3))
    assert (k.rated, k.rating_average) == (2, 3.5)
    assert k.ratings == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    client = Client()
    client.force_login(manager())
    query = {"start": days_ago(3).isoformat(), "end": days_ago(3).isoformat()}
    page = client.get(reverse("dashboard:kpis"), query).content.decode()
    assert "on average <strong>3.5 / 5</strong>" in page
    body = client.get(reverse("dashboard:kpis-csv", args=["ratings"]), query).content.decode()
    assert body.splitlines() == ["rating,orders", "5,1", "4,0", "3,0", "2,1", "1,0"]
