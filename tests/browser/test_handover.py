"""A shipper hands parcels to the courier in real Chromium, on a phone-sized screen, typing
tracking numbers the way a keyboard-wedge scanner does (the code, then Enter)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from orders.enums import OrderStatus
from orders.models import Order
from shipping.enums import ManifestStatus, ShipmentStatus
from shipping.models import Label, Manifest, Shipment
from tests.browser.test_picking_packing import fits_the_screen, log_in, scan, with_password
from tests.shipping.test_handover import labelled_order, shipper, tracking_numbers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_shipper_scans_both_parcels_of_an_order_out_and_closes_the_manifest(page: Page, live_server) -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    with_password(shipper("sam"))

    log_in(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/staff/handover/")
    page.get_by_label("Carrier at the dock").select_option("FLEET")
    page.get_by_role("button", name="Open today's manifest").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Manifest MF-\d{6}$"))).to_be_visible()
    manifest = Manifest.objects.get()
    expect(page).to_have_url(f"{live_server.url}/staff/handover/{manifest.number}/")
    expect(page.get_by_role("status")).to_contain_text(f"Manifest {manifest.number} for City Fleet")
    waiting = page.get_by_role("region", name="Still at the dock")
    expect(waiting).to_contain_text(first)
    expect(waiting).to_contain_text(second)

    scan(page, "Scan a parcel", first.lower())  # a scanner in lower case is still the parcel
    expect(page.get_by_role("status")).to_contain_text(
        f"1 of 2 parcels of {order.number} scanned; the order ships when all are."
    )
    expect(page.get_by_role("region", name="Parcels on the manifest")).to_contain_text(first)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED

    scan(page, "Scan a parcel", first)  # the same parcel again
    expect(page.get_by_role("alert")).to_contain_text(f"Parcel {first} is already on this manifest")

    scan(page, "Scan a parcel", second)
    expect(page.get_by_role("status")).to_contain_text(f"all 2 parcels of {order.number} are out, order shipped.")
    expect(page.get_by_role("region", name="Parcels on the manifest")).to_contain_text("package 2 of 2 · shipped")
    expect(page.locator("#manifest-totals")).to_have_text("2 parcels, 0.90 kg")
    assert fits_the_screen(page)

    page.get_by_role("button", name="Close the manifest").click()
    page.get_by_role("button", name=f"Yes, close {manifest.number}").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Manifest {manifest.number} closed: 2 parcel(s), 0.90 kg, for City Fleet. Print it for the driver to sign."
    )
    expect(page.get_by_label("Scan a parcel")).to_have_count(0)
    expect(page.get_by_role("link", name="Manifest PDF")).to_have_attribute(
        "href", f"/staff/handover/{manifest.number}/pdf/"
    )

    order.refresh_from_db()
    manifest.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert Shipment.objects.get(order=order).status == ShipmentStatus.HANDED_OVER
    assert (manifest.status, manifest.closed_by) == (ManifestStatus.CLOSED, "sam")
    assert sorted(Label.objects.filter(manifest=manifest).values_list("tracking_number", "scanned_out_by")) == sorted(
        [(first, "sam"), (second, "sam")]
    )
