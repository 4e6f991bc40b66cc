"""The hand-over screens through the Django test client: who may see and who may act, each
form's success and refusal (a refusal changes nothing), the parcels past their cut-off, and
a page whose queries do not grow with the parcels on it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.enums import OrderStatus
from orders.models import Order
from shipping.enums import ManifestStatus
from shipping.models import Label, Manifest
from shipping.services import handover
from tests.factories import make_staff
from tests.shipping.helpers import fleet
from tests.shipping.test_handover import dock, handover_state, labelled_order, tracking_numbers

pytestmark = pytest.mark.django_db


def client_for(role: str | None, username: str | None = None) -> Client:
    client = Client()
    client.force_login(make_staff(role, username))
    return client


def post(client: Client, address: str, data: dict[str, Any] | None = None) -> Any:
    """Posts a form and follows the redirect, as the browser does."""
    return client.post(address, data or {}, follow=True)


def said(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def opened() -> Manifest:
    return handover.manifest_open(actor=dock(), carrier_code="FLEET")[0]


def page_of(manifest: Manifest) -> str:
    return f"/staff/handover/{manifest.number}/"


# --- who may see and act --------------------------------------------------------------------


def test_anonymous_visitors_go_to_the_log_in_and_roles_without_manifests_get_403() -> None:
    fleet()
    manifest = opened()

    anonymous = Client().get("/staff/handover/")
    picker = client_for("picker")

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/")
    assert picker.get("/staff/handover/").status_code == 403
    assert picker.get(page_of(manifest)).status_code == 403
    assert picker.get(f"{page_of(manifest)}pdf/").status_code == 403


def test_support_sees_the_manifest_read_only_and_cannot_act() -> None:
    order = labelled_order()
    manifest = opened()
    support = client_for("support")
    before = handover_state()

    home = support.get("/staff/handover/")
    page = support.get(page_of(manifest))
    scan = support.post(f"{page_of(manifest)}scan/", {"code": tracking_numbers(order)[0]})
    opening = support.post("/staff/handover/open/", {"carrier": "FLEET"})
    close = support.post(f"{page_of(manifest)}close/")

    assert home.status_code == 200 and "Open today's manifest" not in home.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="code"' not in html and "Close the manifest" not in html
    assert "scanning parcels out needs the shipper role" in html
    assert (scan.status_code, opening.status_code, close.status_code) == (403, 403, 403)
    assert handover_state() == before


# --- opening and scanning -------------------------------------------------------------------


def test_a_shipper_opens_todays_manifest_for_the_carrier_at_the_dock() -> None:
    fleet()
    client = client_for("shipper", "sam")

    first = post(client, "/staff/handover/open/", {"carrier": "FLEET"})
    again = post(client, "/staff/handover/open/", {"carrier": "FLEET"})
    unknown = post(client, "/staff/handover/open/", {"carrier": "NOPE"})

    manifest = Manifest.objects.get()
    assert first.redirect_chain[-1][0] == page_of(manifest)
    assert said(first) == [
        (
            "success",
            f"Manifest {manifest.number} for City Fleet, pickup {manifest.pickup_date:%Y-%m-%d}: scan the parcels.",
        )
    ]
    assert said(again) == [("info", f"Manifest {manifest.number} for City Fleet is open: carry on scanning.")]
    assert unknown.redirect_chain[-1][0] == "/staff/handover/"
    assert said(unknown)[0][0] == "error" and "No active carrier has the code NOPE" in said(unknown)[0][1]
    assert manifest.opened_by == "sam"


def test_scanning_both_parcels_at_the_dock_ships_the_order() -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest = opened()
    client = client_for("shipper")

    one = post(client, f"{page_of(manifest)}scan/", {"code": first})
    two = post(client, f"{page_of(manifest)}scan/", {"code": second})

    assert said(one) == [
        (
            "success",
            f"Parcel {first} scanned: 1 of 2 parcels of {order.number} scanned; the order ships when all are.",
        )
    ]
    assert said(two) == [
        ("success", f"Parcel {second} scanned: all 2 parcels of {order.number} are out, order shipped.")
    ]
    html = two.content.decode()
    assert 'role="status"' in html and "order shipped" in html
    assert first in html and second in html and "package 2 of 2 · shipped" in html
    assert "autofocus" in html.split('id="id_code"')[1].split(">")[0]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_a_refused_scan_is_said_as_an_alert_and_changes_nothing() -> None:
    order = labelled_order(boxes=2)
    first, _ = tracking_numbers(order)
    manifest = opened()
    client = client_for("shipper")
    post(client, f"{page_of(manifest)}scan/", {"code": first})
    before = handover_state()

    twice = post(client, f"{page_of(manifest)}scan/", {"code": first})
    blank = post(client, f"{page_of(manifest)}scan/", {"code": "  "})
    unknown = post(client, f"{page_of(manifest)}scan/", {"code": "XX123"})

    assert said(twice)[0][0] == "error" and said(twice)[0][1].startswith(f"Parcel {first} is already on this manifest")
    assert 'role="alert"' in twice.content.decode()
    assert said(blank) == [("error", "Scan the parcel's label, or type the tracking number under its barcode.")]
    assert said(unknown)[0][1].startswith("No parcel has the tracking number XX123.")
    assert handover_state() == before


def test_a_parcel_scanned_by_mistake_is_taken_off() -> None:
    order = labelled_order(boxes=2)
    first, _ = tracking_numbers(order)
    manifest = opened()
    client = client_for("shipper")
    post(client, f"{page_of(manifest)}scan/", {"code": first})

    response = post(client, f"{page_of(manifest)}unscan/", {"code": first})

    assert said(response) == [
        ("success", f"Parcel {first} taken off manifest {manifest.number}: 0 of 2 parcels of {order.number} scanned.")
    ]
    assert Label.objects.get(tracking_number=first).manifest_id is None


# --- closing --------------------------------------------------------------------------------


def test_closing_the_manifest_and_then_no_more_scans() -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest = opened()
    client = client_for("shipper", "sam")
    post(client, f"{page_of(manifest)}scan/", {"code": first})

    closed = post(client, f"{page_of(manifest)}close/")
    late = post(client, f"{page_of(manifest)}scan/", {"code": second})

    assert said(closed) == [
        (
            "warning",
            f"Manifest {manifest.number} closed: 1 parcel(s), 0.45 kg, for City Fleet. Print it for the driver to "
            f"sign. Not all parcels of {order.number} were on it: scan the rest onto the next manifest.",
        )
    ]
    html = closed.content.decode()
    assert "by sam: print it for the driver to sign." in html and 'name="code"' not in html
    assert Manifest.objects.get().status == ManifestStatus.CLOSED
    assert said(late)[0][0] == "error" and said(late)[0][1].startswith(f"Manifest {manifest.number} was closed")
    assert Label.objects.get(tracking_number=second).manifest_id is None


def test_an_empty_manifest_is_not_closed() -> None:
    fleet()
    manifest = opened()

    response = post(client_for("shipper"), f"{page_of(manifest)}close/")

    assert said(response) == [
        ("error", f"Manifest {manifest.number} has no parcels: scan the parcels out before closing it.")
    ]
    assert Manifest.objects.get().status == ManifestStatus.OPEN


def test_the_manifest_pdf_opens_from_the_page() -> None:
    order = labelled_order()
    manifest = opened()
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(order)[0])
    client = client_for("support")

    response = client.get(f"{page_of(manifest)}pdf/")
    missing = client.get("/staff/handover/MF-999999/pdf/")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert missing.status_code == 404


# --- parcels past their cut-off -------------------------------------------------------------


def test_parcels_past_their_cut_off_are_highlighted_on_both_screens() -> None:
    late = labelled_order()
    on_time = labelled_order(sku="TEE")
    Order.objects.filter(pk=late.pk).update(ship_by=date(2020, 1, 6))
    Order.objects.filter(pk=on_time.pk).update(ship_by=date(2099, 1, 5))
    manifest = opened()
    client = client_for("shipper")

    home = client.get("/staff/handover/").content.decode()
    page = client.get(page_of(manifest)).content.decode()

    (late_number,) = tracking_numbers(late)
    (on_time_number,) = tracking_numbers(on_time)
    assert "1 parcel past the cut-off, still here" in home
    assert late_number in home and on_time_number not in home
    assert "1 parcel past the cut-off</strong>: scan it first." in page
    rows = page.split('<table class="waiting">')[1].split("<tr")[2:]
    assert 'class="parcel-overdue"' in rows[0] and late_number in rows[0] and "late by " in rows[0]
    assert 'class="parcel-overdue"' not in rows[1] and on_time_number in rows[1] and " left" in rows[1]


def test_the_manifest_page_costs_the_same_queries_however_many_parcels() -> None:
    first = labelled_order(boxes=2)  # one parcel on the manifest, one waiting
    manifest = opened()
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(first)[0])
    client = client_for("shipper")
    with CaptureQueriesContext(connection) as few:
        assert client.get(page_of(manifest)).status_code == 200

    for n in range(3):
        more = labelled_order(boxes=2, sku=f"CUP-{n}")
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(more)[0])
    with CaptureQueriesContext(connection) as many:
        assert client.get(page_of(manifest)).status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_manifest_number_typed_in_small_letters_finds_the_manifest() -> None:
    fleet()
    manifest = opened()

    response = client_for("shipper").get(f"/staff/handover/{manifest.number.lower()}/")

    assert response.status_code == 302 and response["Location"] == page_of(manifest)
