"""A packer fixes a smudged label in real Chromium, on a phone-sized screen: voids it with a
reason and has a new one made, then prints the order's labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from shipping.enums import LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment
from tests.browser.test_picking_packing import fits_the_screen, log_in, with_password
from tests.fulfillment.helpers import packer
from tests.shipping.test_labels_api import labelled, labels_of, run_newest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_packer_voids_a_label_makes_a_new_one_and_prints_the_orders_labels(page: Page, live_server) -> None:
    order = labelled()
    old = labels_of(order)[0]
    with_password(packer("pat"))

    log_in(page, live_server.url, "pat")
    page.goto(f"{live_server.url}/staff/labels/{order.number}/")
    expect(page.get_by_role("heading", name=f"Labels of {order.number}")).to_be_visible()
    package = page.get_by_role("article", name="Package 1")
    expect(package).to_contain_text(f"Live {old.tracking_number}")
    assert fits_the_screen(page)

    page.get_by_text("Void this label…").click()
    page.get_by_label("Why is it voided?").fill("label smudged")
    page.get_by_role("button", name="Yes, void it and make a new label").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Label {old.tracking_number} voided: throw it away. The new label for package 1 is being made"
    )
    expect(package).to_contain_text("Being created")
    history = page.get_by_role("table", name="Voided labels of package 1")
    expect(history).to_contain_text(str(old.tracking_number))
    expect(history).to_contain_text("label smudged")
    expect(page.get_by_role("button", name="Print all labels (PDF)")).to_have_count(0)

    assert run_newest(order) == "done"  # the worker makes the new label
    new = Label.objects.get(shipment__order=order, status=LabelStatus.LIVE)
    page.reload()
    expect(package).to_contain_text(f"Live {new.tracking_number}")

    with page.expect_download() as download:
        page.get_by_role("button", name="Print all labels (PDF)").click()
    pdf = PdfReader(Path(download.value.path()))
    assert len(pdf.pages) == 1
    assert str(new.tracking_number) in pdf.pages[0].extract_text()

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.void_reason, old.voided_by) == (LabelStatus.VOIDED, "label smudged", "pat")
    assert new.print_count == 1 and new.tracking_number != old.tracking_number
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED
