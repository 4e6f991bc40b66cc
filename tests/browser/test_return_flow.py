"""A return from end to end in real Chromium, as issue 8 asks it to be shown: a customer finds
their delivered order by its number and email, reads where it went and its tracking, and asks
to send one item back with a reason; support approve it on the dashboard, the dock receives
the parcel and puts the unit back into its bin, support refund it; the customer's page then
says it is refunded. The database is checked after each step the pages report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import cast

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from inventory.models import StockLevel
from notifications.status_links import status_link_path
from orders.enums import OrderStatus
from orders.models import Order, Refund
from returns.enums import ReturnStatus
from returns.models import Return
from tests.browser.test_dashboard_roles import support
from tests.browser.test_picking_packing import PHONE, fits_the_screen, log_in, with_password
from tests.factories import ProductFactory
from tests.shipping.test_handover import shipper
from tests.shipping.test_tracking import event, hand_over, labelled, numbers, own_body, packed_in_two_boxes, receive

pytestmark = pytest.mark.django_db(transaction=True)

LOOKUPS = "throttle_order_lookup_127.0.0.1"


def delivered_with_tracking() -> Order:
    """A blue mug and a T-shirt shipped by the own fleet in two parcels, both scanned delivered
    through the carrier's webhook (which delivers the order)."""
    ProductFactory(sku="MUG", name="Blue mug", price=Decimal("20.00"), weight_grams=300)
    ProductFactory(sku="TEE", name="T-shirt", price=Decimal("15.00"), weight_grams=200)
    order = hand_over(labelled(packed_in_two_boxes()))
    at = timezone.now() - timedelta(hours=3)
    mug, tee = numbers(order)
    receive(own_body(event(mug, "in_transit", at - timedelta(hours=20), location="Łódź")))
    receive(
        own_body(
            event(mug, "delivered", at, description="Left with the customer", location="Warsaw"),
            event(tee, "delivered", at - timedelta(minutes=5)),
        )
    )
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.EXECUTED
    return order


def action_form(page: Page, action: str) -> Locator:
    """Opens an action's panel on the staff return page (its summary) and gives its form."""
    panel = page.locator("details").filter(has=page.get_by_role("button", name=action))
    panel.get_by_role("button", name=action).first.click()
    return panel.locator("form")


def test_a_customer_returns_an_item_staff_take_it_back_into_a_bin_and_refund_it(
    page: Page, browser: Browser, live_server
) -> None:
    order = delivered_with_tracking()
    mug, _ = numbers(order)
    bin_level = StockLevel.objects.get(product__sku="MUG", location__code="B-MUG")
    on_hand_before = bin_level.on_hand
    cache.delete(LOOKUPS)

    # The customer finds the order by its number and email
    page.set_viewport_size(cast(ViewportSize, PHONE))
    page.goto(f"{live_server.url}/track/")
    page.get_by_label("Order number").fill(order.number)
    page.get_by_label("Email address or delivery postal code").fill("ann@example.com")
    page.get_by_role("button", name="Show my order").click()
    cache.delete(LOOKUPS)

    # and reads where it went: delivered, through each step, with the courier's last scan
    expect(page.get_by_role("heading", level=1)).to_have_text("Delivered")
    timeline = page.get_by_role("list", name="Where your order is")
    for step in ("Order received", "Paid", "Being prepared", "Shipped", "Delivered"):
        expect(timeline).to_contain_text(step)
    expect(timeline.locator("[aria-current=step]")).to_contain_text("Delivered")
    expect(page.get_by_role("heading", name="Delivery by City Fleet")).to_be_visible()
    expect(page.get_by_text("Delivered: Left with the customer")).to_be_visible()
    expect(page.get_by_role("link", name=mug)).to_have_attribute("href", f"https://track.example/{mug}")
    expect(page.get_by_text("You can ask to send items back until")).to_be_visible()
    assert fits_the_screen(page)

    # and asks to send the mug back, as it arrived damaged
    page.get_by_role("link", name="Return items").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Return items")
    mug_line = page.get_by_role("group", name="Blue mug")
    mug_line.get_by_label("Units to send back").select_option("1")
    mug_line.get_by_label("Why it goes back").select_option(label="Arrived damaged")
    page.get_by_label("Anything you would like us to know").fill("The handle is cracked")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Ask for the return").click()

    ret = Return.objects.get(order=order)
    expect(page.get_by_role("status")).to_contain_text(f"Your return {ret.number} is requested")
    expect(page.get_by_role("article", name=f"Return {ret.number}")).to_contain_text("We are checking your request")
    line = ret.lines.select_related("order_line").get()
    assert (line.order_line.sku, line.quantity, line.reason) == ("MUG", 1, "damaged")
    assert ret.requested_by_kind == "customer" and ret.status == ReturnStatus.REQUESTED

    # Support approve it on the dashboard
    staff = browser.new_page()
    with_password(support("sue"))
    log_in(staff, live_server.url, "sue")
    staff.goto(f"{live_server.url}/staff/returns/{ret.number}/")
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"Return {ret.number}")
    action_form(staff, "Approve").get_by_role("button", name="Approve").click()
    expect(staff.get_by_role("status")).to_contain_text(f"Return {ret.number} is approved")
    assert Return.objects.get(pk=ret.pk).status == ReturnStatus.APPROVED

    # The dock records the parcel and puts the mug back into its bin
    dock = browser.new_page()
    with_password(shipper("sam"))
    log_in(dock, live_server.url, "sam")
    dock.goto(f"{live_server.url}/staff/returns/{ret.number}/")
    parcel = action_form(dock, "Record the parcel")
    expect(parcel.get_by_label("Blue mug (MUG): units received")).to_have_value("1")
    parcel.get_by_role("button", name="Record the parcel").click()
    expect(dock.get_by_role("status")).to_contain_text(f"Return {ret.number} is received: 1 unit came back")
    assert Return.objects.get(pk=ret.pk).status == ReturnStatus.RECEIVED
    inspect = dock.get_by_role("group", name="Blue mug")
    inspect.get_by_label("Outcome").select_option(label="Back to stock")
    inspect.get_by_label("Bin to restock into").select_option(label="B-MUG")
    inspect.get_by_role("button", name="Record the inspection of MUG").click()
    expect(dock.get_by_role("status")).to_contain_text("1 unit of MUG back in bin B-MUG.")
    assert Return.objects.get(pk=ret.pk).status == ReturnStatus.INSPECTED
    bin_level.refresh_from_db()
    assert bin_level.on_hand == on_hand_before + 1

    # Support refund it, confirming first
    staff.reload()
    refund_form = action_form(staff, "Refund")
    expect(refund_form.get_by_label("Amount")).to_have_value("20.00")
    refund_form.get_by_label("Reference").fill("RF-2026-0042")
    refund_form.get_by_role("button", name="Continue: refund").click()
    staff.get_by_role("button", name="Yes, do it").click()
    expect(staff.get_by_role("status")).to_contain_text(f"Refund of 20.00 EUR recorded for return {ret.number}")

    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.reference) == (line.order_line.unit_price, "RF-2026-0042")
    order.refresh_from_db()
    assert order.amount_refunded == refund.amount == Decimal("20.00")
    assert Return.objects.get(pk=ret.pk).status == ReturnStatus.REFUNDED

    # The customer's page says it is refunded
    page.goto(f"{live_server.url}{status_link_path(order)}")
    card = page.get_by_role("article", name=f"Return {ret.number}")
    expect(card).to_contain_text("Refunded €20.00")
    expect(card).to_contain_text("Arrived damaged")
    expect(page.get_by_role("row", name="Refunded €20.00")).to_be_visible()
