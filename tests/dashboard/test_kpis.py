"""The KPI page: figures right on orders whose times the tests set (read from the daily
rollup, rebuilt for the test's days first), days counted in shop time, warehouse and
carrier filters, a CSV per table, charts that are well-formed accessible SVG, managers
only, and the same few queries however many orders."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from dashboard import charts
from dashboard.selectors import kpis as selectors
from dashboard.selectors.kpis import KpiFilter, kpi_default_range, kpi_figures
from dashboard.services.kpi_rollup import kpi_days_rebuild
from fulfillment.enums import AccuracyKind
from fulfillment.models import AccuracyEvent
from fulfillment.services import packing, picking
from inventory.models import Warehouse
from oms.common.actors import Actor
from orders.enums import OrderStatus as S
from orders.models import Order
from orders.services import order_mark_returned, order_mark_shipped
from shipping.models import Carrier
from shipping.services.shipments import shipment_open
from tests.factories import SYSTEM, make_order, make_staff
from tests.fulfillment.helpers import manager, packed_at_station, paid_order, stock
from tests.shipping.helpers import fleet

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
WARSAW = ZoneInfo("Europe/Warsaw")  # UTC+1 in early March
SVG = "{http://www.w3.org/2000/svg}"
RANGE = {"start": "2025-03-01", "end": "2025-03-05"}
# Percentiles come from histograms whose buckets are 4 % wide (dashboard.histograms).
WITHIN = 0.02


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def set_times(order: Order, **times: Any) -> Order:
    """The services stamp the real clock; the tests put each stage where the case needs it."""
    Order.objects.filter(pk=order.pk).update(**times)
    return Order.objects.get(pk=order.pk)


def shipped(paid: datetime, *, hours: tuple[float, float, float], ship_by: date | None = None, **kw: Any) -> Order:
    """A shipped order paid at ``paid``, then ``hours`` to start picking, to pack, to ship."""
    order = make_order(S.SHIPPED, **kw)
    picking_at = paid + timedelta(hours=hours[0])
    packed_at = picking_at + timedelta(hours=hours[1])
    return set_times(
        order,
        created_at=paid - timedelta(minutes=5),
        paid_at=paid,
        picking_at=picking_at,
        packed_at=packed_at,
        shipped_at=packed_at + timedelta(hours=hours[2]),
        ship_by=ship_by,
    )


def rollup() -> None:
    """Rebuilds the rollup for the test's days and those around them, as the periodic refresh
    does for the days whose orders changed."""
    kpi_days_rebuild(date(2025, 2, 26) + timedelta(days=n) for n in range(12))


def figures(**kw: Any) -> selectors.Kpis:
    rollup()
    return kpi_figures(KpiFilter(start=date(2025, 3, 1), end=date(2025, 3, 5), **kw))


def hours(value: timedelta | None) -> float:
    assert value is not None
    return value.total_seconds() / 3600


def stage(k: selectors.Kpis, key: str) -> selectors.Stage:
    return next(s for s in k.stages if s.key == key)


# --- orders per day -------------------------------------------------------------------------


def orders_created_at(*moments: datetime) -> None:
    for moment in moments:
        set_times(make_order(S.UNHANDLED), created_at=moment)


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_orders_are_counted_on_the_shop_day_they_were_placed_with_empty_days_shown() -> None:
    orders_created_at(
        datetime(2025, 2, 28, 23, 30, tzinfo=UTC),  # 1 March 00:30 in Warsaw
        utc(1, 22, 59),  # 1 March 23:59
        utc(1, 23, 30),  # 2 March 00:30
        utc(5, 23, 0),  # 6 March 00:00: after the range
    )

    k = figures()

    assert [(d.day.day, d.orders) for d in k.orders_per_day] == [(1, 2), (2, 1), (3, 0), (4, 0), (5, 0)]
    assert k.orders_total == 3


@override_settings(TIME_ZONE="UTC")
def test_the_same_orders_fall_on_other_days_in_another_shop_time_zone() -> None:
    orders_created_at(datetime(2025, 2, 28, 23, 30, tzinfo=UTC), utc(1, 22, 59), utc(1, 23, 30), utc(5, 23, 0))

    k = figures()

    assert [(d.day.day, d.orders) for d in k.orders_per_day] == [(1, 2), (2, 0), (3, 0), (4, 0), (5, 1)]


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_the_default_range_is_the_last_30_shop_days() -> None:
    start, end = kpi_default_range(today=date(2025, 3, 31))
    assert (start, end) == (date(2025, 3, 2), date(2025, 3, 31))

    response = client_for(manager()).get(reverse("dashboard:kpis"))

    k = response.context["k"]
    assert len(k.orders_per_day) == 30
    assert k.filter.end == datetime.now(WARSAW).date()


# --- time per stage -------------------------------------------------------------------------


def test_paid_to_shipped_median_and_90th_percentile_interpolate_between_orders() -> None:
    shipped(utc(2, 8), hours=(0.5, 0.25, 0.25))  # 1 h in all
    shipped(utc(2, 9), hours=(1, 0.5, 0.5))  # 2 h
    shipped(utc(3, 8), hours=(4, 1, 5))  # 10 h

    k = figures()

    total = stage(k, "paid_to_shipped")
    assert total.orders == 3
    assert hours(total.median) == pytest.approx(2, rel=WITHIN)
    assert hours(total.p90) == pytest.approx(8.4, rel=WITHIN)
    assert hours(stage(k, "paid_to_picking").median) == pytest.approx(1, rel=WITHIN)
    assert hours(stage(k, "picking_to_packed").p90) == pytest.approx(0.9, rel=WITHIN)
    assert hours(stage(k, "packed_to_shipped").median) == pytest.approx(0.5, rel=WITHIN)


def test_delivery_time_counts_only_the_orders_delivered_so_far() -> None:
    delivered = shipped(utc(2, 8), hours=(1, 1, 1))
    shipped(utc(2, 9), hours=(1, 1, 1))
    set_times(delivered, executed_at=delivered.shipped_at + timedelta(days=2), status=S.EXECUTED)

    k = figures()

    assert stage(k, "shipped_to_executed").orders == 1
    assert hours(stage(k, "shipped_to_executed").median) == pytest.approx(48, rel=WITHIN)
    assert stage(k, "paid_to_shipped").orders == 2


def test_orders_shipped_outside_the_range_are_not_measured() -> None:
    shipped(utc(6, 8), hours=(1, 1, 1))  # shipped 6 March
    shipped(datetime(2025, 2, 28, 8, tzinfo=UTC), hours=(1, 1, 1))

    k = figures()

    assert k.shipped == 0
    assert stage(k, "paid_to_shipped").median is None


# --- on time, accuracy, returns -------------------------------------------------------------


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_on_time_means_shipped_on_or_before_the_ship_by_day_in_shop_time() -> None:
    shipped(utc(2, 8), hours=(1, 1, 1), ship_by=date(2025, 3, 2))  # shipped 2 March 12:00: on time
    shipped(utc(2, 8), hours=(1, 1, 1), ship_by=date(2025, 3, 4))  # early
    shipped(utc(2, 20), hours=(1, 1, 1), ship_by=date(2025, 3, 2))  # 23:00 UTC is 3 March in Warsaw: late
    shipped(utc(2, 8), hours=(1, 1, 1), ship_by=None)  # no promise: not measured

    k = figures()

    assert (k.on_time.part, k.on_time.whole) == (2, 3)
    assert k.on_time.percent == "66.7 %"


def returned(paid: datetime, note: str) -> Order:
    order = shipped(paid, hours=(1, 1, 1))
    order_mark_returned(actor=SYSTEM, number=order.number, note=note)
    return order


def test_perfect_orders_have_no_accuracy_error_and_did_not_come_back_and_returns_are_grouped_by_reason() -> None:
    shipped(utc(2, 8), hours=(1, 1, 1))  # perfect
    flawed = shipped(utc(2, 9), hours=(1, 1, 1))
    for kind in (AccuracyKind.WRONG_SCAN, AccuracyKind.WRONG_SCAN, AccuracyKind.WEIGHT_OVERRIDE):
        AccuracyEvent.objects.create(kind=kind, order_number=flawed.number, sku="TSHIRT-RED-M", actor_label="picker")
    AccuracyEvent.objects.create(kind=AccuracyKind.SHORT_PICK, order_number="NOT-SHIPPED", actor_label="picker")
    returned(utc(2, 10), "Damaged in transit")
    returned(utc(3, 10), "  Damaged in transit ")
    returned(utc(3, 11), "")
    returned(utc(3, 12), "Returned to sender: FL000123")
    returned(utc(3, 13), "Returned to sender: FL000456, FL000457")

    k = figures()

    assert (k.perfect.part, k.perfect.whole, k.with_errors) == (1, 7, 1)
    assert (k.returned.part, k.returned.whole) == (5, 7)
    assert [(r.reason, r.orders) for r in k.return_reasons] == [
        ("Damaged in transit", 2),
        ("Returned to sender", 2),
        ("reason not recorded", 1),
    ]
    assert [(e.kind, e.events, e.orders) for e in k.error_kinds] == [("wrong_scan", 2, 1), ("weight_override", 1, 1)]


# --- warehouse and carrier ------------------------------------------------------------------


def test_the_warehouse_filter_takes_the_warehouse_of_the_orders_pick_list() -> None:
    boss = Actor.for_user(manager())
    stock("MUG", 10, "M-01", 1, warehouse="MAIN")
    stock("CUP", 10, "E-01", 1, warehouse="EAST")
    in_main = paid_order({"MUG": 1})
    in_east = paid_order({"CUP": 1})
    taken_off = paid_order({"CUP": 1})
    paid_order({"MUG": 1})  # never on a pick list
    for order in (in_main, in_east, taken_off):
        picking.order_pick_start(actor=boss, number=order.number)
    picking.order_pick_abort(actor=boss, number=taken_off.number)
    for order in Order.objects.all():
        set_times(order, created_at=utc(2, 12))

    def total(code: str) -> int:
        return figures(warehouse=Warehouse.objects.get(code=code)).orders_total

    assert (total("MAIN"), total("EAST"), figures().orders_total) == (1, 1, 4)


def test_the_carrier_filter_takes_the_carrier_of_the_shipment() -> None:
    boss = Actor.for_user(manager())
    stock("MUG", 10, "M-01", 1, weight_grams=300)
    fleet()
    orders = [packed_at_station(paid_order({"MUG": 1}), boss) for _ in range(3)]
    for order in orders:
        packing.packing_complete(actor=boss, order_number=order.number)
    shipment_open(actor=boss, order_number=orders[0].number)
    fleet(code="POST", prefix="PO")  # standard delivery now goes by POST
    shipment_open(actor=boss, order_number=orders[1].number)
    for i, order in enumerate(orders):
        order_mark_shipped(actor=boss, number=order.number)
        set_times(order, shipped_at=utc(2, 12 + i), paid_at=utc(2, 8))

    def shipped_by(code: str) -> int:
        return figures(carrier=Carrier.objects.get(code=code)).shipped

    assert (shipped_by("FLEET"), shipped_by("POST"), figures().shipped) == (1, 1, 3)
    assert figures(carrier=Carrier.objects.get(code="FLEET"), warehouse=Warehouse.objects.get(code="MAIN")).shipped == 1


def test_the_page_passes_its_filters_to_the_figures_and_the_csv_links() -> None:
    stock("MUG", 10, "M-01", 1, warehouse="MAIN")
    fleet()

    response = client_for(manager()).get(reverse("dashboard:kpis"), {**RANGE, "warehouse": "MAIN", "carrier": "FLEET"})

    k = response.context["k"]
    assert (k.filter.warehouse.code, k.filter.carrier.code, k.filter.start) == ("MAIN", "FLEET", date(2025, 3, 1))
    assert response.context["csv"]["orders_per_day"] == (
        reverse("dashboard:kpis-csv", args=["orders-per-day"])
        + "?start=2025-03-01&end=2025-03-05&warehouse=MAIN&carrier=FLEET"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2025-03-05", "end": "2025-03-01"}, "ends before it starts"),
        ({"start": "2024-01-01", "end": "2025-03-01"}, "at most 366 days"),
        ({**RANGE, "warehouse": "NOWHERE"}, "Select a valid choice"),
        ({"start": "yesterday", "end": "2025-03-01"}, "Enter a valid date"),
    ],
)
def test_a_wrong_filter_is_explained_and_shows_no_figures(query: dict[str, str], message: str) -> None:
    response = client_for(manager()).get(reverse("dashboard:kpis"), query)

    assert response.status_code == 400
    assert "k" not in response.context
    assert message in response.content.decode()


# --- CSV ------------------------------------------------------------------------------------


def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_every_table_downloads_as_csv_with_a_header_and_plain_numbers() -> None:
    shipped(utc(2, 8), hours=(0.5, 0.25, 0.25), ship_by=date(2025, 3, 2))
    shipped(utc(2, 9), hours=(1, 0.5, 0.5), ship_by=date(2025, 3, 1))
    returned(utc(3, 8), "Zła rozmiarówka, ß")
    rollup()
    client = client_for(manager())

    def get(table: str) -> Any:
        response = client.get(reverse("dashboard:kpis-csv", args=[table]), RANGE)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="kpis-{table}-2025-03-01-to-2025-03-05.csv"'
        return read_csv(response)

    assert get("orders-per-day") == [
        ["day", "orders"],
        ["2025-03-01", "0"],
        ["2025-03-02", "2"],
        ["2025-03-03", "1"],
        ["2025-03-04", "0"],
        ["2025-03-05", "0"],
    ]
    stages = get("stage-times")
    assert stages[0] == ["stage", "orders", "median_seconds", "p90_seconds"]
    key, orders, median, p90 = stages[1]  # 1 h, 2 h and 3 h
    assert (key, orders) == ("paid_to_shipped", "3")
    assert (float(median), float(p90)) == (pytest.approx(7200, rel=WITHIN), pytest.approx(10080, rel=WITHIN))
    assert median.isdigit() and p90.isdigit()  # whole seconds
    assert stages[-1] == ["shipped_to_executed", "0", "", ""]
    assert get("shipping") == [
        ["measure", "orders", "out_of", "rate"],
        ["shipped_on_time", "1", "2", "0.500000"],
        ["perfect_orders", "2", "3", "0.666667"],
        ["accuracy_errors", "0", "3", "0.000000"],
        ["returned", "1", "3", "0.333333"],
    ]
    assert get("return-reasons") == [["reason", "orders"], ["Zła rozmiarówka, ß", "1"]]
    assert get("accuracy-errors") == [["kind", "description", "events", "orders"]]


def test_the_csv_file_name_names_the_warehouse_and_carrier() -> None:
    stock("MUG", 10, "M-01", 1, warehouse="MAIN")
    fleet()

    response = client_for(manager()).get(
        reverse("dashboard:kpis-csv", args=["shipping"]), {**RANGE, "warehouse": "MAIN", "carrier": "FLEET"}
    )

    assert response["Content-Disposition"] == (
        'attachment; filename="kpis-shipping-2025-03-01-to-2025-03-05-MAIN-FLEET.csv"'
    )


def test_an_unknown_table_or_a_wrong_filter_gives_no_csv() -> None:
    client = client_for(manager())

    assert client.get(reverse("dashboard:kpis-csv", args=["salaries"]), RANGE).status_code == 404
    bad = client.get(reverse("dashboard:kpis-csv", args=["shipping"]), {"start": "2025-03-05", "end": "2025-03-01"})
    assert bad.status_code == 400
    assert "ends before it starts" in bad.content.decode()


# --- charts ---------------------------------------------------------------------------------


def parse_svgs(html: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML (fails on a malformed one)."""
    found = []
    rest = html
    while "<svg" in rest:
        start = rest.index("<svg")
        end = rest.index("</svg>", start) + len("</svg>")
        found.append(ET.fromstring(rest[start:end]))  # noqa: S314 - the page under test, not untrusted input
        rest = rest[end:]
    return found


def test_the_charts_are_well_formed_svg_images_with_a_title_and_a_description() -> None:
    shipped(utc(2, 8), hours=(0.5, 0.25, 0.25))
    shipped(utc(3, 8), hours=(4, 1, 5))
    rollup()

    response = client_for(manager()).get(reverse("dashboard:kpis"), RANGE)
    html = response.content.decode()

    svgs = parse_svgs(html)
    assert [svg.get("id") for svg in svgs] == ["chart-orders-per-day", "chart-stage-times"]
    for svg in svgs:
        assert svg.get("role") == "img"
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and desc is not None and title.text and desc.text
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    orders_desc = svgs[0].find(f"{SVG}desc")
    assert orders_desc is not None
    assert orders_desc.text == (
        "2 orders from 2025-03-01 to 2025-03-05; busiest day 2025-03-02 with 1, quietest 2025-03-01 with 0."
    )
    assert len(svgs[0].findall(f"{SVG}rect")) == 5  # a bar per day, empty days too
    stages_desc = svgs[1].find(f"{SVG}desc")
    assert stages_desc is not None and stages_desc.text is not None
    total = stage(response.context["k"], "paid_to_shipped")
    assert (hours(total.median), hours(total.p90)) == (pytest.approx(5.5, rel=WITHIN), pytest.approx(9.1, rel=WITHIN))
    median, p90 = charts.duration_text(total.median), charts.duration_text(total.p90)
    assert f"Paid → shipped (total): median {median} · 90 % within {p90}" in stages_desc.text
    assert "Shipped → delivered: no orders" in stages_desc.text


def test_chart_text_is_escaped() -> None:
    svg = charts.duration_chart(
        chart_id="c", title="<script>&", spans=[charts.Span('a<b "c"', timedelta(hours=1), None)]
    )

    root = ET.fromstring(str(svg))  # noqa: S314 - markup the test just made

    assert root.find(f"{SVG}title").text == "<script>&"  # type: ignore[union-attr]
    assert "<script>" not in str(svg)


def test_durations_read_as_people_say_them() -> None:
    assert [
        charts.duration_text(v)
        for v in (
            None,
            timedelta(minutes=45),
            timedelta(hours=3, minutes=20),
            timedelta(hours=5),
            timedelta(days=2, hours=4),
        )
    ] == ["—", "45 min", "3 h 20 min", "5 h", "2 d 4 h"]


# --- permission and cost --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "shipper", "packer", "picker"])
def test_only_managers_see_the_kpis(role: str) -> None:
    client = client_for(make_staff(role))

    assert client.get(reverse("dashboard:kpis")).status_code == 403
    assert client.get(reverse("dashboard:kpis-csv", args=["shipping"])).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get(reverse("dashboard:kpis"))

    assert response.status_code == 302


def page_queries(django_assert_max_num_queries: Any, client: Client, limit: int) -> Any:
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(reverse("dashboard:kpis"), RANGE)
    assert response.status_code == 200
    return captured


def test_the_page_costs_the_same_few_queries_however_many_orders(django_assert_max_num_queries: Any) -> None:
    client = client_for(manager())
    few = len(page_queries(django_assert_max_num_queries, client, 8))
    for day in range(1, 6):
        for _ in range(3):
            flawed = returned(utc(day, 8), f"reason {day}")
            AccuracyEvent.objects.create(kind=AccuracyKind.OVER_PACK, order_number=flawed.number, actor_label="p")
    rollup()

    many = len(page_queries(django_assert_max_num_queries, client, few))

    assert many == few
