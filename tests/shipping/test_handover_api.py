"""The hand-over API: manifests, scans at the dock, closing, the PDF and the parcels waiting
for pickup; what each refusal answers, who may call what, and lists whose queries do not
grow with their length."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order
from shipping.apis.handover import ManifestViewSet, ParcelAwaitingPickupViewSet
from shipping.models import Label, Manifest
from shipping.services import handover
from tests.factories import make_api_client, make_staff
from tests.permission_matrix import client_for_role, parse_matrix
from tests.shipping.helpers import fleet
from tests.shipping.test_handover import (
    PARCEL_GRAMS,
    dock,
    handover_state,
    labelled_order,
    other_carrier,
    tracking_numbers,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_of(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def shipper_client() -> APIClient:
    return client_of(make_staff("shipper", "sam"))


def opened(carrier: str = "FLEET", pickup_date: date | None = None) -> Manifest:
    return handover.manifest_open(actor=dock(), carrier_code=carrier, pickup_date=pickup_date)[0]


# --- opening --------------------------------------------------------------------------------


def test_posting_a_carrier_opens_todays_manifest_and_posting_again_returns_it(shipper_client: APIClient) -> None:
    fleet()

    first = shipper_client.post(f"{API}/manifests/", {"carrier": "FLEET"}, format="json")
    again = shipper_client.post(f"{API}/manifests/", {"carrier": "fleet"}, format="json")

    assert first.status_code == 201, first.data
    assert again.status_code == 200, again.data
    manifest = Manifest.objects.get()
    assert first["Location"] == f"/api/v1/manifests/{manifest.number}/"
    assert first.data == {
        "number": manifest.number,
        "carrier": "FLEET",
        "carrier_name": "City Fleet",
        "pickup_date": timezone.localdate().isoformat(),
        "status": "open",
        "parcel_count": 0,
        "weight_grams": 0,
        "opened_by": "sam",
        "opened_at": first.data["opened_at"],
        "closed_at": None,
        "closed_by": "",
        "parcels": [],
    }
    assert again.data["number"] == manifest.number


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "carrier"),
        ({"carrier": "NOPE"}, "carrier"),
        ({"carrier": "FLEET", "pickup_date": "2000-01-03"}, "pickup_date"),
        ({"carrier": "FLEET", "pickup_date": "tomorrow"}, "pickup_date"),
    ],
)
def test_opening_answers_400_naming_the_bad_field(shipper_client: APIClient, body: dict[str, Any], field: str) -> None:
    fleet()

    response = shipper_client.post(f"{API}/manifests/", body, format="json")

    assert response.status_code == 400, response.data
    assert response.data["code"] == "invalid" and field in response.data["fields"]
    assert not Manifest.objects.exists()


# --- scanning -------------------------------------------------------------------------------


def test_scanning_both_parcels_ships_the_order_and_the_manifest_lists_them(shipper_client: APIClient) -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest = opened()
    scan = f"{API}/manifests/{manifest.number}/scan/"

    one = shipper_client.post(scan, {"code": first.lower()}, format="json")
    two = shipper_client.post(scan, {"code": second}, format="json")
    detail = shipper_client.get(f"{API}/manifests/{manifest.number}/")

    assert one.status_code == 200, one.data
    assert one.data == {
        "message": f"Parcel {first} scanned: 1 of 2 parcels of {order.number} scanned; the order ships when all are.",
        "manifest": manifest.number,
        "tracking_number": first,
        "order": order.number,
        "package": 1,
        "packages": 2,
        "scanned": 1,
        "shipped": False,
    }
    assert two.status_code == 200 and two.data["shipped"] is True and two.data["scanned"] == 2
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert detail.status_code == 200
    assert (detail.data["parcel_count"], detail.data["weight_grams"]) == (2, 2 * PARCEL_GRAMS)
    assert [
        (p["tracking_number"], p["order"], p["order_status"], p["package"], p["packages"], p["scanned_out_by"])
        for p in detail.data["parcels"]
    ] == [
        (first, order.number, "shipped", 1, 2, "sam"),
        (second, order.number, "shipped", 2, 2, "sam"),
    ]
    parcel = detail.data["parcels"][0]
    assert (parcel["recipient_city"], parcel["recipient_country"], parcel["weight_grams"]) == (
        "Warsaw",
        "PL",
        PARCEL_GRAMS,
    )


def test_an_api_client_scanning_is_named_on_the_parcel() -> None:
    order = labelled_order()
    manifest = opened()
    created = make_api_client("dock-scanner", roles=["shipper"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")

    response = client.post(
        f"{API}/manifests/{manifest.number}/scan/", {"code": tracking_numbers(order)[0]}, format="json"
    )

    assert response.status_code == 200, response.data
    assert Label.objects.get().scanned_out_by == "api:dock-scanner"


def test_refused_scans_answer_with_a_code_and_a_sentence_and_change_nothing(shipper_client: APIClient) -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    other_carrier()
    fleet_manifest, post_manifest = opened(), opened("POST")
    shipper_client.post(f"{API}/manifests/{fleet_manifest.number}/scan/", {"code": first}, format="json")
    before = handover_state()

    calls = {
        "unknown": (fleet_manifest.number, "FL999999999PL"),
        "twice": (fleet_manifest.number, first),
        "other_carrier": (post_manifest.number, second),
        "no_manifest": ("MF-999999", second),
        "blank": (fleet_manifest.number, " "),
    }
    answers = {
        name: shipper_client.post(f"{API}/manifests/{number}/scan/", {"code": code}, format="json")
        for name, (number, code) in calls.items()
    }

    assert {name: (r.status_code, r.data["code"]) for name, r in answers.items()} == {
        "unknown": (404, "parcel_not_found"),
        "twice": (409, "parcel_already_scanned"),
        "other_carrier": (409, "parcel_other_carrier"),
        "no_manifest": (404, "manifest_not_found"),
        "blank": (400, "invalid"),
    }
    assert answers["twice"].data["extra"]["manifest"] == fleet_manifest.number
    assert answers["other_carrier"].data["extra"]["carrier"] == "FLEET"
    assert answers["other_carrier"].data["message"].startswith(f"Parcel {second} goes with City Fleet (FLEET)")
    assert handover_state() == before


def test_a_parcel_taken_off_by_mistake_and_a_shipped_one_refused(shipper_client: APIClient) -> None:
    two = labelled_order(boxes=2)
    one = labelled_order(sku="TEE")
    manifest = opened()
    base = f"{API}/manifests/{manifest.number}"
    for code in [tracking_numbers(two)[0], *tracking_numbers(one)]:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=code)

    taken_off = shipper_client.post(f"{base}/unscan/", {"code": tracking_numbers(two)[0]}, format="json")
    before = handover_state()
    shipped = shipper_client.post(f"{base}/unscan/", {"code": tracking_numbers(one)[0]}, format="json")

    assert taken_off.status_code == 200, taken_off.data
    assert (taken_off.data["scanned"], taken_off.data["shipped"]) == (0, False)
    assert shipped.status_code == 409 and shipped.data["code"] == "parcel_handed_over"
    assert handover_state() == before


# --- closing --------------------------------------------------------------------------------


def test_closing_answers_the_manifest_and_the_orders_not_all_out(shipper_client: APIClient) -> None:
    order = labelled_order(boxes=2)
    manifest = opened()
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(order)[0])

    response = shipper_client.post(f"{API}/manifests/{manifest.number}/close/")
    again = shipper_client.post(f"{API}/manifests/{manifest.number}/close/")
    scan = shipper_client.post(
        f"{API}/manifests/{manifest.number}/scan/", {"code": tracking_numbers(order)[1]}, format="json"
    )

    assert response.status_code == 200, response.data
    assert response.data["incomplete_orders"] == [order.number]
    assert response.data["message"].startswith(f"Manifest {manifest.number} closed: 1 parcel(s), 0.45 kg")
    assert (response.data["manifest"]["status"], response.data["manifest"]["closed_by"]) == ("closed", "sam")
    assert len(response.data["manifest"]["parcels"]) == 1
    assert (again.status_code, again.data["code"]) == (409, "manifest_closed")
    assert (scan.status_code, scan.data["code"]) == (409, "manifest_closed")


def test_an_empty_manifest_is_not_closed(shipper_client: APIClient) -> None:
    fleet()
    manifest = opened()

    response = shipper_client.post(f"{API}/manifests/{manifest.number}/close/")

    assert (response.status_code, response.data["code"]) == (409, "manifest_empty")
    assert Manifest.objects.get().status == "open"


# --- reading --------------------------------------------------------------------------------


def test_the_manifest_pdf_is_served_inline(shipper_client: APIClient) -> None:
    order = labelled_order()
    manifest = opened()
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(order)[0])

    response = shipper_client.get(f"{API}/manifests/{manifest.number.lower()}/pdf/")
    missing = shipper_client.get(f"{API}/manifests/MF-999999/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{manifest.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert (missing.status_code, missing.data["code"]) == (404, "manifest_not_found")


def test_the_list_filters_by_carrier_status_and_pickup_day(shipper_client: APIClient) -> None:
    order = labelled_order()
    other_carrier()
    tomorrow = timezone.localdate() + timedelta(days=1)
    closed, later, post = opened(), opened(pickup_date=tomorrow), opened("POST")
    handover.parcel_scan_out(actor=dock(), manifest_number=closed.number, code=tracking_numbers(order)[0])
    handover.manifest_close(actor=dock(), manifest_number=closed.number)

    def numbers(**params: str) -> list[str]:
        response = shipper_client.get(f"{API}/manifests/", params)
        assert response.status_code == 200, response.data
        return [m["number"] for m in response.data["results"]]

    assert numbers() == [post.number, later.number, closed.number]
    assert numbers(carrier="fleet") == [later.number, closed.number]
    assert numbers(status="closed") == [closed.number]
    assert numbers(pickup_date=tomorrow.isoformat()) == [later.number]
    listed = shipper_client.get(f"{API}/manifests/", {"status": "closed"}).data["results"][0]
    assert (listed["parcel_count"], listed["weight_grams"], listed["status"]) == (1, PARCEL_GRAMS, "closed")
    bad = shipper_client.get(f"{API}/manifests/", {"pickup_date": "soon"})
    assert bad.status_code == 400 and "pickup_date" in bad.data["fields"]


def list_queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(ctx.captured_queries)


def test_the_lists_cost_the_same_queries_however_many_rows(shipper_client: APIClient) -> None:
    first = labelled_order()
    manifest = opened()
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(first)[0])
    labelled_order(sku="TEE")
    few_manifests = list_queries(shipper_client, f"{API}/manifests/")
    few_parcels = list_queries(shipper_client, f"{API}/parcels/awaiting-pickup/")

    for n in range(1, 4):
        more = labelled_order(boxes=2, sku=f"CUP-{n}")
        extra = opened(pickup_date=timezone.localdate() + timedelta(days=n))
        handover.parcel_scan_out(actor=dock(), manifest_number=extra.number, code=tracking_numbers(more)[0])

    assert Manifest.objects.count() == 4
    assert list_queries(shipper_client, f"{API}/manifests/") == few_manifests
    assert list_queries(shipper_client, f"{API}/parcels/awaiting-pickup/") == few_parcels
    assert list_queries(shipper_client, f"{API}/manifests/{extra.number}/") <= few_manifests + 3


def test_parcels_awaiting_pickup_are_flagged_past_their_cut_off(shipper_client: APIClient) -> None:
    late = labelled_order()
    early = labelled_order(sku="TEE")
    Order.objects.filter(pk=late.pk).update(ship_by=date(2020, 1, 6))
    Order.objects.filter(pk=early.pk).update(ship_by=timezone.localdate() + timedelta(days=30))

    everything = shipper_client.get(f"{API}/parcels/awaiting-pickup/")
    overdue = shipper_client.get(f"{API}/parcels/awaiting-pickup/", {"overdue": "true"})
    on_time = shipper_client.get(f"{API}/parcels/awaiting-pickup/", {"overdue": "false", "carrier": "FLEET"})
    other = shipper_client.get(f"{API}/parcels/awaiting-pickup/", {"carrier": "POST"})
    bad = shipper_client.get(f"{API}/parcels/awaiting-pickup/", {"overdue": "maybe"})

    assert everything.status_code == 200, everything.data
    assert [(p["order"], p["overdue"]) for p in everything.data] == [(late.number, True), (early.number, False)]
    flagged = everything.data[0]
    assert flagged["tracking_number"] == tracking_numbers(late)[0]
    assert (flagged["carrier"], flagged["service"], flagged["leave_by"]) == ("FLEET", "STD", "2020-01-06")
    assert flagged["cutoff_at"].startswith("2020-01-06T15:00:00")
    assert flagged["overdue_seconds"] > 365 * 24 * 3600
    assert everything.data[1]["overdue_seconds"] == 0
    assert [p["order"] for p in overdue.data] == [late.number]
    assert [p["order"] for p in on_time.data] == [early.number]
    assert other.data == []
    assert bad.status_code == 400 and "overdue" in bad.data["fields"]


# --- who may call what ----------------------------------------------------------------------

# A = allowed (a 2xx answer), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint         picker  packer  shipper  support  manager  integrator  no_role  anonymous
manifest_list    F       A       A        A        A        A           F        U
manifest_detail  F       A       A        A        A        A           F        U
manifest_pdf     F       A       A        A        A        A           F        U
awaiting_pickup  F       A       A        A        A        A           F        U
manifest_open    F       F       A        F        A        F           F        U
manifest_scan    F       F       A        F        A        F           F        U
manifest_unscan  F       F       A        F        A        F           F        U
manifest_close   F       F       A        F        A        F           F        U
"""

ROLES, EXPECTED = parse_matrix(MATRIX)


def caller(role: str) -> APIClient:
    return client_for_role(role, lambda name: client_of(make_staff(name)))


Setup = Callable[[], tuple[str, dict[str, Any] | None]]


def _with_parcel(action: str) -> Setup:
    """A manifest with the first of an order's two parcels on it; the call takes the first off
    (unscan) or scans the second."""

    def setup() -> tuple[str, dict[str, Any] | None]:
        order = labelled_order(boxes=2)
        first, second = tracking_numbers(order)
        manifest = opened()
        handover.parcel_scan_out(actor=Actor.system("dock"), manifest_number=manifest.number, code=first)
        suffix = f"{action}/" if action else ""
        body = {"code": first if action == "unscan" else second} if action in ("scan", "unscan") else None
        return f"{API}/manifests/{manifest.number}/{suffix}", body

    return setup


def _open() -> tuple[str, dict[str, Any] | None]:
    fleet()
    return f"{API}/manifests/", {"carrier": "FLEET"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    setup: Setup
    view: type
    action: str


ENDPOINTS: dict[str, Endpoint] = {
    "manifest_list": Endpoint("get", lambda: (f"{API}/manifests/", None), ManifestViewSet, "list"),
    "manifest_detail": Endpoint("get", _with_parcel(""), ManifestViewSet, "retrieve"),
    "manifest_pdf": Endpoint("get", _with_parcel("pdf"), ManifestViewSet, "pdf"),
    "awaiting_pickup": Endpoint(
        "get", lambda: (f"{API}/parcels/awaiting-pickup/", None), ParcelAwaitingPickupViewSet, "list"
    ),
    "manifest_open": Endpoint("post", _open, ManifestViewSet, "create"),
    "manifest_scan": Endpoint("post", _with_parcel("scan"), ManifestViewSet, "scan"),
    "manifest_unscan": Endpoint("post", _with_parcel("unscan"), ManifestViewSet, "unscan"),
    "manifest_close": Endpoint("post", _with_parcel("close"), ManifestViewSet, "close"),
}


@pytest.mark.parametrize(("endpoint", "role"), sorted(EXPECTED))
def test_each_role_may_call_exactly_the_hand_over_endpoints_it_is_granted(endpoint: str, role: str) -> None:
    spec = ENDPOINTS[endpoint]
    path, body = spec.setup()
    client = caller(role)
    before = handover_state()

    response = getattr(client, spec.method)(path, body, format="json")

    expected = EXPECTED[(endpoint, role)]
    if expected == "A":
        assert 200 <= response.status_code < 300, getattr(response, "data", response.status_code)
    elif expected == "F":
        assert response.status_code == 403, response.data
        assert response.data["code"] == "permission_denied"
        assert handover_state() == before
    else:
        assert response.status_code == 401, response.data
        assert response.data["code"] == "not_authenticated"
        assert handover_state() == before


def test_the_matrix_covers_every_action_of_every_hand_over_endpoint() -> None:
    assert set(ROLES) == {"picker", "packer", "shipper", "support", "manager", "integrator", "no_role", "anonymous"}
    assert {endpoint for endpoint, _ in EXPECTED} == set(ENDPOINTS)
    assert {(spec.view, spec.action) for spec in ENDPOINTS.values()} == {
        (view, action)
        for view in (ManifestViewSet, ParcelAwaitingPickupViewSet)
        for action in view.required_permissions
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
