"""A customer acts on their order from the status page on a phone in real Chromium: cancels a
paid order with a reason and a confirmation, and is told what they are owed; finds the order
by its number. Real form posts, with the Origin the browser sends under the page's referrer
policy."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from notifications.status_links import status_link_path
from orders.enums import OrderStatus
from orders.models import Order
from tests.browser.test_picking_packing import PHONE, fits_the_screen
from tests.notifications.test_status_page import private_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_cancels_a_paid_order_from_the_status_page(page: Page, live_server) -> None:
    order = private_order(OrderStatus.PAID)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{status_link_path(order)}")
    page.get_by_text("Cancel the order").click()
    page.get_by_label("Found it cheaper").check()
    assert fits_the_screen(page)
    page.get_by_label("Yes, cancel my order. This cannot be undone.").check()
    page.get_by_role("button", name="Cancel my order").click()

    expect(page.get_by_role("status")).to_contain_text(f"Order {order.number} is cancelled. We owe you €29.99")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancelled")
    expect(page.get_by_text("Change of plans?")).to_have_count(0)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_a_customer_finds_their_order_by_number_and_postal_code(page: Page, live_server) -> None:
    # The lookup form posts from a page that keeps its address from other sites: the browser
    # must still send the page's own origin, or the CSRF check refuses the post.
    order = private_order(OrderStatus.PAID)
    cache.delete("throttle_order_lookup_127.0.0.1")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/track/")
    page.get_by_label("Order number").fill(order.number)
    page.get_by_label("Email address or delivery postal code").fill("30-001")
    page.get_by_role("button", name="Show my order").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment received")
    cache.delete("throttle_order_lookup_127.0.0.1")
