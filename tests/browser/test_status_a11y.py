"""The customer's pages are usable by every customer: on a 390 px phone without sideways
scrolling, with a screen reader (every form control has an accessible name), with text dark
enough to read (WCAG AA), and the lookup from the keyboard alone. Measured in real Chromium
on the rendered pages: the lookup, a paid order (cancel and address forms), a delivered order
with a return (returns and rating), the return and rating forms, and a link that opens nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from notifications.status_links import order_for_token, status_link_path, status_link_token
from oms.common.actors import Actor
from orders.enums import OrderStatus
from returns.services import ReturnLineData, return_approve, return_request
from tests.browser.test_dashboard_a11y import LOW_CONTRAST, UNNAMED_CONTROLS
from tests.browser.test_picking_packing import PHONE
from tests.factories import SYSTEM
from tests.notifications.test_status_page import private_order
from tests.returns.helpers import delivered_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer_pages(live_server: Any) -> dict[str, str]:
    base = live_server.url
    paid = private_order(OrderStatus.PAID)
    delivered = delivered_order({"MUG": 2, "TEE": 1})
    ret = return_request(
        actor=Actor.customer(), order_number=delivered.number, lines=[ReturnLineData("MUG", 1, "damaged")]
    )
    return_approve(actor=SYSTEM, number=ret.number)
    token = status_link_token(delivered)
    return {
        "lookup": f"{base}/track/",
        "paid order": f"{base}{status_link_path(paid)}",
        "delivered order with a return": f"{base}{status_link_path(delivered)}",
        "return form": f"{base}{reverse('order-status-return', kwargs={'token': token})}",
        "rating form": f"{base}{reverse('order-status-feedback', kwargs={'token': token})}",
        "cancel form": f"{base}{reverse('order-status-cancel', kwargs={'token': status_link_token(paid)})}",
        "link that opens nothing": f"{base}/track/not-a-link/",
    }


def visit_all(page: Page, pages: dict[str, str], check: str) -> dict[str, Any]:
    page.set_viewport_size(PHONE)
    found = {}
    for name, url in pages.items():
        page.goto(url)
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        result = page.evaluate(check)
        if result:
            found[name] = result
    return found


def test_every_customer_page_fits_a_phone(page: Page, customer_pages: dict[str, str]) -> None:
    found = visit_all(page, customer_pages, "document.documentElement.scrollWidth > window.innerWidth")

    assert found == {}


def test_every_form_control_on_the_customer_pages_has_an_accessible_name(
    page: Page, customer_pages: dict[str, str]
) -> None:
    assert visit_all(page, customer_pages, UNNAMED_CONTROLS) == {}


def test_text_on_every_customer_page_meets_the_contrast_minimum(page: Page, customer_pages: dict[str, str]) -> None:
    found = {}
    for name, result in visit_all(page, customer_pages, LOW_CONTRAST).items():
        assert result["measured"] >= 5, (name, result)  # the page's text was read
        if result["failures"]:
            found[name] = result["failures"]

    assert found == {}, found


def test_an_order_is_looked_up_from_the_keyboard_alone(page: Page, live_server: Any) -> None:
    order = private_order(OrderStatus.PAID)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/track/")

    page.keyboard.press("Tab")  # the first control: the order number
    expect(page.get_by_label("Order number")).to_be_focused()
    page.keyboard.type(order.number)
    page.keyboard.press("Tab")
    page.keyboard.type("zoe.private@example.com")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment received")
    opened = order_for_token(page.url.split("/track/")[1].removesuffix("/"))
    assert opened is not None and opened.pk == order.pk
