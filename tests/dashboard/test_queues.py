"""Queue pages (one per stage), their filters, sorting and pages, and the staff search."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.models import Incident
from dashboard.selectors.home import shop_today
from inventory.models import Warehouse
from orders.enums import OrderStatus as S
from orders.models import Order
from shipping.models import Label
from tests.factories import ShippingMethodFactory, make_order, make_staff
from tests.fulfillment.helpers import listed_order, paid_order, picked_order, stock
from tests.shipping.helpers import fleet
from tests.shipping.test_handover import labelled_order

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def today() -> Any:
    return shop_today(timezone.now())


def set_fields(order: Order, **fields: Any) -> Order:
    """Dates and totals the case needs (ship-by days are stamped from carrier calendars)."""
    Order.objects.filter(pk=order.pk).update(**fields)
    return Order.objects.get(pk=order.pk)


def listed(page: bytes) -> list[str]:
    """The order numbers a queue page offers to tick, top to bottom."""
    return re.findall(r'name="orders" value="([^"]+)"', page.decode())


def queue(client: Client, stage: str, **params: Any) -> Any:
    return client.get(reverse("dashboard:queue", args=[stage]), params)


def copies(order: Order, count: int, **fields: Any) -> list[Order]:
    """``count`` more rows like ``order`` (a real order made through the services), each a
    minute older than the one before: many orders without placing each through the services."""
    start = Order.objects.count()
    rows = []
    for i in range(count):
        copy = Order.objects.get(pk=order.pk)
        copy.pk = None
        copy.number = f"{order.number}-C{start + i:04d}"
        copy.external_reference = ""
        for name, value in fields.items():
            setattr(copy, name, value)
        rows.append(copy)
    created = Order.objects.bulk_create(rows)
    for i, copy in enumerate(created):
        Order.objects.filter(pk=copy.pk).update(created_at=order.created_at - timedelta(minutes=i + 1))
    return created


@pytest.fixture
def stages() -> dict[str, set[str]]:
    """Orders at every stage, with the numbers each queue must list."""
    fleet()
    yesterday = today() - timedelta(days=1)
    unpaid = make_order(S.UNHANDLED)
    short = make_order(S.PAID, skus=("NONE-LEFT",), stocked=False, allow_backorder=True)
    ready = [make_order(S.PAID), make_order(S.PAID)]
    being_picked, on_a_list = make_order(S.PICKING), listed_order()
    picked = picked_order()
    packed = make_order(S.PACKED)
    shipped = [make_order(S.SHIPPED), make_order(S.SHIPPED)]
    # Paying stamps a ship-by day from the carrier's calendar (today before the cut-off):
    # every order is due next week, but the cases below.
    Order.objects.update(ship_by=today() + timedelta(days=7), promised_delivery=today() + timedelta(days=9))
    set_fields(packed, ship_by=today())
    for done in (S.EXECUTED, S.CANCELLED, S.RETURNED):
        set_fields(make_order(done), ship_by=yesterday, promised_delivery=yesterday)
    set_fields(ready[0], ship_by=yesterday)
    set_fields(shipped[0], promised_delivery=yesterday)
    set_fields(shipped[1], promised_delivery=today())
    for order, resolved in ((short, None), (packed, None), (unpaid, timezone.now())):
        Incident.objects.create(
            key=f"test:{order.number}",
            kind="stock_shortage",
            order=order,
            summary="Something to look at.",
            raised_at=timezone.now(),
            resolved_at=resolved,
        )
    Incident.objects.create(key="test:none", kind="label_failed", summary="No order.", raised_at=timezone.now())
    return {
        "awaiting_payment": {unpaid.number},
        "awaiting_stock": {short.number},
        "ready_to_pick": {o.number for o in ready},
        "picking": {being_picked.number, on_a_list.number},
        "to_pack": {picked.number},
        "to_ship_today": {ready[0].number, packed.number},
        "in_transit": {o.number for o in shipped},
        "exceptions": {short.number, packed.number},
        "late": {ready[0].number, shipped[0].number},
    }


# --- stages ---------------------------------------------------------------------------------


def test_each_queue_lists_the_orders_at_its_stage(stages: dict[str, set[str]]) -> None:
    client = client_for(make_staff("support"))

    shown = {stage: set(listed(queue(client, stage).content)) for stage in stages}

    assert shown == stages


def test_a_queue_lists_what_the_home_counter_counts(stages: dict[str, set[str]]) -> None:
    page = client_for(make_staff("manager")).get(reverse("dashboard:home")).content.decode()

    for stage, numbers in stages.items():
        if stage != "exceptions":  # the home counts incidents, some without an order
            assert f'href="/staff/queues/{stage}/"><span class="stage-name">' in page
            assert re.search(rf'/staff/queues/{stage}/">.*?stage-count">{len(numbers)}<', page), stage


def test_an_unknown_queue_answers_404_with_a_sentence_and_the_real_queues() -> None:
    response = queue(client_for(make_staff("support")), "someday")

    assert response.status_code == 404
    assert "There is no queue called “someday”" in response.content.decode()
    assert reverse("dashboard:queue", args=["ready_to_pick"]) in response.content.decode()


def test_queues_need_the_right_to_see_orders() -> None:
    assert queue(client_for(make_staff(None)), "awaiting_payment").status_code == 403
    anonymous = Client().get(reverse("dashboard:queue", args=["awaiting_payment"]))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_a_row_links_to_the_order_and_shows_customer_total_and_ship_by() -> None:
    order = set_fields(make_order(S.PAID, email="zoe@example.com"), ship_by=today() - timedelta(days=2))

    page = queue(client_for(make_staff("support")), "ready_to_pick").content.decode()

    assert f'href="{reverse("dashboard:order", args=[order.number])}"' in page
    assert "zoe@example.com" in page and "Ann Lee" in page
    assert f"{order.total} EUR" in page
    assert (today() - timedelta(days=2)).isoformat() in page and "LATE" in page
    assert 'id="select-all"' in page


# --- filters, sorting, pages ----------------------------------------------------------------


def test_the_channel_filter_keeps_one_channel() -> None:
    web, phone = make_order(), make_order(channel="phone")

    numbers = listed(queue(client_for(make_staff("support")), "awaiting_payment", channel="phone").content)

    assert numbers == [phone.number] and web.number not in numbers


def test_the_shipping_method_filter_keeps_one_method() -> None:
    standard, express = make_order(), make_order()
    ShippingMethodFactory(code="express", name="Express")
    set_fields(express, shipping_method_id="express")

    client = client_for(make_staff("support"))

    assert listed(queue(client, "awaiting_payment", shipping_method="express").content) == [express.number]
    assert listed(queue(client, "awaiting_payment", shipping_method="standard").content) == [standard.number]


def test_the_created_date_range_counts_whole_shop_days() -> None:
    old, recent = make_order(), make_order()
    set_fields(old, created_at=timezone.now() - timedelta(days=10))
    client = client_for(make_staff("support"))
    ten_days_ago = (today() - timedelta(days=10)).isoformat()

    assert listed(queue(client, "awaiting_payment", created_from=today().isoformat()).content) == [recent.number]
    assert listed(queue(client, "awaiting_payment", created_to=ten_days_ago).content) == [old.number]
    assert listed(queue(client, "awaiting_payment", created_from=ten_days_ago, created_to=ten_days_ago).content) == [
        old.number
    ]


def test_a_reversed_date_range_is_said_and_the_end_ignored() -> None:
    order = make_order()

    response = queue(
        client_for(make_staff("support")),
        "awaiting_payment",
        created_from=today().isoformat(),
        created_to=(today() - timedelta(days=3)).isoformat(),
    )

    assert "The end date is before the start date." in response.content.decode()
    assert listed(response.content) == [order.number]


def test_the_warehouse_filter_keeps_orders_held_there() -> None:
    stock("NORTH-SKU", 5, "N-01", 1, warehouse="NORTH")
    stock("SOUTH-SKU", 5, "S-01", 1, warehouse="SOUTH")
    north, south = paid_order({"NORTH-SKU": 1}), paid_order({"SOUTH-SKU": 1})
    client = client_for(make_staff("picker"))
    north_id = Warehouse.objects.get(code="NORTH").pk

    assert listed(queue(client, "ready_to_pick", warehouse=north_id).content) == [north.number]
    assert set(listed(queue(client, "ready_to_pick").content)) == {north.number, south.number}


def test_sorting_by_total_both_ways_and_an_unknown_sort_falls_back() -> None:
    cheap, dear, middle = make_order(), make_order(), make_order()
    for order, total in ((cheap, "5.00"), (dear, "500.00"), (middle, "50.00")):
        set_fields(order, total=Decimal(total))
    client = client_for(make_staff("support"))

    assert listed(queue(client, "awaiting_payment", sort="total").content) == [cheap.number, middle.number, dear.number]
    assert listed(queue(client, "awaiting_payment", sort="-total").content) == [
        dear.number,
        middle.number,
        cheap.number,
    ]
    oldest_first = listed(queue(client, "awaiting_payment", sort="drop table").content)
    assert oldest_first == [cheap.number, dear.number, middle.number]


def test_sorting_by_ship_by_puts_orders_without_a_day_last() -> None:
    late, soon, undated = make_order(S.PAID), make_order(S.PAID), make_order(S.PAID)
    set_fields(late, ship_by=today() - timedelta(days=1))
    set_fields(soon, ship_by=today() + timedelta(days=1))
    client = client_for(make_staff("support"))

    assert listed(queue(client, "ready_to_pick", sort="ship_by").content) == [late.number, soon.number, undated.number]
    assert listed(queue(client, "ready_to_pick", sort="-ship_by").content) == [soon.number, late.number, undated.number]


def test_pages_hold_fifty_orders_and_say_when_more_follow() -> None:
    newest = make_order()
    copies(newest, 119)
    client = client_for(make_staff("support"))

    first = queue(client, "awaiting_payment", sort="-created")
    third = queue(client, "awaiting_payment", sort="-created", page=3)

    assert len(listed(first.content)) == 50 and listed(first.content)[0] == newest.number
    assert "sort=-created&amp;page=2" in first.content.decode()
    assert len(listed(third.content)) == 20
    assert "page=4" not in third.content.decode() and "sort=-created&amp;page=2" in third.content.decode()
    all_pages = listed(first.content) + listed(queue(client, "awaiting_payment", sort="-created", page=2).content)
    assert len(set(all_pages + listed(third.content))) == 120


def test_a_queue_page_costs_the_same_few_queries_with_200_orders(django_assert_max_num_queries: Any) -> None:
    client = client_for(make_staff("manager"))
    few = make_order(S.PAID)
    queue(client, "ready_to_pick")  # the session and permissions, once
    with django_assert_max_num_queries(7):
        assert len(listed(queue(client, "ready_to_pick", sort="-total").content)) == 1

    copies(few, 199)
    for stage in ("ready_to_pick", "awaiting_stock", "picking", "to_pack", "to_ship_today", "exceptions", "late"):
        with django_assert_max_num_queries(7):
            queue(client, stage, sort="-total", warehouse="1")
    with django_assert_max_num_queries(7):
        assert len(listed(queue(client, "awaiting_payment").content)) == 0
    with django_assert_max_num_queries(7):
        assert len(listed(queue(client, "ready_to_pick", page=2).content)) == 50


# --- search ---------------------------------------------------------------------------------


def search(client: Client, text: str) -> Any:
    return client.get(reverse("dashboard:search"), {"q": text})


def test_an_exact_order_number_opens_the_order() -> None:
    order = make_order()

    response = search(client_for(make_staff("support")), f"  {order.number.lower()} ")

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:order", args=[order.number])


def test_a_tracking_number_opens_its_order() -> None:
    order = labelled_order()
    tracking = Label.objects.get(shipment__order=order).tracking_number

    response = search(client_for(make_staff("support")), str(tracking))

    assert response["Location"] == reverse("dashboard:order", args=[order.number])


def test_the_start_of_a_tracking_number_lists_its_orders() -> None:
    order = labelled_order()
    tracking = str(Label.objects.get(shipment__order=order).tracking_number)

    page = search(client_for(make_staff("support")), tracking[:-2]).content.decode()

    assert order.number in page and f"tracking number {tracking}" in page


def test_a_customer_email_or_name_lists_their_orders_newest_first() -> None:
    older = make_order(email="zoe.quinn@example.com")
    newer = make_order(email="zoe.quinn@example.com")
    other = set_fields(make_order(email="max@example.com"), customer_name="Max Zoellner")
    client = client_for(make_staff("support"))

    by_email = search(client, "ZOE.Q").content.decode()
    by_name = search(client, "zoell").content.decode()

    assert by_email.index(newer.number) < by_email.index(older.number)
    assert other.number not in by_email and "customer email" in by_email
    assert other.number in by_name and "customer name" in by_name and older.number not in by_name


def test_a_sku_lists_the_orders_with_a_line_of_it() -> None:
    mug = make_order(skus=("MUG-BLUE",))
    tee = make_order(skus=("TEE-RED",))

    page = search(client_for(make_staff("support")), "mug-blue").content.decode()

    assert mug.number in page and tee.number not in page and "SKU mug-blue" in page


def test_a_search_says_when_it_shows_only_the_first_fifty() -> None:
    order = make_order(email="many@example.com")
    copies(order, 60)

    page = search(client_for(make_staff("support")), "many@").content.decode()

    assert "Showing the first 50 matches" in page
    assert page.count('class="code"><a href=') == 50


def test_a_search_with_no_match_says_so() -> None:
    make_order()

    page = search(client_for(make_staff("support")), "nobody-here").content.decode()

    assert "No order matches “nobody-here”" in page


def test_a_search_costs_a_bounded_number_of_queries(django_assert_max_num_queries: Any) -> None:
    order = make_order(email="many@example.com")
    copies(order, 60)
    client = client_for(make_staff("support"))
    search(client, "warm-up")

    with django_assert_max_num_queries(10):
        search(client, "many")
