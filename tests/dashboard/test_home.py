"""The staff home: a counter per stage linking to its queue, cheap with many orders; and
each role landing on its own work after log-in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.models import Incident
from dashboard.selectors.home import ShipTodaySummary, StageCounts, shop_today, stage_counts
from dashboard.views.home import STAGES, _tiles
from fulfillment.selectors import orders_ready_to_pick
from orders.enums import OrderStatus as S
from orders.models import Order
from shipping.selectors import ship_today
from tests.browser.test_picking_packing import fits_the_screen, log_in, with_password
from tests.factories import make_order, make_staff
from tests.fulfillment.helpers import listed_order, picked_order, picker
from tests.shipping.helpers import fleet

pytestmark = pytest.mark.django_db

ALL_STAGES = [stage for stage, _, _ in STAGES]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def today() -> Any:
    return shop_today(timezone.now())


def set_dates(order: Order, **dates: Any) -> Order:
    """Ship-by and promised days are stamped from the carrier calendar at payment; the tests
    put them where the case needs them."""
    Order.objects.filter(pk=order.pk).update(**dates)
    return Order.objects.get(pk=order.pk)


def one_of_each_stage() -> dict[str, list[Order]]:
    """Orders in every stage (some in two: a late order is also in its own stage)."""
    fleet()
    yesterday = today() - timedelta(days=1)
    orders = {
        "awaiting_payment": [make_order(S.UNHANDLED), make_order(S.UNHANDLED)],
        "awaiting_stock": [make_order(S.PAID, skus=("NONE-LEFT",), stocked=False, allow_backorder=True)],
        "ready_to_pick": [make_order(S.PAID), make_order(S.PAID), make_order(S.PAID)],
        "picking": [make_order(S.PICKING), listed_order()],
        "to_pack": [picked_order()],
        "packed": [make_order(S.PACKED)],
        "in_transit": [make_order(S.SHIPPED), make_order(S.SHIPPED)],
        "done": [make_order(S.EXECUTED), make_order(S.CANCELLED), make_order(S.RETURNED)],
    }
    # Late: a paid order past its ship-by day, a shipped one past its promised delivery.
    orders["late"] = [
        set_dates(orders["ready_to_pick"][0], ship_by=yesterday),
        set_dates(orders["in_transit"][0], ship_by=yesterday, promised_delivery=yesterday),
    ]
    # Not late: the history, an unpaid order and a shipped order still on time.
    set_dates(orders["done"][0], ship_by=yesterday, promised_delivery=yesterday)
    set_dates(orders["awaiting_payment"][0], ship_by=yesterday)
    set_dates(orders["in_transit"][1], ship_by=yesterday, promised_delivery=today())
    # To ship today: due today or overdue and not handed over yet.
    orders["to_ship_today"] = [
        orders["late"][0],
        set_dates(orders["packed"][0], ship_by=today()),
        set_dates(orders["to_pack"][0], ship_by=today()),
    ]
    # Open incidents on two orders (one of them twice: an order counts once) and a resolved one.
    troubled = [orders["packed"][0], orders["packed"][0], orders["in_transit"][0], orders["done"][0]]
    for n, (order, resolved) in enumerate(zip(troubled, [None, None, None, timezone.now()], strict=True)):
        Incident.objects.create(
            key=f"test:{Incident.objects.count()}:{n}",
            order=order,
            kind="label_failed",
            summary="The label could not be made.",
            raised_at=timezone.now(),
            resolved_at=resolved,
        )
    return orders


def counters(page: str) -> dict[str, str]:
    """Stage slug -> the count shown on its tile."""
    return dict(
        re.findall(
            r'href="/staff/queues/([a-z_]+)/"><span class="stage-name">[^<]+</span> <span class="stage-count">([^<]+)<',
            page,
        )
    )


# --- counters ---------------------------------------------------------------------------------


def test_the_home_counts_the_orders_at_each_stage() -> None:
    one_of_each_stage()

    page = client_for(make_staff("support")).get("/staff/").content.decode()

    assert counters(page) == {
        "awaiting_payment": "2",
        "awaiting_stock": "1",
        "ready_to_pick": "3",
        "picking": "2",
        "to_pack": "1",
        "to_ship_today": "3",
        "in_transit": "2",
        "exceptions": "2",
        "late": "2",
    }


def test_ready_to_pick_counts_what_the_pickers_queue_holds() -> None:
    one_of_each_stage()

    counts = stage_counts(now=timezone.now()).counts

    assert counts["ready_to_pick"] == orders_ready_to_pick().count() == 3


def test_every_counter_links_to_its_queue() -> None:
    page = client_for(make_staff("picker")).get("/staff/").content.decode()

    for stage in ALL_STAGES:
        assert f'href="/staff/queues/{stage}/"' in page
    assert list(counters(page)) == ALL_STAGES


def test_counts_are_shown_with_thousands_separators() -> None:
    tiles = _tiles(StageCounts(counts=dict.fromkeys(ALL_STAGES, 1234567), ship_today=ShipTodaySummary(0, 0, None)))

    assert {tile.count_text for tile in tiles} == {"1,234,567"}


def test_to_ship_today_shows_the_time_to_the_nearest_cut_off_and_how_many_are_late() -> None:
    fleet()  # Monday to Friday, cut-off 15:00 shop time
    shop = ZoneInfo(settings.TIME_ZONE)
    monday_noon = datetime(2030, 6, 3, 12, 45, tzinfo=shop)
    due = [make_order(S.PAID), make_order(S.PACKED)]
    for order in due:
        set_dates(order, ship_by=monday_noon.date())
    set_dates(make_order(S.PICKING), ship_by=monday_noon.date() - timedelta(days=3))
    set_dates(make_order(S.SHIPPED), ship_by=monday_noon.date())  # handed over: not counted

    counts = stage_counts(now=monday_noon)
    tile = next(t for t in _tiles(counts) if t.stage == "to_ship_today")

    assert counts.ship_today == ShipTodaySummary(count=3, late=1, next_time_left=timedelta(hours=2, minutes=15))
    rows = ship_today(now=monday_noon)  # the list the shippers work from says the same
    assert (len(rows), sum(row.late for row in rows), min(r.time_left for r in rows if not r.late)) == (
        3,
        1,
        timedelta(hours=2, minutes=15),
    )
    assert (tile.count_text, tile.late_note, tile.note, tile.alert) == (
        "3",
        "LATE: 1 past the cut-off",
        "Next cut-off: 2 h 15 min left",
        True,
    )


def test_the_home_says_late_when_an_order_missed_its_cut_off() -> None:
    fleet()
    set_dates(make_order(S.PAID), ship_by=today() - timedelta(days=1))

    page = client_for(make_staff("shipper")).get("/staff/").content.decode()

    assert "LATE: 1 past the cut-off" in page


def test_the_counters_cost_the_same_few_queries_however_many_orders(django_assert_max_num_queries: Any) -> None:
    client = client_for(make_staff("manager"))
    one_of_each_stage()

    # Session, user, roles, two for the menu's permissions; the stage counts, open incidents,
    # the carriers' services, their holidays and the ship-today groups.
    with django_assert_max_num_queries(10) as few:
        assert client.get("/staff/").status_code == 200
    for _ in range(3):
        one_of_each_stage()
    with django_assert_max_num_queries(len(few)) as many:
        page = client.get("/staff/").content.decode()

    assert counters(page)["ready_to_pick"] == "12"
    assert len(many) == len(few)


def test_the_counters_never_count_the_whole_order_history() -> None:
    """Every read of orders is limited to the statuses still in play, so PostgreSQL finds
    them through the status index and never counts the million done orders."""
    fleet()

    with CaptureQueriesContext(connection) as queries:
        stage_counts(now=timezone.now())

    # The outermost FROM comes last: the subqueries read pick entries and reservations.
    over_orders = [q["sql"].rsplit('FROM "orders_order"', 1)[1] for q in queries if 'FROM "orders_order"' in q["sql"]]
    assert len(over_orders) == 2  # the stage counts and the ship-today rows
    assert all('"orders_order"."status" IN' in where for where in over_orders)


# --- who may see it ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_log_in() -> None:
    for path in ("/staff/", "/staff/start/"):
        response = Client().get(path)

        assert response.status_code == 302
        assert response["Location"] == f"/staff/login/?next={path}"


def test_a_signed_in_user_who_is_not_staff_is_refused() -> None:
    customer = get_user_model().objects.create_user(username="cus", password="pw", is_staff=False)

    for path in ("/staff/", "/staff/start/"):
        assert client_for(customer).get(path).status_code == 403


def test_staff_without_a_role_see_the_counters_and_are_told_to_ask_for_one() -> None:
    response = client_for(make_staff(None)).get("/staff/")

    assert response.status_code == 200
    assert "You have no role yet" in response.content.decode()
    assert list(counters(response.content.decode())) == ALL_STAGES


# --- landing on one's own work ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "landing"),
    [
        (["picker"], "fulfillment:picking"),
        (["packer"], "fulfillment:packing"),
        (["shipper"], "shipping:handover"),
        (["support"], "dashboard:incidents"),
        (["manager"], "dashboard:kpis"),
        (["manager", "packer"], "fulfillment:packing"),
        (["support", "shipper"], "shipping:handover"),
        ([], "dashboard:home"),
    ],
)
def test_each_role_starts_on_its_own_work(roles: list[str], landing: str) -> None:
    user = make_staff(None)
    user.groups.add(*Group.objects.filter(name__in=roles))

    response = client_for(user).get("/staff/start/")

    assert response.status_code == 302
    assert response["Location"] == reverse(landing)


def test_log_in_lands_on_the_users_work() -> None:
    make_staff("packer", username="pat")

    response = Client().post("/staff/login/", {"username": "pat", "password": "pw"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/start/"


def test_log_in_follows_the_next_page_it_was_sent_from() -> None:
    make_staff("packer", username="pat")

    response = Client().post("/staff/login/?next=/staff/ship-today/", {"username": "pat", "password": "pw"})

    assert response["Location"] == "/staff/ship-today/"


def test_the_home_offers_the_way_to_the_users_work() -> None:
    page = client_for(make_staff("picker")).get("/staff/").content.decode()

    assert 'Your work: <a href="/staff/start/">Picking</a>' in page


# --- in the browser ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_picker_lands_on_the_pick_lists_and_reads_the_counters_on_a_phone(page: Page, live_server: Any) -> None:
    with_password(picker("pia"))
    for _ in range(2):
        make_order(S.PAID)

    log_in(page, live_server.url, "pia")
    expect(page).to_have_url(f"{live_server.url}/staff/picking/")
    page.get_by_role("navigation").get_by_role("link", name="OMS Home").click()

    ready = page.get_by_role("link", name="Ready to pick 2")
    expect(ready).to_be_visible()
    assert fits_the_screen(page)
    ready.click()
    expect(page).to_have_url(f"{live_server.url}/staff/queues/ready_to_pick/")
