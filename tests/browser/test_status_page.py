"""A customer opens the link from their email on a phone in real Chromium: where the order
is, the parcels with their tracking links, and the invoice to download."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from notifications.status_links import status_link_path
from orders.models import Invoice
from orders.services import invoice_issue
from tests.browser.test_picking_packing import PHONE, fits_the_screen
from tests.factories import SYSTEM
from tests.notifications.test_status_page import shipped_in_two_parcels
from tests.shipping.test_tracking import numbers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_follows_the_email_link_sees_the_parcels_and_downloads_the_invoice(page: Page, live_server) -> None:
    order = shipped_in_two_parcels()
    invoice_issue(actor=SYSTEM, number=order.number)
    invoice = Invoice.objects.get(order=order)
    first, second = numbers(order)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{status_link_path(order)}")

    expect(page.get_by_role("heading", name="On its way")).to_be_visible()
    expect(page.locator("[aria-current=step]")).to_contain_text("Shipped")
    expect(page.get_by_role("link", name=first)).to_be_visible()
    expect(page.get_by_role("link", name=second)).to_be_visible()
    expect(page.get_by_text("With the driver")).to_be_visible()
    assert fits_the_screen(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the invoice (PDF)").click()
    assert download.value.suggested_filename == f"{invoice.number}.pdf"


def test_an_altered_link_shows_the_customer_what_to_do(page: Page, live_server) -> None:
    order = shipped_in_two_parcels()
    path = status_link_path(order)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{path[:-6]}xxxxx/")

    expect(page.get_by_role("heading")).to_contain_text("This link does not open an order")
