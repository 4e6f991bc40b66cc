"""The returns REST API: an integrator asks for a return on a customer's behalf, staff take it
from approval to refund through the action endpoints, each refusal answers its code and
writes nothing, who may call what, list filters, query counts, and the schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import StockLevel
from orders.enums import OrderStatus
from orders.models import Order
from returns.enums import ReturnStatus
from returns.models import Return
from returns.services import ReturnLineData, return_approve, return_reject, return_request
from tests.factories import SYSTEM, make_order
from tests.fulfillment.helpers import bin_
from tests.returns.helpers import delivered_order, returns_state

pytestmark = pytest.mark.django_db

R = ReturnStatus
RETURNS_URL = "/api/v1/returns/"
StaffClient = Callable[[str | None], APIClient]


def return_url(number: str, action: str | None = None) -> str:
    return f"{RETURNS_URL}{number}/" + (f"{action}/" if action else "")


def asked(order: Order, *lines: tuple[str, int, str]) -> Return:
    """A return asked for through the service, as the customer's status page does."""
    return return_request(
        actor=SYSTEM,
        order_number=order.number,
        lines=[ReturnLineData(sku, quantity, reason) for sku, quantity, reason in lines],
    )


def create_body(order: Order, *lines: tuple[str, int, str], **extra: Any) -> dict[str, Any]:
    return {
        "order": order.number,
        "lines": [{"sku": sku, "quantity": quantity, "reason": reason} for sku, quantity, reason in lines],
        **extra,
    }


def on_hand(code: str, sku: str) -> int:
    return StockLevel.objects.get(location__code=code, product__sku=sku).on_hand


# --- asking ---------------------------------------------------------------------------------


def test_an_integrator_asks_for_a_return_on_a_customers_behalf(integrator: APIClient) -> None:
    order = delivered_order()

    response = integrator.post(
        RETURNS_URL,
        create_body(order, ("MUG", 1, "damaged"), ("TEE", 1, "too_small"), comment="Handle broken"),
        format="json",
    )

    assert response.status_code == 201, response.data
    body = response.data
    ret = Return.objects.get()
    assert body["number"] == ret.number and response["Location"] == f"/api/v1/returns/{ret.number}/"
    assert (body["order"], body["status"], body["comment"]) == (order.number, "requested", "Handle broken")
    assert body["requested_by"] == {"kind": "api_client", "label": "api:shop-front"}
    assert [(li["sku"], li["quantity"], li["reason"], li["inspections"]) for li in body["lines"]] == [
        ("MUG", 1, "damaged", []),
        ("TEE", 1, "too_small", []),
    ]
    assert body["refund"] is None and body["refund_due"] == "0.00"
    assert body["allowed_transitions"] == ["approved", "cancelled", "rejected"]
    assert [(e["kind"], e["from"], e["to"], e["actor"]["kind"]) for e in body["events"]] == [
        ("status_changed", "", "requested", "api_client")
    ]
    assert (ret.status, ret.requested_by) == (R.REQUESTED, "api:shop-front")
    assert sorted(ret.lines.values_list("order_line__sku", "quantity", "reason")) == [
        ("MUG", 1, "damaged"),
        ("TEE", 1, "too_small"),
    ]


def test_a_return_of_an_order_not_delivered_answers_409_and_writes_nothing(integrator: APIClient) -> None:
    order = make_order(OrderStatus.PAID)
    before = returns_state()

    response = integrator.post(RETURNS_URL, create_body(order, ("TSHIRT-RED-M", 1, "damaged")), format="json")

    assert response.status_code == 409
    assert response.data["code"] == "return_not_allowed"
    assert "once the order has been delivered" in response.data["message"]
    assert response.data["extra"] == {"order": order.number, "status": "paid"}
    assert returns_state() == before


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        ([("MUG", 0, "damaged")], "lines.0.quantity", "Return at least one unit."),
        ([("MUG", 3, "damaged")], "lines.0.quantity", "Only 2 of 2 MUG can still be returned."),
        ([("SOCKS", 1, "damaged")], "lines.0.sku", "has no item SOCKS"),
        ([("MUG", 1, "bored")], "lines.0.reason", "bored is not one of: damaged"),
        ([], "lines", "Choose at least one item to return."),
    ],
)
def test_a_wrong_line_answers_400_naming_the_field_and_writes_nothing(
    integrator: APIClient, lines: list[tuple[str, int, str]], field: str, message: str
) -> None:
    order = delivered_order()
    before = returns_state()

    response = integrator.post(RETURNS_URL, create_body(order, *lines), format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert message in response.data["fields"][field][0]
    assert returns_state() == before


def test_an_unknown_order_answers_404(integrator: APIClient) -> None:
    response = integrator.post(
        RETURNS_URL,
        {"order": "OMS-999999", "lines": [{"sku": "MUG", "quantity": 1, "reason": "damaged"}]},
        format="json",
    )

    assert response.status_code == 404
    assert response.data["code"] == "order_not_found"


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_asking_late_without_the_permission_answers_403_and_writes_nothing(integrator: APIClient) -> None:
    order = delivered_order(days_ago=20)
    before = returns_state()

    response = integrator.post(RETURNS_URL, create_body(order, ("MUG", 1, "damaged"), allow_late=True), format="json")

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert "after the return window closed" in response.data["message"]
    assert returns_state() == before


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_after_the_window_only_a_caller_allowed_late_returns_may_ask(
    integrator: APIClient, staff_client: StaffClient
) -> None:
    order = delivered_order(days_ago=20)

    refused = integrator.post(RETURNS_URL, create_body(order, ("MUG", 1, "damaged")), format="json")
    allowed = staff_client("manager").post(
        RETURNS_URL, create_body(order, ("MUG", 1, "damaged"), allow_late=True), format="json"
    )

    assert refused.status_code == 409 and refused.data["code"] == "return_window_closed"
    assert allowed.status_code == 201 and allowed.data["requested_by"]["kind"] == "staff"


# --- handling -------------------------------------------------------------------------------


def test_staff_take_a_return_from_approval_to_refund(integrator: APIClient, staff_client: StaffClient) -> None:
    # Given a return an integrator asked for, and an empty bin for returned goods
    order = delivered_order({"MUG": 2, "TEE": 1})
    number = integrator.post(RETURNS_URL, create_body(order, ("MUG", 2, "damaged")), format="json").data["number"]
    bin_("R-01", 90)
    support = staff_client("support")

    # When support approves it, receives the parcel, restocks one mug, scraps one and refunds
    approved = support.post(return_url(number, "approve"), {"note": "Send it back"}, format="json")
    received = support.post(return_url(number, "receive"), {}, format="json")
    restocked = support.post(
        return_url(number, "inspect"), {"sku": "MUG", "outcome": "restock", "location": "R-01"}, format="json"
    )
    scrapped = support.post(
        return_url(number, "inspect"), {"sku": "MUG", "outcome": "scrap", "note": "Cracked"}, format="json"
    )
    due = scrapped.data["refund_due"]
    refunded = support.post(
        return_url(number, "refund"), {"amount": due, "method": "card", "reference": "re_42"}, format="json"
    )

    # Then each step answers the return as it now is
    assert [r.status_code for r in (approved, received, restocked, scrapped, refunded)] == [200] * 5
    assert [r.data["status"] for r in (approved, received, restocked, scrapped, refunded)] == [
        "approved",
        "received",
        "received",
        "inspected",
        "refunded",
    ]
    body = refunded.data
    assert due == "40.00" and body["refund_due"] == "40.00"
    assert body["refund"] == {"amount": "40.00", "currency": "EUR", "method": "card", "reference": "re_42"}
    [line] = body["lines"]
    assert (line["quantity_received"], [(i["outcome"], i["location"], i["note"]) for i in line["inspections"]]) == (
        2,
        [("restock", "R-01", ""), ("scrap", None, "Cracked")],
    )
    moves = [(e["from"], e["to"]) for e in body["events"] if e["kind"] == "status_changed"]
    assert moves == [
        ("", "requested"),
        ("requested", "approved"),
        ("approved", "received"),
        ("received", "inspected"),
        ("inspected", "refunded"),
    ]
    assert [e["data"]["outcome"] for e in body["events"] if e["kind"] == "unit_inspected"] == ["restock", "scrap"]
    assert {e["actor"]["kind"] for e in body["events"][1:]} == {"staff"}
    # And the restocked mug is back in stock, the order refunded (and still delivered: the tee was kept)
    assert on_hand("R-01", "MUG") == 1
    order.refresh_from_db()
    assert (order.amount_refunded, order.status) == (Decimal("40.00"), OrderStatus.EXECUTED)


def test_an_unknown_bin_answers_400_naming_location_and_changes_nothing(staff_client: StaffClient) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    support = staff_client("support")
    support.post(return_url(ret.number, "approve"), {}, format="json")
    support.post(return_url(ret.number, "receive"), {}, format="json")
    before = returns_state()

    response = support.post(
        return_url(ret.number, "inspect"), {"sku": "MUG", "outcome": "restock", "location": "NOPE-9"}, format="json"
    )

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["fields"] == {"location": ["No bin with code NOPE-9; check the label on the bin."]}
    assert returns_state() == before


def test_receiving_more_than_was_asked_for_names_the_sku(staff_client: StaffClient) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    return_approve(actor=SYSTEM, number=ret.number)
    before = returns_state()

    response = staff_client("shipper").post(return_url(ret.number, "receive"), {"received": {"MUG": 2}}, format="json")

    assert response.status_code == 400
    assert list(response.data["fields"]) == ["received.MUG"]
    assert returns_state() == before


def test_a_move_the_status_does_not_allow_answers_409_and_changes_nothing(staff_client: StaffClient) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    return_reject(actor=SYSTEM, number=ret.number, reason="Bought in a store")
    before = returns_state()

    response = staff_client("support").post(return_url(ret.number, "approve"), {}, format="json")

    assert response.status_code == 409
    assert response.data["code"] == "return_transition_not_allowed"
    assert response.data["extra"]["status"] == "rejected" and response.data["extra"]["allowed"] == []
    assert returns_state() == before


def test_rejecting_needs_a_reason(staff_client: StaffClient) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    before = returns_state()

    response = staff_client("support").post(return_url(ret.number, "reject"), {}, format="json")

    assert response.status_code == 400
    assert "reason" in response.data["fields"]
    assert returns_state() == before


def test_an_unknown_return_answers_404(integrator: APIClient, staff_client: StaffClient) -> None:
    read = integrator.get(return_url("RMA-999999"))
    approve = staff_client("support").post(return_url("RMA-999999", "approve"), {}, format="json")

    assert (read.status_code, read.data["code"]) == (404, "return_not_found")
    assert (approve.status_code, approve.data["code"]) == (404, "return_not_found")


# --- who may call what ----------------------------------------------------------------------


def test_a_picker_may_not_list_returns(staff_client: StaffClient) -> None:
    response = staff_client("picker").get(RETURNS_URL)

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"


def test_an_anonymous_caller_is_asked_to_authenticate() -> None:
    listed = APIClient().get(RETURNS_URL)
    created = APIClient().post(RETURNS_URL, {}, format="json")

    assert (listed.status_code, listed.data["code"]) == (401, "not_authenticated")
    assert created.status_code == 401


@pytest.mark.parametrize("action", ["approve", "reject", "receive", "inspect", "refund"])
def test_an_integrator_may_not_handle_returns(integrator: APIClient, action: str) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    before = returns_state()

    response = integrator.post(return_url(ret.number, action), {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert returns_state() == before


@pytest.mark.parametrize(("role", "code"), [("integrator", 200), ("shipper", 403), ("support", 200), ("picker", 403)])
def test_whoever_asks_for_or_handles_returns_may_cancel_one(
    integrator: APIClient, staff_client: StaffClient, role: str, code: int
) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    client = integrator if role == "integrator" else staff_client(role)

    response = client.post(return_url(ret.number, "cancel"), {"reason": "Kept it after all"}, format="json")

    assert response.status_code == code
    expected = R.CANCELLED if code == 200 else R.REQUESTED
    assert Return.objects.get(pk=ret.pk).status == expected


# --- the list -------------------------------------------------------------------------------


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.data
    return [r["number"] for r in response.data["results"]]


def test_the_list_is_newest_first_and_filters_by_status_order_and_time(integrator: APIClient) -> None:
    first_order, second_order = delivered_order({"MUG": 2}), delivered_order({"MUG": 2})
    old = asked(first_order, ("MUG", 1, "damaged"))
    Return.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    rejected = asked(first_order, ("MUG", 1, "too_large"))
    return_reject(actor=SYSTEM, number=rejected.number, reason="Used")
    other = asked(second_order, ("MUG", 2, "damaged"))
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    assert numbers(integrator.get(RETURNS_URL)) == [other.number, rejected.number, old.number]
    assert numbers(integrator.get(RETURNS_URL, {"status": "requested"})) == [other.number, old.number]
    assert numbers(integrator.get(RETURNS_URL, {"status": ["rejected", "cancelled"]})) == [rejected.number]
    assert numbers(integrator.get(RETURNS_URL, {"order": first_order.number})) == [rejected.number, old.number]
    assert numbers(integrator.get(RETURNS_URL, {"created_before": yesterday})) == [old.number]
    assert numbers(integrator.get(RETURNS_URL, {"created_after": yesterday})) == [other.number, rejected.number]
    assert integrator.get(RETURNS_URL).data["results"][0]["lines"] == [
        {
            "sku": "MUG",
            "name": second_order.lines.get().name,
            "quantity": 2,
            "reason": "damaged",
            "quantity_received": 0,
        }
    ]


def test_an_unknown_status_filter_answers_400(integrator: APIClient) -> None:
    response = integrator.get(RETURNS_URL, {"status": "lost"})

    assert response.status_code == 400
    assert "status" in response.data["fields"]


def test_the_list_is_paged_by_cursor(integrator: APIClient) -> None:
    order = delivered_order({"MUG": 3})
    made = [asked(order, ("MUG", 1, "damaged")) for _ in range(3)]

    page1 = integrator.get(RETURNS_URL, {"page_size": 2})
    page2 = integrator.get(page1.data["next"])

    assert numbers(page1) + numbers(page2) == [r.number for r in reversed(made)]
    assert page2.data["next"] is None


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_listing_costs_the_same_few_queries_for_1_and_7_returns(
    integrator: APIClient, django_assert_max_num_queries: Any
) -> None:
    # Given one return (and a first request, which also stamps the key's last use)
    asked(delivered_order({"MUG": 1}), ("MUG", 1, "damaged"))
    integrator.get(RETURNS_URL)
    with_1 = _queries(integrator, RETURNS_URL)

    # When there are seven, six of them with two lines, of another order
    order = delivered_order({"MUG": 6, "TEE": 6})
    for _ in range(6):
        asked(order, ("MUG", 1, "damaged"), ("TEE", 1, "too_small"))

    # Then listing them costs the same few queries
    # The key, the caller's permissions (two), the page of returns with their orders, their lines.
    with django_assert_max_num_queries(5):
        response = integrator.get(RETURNS_URL)
    assert len(response.data["results"]) == 7
    assert _queries(integrator, RETURNS_URL) == with_1


def test_the_detail_costs_the_same_few_queries_however_many_lines_inspections_and_events(
    staff_client: StaffClient, django_assert_max_num_queries: Any
) -> None:
    # Given a return just asked for, and one of two lines with every unit inspected
    small = asked(delivered_order({"MUG": 1}), ("MUG", 1, "damaged"))
    order = delivered_order({"MUG": 3, "TEE": 2})
    big = asked(order, ("MUG", 3, "damaged"), ("TEE", 2, "too_small"))
    bin_("R-01", 90)
    support = staff_client("support")
    for action, body in [
        ("approve", {}),
        ("receive", {}),
        ("inspect", {"sku": "MUG", "outcome": "restock", "location": "R-01", "quantity": 3}),
        ("inspect", {"sku": "TEE", "outcome": "scrap", "note": "Torn", "quantity": 2}),
    ]:
        assert support.post(return_url(big.number, action), body, format="json").status_code == 200

    # When both are read, then they cost the same few queries
    small_queries = _queries(support, return_url(small.number))
    with django_assert_max_num_queries(10):  # session, user, permissions; the return, lines, inspections, ...
        big_body = support.get(return_url(big.number)).data
    assert len(big_body["events"]) == 6 and sum(len(li["inspections"]) for li in big_body["lines"]) == 5
    assert _queries(support, return_url(big.number)) == small_queries


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_documents_every_returns_endpoint_and_its_error_codes() -> None:
    schema = yaml.safe_load(APIClient().get("/api/v1/schema/").content)
    operations = {
        ("get", "/api/v1/returns/"): [],
        ("post", "/api/v1/returns/"): ["return_not_allowed", "return_window_closed", "permission_denied"],
        ("get", "/api/v1/returns/{number}/"): ["return_not_found"],
        ("post", "/api/v1/returns/{number}/approve/"): ["return_transition_not_allowed"],
        ("post", "/api/v1/returns/{number}/reject/"): ["return_transition_not_allowed"],
        ("post", "/api/v1/returns/{number}/cancel/"): ["return_transition_not_allowed"],
        ("post", "/api/v1/returns/{number}/receive/"): ["return_transition_not_allowed"],
        ("post", "/api/v1/returns/{number}/inspect/"): ["nothing_left_to_inspect"],
        ("post", "/api/v1/returns/{number}/refund/"): ["refund_exceeds_payments", "refund_reference_in_use"],
    }

    for (method, path), codes in operations.items():
        operation = schema["paths"][path][method]
        assert operation["summary"] and operation["description"], (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
        errors = " ".join(a["description"] for s, a in operation["responses"].items() if s.startswith("4"))
        for code in codes:
            assert f"`{code}`" in errors, (method, path, code)
    assert "status" not in schema["components"]["schemas"]["ReturnCreateInputRequest"]["properties"]


def test_a_shipper_receives_and_inspects_but_neither_decides_nor_refunds(staff_client: StaffClient) -> None:
    ret = asked(delivered_order(), ("MUG", 1, "damaged"))
    shipper = staff_client("shipper")
    before = returns_state()

    refused = [
        shipper.post(return_url(ret.number, a), {"reason": "x"}, format="json").status_code
        for a in ("approve", "reject")
    ]

    assert refused == [403, 403]
    assert returns_state() == before
    return_approve(actor=SYSTEM, number=ret.number)
    assert shipper.post(return_url(ret.number, "receive"), {}, format="json").status_code == 200
