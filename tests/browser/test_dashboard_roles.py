"""Each staff role logs in to the dashboard in real Chromium, on a phone-sized screen, and
starts its day where the README says it does; support is refused what its role may not do
(a refund, a stock adjustment) by the server, whatever a forged request sends; a bulk cancel
with one order that cannot be cancelled names it and cancels the others. The database is
checked after each step the page reports."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.models import Incident
from dashboard.selectors.home import shop_today
from dashboard.services.incidents import incidents_sync
from dashboard.services.kpi_rollup import kpi_refresh
from fulfillment.models import PickList, PickListOrder
from inventory.models import MovementKind, StockLevel, StockMovement
from orders.enums import OrderEventKind, OrderStatus, PaymentMethod
from orders.models import Order, OrderEvent, OrderLine, Refund
from orders.services import order_set_promise, payment_record
from tests.browser.test_picking_packing import fits_the_screen, log_in, picked, scan, with_password
from tests.factories import SYSTEM, make_order, make_staff, stock_up
from tests.fulfillment.helpers import manager, packer, paid_order, picker, stock
from tests.shipping.helpers import fleet
from tests.shipping.test_handover import shipper

pytestmark = pytest.mark.django_db(transaction=True)


def support(username: str) -> Any:
    return with_password(make_staff("support", username))


def csrf_token(page: Page) -> str:
    """The token a form on the page would send: what a forged request from the page can use."""
    return str(page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value"))


def promise(order: Order, ship_by: Any) -> Order:
    """Records the carrier's promise for ``order`` (ship by ``ship_by``) through the service."""
    order_set_promise(actor=SYSTEM, number=order.number, ship_by=ship_by, promised_delivery=ship_by + timedelta(days=2))
    return Order.objects.get(pk=order.pk)


def order_state(order: Order) -> tuple[Any, ...]:
    order.refresh_from_db()
    return (order.status, order.amount_paid, order.amount_refunded, order.total, order.updated_at)


# --- the floor ------------------------------------------------------------------------------


def test_a_picker_lands_on_the_pick_lists_and_takes_the_next_batch(page: Page, live_server) -> None:
    stock("TEE", 5, "A-01", 10, name="T-shirt", weight_grams=200)
    first, second = paid_order({"TEE": 1}), paid_order({"TEE": 2})
    pia = with_password(picker("pia"))

    log_in(page, live_server.url, "pia")
    expect(page).to_have_url(f"{live_server.url}/staff/picking/")
    expect(page.get_by_text("Ready to pick: 2 orders.")).to_be_visible()
    assert fits_the_screen(page)

    page.get_by_role("button", name="Take next batch").click()
    expect(page.get_by_role("status")).to_contain_text("with 2 order(s) is yours: start picking")
    pick_list = PickList.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pick list {pick_list.number}")
    assert pick_list.picker_id == pia.pk
    on_list = PickListOrder.objects.filter(pick_list=pick_list).values_list("order__number", flat=True)
    assert sorted(on_list) == sorted([first.number, second.number])


def test_a_packer_lands_on_the_packing_station_and_opens_a_picked_order(page: Page, live_server) -> None:
    stock("MUG", 5, "B-01", 20, name="Mug", weight_grams=300)
    order = paid_order({"MUG": 1})
    tote = picked(order)
    with_password(packer("pat"))

    log_in(page, live_server.url, "pat")
    expect(page).to_have_url(f"{live_server.url}/staff/packing/")
    assert fits_the_screen(page)
    scan(page, "Scan an order or tote", tote)
    expect(page.get_by_role("heading", name=f"Packing {order.number}")).to_be_visible()


def test_a_shipper_lands_on_the_hand_over_and_finds_the_orders_due_today_from_home(page: Page, live_server) -> None:
    fleet()
    today = shop_today(timezone.now())
    due = [promise(make_order(OrderStatus.PAID), today), promise(make_order(OrderStatus.PICKING), today)]
    later = promise(make_order(OrderStatus.PAID), today + timedelta(days=3))
    with_password(shipper("sam"))

    log_in(page, live_server.url, "sam")
    expect(page).to_have_url(f"{live_server.url}/staff/handover/")
    page.get_by_role("navigation").get_by_role("link", name="Home").click()
    tile = page.get_by_role("link", name=re.compile(r"^To ship today"))
    expect(tile).to_have_text("To ship today 2")
    assert fits_the_screen(page)

    tile.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("To ship today")
    table = page.get_by_role("table", name="To ship today: orders")
    for order in due:
        expect(table.get_by_role("link", name=order.number)).to_be_visible()
    expect(table.get_by_role("link", name=later.number)).to_have_count(0)
    assert fits_the_screen(page)

    table.get_by_role("link", name=due[0].number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {due[0].number}")
    expect(page).to_have_url(f"{live_server.url}/staff/orders/{due[0].number}/")


# --- the desk -------------------------------------------------------------------------------


def test_support_lands_on_the_exceptions_takes_one_and_resolves_it_with_a_note(page: Page, live_server) -> None:
    order = make_order(OrderStatus.UNHANDLED, skus=("PAY-1",))
    payment_record(
        actor=SYSTEM, number=order.number, amount=Decimal("10.00"), method=PaymentMethod.BANK_TRANSFER,
        reference="part-1",
    )  # fmt: skip
    assert incidents_sync() == 1
    incident = Incident.objects.get()
    sue = support("sue")

    log_in(page, live_server.url, "sue")
    expect(page).to_have_url(f"{live_server.url}/staff/exceptions/")
    row = page.locator(f"#incident-{incident.pk}")
    expect(row).to_contain_text("Payment does not match the total")
    expect(row).to_contain_text("Nobody yet")
    assert fits_the_screen(page)

    row.get_by_role("button", name=f"Take incident {incident.pk} on order {order.number}").click()
    expect(page.get_by_role("status")).to_contain_text(f"The payment mismatch on order {order.number} is yours now.")
    expect(row).to_contain_text("You")
    incident.refresh_from_db()
    assert incident.owner_id == sue.pk

    row.locator("summary", has_text="Resolve").click()  # opens the note
    row.get_by_label("What was done").fill("Customer paid the rest by card over the phone")
    row.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text(f"The payment mismatch on order {order.number} is resolved.")
    expect(page.get_by_text("Nothing needs looking at: no open incident.")).to_be_visible()
    incident.refresh_from_db()
    assert (incident.resolved_by_id, incident.resolution) == (sue.pk, "Customer paid the rest by card over the phone")
    assert incident.resolved_at is not None


def test_support_finds_an_order_by_email_but_is_refused_a_refund_even_when_forged(page: Page, live_server) -> None:
    make_order(OrderStatus.PAID, email="someone.else@example.com")
    order = make_order(OrderStatus.PAID, email="zoe.kim@example.com")
    support("sue")

    log_in(page, live_server.url, "sue")
    page.get_by_role("navigation").get_by_role("link", name="Search").click()
    search = page.get_by_role("searchbox", name="Search orders")
    search.fill("zoe.kim@example.com")
    search.press("Enter")
    expect(page.get_by_text("1 order matches “zoe.kim@example.com”, newest first.")).to_be_visible()
    page.get_by_role("link", name=order.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")

    actions = page.get_by_role("region", name="What you can do now")
    expect(actions.get_by_role("button", name="Cancel order…")).to_be_visible()  # support's own actions are offered
    expect(actions.get_by_text(re.compile("refund", re.IGNORECASE))).to_have_count(0)
    before = order_state(order)
    events = OrderEvent.objects.filter(order=order).count()

    token = csrf_token(page)
    refund = {
        "csrfmiddlewaretoken": token, "amount": str(order.amount_paid), "method": PaymentMethod.CARD,
        "reference": "forged-1", "reason": "forged", "confirmed": "yes",
    }  # fmt: skip
    answer = page.request.post(f"{live_server.url}/staff/orders/{order.number}/refund/", form=refund)
    assert answer.status == 403
    assert "CSRF" not in answer.text()  # refused for the role, not for a bad token
    assert order_state(order) == before
    assert not Refund.objects.filter(order=order).exists()
    assert OrderEvent.objects.filter(order=order).count() == events

    # The same forged request on an action support may take is let through (to its
    # confirmation page, which changes nothing): the token was good, the role was not.
    cancel = {"csrfmiddlewaretoken": token, "reason": "checking"}
    answer = page.request.post(f"{live_server.url}/staff/orders/{order.number}/cancel/", form=cancel)
    assert answer.status == 200
    assert "Are you sure?" in answer.text()
    assert order_state(order) == before


def test_support_may_not_adjust_stock_and_a_manager_may(page: Page, live_server) -> None:
    """Staff adjust stock through the stock API (the admin shows stock read-only); from a
    logged-in browser the session and its CSRF token are enough, so only the role decides."""
    stock_up("MUG", 10, location="B-01")
    support("sue")
    with_password(manager("max"))
    api = f"{live_server.url}/api/v1/stock"

    def session_headers() -> dict[str, str]:
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        return {"X-CSRFToken": cookies["csrftoken"], "Referer": f"{live_server.url}/staff/"}

    def on_hand() -> int:
        return StockLevel.objects.get(product__sku="MUG", location__code="B-01").on_hand

    log_in(page, live_server.url, "sue")
    adjustment = {"sku": "MUG", "location": "B-01", "delta": 5, "reason": "found", "note": "behind the shelf"}
    answer = page.request.post(f"{api}/adjustments/", data=adjustment, headers=session_headers())
    assert (answer.status, answer.json()["code"]) == (403, "permission_denied")
    count = {"on_hand": 50, "reason": "correction", "note": "recount"}
    answer = page.request.put(f"{api}/MUG/B-01/", data=count, headers=session_headers())
    assert (answer.status, answer.json()["code"]) == (403, "permission_denied")
    assert on_hand() == 10
    assert not StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).exists()

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, "max")  # the same request from a manager goes through
    answer = page.request.post(f"{api}/adjustments/", data=adjustment, headers=session_headers())
    assert answer.status == 201, answer.text()
    assert on_hand() == 15


def test_a_manager_lands_on_the_kpis_sees_the_charts_and_downloads_a_csv(page: Page, live_server) -> None:
    make_order(OrderStatus.PAID)
    make_order(OrderStatus.UNHANDLED)
    kpi_refresh()  # as the beat does every minute
    with_password(manager("max"))

    log_in(page, live_server.url, "max")
    expect(page).to_have_url(f"{live_server.url}/staff/kpis/")
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(2)
    expect(page.get_by_role("img", name=re.compile("Orders per day"))).to_be_visible()
    assert fits_the_screen(page)

    section = page.get_by_role("region", name="Orders per day")
    with page.expect_download() as download_info:
        section.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    today = shop_today(timezone.now()).isoformat()
    assert [row for row in rows[1:] if row[0] == today] == [[today, "2"]]


# --- bulk actions and changes ---------------------------------------------------------------


def test_a_bulk_cancel_names_the_order_it_could_not_cancel_and_cancels_the_others(page: Page, live_server) -> None:
    yesterday = shop_today(timezone.now()) - timedelta(days=1)
    first = promise(make_order(OrderStatus.PAID), yesterday)
    second = promise(make_order(OrderStatus.PAID), yesterday)
    being_picked = promise(make_order(OrderStatus.PICKING), yesterday)
    support("sue")

    log_in(page, live_server.url, "sue")
    page.goto(f"{live_server.url}/staff/queues/late/")
    for order in (first, second, being_picked):
        page.get_by_role("checkbox", name=f"Select {order.number}").check()
    page.get_by_label("Reason for cancelling").fill("Late: the customer asked to cancel")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel the orders").click()

    result = page.get_by_role("status", name="Cancel: the result")
    expect(result).to_contain_text("Done for 2 orders; could not process 1:")
    refused = result.get_by_role("listitem")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(f"{being_picked.number}: ")
    expect(refused).to_contain_text("picking")
    assert fits_the_screen(page)

    statuses = dict(Order.objects.values_list("number", "status"))
    assert statuses == {
        first.number: OrderStatus.CANCELLED,
        second.number: OrderStatus.CANCELLED,
        being_picked.number: OrderStatus.PICKING,
    }
    reasons = set(Order.objects.filter(status=OrderStatus.CANCELLED).values_list("cancel_reason", flat=True))
    assert reasons == {"Late: the customer asked to cancel"}


def test_support_changes_a_quantity_and_sees_the_new_total_and_the_timeline_entry(page: Page, live_server) -> None:
    order = make_order(OrderStatus.PAID, skus=("TEE-EDIT",))
    stock_up("TEE-EDIT", 5)
    line = OrderLine.objects.get(order=order)
    support("sue")

    log_in(page, live_server.url, "sue")
    page.goto(f"{live_server.url}/staff/orders/{order.number}/")
    page.get_by_role("button", name="Change order").click()
    expect(page).to_have_url(f"{live_server.url}/staff/orders/{order.number}/edit/")
    assert fits_the_screen(page)
    page.get_by_label(f"{line.name} ({line.sku})").fill("3")
    page.get_by_label("Note for the timeline").fill("Customer wants two more")
    page.get_by_role("button", name="Save the changes").click()

    expect(page).to_have_url(f"{live_server.url}/staff/orders/{order.number}/")
    order.refresh_from_db()
    assert order.total == order.shipping_price + 3 * line.unit_price
    expect(page.get_by_role("status").first).to_contain_text(
        f"Order {order.number} changed; the customer is emailed what changed. "
        f"{order.total - order.amount_paid} EUR more is due: record the payment when it arrives."
    )
    items = page.get_by_role("region", name="Items")
    expect(items.get_by_role("row", name=f"Total €{order.total}", exact=True)).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("listitem").first).to_contain_text("sue")
    expect(timeline.get_by_role("listitem").first).to_contain_text("Customer wants two more")
    assert OrderLine.objects.get(pk=line.pk).quantity == 3
    assert OrderEvent.objects.filter(order=order, kind=OrderEventKind.EDITED).count() == 1
