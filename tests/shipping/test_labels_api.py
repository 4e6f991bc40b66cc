"""The shipment, label and ship-today API: each endpoint's answer, refusals that change nothing,
lists whose queries do not grow with their length, who may call what, and the schema."""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from fulfillment.enums import EntryState
from fulfillment.models import Package, PickListOrder
from fulfillment.services import packing, picking
from inventory.models import Warehouse
from oms.common.actors import Actor
from oms.common.models import OutboxMessage, OutboxState
from orders.models import Order
from orders.services import order_set_promise
from shipping.apis.labels import LabelViewSet
from shipping.apis.shipments import ShipmentViewSet, ShipTodayViewSet
from shipping.carriers.base import CarrierUnavailable
from shipping.carriers.own_fleet import OwnFleetAdapter
from shipping.enums import CURRENT_LABEL_STATES, LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment, ShipmentEvent
from shipping.tasks import create_order_labels
from tests.factories import make_staff
from tests.fulfillment.helpers import box, manager, paid_order, pick_whole_list, stock
from tests.permission_matrix import client_for_role, parse_matrix
from tests.shipping.helpers import dispatch_address, fleet, label_messages, packed_order

pytestmark = pytest.mark.django_db

API = "/api/v1"


# --- set-ups (shared with the view and browser tests) ---------------------------------------


def packed_in_boxes(boxes: int, *, sku: str = "MUG") -> Order:
    """A paid order of ``boxes`` units picked and packed one unit a box, packing completed:
    its label job is queued, not run."""
    stock(sku, 100, f"B-{sku}", 1, weight_grams=300)
    fleet()
    dispatch_address()
    actor = Actor.for_user(manager())
    order = paid_order({sku: boxes})
    picking.order_pick_start(actor=actor, number=order.number)
    entry = PickListOrder.objects.select_related("pick_list").get(order=order, state=EntryState.PICKING)
    pick_whole_list(entry.pick_list.number, actor)
    packing.packing_open(actor=actor, code=order.number)
    for sequence in range(1, boxes + 1):
        packing.package_open(actor=actor, order_number=order.number, package_type=box().code)
        packing.pack_scan(actor=actor, order_number=order.number, code=sku)
        package = Package.objects.get(order=order, sequence=sequence)
        packing.package_close(
            actor=actor, order_number=order.number, sequence=sequence, weight_grams=packing.expected_weight(package)
        )
    packing.packing_complete(actor=actor, order_number=order.number)
    return Order.objects.get(pk=order.pk)


def run_newest(order: Order) -> str:
    """Runs the order's newest pending label job, as a worker would."""
    message = [m for m in label_messages(order) if m.state == OutboxState.PENDING][-1]
    return create_order_labels(message.pk)


def labelled(boxes: int = 1, *, sku: str = "MUG") -> Order:
    """An order packed in ``boxes`` boxes with its labels made: one live label a box."""
    order = packed_order() if boxes == 1 and sku == "MUG" else packed_in_boxes(boxes, sku=sku)
    run_newest(order)
    return order


def failed(*, sku: str = "MUG") -> Order:
    """A packed order whose label failed: its warehouse's dispatch address is incomplete (put
    back with ``dispatch_address()``)."""
    order = packed_order() if sku == "MUG" else packed_in_boxes(1, sku=sku)
    Warehouse.objects.update(line1="")
    run_newest(order)
    assert Label.objects.get(shipment__order=order).status == LabelStatus.FAILED
    return order


def labels_of(order: Order) -> list[Label]:
    return list(Label.objects.filter(shipment__order=order).order_by("package__sequence", "id"))


def shipping_state() -> dict[str, Any]:
    """Everything a label endpoint could write, to show a refusal changed nothing."""
    return {
        "labels": sorted(
            Label.objects.values_list(
                "id", "status", "tracking_number", "attempts", "print_count", "voided_at", "void_reason"
            )
        ),
        "shipments": sorted(Shipment.objects.values_list("id", "status", "updated_at")),
        "events": ShipmentEvent.objects.count(),
        "outbox": sorted(OutboxMessage.objects.values_list("id", "state")),
    }


def client_of(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def packer_client() -> APIClient:
    return client_of(make_staff("packer", "pat"))


def pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def list_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(ctx.captured_queries)


# --- shipments ------------------------------------------------------------------------------


def test_the_shipment_list_filters_by_status_carrier_and_order(packer_client: APIClient) -> None:
    done = labelled()
    waiting = failed(sku="TEE")

    everything = packer_client.get(f"{API}/shipments/")
    labelled_only = packer_client.get(f"{API}/shipments/", {"status": "labelled"})
    by_order = packer_client.get(f"{API}/shipments/", {"order": waiting.number, "carrier": "fleet"})
    other_carrier = packer_client.get(f"{API}/shipments/", {"carrier": "POST"})
    bad = packer_client.get(f"{API}/shipments/", {"status": "lost"})

    assert everything.status_code == 200, everything.data
    assert [s["order"] for s in everything.data["results"]] == [waiting.number, done.number]  # newest first
    assert everything.data["results"][1] == {
        "order": done.number,
        "order_status": "packed",
        "status": "labelled",
        "carrier": "FLEET",
        "service": "STD",
        "tracking_status": "",
        "live_labels": 1,
        "failed_labels": 0,
        "requested_labels": 0,
        "created_at": everything.data["results"][1]["created_at"],
        "handed_over_at": None,
        "delivered_at": None,
    }
    assert everything.data["results"][0]["failed_labels"] == 1
    assert [s["order"] for s in labelled_only.data["results"]] == [done.number]
    assert [s["order"] for s in by_order.data["results"]] == [waiting.number]
    assert other_carrier.data["results"] == []
    assert bad.status_code == 400 and "status" in bad.data["fields"]


def test_the_shipment_shows_every_label_with_the_voided_history_and_its_events(packer_client: APIClient) -> None:
    order = labelled()
    old = labels_of(order)[0]
    packer_client.post(f"{API}/labels/{old.pk}/void/", {"reason": "smudged", "regenerate": True}, format="json")
    run_newest(order)
    new = labels_of(order)[1]

    response = packer_client.get(f"{API}/shipments/{order.number}/")

    assert response.status_code == 200, response.data
    body = response.data
    assert (body["order"], body["status"]) == (order.number, "labelled")
    assert [(x["id"], x["package"], x["status"]) for x in body["labels"]] == [
        (old.pk, 1, "voided"),
        (new.pk, 1, "live"),
    ]
    voided, live = body["labels"]
    assert voided["voided_by"] == "pat" and voided["void_reason"] == "smudged" and voided["voided_at"]
    assert live["tracking_number"] == new.tracking_number != old.tracking_number
    assert live["tracking_url"] == f"https://track.example/{new.tracking_number}"
    assert (live["format"], live["attempts"], live["last_error"], live["print_count"]) == ("pdf", 1, "", 0)
    assert live["issued_at"] and live["scanned_out_at"] is None and live["voided_at"] is None
    kinds = [e["kind"] for e in body["events"]]
    assert kinds[0] == "opened" and "label_voided" in kinds and kinds.count("label_created") == 2
    assert {"actor": "pat", "kind": "label_voided"}.items() <= next(
        e for e in body["events"] if e["kind"] == "label_voided"
    ).items()


def test_a_shipment_that_does_not_exist_answers_404(packer_client: APIClient) -> None:
    order = packed_order()  # packed; the label job has not run, so no shipment yet

    response = packer_client.get(f"{API}/shipments/{order.number}/")

    assert response.status_code == 404 and response.data["code"] == "shipment_not_found"


def due_today(order: Order) -> Order:
    today = timezone.localdate()
    order_set_promise(actor=Actor.system("test"), number=order.number, ship_by=today, promised_delivery=today)
    return order


def test_the_lists_cost_the_same_queries_however_many_rows(packer_client: APIClient) -> None:
    due_today(labelled())
    failed(sku="TEE")
    few = {url: list_queries(packer_client, f"{API}/{url}") for url in ("shipments/", "labels/", "ship-today/")}

    dispatch_address()
    for n in range(3):
        due_today(labelled(2, sku=f"CUP-{n}"))

    assert Label.objects.count() == 8
    assert len(packer_client.get(f"{API}/ship-today/").data) == 4
    assert {url: list_queries(packer_client, f"{API}/{url}") for url in few} == few


# --- retry ----------------------------------------------------------------------------------


def test_failed_labels_are_listed_with_their_error_and_a_retry_makes_them(packer_client: APIClient) -> None:
    order = failed()
    labelled(sku="TEE")  # live: not listed
    label = labels_of(order)[0]

    failures = packer_client.get(f"{API}/labels/", {"status": "failed"})
    dispatch_address()  # the cause is fixed
    jobs = len(label_messages(order))
    retry = packer_client.post(f"{API}/shipments/{order.number}/retry-labels/")

    assert [(x["id"], x["order"], x["status"]) for x in failures.data["results"]] == [
        (label.pk, order.number, "failed")
    ]
    assert "no complete address" in failures.data["results"][0]["last_error"]
    assert retry.status_code == 202, retry.data
    assert retry.data["labels"] == [label.pk] and retry.data["order"] == order.number
    assert len(label_messages(order)) == jobs + 1
    assert Label.objects.get(pk=label.pk).status == LabelStatus.REQUESTED

    assert run_newest(order) == "done"
    label.refresh_from_db()
    assert label.status == LabelStatus.LIVE and label.tracking_number
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED


def test_retry_tries_a_label_still_waiting_for_an_unreachable_carrier_now(
    packer_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(self: Any, request: Any) -> Any:
        raise CarrierUnavailable("the carrier's API timed out")

    monkeypatch.setattr(OwnFleetAdapter, "create_label", unavailable)
    order = packed_order()
    assert run_newest(order) == "retry"  # waits for the next attempt, after the backoff
    waiting = packer_client.get(f"{API}/labels/", {"status": "requested"}).data["results"]
    monkeypatch.undo()  # the carrier answers again

    retry = packer_client.post(f"{API}/shipments/{order.number}/retry-labels/")

    assert [(x["attempts"], x["last_error"]) for x in waiting] == [(1, "the carrier's API timed out")]
    assert retry.status_code == 202, retry.data
    assert retry.data["labels"] == []
    assert retry.data["message"] == f"Labels of {order.number} are being made again in the background."
    assert run_newest(order) == "done"
    assert [label.status for label in labels_of(order)] == [LabelStatus.LIVE]


def test_retry_is_refused_when_nothing_failed_and_nothing_changes(packer_client: APIClient) -> None:
    order = labelled()
    before = shipping_state()

    nothing = packer_client.post(f"{API}/shipments/{order.number}/retry-labels/")
    unknown = packer_client.post(f"{API}/shipments/OMS-NOPE/retry-labels/")

    assert (nothing.status_code, nothing.data["code"]) == (409, "label_not_failed")
    assert nothing.data["message"] == f"Order {order.number} has no failed label to retry."
    assert (unknown.status_code, unknown.data["code"]) == (404, "order_not_found")
    assert shipping_state() == before


# --- one label and its document -------------------------------------------------------------


def test_a_label_is_read_and_printed_as_pdf_or_zpl_counting_each_print(packer_client: APIClient) -> None:
    order = labelled()
    label = labels_of(order)[0]

    detail = packer_client.get(f"{API}/labels/{label.pk}/")
    pdf = packer_client.get(f"{API}/labels/{label.pk}/document/", HTTP_ACCEPT="application/pdf")
    zpl = packer_client.get(f"{API}/labels/{label.pk}/document/", {"format": "zpl"})

    assert detail.status_code == 200, detail.data
    assert (detail.data["order"], detail.data["carrier"], detail.data["package"]) == (order.number, "FLEET", 1)
    assert detail.data["tracking_number"] == label.tracking_number
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{label.tracking_number}.pdf"'
    assert len(pages(pdf.content)) == 1 and label.tracking_number in pages(pdf.content)[0]
    assert zpl.status_code == 200 and zpl["Content-Type"] == "application/zpl"
    assert zpl.content.decode().startswith("^XA") and label.tracking_number in zpl.content.decode()
    label.refresh_from_db()
    assert label.print_count == 2 and label.last_printed_at is not None


def test_a_label_that_is_not_live_does_not_print_and_nothing_changes(packer_client: APIClient) -> None:
    order = failed()
    label = labels_of(order)[0]
    before = shipping_state()

    refused = packer_client.get(f"{API}/labels/{label.pk}/document/")
    bad_format = packer_client.get(f"{API}/labels/{label.pk}/document/", {"format": "png"})
    unknown = packer_client.get(f"{API}/labels/999999/document/")
    unknown_detail = packer_client.get(f"{API}/labels/999999/")

    assert (refused.status_code, refused.data["code"]) == (409, "label_not_live")
    assert (bad_format.status_code, bad_format.data["code"]) == (400, "invalid")
    assert "format" in bad_format.data["fields"]
    assert (unknown.status_code, unknown.data["code"]) == (404, "label_not_found")
    assert (unknown_detail.status_code, unknown_detail.data["code"]) == (404, "label_not_found")
    assert shipping_state() == before


# --- voiding --------------------------------------------------------------------------------


def test_void_and_regenerate_keeps_the_history_and_leaves_one_current_label_per_package(
    packer_client: APIClient,
) -> None:
    order = labelled(2)
    first, second = labels_of(order)

    response = packer_client.post(
        f"{API}/labels/{first.pk}/void/", {"reason": "label smudged", "regenerate": True}, format="json"
    )

    assert response.status_code == 200, response.data
    assert response.data["message"] == f"Label {first.tracking_number} of package 1 voided; a new label is being made."
    assert (response.data["voided"]["id"], response.data["voided"]["status"]) == (first.pk, "voided")
    replacement = response.data["replacement"]
    assert (replacement["package"], replacement["status"], replacement["tracking_number"]) == (1, "requested", None)
    assert Shipment.objects.get(order=order).status == ShipmentStatus.AWAITING_LABELS

    assert run_newest(order) == "done"
    current = Label.objects.filter(shipment__order=order, status__in=CURRENT_LABEL_STATES)
    assert sorted(current.values_list("package__sequence", "status")) == [(1, "live"), (2, "live")]
    assert Label.objects.get(pk=replacement["id"]).status == LabelStatus.LIVE
    assert Label.objects.get(pk=second.pk).status == LabelStatus.LIVE  # the other package is untouched
    assert Label.objects.get(pk=first.pk).void_reason == "label smudged"
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED


def test_voiding_without_a_new_label_leaves_the_package_waiting(packer_client: APIClient) -> None:
    order = labelled()
    label = labels_of(order)[0]

    response = packer_client.post(f"{API}/labels/{label.pk}/void/", {"reason": "order re-packed"}, format="json")

    assert response.status_code == 200, response.data
    assert response.data["replacement"] is None
    assert response.data["message"] == f"Label {label.tracking_number} of package 1 voided."
    assert [x.status for x in labels_of(order)] == [LabelStatus.VOIDED]
    assert not [m for m in label_messages(order) if m.state == OutboxState.PENDING]


def test_refused_voids_answer_with_a_code_and_change_nothing(packer_client: APIClient) -> None:
    order = labelled()
    label = labels_of(order)[0]
    already = labels_of(labelled(sku="TEE"))[0]
    packer_client.post(f"{API}/labels/{already.pk}/void/", {"reason": "smudged"}, format="json")
    before = shipping_state()

    answers = {
        "no_reason": packer_client.post(f"{API}/labels/{label.pk}/void/", {"reason": " "}, format="json"),
        "missing_reason": packer_client.post(f"{API}/labels/{label.pk}/void/", {}, format="json"),
        "voided": packer_client.post(f"{API}/labels/{already.pk}/void/", {"reason": "again"}, format="json"),
        "unknown": packer_client.post(f"{API}/labels/999999/void/", {"reason": "x"}, format="json"),
    }

    assert {name: (r.status_code, r.data["code"]) for name, r in answers.items()} == {
        "no_reason": (400, "invalid"),
        "missing_reason": (400, "invalid"),
        "voided": (409, "label_not_live"),
        "unknown": (404, "label_not_found"),
    }
    assert "reason" in answers["no_reason"].data["fields"]
    assert shipping_state() == before


# --- bulk printing --------------------------------------------------------------------------


def test_bulk_print_gives_one_pdf_with_the_orders_labels_in_order_and_names_orders_without(
    packer_client: APIClient,
) -> None:
    two = labelled(2, sku="TEE")
    one = labelled()
    waiting = packed_in_boxes(1, sku="CAP")  # its labels are not made yet
    expected = [label.tracking_number for label in [*labels_of(one), *labels_of(two)]]

    response = packer_client.post(
        f"{API}/labels/print/", {"orders": [one.number, waiting.number, two.number]}, format="json"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-OMS-Orders-Without-Labels"] == waiting.number
    texts = pages(response.content)
    assert len(texts) == 3
    assert [next(n for n in expected if n in text) for text in texts] == expected
    assert set(Label.objects.values_list("print_count", flat=True)) == {1}


def test_bulk_print_of_named_labels_in_zpl_keeps_their_order(packer_client: APIClient) -> None:
    first, second = labels_of(labelled(2))

    response = packer_client.post(
        f"{API}/labels/print/", {"labels": [second.pk, first.pk], "format": "zpl"}, format="json"
    )

    assert response.status_code == 200 and response["Content-Type"] == "application/zpl"
    text = response.content.decode()
    assert text.count("^XA") == 2
    assert text.index(str(second.tracking_number)) < text.index(str(first.tracking_number))
    assert "X-OMS-Orders-Without-Labels" not in response


def test_bulk_print_refusals_print_nothing(packer_client: APIClient) -> None:
    live = labels_of(labelled())[0]
    waiting = packed_in_boxes(1, sku="CAP")
    not_live = labels_of(failed(sku="TEE"))[0]
    before = shipping_state()

    answers = {
        "no_labels": packer_client.post(f"{API}/labels/print/", {"orders": [waiting.number, "OMS-NOPE"]}, "json"),
        "not_live": packer_client.post(f"{API}/labels/print/", {"labels": [live.pk, not_live.pk]}, "json"),
        "both": packer_client.post(f"{API}/labels/print/", {"labels": [live.pk], "orders": ["X"]}, "json"),
        "neither": packer_client.post(f"{API}/labels/print/", {"format": "pdf"}, "json"),
        "empty": packer_client.post(f"{API}/labels/print/", {"orders": []}, "json"),
    }

    assert {name: (r.status_code, r.data["code"]) for name, r in answers.items()} == {
        "no_labels": (409, "no_labels"),
        "not_live": (409, "label_not_live"),
        "both": (400, "invalid"),
        "neither": (400, "invalid"),
        "empty": (400, "invalid"),
    }
    assert answers["no_labels"].data["message"] == (
        f"Nothing to print: no live label for {waiting.number}, OMS-NOPE (labels still being made, failed or voided)."
    )
    assert answers["no_labels"].data["extra"] == {"orders_without_labels": [waiting.number, "OMS-NOPE"]}
    assert answers["not_live"].data["extra"] == {"labels": [str(not_live.pk)]}
    assert shipping_state() == before


# --- ship today -----------------------------------------------------------------------------

NOW = datetime(2030, 1, 9, 12, 45, tzinfo=ZoneInfo("UTC"))  # a Wednesday; the service's cut-off is 15:00


def promised(ship_by: date, *, sku: str) -> Order:
    stock(sku, 10, f"B-{sku}", 1)
    order = paid_order({sku: 1})
    order_set_promise(actor=Actor.system("test"), number=order.number, ship_by=ship_by, promised_delivery=ship_by)
    return order


def test_ship_today_lists_the_time_left_to_the_cut_off_and_flags_late_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    fleet()
    today = promised(date(2030, 1, 9), sku="TEE")
    late = promised(date(2030, 1, 8), sku="MUG")
    promised(date(2030, 1, 10), sku="CAP")  # tomorrow: not listed
    client = client_of(make_staff("support"))

    everything = client.get(f"{API}/ship-today/")
    only_late = client.get(f"{API}/ship-today/", {"late": "true"})
    bad = client.get(f"{API}/ship-today/", {"late": "maybe"})

    assert everything.status_code == 200, everything.data
    assert everything.data == [
        {
            "order": late.number,
            "status": "paid",
            "carrier": "FLEET",
            "service": "STD",
            "ship_by": "2030-01-08",
            "cutoff_at": "2030-01-08T15:00:00Z",
            "seconds_left": -(21 * 3600 + 45 * 60),
            "late": True,
        },
        {
            "order": today.number,
            "status": "paid",
            "carrier": "FLEET",
            "service": "STD",
            "ship_by": "2030-01-09",
            "cutoff_at": "2030-01-09T15:00:00Z",
            "seconds_left": 2 * 3600 + 15 * 60,
            "late": False,
        },
    ]
    assert [row["order"] for row in only_late.data] == [late.number]
    assert bad.status_code == 400 and "late" in bad.data["fields"]


# --- who may call what ----------------------------------------------------------------------

# A = allowed (a 2xx answer), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint         picker  packer  shipper  support  manager  integrator  no_role  anonymous
shipment_list    F       A       A        A        A        A           F        U
shipment_detail  F       A       A        A        A        A           F        U
shipment_retry   F       A       A        F        A        F           F        U
label_list       F       A       A        A        A        A           F        U
label_detail     F       A       A        A        A        A           F        U
label_document   F       A       A        F        A        F           F        U
label_void       F       A       A        F        A        F           F        U
label_print      F       A       A        F        A        F           F        U
ship_today       F       A       A        A        A        A           F        U
"""

ROLES, EXPECTED = parse_matrix(MATRIX)


def caller(role: str) -> APIClient:
    return client_for_role(role, lambda name: client_of(make_staff(name)))


@dataclass(frozen=True)
class Endpoint:
    method: str
    setup: Callable[[], tuple[str, dict[str, Any] | None]]
    view: type
    action: str


def _live_label() -> Label:
    return labels_of(labelled())[0]


def _retry() -> tuple[str, None]:
    order = failed()
    dispatch_address()
    return f"{API}/shipments/{order.number}/retry-labels/", None


ENDPOINTS: dict[str, Endpoint] = {
    "shipment_list": Endpoint("get", lambda: (f"{API}/shipments/", None), ShipmentViewSet, "list"),
    "shipment_detail": Endpoint(
        "get", lambda: (f"{API}/shipments/{labelled().number}/", None), ShipmentViewSet, "retrieve"
    ),
    "shipment_retry": Endpoint("post", _retry, ShipmentViewSet, "retry_labels"),
    "label_list": Endpoint("get", lambda: (f"{API}/labels/", None), LabelViewSet, "list"),
    "label_detail": Endpoint("get", lambda: (f"{API}/labels/{_live_label().pk}/", None), LabelViewSet, "retrieve"),
    "label_document": Endpoint(
        "get", lambda: (f"{API}/labels/{_live_label().pk}/document/", None), LabelViewSet, "document"
    ),
    "label_void": Endpoint(
        "post", lambda: (f"{API}/labels/{_live_label().pk}/void/", {"reason": "smudged"}), LabelViewSet, "void"
    ),
    "label_print": Endpoint(
        "post", lambda: (f"{API}/labels/print/", {"labels": [_live_label().pk]}), LabelViewSet, "print_labels"
    ),
    "ship_today": Endpoint("get", lambda: (f"{API}/ship-today/", None), ShipTodayViewSet, "list"),
}


@pytest.mark.parametrize(("endpoint", "role"), sorted(EXPECTED))
def test_each_role_may_call_exactly_the_label_endpoints_it_is_granted(endpoint: str, role: str) -> None:
    spec = ENDPOINTS[endpoint]
    path, body = spec.setup()
    client = caller(role)
    before = shipping_state()

    response = getattr(client, spec.method)(path, body, format="json")

    expected = EXPECTED[(endpoint, role)]
    if expected == "A":
        assert 200 <= response.status_code < 300, getattr(response, "data", response)
    elif expected == "F":
        assert (response.status_code, response.data["code"]) == (403, "permission_denied")
        assert shipping_state() == before
    else:
        assert (response.status_code, response.data["code"]) == (401, "not_authenticated")
        assert shipping_state() == before


def test_the_matrix_covers_every_action_of_every_label_endpoint() -> None:
    assert set(ROLES) == {"picker", "packer", "shipper", "support", "manager", "integrator", "no_role", "anonymous"}
    assert {endpoint for endpoint, _ in EXPECTED} == set(ENDPOINTS)
    views = {spec.view for spec in ENDPOINTS.values()}
    assert {(spec.view, spec.action) for spec in ENDPOINTS.values()} == {
        (view, action) for view in views for action in view.required_permissions
    }


def test_the_table_agrees_with_the_role_grants() -> None:
    grants = importlib.import_module("shipping.migrations.0004_label_roles").GRANTS

    for (endpoint, role), mark in EXPECTED.items():
        if role in ("no_role", "anonymous"):
            continue
        spec = ENDPOINTS[endpoint]
        app, codename = spec.view.required_permissions[spec.action].split(".")
        assert app == "shipping"
        assert (mark == "A") == (codename in grants.get(role, [])), (endpoint, role, codename)


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_documents_every_label_endpoint_with_its_refusals() -> None:
    schema = yaml.safe_load(APIClient().get(f"{API}/schema/").content)
    paths = schema["paths"]

    operations = {
        ("/api/v1/shipments/", "get"): {"200", "400", "401", "403"},
        ("/api/v1/shipments/{order_number}/", "get"): {"200", "401", "403", "404"},
        ("/api/v1/shipments/{order_number}/retry-labels/", "post"): {"202", "401", "403", "404", "409"},
        ("/api/v1/labels/", "get"): {"200", "400", "401", "403"},
        ("/api/v1/labels/{id}/", "get"): {"200", "401", "403", "404"},
        ("/api/v1/labels/{id}/document/", "get"): {"200", "400", "401", "403", "404", "409"},
        ("/api/v1/labels/{id}/void/", "post"): {"200", "400", "401", "403", "404", "409"},
        ("/api/v1/labels/print/", "post"): {"200", "400", "401", "403", "409"},
        ("/api/v1/ship-today/", "get"): {"200", "400", "401", "403"},
    }
    for (path, method), codes in operations.items():
        assert set(paths[path][method]["responses"]) == codes, (path, method)
        assert paths[path][method]["summary"], (path, method)
    document = paths["/api/v1/labels/{id}/document/"]["get"]["responses"]["200"]["content"]
    assert set(document) == {"application/pdf", "application/zpl"}
    assert "X-OMS-Orders-Without-Labels" in paths["/api/v1/labels/print/"]["post"]["description"]
    assert "`no_labels`" in paths["/api/v1/labels/print/"]["post"]["responses"]["409"]["description"]
