"""The labels and ship-today screens through the Django test client: who may see and who may
act, the retry of a failed label, voiding and making a label again with its history kept, bulk
printing to one PDF, and the time left to the cut-off."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from pypdf import PdfReader

from oms.common.models import OutboxState
from shipping.enums import CURRENT_LABEL_STATES, LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment
from shipping.views.ship_today import span_text
from tests.factories import make_staff
from tests.shipping.helpers import dispatch_address, fleet, label_messages, packed_order
from tests.shipping.test_labels_api import (
    NOW,
    failed,
    labelled,
    labels_of,
    packed_in_boxes,
    promised,
    run_newest,
    shipping_state,
)

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


def order_page(number: str) -> str:
    return f"/staff/labels/{number}/"


# --- who may see and act --------------------------------------------------------------------


def test_anonymous_visitors_log_in_first_and_roles_without_labels_get_403() -> None:
    order = labelled()

    for address in ("/staff/labels/", order_page(order.number), "/staff/ship-today/"):
        anonymous = Client().get(address)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/")
        assert client_for("picker").get(address).status_code == 403
        assert client_for(None).get(address).status_code == 403


def test_support_sees_the_labels_but_gets_no_buttons_and_may_not_act() -> None:
    order = failed()
    support = client_for("support")
    label = labels_of(order)[0]
    before = shipping_state()

    home = support.get("/staff/labels/")
    page = support.get(order_page(order.number))
    retry = support.post(f"/staff/labels/{order.number}/retry/")
    void = support.post(f"/staff/labels/label/{label.pk}/void/", {"reason": "smudged"})
    printing = support.post("/staff/labels/print/", {"numbers": order.number})
    document = support.get(f"/staff/labels/document/?labels={label.pk}")

    assert home.status_code == 200 and page.status_code == 200
    assert order.number in home.content.decode()
    for response in (home, page):
        assert "Retry" not in response.content.decode()
        assert "Void this label" not in response.content.decode()
    assert "Print selected" not in home.content.decode()
    assert [r.status_code for r in (retry, void, printing, document)] == [403, 403, 403, 403]
    assert shipping_state() == before


# --- retry ----------------------------------------------------------------------------------


def test_a_failed_label_is_shown_with_its_error_and_retry_queues_it_again() -> None:
    order = failed()
    waiting = packed_order(sku="TEE")  # its label job has not run yet: still being made
    packer = client_for("packer")

    home = packer.get("/staff/labels/")
    text = home.content.decode()
    assert 'aria-label="Labels to fix"' in text
    assert text.index(order.number) < text.index(waiting.number)  # failed first
    assert "Failed" in text and "no complete address" in text
    assert "Being made" in text
    assert f'aria-label="Retry labels of {order.number}"' in text

    dispatch_address()  # the packer fills in the address the error named
    jobs = len(label_messages(order))
    retried = post(packer, f"/staff/labels/{order.number}/retry/", {"back": "home"})

    assert retried.redirect_chain == [("/staff/labels/", 302)]
    assert said(retried) == [
        (
            "success",
            f"1 failed label of {order.number} will be made again in a minute. Fix what the error said first (such "
            "as the warehouse address), or the label fails again.",
        )
    ]
    messages = label_messages(order)
    assert len(messages) == jobs + 1 and messages[-1].state == OutboxState.PENDING
    assert run_newest(order) == "done"
    assert [label.status for label in labels_of(order)] == [LabelStatus.LIVE]
    assert order.number not in packer.get("/staff/labels/").content.decode().split("Print labels")[0]


def test_retry_with_nothing_to_retry_says_so_and_changes_nothing() -> None:
    order = labelled()
    before = shipping_state()

    response = post(client_for("packer"), f"/staff/labels/{order.number}/retry/", {"back": "order"})

    assert response.redirect_chain == [(order_page(order.number), 302)]
    assert said(response) == [("error", f"Order {order.number} has no failed label to retry.")]
    assert shipping_state() == before


# --- one order: void and make again ---------------------------------------------------------


def test_void_and_make_a_new_label_keeps_the_history_and_one_current_label_per_package() -> None:
    order = labelled(2, sku="TEE")
    first, second = labels_of(order)
    packer = client_for("packer", "pat")

    page = packer.get(order_page(order.number)).content.decode()
    assert page.count("Void this label") == 2 and page.count("Print PDF") == 2

    voided = post(packer, f"/staff/labels/label/{first.pk}/void/", {"reason": "smudged", "regenerate": "on"})

    assert voided.redirect_chain == [(order_page(order.number), 302)]
    assert said(voided) == [
        (
            "success",
            f"Label {first.tracking_number} voided: throw it away. The new label for package 1 is being made; "
            "print it when it shows here.",
        )
    ]
    assert Shipment.objects.get(order=order).status == ShipmentStatus.AWAITING_LABELS
    assert run_newest(order) == "done"

    current = Label.objects.filter(shipment__order=order, status__in=CURRENT_LABEL_STATES)
    assert sorted(current.values_list("package__sequence", "status")) == [(1, "live"), (2, "live")]
    old = Label.objects.get(pk=first.pk)
    assert (old.status, old.void_reason, old.voided_by) == (LabelStatus.VOIDED, "smudged", "pat")
    assert Label.objects.get(pk=second.pk).status == LabelStatus.LIVE
    page = packer.get(order_page(order.number)).content.decode()
    assert 'aria-label="Voided labels of package 1"' in page and str(first.tracking_number) in page
    new = current.get(package__sequence=1)
    assert str(new.tracking_number) in page and new.tracking_number != first.tracking_number


def test_voiding_without_a_reason_is_refused_with_a_sentence_and_changes_nothing() -> None:
    order = labelled()
    label = labels_of(order)[0]
    before = shipping_state()

    response = post(client_for("packer"), f"/staff/labels/label/{label.pk}/void/", {"reason": "  "})

    assert said(response) == [("error", "Say why the label is voided (smudged, wrong box...), then void it again.")]
    assert shipping_state() == before


def test_void_only_leaves_the_package_without_a_label_until_retry() -> None:
    order = labelled()
    label = labels_of(order)[0]
    packer = client_for("packer")

    response = post(packer, f"/staff/labels/label/{label.pk}/void/", {"reason": "order re-packed"})

    assert said(response)[0][1].endswith("Package 1 has no label now; press Retry labels to make one.")
    page = response.content.decode()
    assert "No label: the last one was voided." in page and "Retry labels" in page
    post(packer, f"/staff/labels/{order.number}/retry/", {"back": "order"})
    assert run_newest(order) == "done"
    assert [x.status for x in labels_of(order)] == [LabelStatus.VOIDED, LabelStatus.LIVE]


def test_an_order_not_packed_yet_says_when_labels_come_and_an_unknown_one_is_named() -> None:
    order = packed_order()  # the label job has not run: no shipment yet
    packer = client_for("packer")

    page = packer.get(order_page(order.number))
    unknown = packer.get(order_page("OMS-NOPE"), follow=True)

    assert page.status_code == 200 and f"Order {order.number} has no labels yet" in page.content.decode()
    assert said(unknown) == [("error", "No order has the number OMS-NOPE. Check it and try again.")]


# --- bulk print -----------------------------------------------------------------------------


def test_bulk_print_makes_one_pdf_page_per_label_and_names_the_order_without_labels() -> None:
    two = labelled(2, sku="TEE")
    one = labelled()
    waiting = packed_in_boxes(1, sku="CAP")
    packer = client_for("packer")

    home = packer.get("/staff/labels/").content.decode()
    assert f'name="orders" value="{one.number}"' in home and f'name="orders" value="{two.number}"' in home
    assert f'name="orders" value="{waiting.number}"' not in home  # not labelled

    chosen = post(
        packer, "/staff/labels/print/", {"orders": [two.number], "numbers": f"{waiting.number}, {one.number}\n"}
    )

    ids = [label.pk for label in [*labels_of(two), *labels_of(one)]]
    ready = f"/staff/labels/?{urlencode({'labels': ','.join(map(str, ids)), 'format': 'pdf'})}#print-ready"
    assert chosen.redirect_chain == [(ready, 302)]
    assert said(chosen) == [
        ("success", "3 labels of 2 orders ready: download the file and print it."),
        (
            "warning",
            f"No label to print for order {waiting.number}: it is not in the file. Check the numbers, or look for "
            "them in the list above.",
        ),
    ]
    text = chosen.content.decode()
    assert "3 labels in one PDF file." in text
    link = f"/staff/labels/document/?{urlencode({'labels': ','.join(map(str, ids)), 'format': 'pdf'})}"
    assert link.replace("&", "&amp;") in text
    assert set(Label.objects.values_list("print_count", flat=True)) == {0}  # nothing printed yet

    document = packer.get(link)

    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(document.content))
    assert len(reader.pages) == 3
    expected = [label.tracking_number for label in [*labels_of(two), *labels_of(one)]]
    assert [str(n) in page.extract_text() for n, page in zip(expected, reader.pages, strict=True)] == [True] * 3
    assert set(Label.objects.filter(pk__in=ids).values_list("print_count", flat=True)) == {1}


def test_bulk_print_of_orders_without_labels_says_nothing_can_be_printed() -> None:
    waiting = packed_order()
    before = shipping_state()
    packer = client_for("packer")

    nothing = post(packer, "/staff/labels/print/", {"numbers": f"{waiting.number} OMS-NOPE"})
    empty = post(packer, "/staff/labels/print/", {"numbers": " "})

    assert said(nothing) == [
        (
            "error",
            f"Nothing to print: orders {waiting.number}, OMS-NOPE have no label yet. Check the order numbers, or "
            "look for them in the list above (still being made or failed).",
        )
    ]
    assert said(empty) == [("error", "Tick the orders to print, or type their numbers in the box.")]
    assert shipping_state() == before


def test_a_voided_label_does_not_print_and_the_page_says_why() -> None:
    order = labelled()
    label = labels_of(order)[0]
    packer = client_for("packer")
    post(packer, f"/staff/labels/label/{label.pk}/void/", {"reason": "smudged"})
    before = shipping_state()

    response = packer.get(f"/staff/labels/document/?labels={label.pk}&format=zpl", follow=True)

    assert said(response) == [
        (
            "error",
            f"Only live labels print; these are not: {label.pk}. Open the order's labels to see where they stand.",
        )
    ]
    assert shipping_state() == before


def test_a_single_label_prints_as_zpl_for_a_thermal_printer() -> None:
    label = labels_of(labelled())[0]

    response = client_for("shipper").get(f"/staff/labels/document/?labels={label.pk}&format=zpl")

    assert response.status_code == 200 and response["Content-Type"] == "application/zpl"
    assert response.content.decode().startswith("^XA")
    label.refresh_from_db()
    assert label.print_count == 1


# --- ship today -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=2, minutes=15, seconds=59), "2 h 15 min"),
        (timedelta(minutes=40), "40 min"),
        (-timedelta(minutes=40, seconds=10), "40 min"),
        (timedelta(seconds=30), "under 1 min"),
        (timedelta(days=1, hours=3, minutes=5), "1 d 3 h"),
    ],
)
def test_spans_read_as_people_say_them(span: timedelta, text: str) -> None:
    assert span_text(span) == text


def test_ship_today_shows_the_time_left_and_flags_late_orders_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    fleet()
    on_time = promised(date(2030, 1, 9), sku="TEE")
    late = promised(date(2030, 1, 8), sku="MUG")
    client = client_for("packer")

    page = client.get("/staff/ship-today/").content.decode()

    assert "1 order past the cut-off: ship it first." in page
    rows = page.split("<tbody>")[1].split("</tr>")
    assert late.number in rows[0] and "LATE" in rows[0] and "late by 21 h 45 min" in rows[0]
    assert 'class="row-late"' in rows[0]
    assert on_time.number in rows[1] and "2 h 15 min left" in rows[1] and "LATE" not in rows[1]
    assert f'href="/staff/labels/{late.number}/"' in rows[0]
