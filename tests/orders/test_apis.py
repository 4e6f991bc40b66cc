"""The orders REST API: placing orders, idempotency, validation, every lifecycle move through the
action endpoints (allowed and refused), payments, lists, detail and query counts."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Product
from oms.common.actors import ActorKind
from oms.common.models import IdempotencyKey
from orders import transitions
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Address, Order, OrderEvent, OrderLine, Payment
from tests.factories import ProductFactory, make_api_client, make_order, order_payload, stock_up
from tests.fulfillment.helpers import packed_at_station

pytestmark = pytest.mark.django_db

S = OrderStatus
ORDERS_URL = "/api/v1/orders/"
NUMBER_RE = re.compile(r"^OMS-\d{6,}$")


# --- helpers --------------------------------------------------------------------------------


def order_url(number: str, action: str | None = None) -> str:
    return f"{ORDERS_URL}{number}/" + (f"{action}/" if action else "")


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def row_counts() -> dict[str, int]:
    """How many rows each table the orders API writes to holds."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "addresses": Address.objects.count(),
        "events": OrderEvent.objects.count(),
        "payments": Payment.objects.count(),
        "idempotency_keys": IdempotencyKey.objects.count(),
    }


def order_state(number: str) -> dict[str, Any]:
    """Everything a refused request must leave alone on one order."""
    order = Order.objects.get(number=number)
    return {
        "status": order.status,
        "updated_at": order.updated_at,
        "amount_paid": order.amount_paid,
        "events": order.events.count(),
        "payments": order.payments.count(),
    }


def pay_body(amount: Decimal | str, reference: str, **extra: Any) -> dict[str, Any]:
    return {"amount": str(amount), "method": "card", "reference": reference, **extra}


@pytest.fixture
def catalogue(product: Product, shipping_method: Any) -> None:
    """The product and shipping method the contract body names."""


# --- placing an order -----------------------------------------------------------------------


def test_placing_an_order_answers_201_with_a_readable_number(integrator, catalogue) -> None:
    # When
    response = integrator.post(ORDERS_URL, order_payload(), format="json")

    # Then
    assert response.status_code == 201, response.data
    assert NUMBER_RE.match(response.data["number"])
    assert Order.objects.filter(number=response.data["number"]).exists()


def test_a_placed_order_starts_unhandled(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(), format="json")

    assert response.data["status"] == "unhandled"
    assert response.data["allowed_transitions"] == ["cancelled", "paid"]


def test_the_total_is_computed_by_the_server(integrator, catalogue) -> None:
    # Given the contract body: 2 x 29.90 plus standard shipping at 4.99
    # When
    response = integrator.post(ORDERS_URL, order_payload(), format="json")

    # Then
    assert response.data["subtotal"] == "59.80"
    assert response.data["shipping_price"] == "4.99"
    assert response.data["total"] == "64.79"
    assert response.data["balance_due"] == "64.79"
    assert response.data["amount_paid"] == "0.00"
    assert Order.objects.get(number=response.data["number"]).total == Decimal("64.79")


def test_a_total_sent_by_the_client_is_ignored(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(total="0.01", subtotal="0.01"), format="json")

    assert response.status_code == 201
    assert response.data["total"] == "64.79"


def test_order_lines_snapshot_the_catalogue_name_and_price(integrator, catalogue, product) -> None:
    # When
    response = integrator.post(ORDERS_URL, order_payload(), format="json")
    # And the catalogue changes afterwards
    Product.objects.filter(pk=product.pk).update(name="Renamed", price=Decimal("99.00"))

    # Then the order keeps what was sold
    expected = [
        {
            "sku": "TSHIRT-RED-M",
            "name": "T-shirt red M",
            "unit_price": "29.90",
            "quantity": 2,
            "line_total": "59.80",
            "quantity_allocated": 2,
            "quantity_short": 0,
        }
    ]
    assert response.data["lines"] == expected
    detail = integrator.get(order_url(response.data["number"]))
    assert detail.data["lines"] == expected


def test_the_channel_shipping_price_replaces_the_method_price(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(shipping_price="0.00"), format="json")

    assert response.status_code == 201
    assert response.data["shipping_price"] == "0.00"
    assert response.data["total"] == "59.80"


def test_the_channel_line_price_replaces_the_catalogue_price(integrator, catalogue) -> None:
    payload = order_payload(lines=[{"sku": "TSHIRT-RED-M", "quantity": 2, "unit_price": "25.00"}])

    response = integrator.post(ORDERS_URL, payload, format="json")

    assert response.data["lines"][0]["unit_price"] == "25.00"
    assert response.data["total"] == "54.99"


def test_the_billing_address_defaults_to_the_shipping_address(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(), format="json")

    assert response.data["billing_address"] == response.data["shipping_address"]
    assert response.data["shipping_address"]["city"] == "Warsaw"
    assert response.data["shipping_address"]["country"] == "PL"
    order = Order.objects.get(number=response.data["number"])
    assert order.billing_address_id == order.shipping_address_id


def test_a_different_billing_address_is_kept(integrator, catalogue) -> None:
    billing = {"name": "Ann Lee Ltd", "line1": "Office 5", "city": "Krakow", "postal_code": "30-001", "country": "PL"}

    response = integrator.post(ORDERS_URL, order_payload(billing_address=billing), format="json")

    assert response.status_code == 201
    assert response.data["billing_address"]["city"] == "Krakow"
    assert response.data["shipping_address"]["city"] == "Warsaw"


def test_placing_an_order_answers_with_its_location(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(), format="json")

    assert response["Location"] == f"/api/v1/orders/{response.data['number']}/"
    assert integrator.get(response["Location"]).status_code == 200


def test_the_placement_answer_is_the_order_as_stored(integrator, catalogue) -> None:
    # Given an order placed with a separate billing address and three lines
    ProductFactory(sku="CAP-BLACK", price=Decimal("19.50"))
    ProductFactory(sku="MUG-LOGO", price=Decimal("12.00"))
    stock_up("CAP-BLACK", 5)
    stock_up("MUG-LOGO", 5)
    body = order_payload(
        lines=[
            {"sku": "TSHIRT-RED-M", "quantity": 2},
            {"sku": "CAP-BLACK", "quantity": 1},
            {"sku": "MUG-LOGO", "quantity": 3, "unit_price": "11.5"},
        ],
        billing_address={**order_payload()["shipping_address"], "name": "Ann Lee Ltd", "country": "de"},
    )
    placed = integrator.post(ORDERS_URL, body, format="json")

    # When the client reads it back
    stored = integrator.get(f"{ORDERS_URL}{placed.data['number']}/")

    # Then the answer to the placement (built without reading back) is exactly what is stored
    assert placed.status_code == 201
    assert placed.json() == stored.json()


def test_placing_an_order_records_a_created_event_by_the_api_client(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(), format="json")

    events = response.data["events"]
    assert [e["kind"] for e in events] == ["created"]
    assert events[0]["to_status"] == "unhandled"
    assert events[0]["actor"] == {"kind": "api_client", "label": "api:shop-front"}


def test_a_status_in_the_create_body_is_ignored(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(status="shipped"), format="json")

    assert response.status_code == 201
    assert response.data["status"] == "unhandled"
    assert Order.objects.get(number=response.data["number"]).status == S.UNHANDLED


# --- Idempotency-Key ------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_returns_the_first_order(integrator, catalogue) -> None:
    # Given an order placed with a key
    body = order_payload()
    first = integrator.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first

    # When the client retries the same request
    retry = integrator.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # Then it gets the same order back, marked as a replay, and nothing new is written
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.data["number"] == first.data["number"]
    assert retry["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert OrderEvent.objects.count() == 1


def test_the_same_key_with_a_different_body_answers_422(integrator, catalogue) -> None:
    # Given
    body = order_payload()
    integrator.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    before = row_counts()
    changed = copy.deepcopy(body)
    changed["lines"][0]["quantity"] = 3

    # When
    response = integrator.post(ORDERS_URL, changed, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # Then
    assert response.status_code == 422
    assert response.data["code"] == "idempotency_key_reused"
    assert response.data["extra"] == {"idempotency_key": "key-1"}
    assert row_counts() == before


def test_the_same_key_with_an_invalid_different_body_still_answers_422(integrator, catalogue) -> None:
    # The key check comes first, so the client learns it reused a key, not about the body.
    integrator.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    before = row_counts()

    response = integrator.post(ORDERS_URL, {"channel": "nowhere"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 422
    assert response.data["code"] == "idempotency_key_reused"
    assert row_counts() == before


def test_idempotency_keys_belong_to_each_api_client(integrator, catalogue) -> None:
    # Given the integrator used a key
    first = integrator.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared-key")
    other = key_client(make_api_client("marketplace").raw_key)

    # When another client sends its own request with the same key
    second = other.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="shared-key")

    # Then it gets its own, new order
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.data["number"] != first.data["number"]
    assert Order.objects.count() == 2


def test_a_key_longer_than_255_characters_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert "Idempotency-Key" in response.data["fields"]
    assert row_counts() == before


def test_a_key_of_255_characters_is_accepted(integrator, catalogue) -> None:
    response = integrator.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)

    assert response.status_code == 201


def test_a_blank_key_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="   ")

    assert response.status_code == 400
    assert "Idempotency-Key" in response.data["fields"]
    assert row_counts() == before


def test_a_retry_with_the_same_body_in_another_key_order_is_a_replay(integrator, catalogue) -> None:
    # Given
    body = order_payload()
    first = integrator.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # When the retry serialises the same object with its keys in another order
    reordered = dict(reversed(list(body.items())))
    retry = integrator.post(ORDERS_URL, reordered, format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # Then it is recognised as the same request
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.data["number"] == first.data["number"]
    assert Order.objects.count() == 1


def test_a_key_is_not_used_up_by_a_request_that_failed(integrator, catalogue) -> None:
    # Given a request refused for an unknown SKU
    bad = order_payload(lines=[{"sku": "NO-SUCH-SKU", "quantity": 1}])
    assert integrator.post(ORDERS_URL, bad, format="json", HTTP_IDEMPOTENCY_KEY="key-1").status_code == 400

    # When the client fixes the body and sends it with the same key
    response = integrator.post(ORDERS_URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    # Then the order is placed
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


# --- validation -----------------------------------------------------------------------------


def test_every_bad_field_is_named_with_its_dotted_path(integrator, catalogue) -> None:
    # Given three bad fields at different depths
    payload = order_payload(lines=[{"sku": "TSHIRT-RED-M", "quantity": 0}])
    payload["customer"]["email"] = "not-an-email"
    payload["shipping_address"]["country"] = "XX"
    before = row_counts()

    # When
    response = integrator.post(ORDERS_URL, payload, format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["fields"]) == {"lines.0.quantity", "customer.email", "shipping_address.country"}
    assert all(response.data["fields"][name] for name in response.data["fields"])
    assert "lines.0.quantity" in response.data["message"]
    assert row_counts() == before


def test_an_empty_body_names_every_required_field(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, {}, format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert {"channel", "customer", "shipping_address", "lines", "shipping_method"} <= set(response.data["fields"])
    assert row_counts() == before


def test_an_unknown_sku_names_its_line(integrator, catalogue) -> None:
    # Given the second line names a SKU the catalogue does not have
    payload = order_payload(lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}, {"sku": "NO-SUCH-SKU", "quantity": 1}])
    before = row_counts()

    # When
    response = integrator.post(ORDERS_URL, payload, format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "unknown_sku"
    assert set(response.data["fields"]) == {"lines.1.sku"}
    assert "NO-SUCH-SKU" in response.data["fields"]["lines.1.sku"][0]
    assert row_counts() == before


def test_an_inactive_product_cannot_be_ordered(integrator, catalogue) -> None:
    ProductFactory(sku="OLD-1", is_active=False)
    payload = order_payload(lines=[{"sku": "OLD-1", "quantity": 1}])
    before = row_counts()

    response = integrator.post(ORDERS_URL, payload, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"lines.0.sku"}
    assert row_counts() == before


def test_an_unknown_shipping_method_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, order_payload(shipping_method="teleport"), format="json")

    assert response.status_code == 400
    assert response.data["code"] == "unknown_shipping_method"
    assert set(response.data["fields"]) == {"shipping_method"}
    assert "standard" in response.data["message"]  # tells the client what it can use
    assert row_counts() == before


def test_the_same_sku_on_two_lines_answers_400(integrator, catalogue) -> None:
    payload = order_payload(lines=[{"sku": "TSHIRT-RED-M", "quantity": 1}, {"sku": "TSHIRT-RED-M", "quantity": 2}])
    before = row_counts()

    response = integrator.post(ORDERS_URL, payload, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"lines.1.sku"}
    assert row_counts() == before


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", ""])
def test_a_malformed_currency_answers_400(integrator, catalogue, currency: str) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, order_payload(currency=currency), format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["fields"]) == {"currency"}
    assert row_counts() == before


def test_an_order_without_lines_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, order_payload(lines=[]), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"lines"}
    assert row_counts() == before


@pytest.mark.parametrize("quantity", [0, -1, "two", None])
def test_a_line_quantity_must_be_a_positive_whole_number(integrator, catalogue, quantity: Any) -> None:
    before = row_counts()

    response = integrator.post(
        ORDERS_URL, order_payload(lines=[{"sku": "TSHIRT-RED-M", "quantity": quantity}]), format="json"
    )

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"lines.0.quantity"}
    assert row_counts() == before


def test_an_unknown_channel_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, order_payload(channel="carrier-pigeon"), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"channel"}
    assert row_counts() == before


def test_a_reused_external_reference_in_the_same_channel_answers_409(integrator, catalogue) -> None:
    # Given an order with reference WEB-1 from the web shop
    first = integrator.post(ORDERS_URL, order_payload(external_reference="WEB-1"), format="json")
    before = row_counts()

    # When another order arrives with the same reference
    response = integrator.post(ORDERS_URL, order_payload(external_reference="WEB-1"), format="json")

    # Then it is refused and points at the existing order
    assert response.status_code == 409
    assert response.data["code"] == "duplicate_external_reference"
    assert response.data["extra"]["number"] == first.data["number"]
    assert row_counts() == before


def test_the_same_external_reference_in_another_channel_is_accepted(integrator, catalogue) -> None:
    integrator.post(ORDERS_URL, order_payload(external_reference="REF-1", channel="web"), format="json")

    response = integrator.post(
        ORDERS_URL, order_payload(external_reference="REF-1", channel="marketplace"), format="json"
    )

    assert response.status_code == 201
    assert Order.objects.filter(external_reference="REF-1").count() == 2


def test_orders_without_external_reference_do_not_clash(integrator, catalogue) -> None:
    integrator.post(ORDERS_URL, order_payload(external_reference=""), format="json")

    response = integrator.post(ORDERS_URL, order_payload(external_reference=""), format="json")

    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_malformed_json_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, data='{"channel": "web",', content_type="application/json")

    assert response.status_code == 400
    assert response.data["code"] == "malformed_request"
    assert response.data["message"]
    assert row_counts() == before


def test_a_json_array_body_answers_400(integrator, catalogue) -> None:
    before = row_counts()

    response = integrator.post(ORDERS_URL, data="[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert row_counts() == before


# --- every allowed move through the action endpoints ---------------------------------------

# The action endpoint that performs each move: by target status, except where one target has two
# endpoints (paid is reached by paying an unhandled order, or by aborting picking).
ACTION_FOR_TARGET = {
    S.CANCELLED: "cancel",
    S.PICKING: "start-picking",
    S.PACKED: "pack",
    S.SHIPPED: "ship",
    S.EXECUTED: "execute",
    S.RETURNED: "return",
}
ACTION_FOR_MOVE = {(S.UNHANDLED, S.PAID): "payments", (S.PICKING, S.PAID): "abort-picking"}
TRANSITION_ACTIONS = ["cancel", "start-picking", "abort-picking", "pack", "ship", "execute", "return"]


def action_for(from_status: str, to_status: str) -> str:
    return ACTION_FOR_MOVE.get((from_status, to_status)) or ACTION_FOR_TARGET[to_status]


ALLOWED_MOVES = sorted((f, t) for f, exits in transitions.TRANSITIONS.items() for t in exits)
ENDPOINT_MOVES = {(f, action_for(f, t)) for f, t in ALLOWED_MOVES}
# An endpoint is refused from every status where it does not perform one of the table's moves.
# Note abort-picking: its target (paid) is reachable from unhandled, but only by paying, so
# aborting the picking of an order that is not being picked must be refused too.
REFUSED = [(s, a) for s in S.values for a in TRANSITION_ACTIONS if (s, a) not in ENDPOINT_MOVES]


def action_body(action: str, order: Order) -> dict[str, Any]:
    if action == "payments":
        return pay_body(order.total, f"psp-{order.number}")
    if action == "cancel":
        return {"reason": "customer changed their mind"}
    return {}


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED_MOVES)
def test_every_allowed_move_is_made_by_its_action_endpoint(integrator, from_status: str, to_status: str) -> None:
    # Given an order in the move's starting status (one to pack was packed at a station first:
    # the pack action completes that packing)
    action = action_for(from_status, to_status)
    order = packed_at_station(make_order(S.PAID)) if action == "pack" else make_order(from_status)

    # When the endpoint that performs the move is called
    response = integrator.post(order_url(order.number, action), action_body(action, order), format="json")

    # Then the order is in the new status, stamped, and the move is audited as the API client's
    assert response.status_code == (201 if action == "payments" else 200), response.data
    order.refresh_from_db()
    assert order.status == to_status
    stamp = transitions.STAMP_FIELD[to_status]
    assert getattr(order, stamp) is not None
    event = order.events.filter(kind=OrderEventKind.STATUS_CHANGED).latest("created_at", "id")
    assert (event.from_status, event.to_status) == (from_status, to_status)
    assert event.actor_kind == ActorKind.API_CLIENT
    assert event.actor_label == "api:shop-front"
    if action == "payments":
        assert response.data["order"]["status"] == to_status
    else:
        assert response.data["status"] == to_status
        assert response.data[stamp] is not None
        assert response.data["events"][-1]["from_status"] == from_status
        assert response.data["events"][-1]["to_status"] == to_status
        assert response.data["events"][-1]["actor"]["kind"] == "api_client"
        assert response.data["allowed_transitions"] == sorted(transitions.allowed_from(to_status))


def test_a_transition_note_is_kept_in_the_timeline(integrator) -> None:
    order = make_order(S.PAID)

    response = integrator.post(order_url(order.number, "start-picking"), {"note": "rack 4"}, format="json")

    assert response.status_code == 200
    # The order's own pick list is named before the note.
    assert re.fullmatch(r"pick list PL-\d{6}: rack 4", response.data["events"][-1]["note"])


def test_cancelling_keeps_the_reason(integrator) -> None:
    order = make_order(S.UNHANDLED)

    response = integrator.post(order_url(order.number, "cancel"), {"reason": "fraud suspected"}, format="json")

    assert response.data["cancel_reason"] == "fraud suspected"
    assert response.data["events"][-1]["note"] == "fraud suspected"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_cancelling_without_a_reason_answers_400(integrator, body: dict[str, Any]) -> None:
    order = make_order(S.UNHANDLED)
    before = order_state(order.number)

    response = integrator.post(order_url(order.number, "cancel"), body, format="json")

    assert response.status_code == 400
    assert "reason" in response.data["fields"]
    assert order_state(order.number) == before


# --- every refused move ---------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_an_action_not_allowed_from_the_status_answers_409(integrator, status: str, action: str) -> None:
    # Given an order in a status from which this endpoint cannot move it
    order = make_order(status)
    before = order_state(order.number)

    # When
    response = integrator.post(order_url(order.number, action), action_body(action, order), format="json")

    # Then it is refused, saying the current status, and nothing changed
    assert response.status_code == 409, response.data
    assert response.data["code"] == "transition_not_allowed"
    assert response.data["extra"]["status"] == status
    assert response.data["extra"]["allowed"] == sorted(transitions.allowed_from(status))
    assert response.data["message"]
    assert order_state(order.number) == before


@pytest.mark.parametrize("status", [S.PAID, S.PICKING, S.PACKED, S.SHIPPED, S.EXECUTED])
def test_a_payment_on_an_order_past_payment_is_recorded_without_moving_it(integrator, status: str) -> None:
    # Given an order that is already paid and further along
    order = make_order(status)
    moves = order.events.filter(kind=OrderEventKind.STATUS_CHANGED).count()

    # When more money arrives
    response = integrator.post(order_url(order.number, "payments"), pay_body("5.00", "extra-1"), format="json")

    # Then it is recorded and the order stays where it is
    assert response.status_code == 201
    order.refresh_from_db()
    assert order.status == status
    assert order.amount_paid == Decimal("39.89")
    assert order.events.filter(kind=OrderEventKind.STATUS_CHANGED).count() == moves


@pytest.mark.parametrize("status", [S.CANCELLED, S.RETURNED])
def test_a_payment_on_a_closed_order_answers_409(integrator, status: str) -> None:
    order = make_order(status)
    before = order_state(order.number)

    response = integrator.post(order_url(order.number, "payments"), pay_body("10.00", "late-1"), format="json")

    assert response.status_code == 409
    assert response.data["code"] == "order_not_payable"
    assert response.data["extra"]["status"] == status
    assert order_state(order.number) == before


@pytest.mark.parametrize("action", ["payments", *TRANSITION_ACTIONS])
def test_an_action_on_an_unknown_order_answers_404(integrator, action: str) -> None:
    body = pay_body("1.00", "x") if action == "payments" else {"reason": "x"}

    response = integrator.post(order_url("OMS-999999", action), body, format="json")

    assert response.status_code == 404
    assert response.data["code"] == "order_not_found"


# --- payments -------------------------------------------------------------------------------


def test_an_underpayment_is_recorded_and_the_order_waits(integrator) -> None:
    # Given an unhandled order of 34.89 EUR
    order = make_order(S.UNHANDLED)
    assert order.total == Decimal("34.89")

    # When 10.00 is paid
    response = integrator.post(order_url(order.number, "payments"), pay_body("10.00", "psp-1"), format="json")

    # Then the payment is recorded but the order stays unhandled, and the timeline says why
    assert response.status_code == 201
    assert response.data["amount"] == "10.00"
    assert response.data["order"] == {
        "number": order.number,
        "status": "unhandled",
        "total": "34.89",
        "amount_paid": "10.00",
        "balance_due": "24.89",
    }
    order.refresh_from_db()
    assert order.status == S.UNHANDLED
    assert order.paid_at is None
    event = order.events.latest("created_at", "id")
    assert event.kind == OrderEventKind.PAYMENT_RECORDED
    assert "underpaid" in event.note.lower()
    assert "24.89" in event.note


def test_two_payments_covering_the_total_make_the_order_paid(integrator) -> None:
    # Given a first part-payment
    order = make_order(S.UNHANDLED)
    integrator.post(order_url(order.number, "payments"), pay_body("20.00", "psp-1"), format="json")

    # When the rest arrives
    response = integrator.post(order_url(order.number, "payments"), pay_body("14.89", "psp-2"), format="json")

    # Then
    assert response.status_code == 201
    assert response.data["order"]["status"] == "paid"
    assert response.data["order"]["balance_due"] == "0.00"
    order.refresh_from_db()
    assert order.status == S.PAID
    assert order.amount_paid == Decimal("34.89")
    assert order.payments.count() == 2


def test_a_payment_in_the_order_currency_is_accepted(integrator) -> None:
    order = make_order(S.UNHANDLED)

    response = integrator.post(
        order_url(order.number, "payments"), pay_body("34.89", "psp-1", currency="EUR"), format="json"
    )

    assert response.status_code == 201
    assert response.data["currency"] == "EUR"


def test_a_repeated_payment_reference_on_the_same_order_changes_nothing(integrator) -> None:
    # Given a recorded payment
    order = make_order(S.UNHANDLED)
    first = integrator.post(order_url(order.number, "payments"), pay_body("10.00", "psp-1"), format="json")
    before = order_state(order.number)

    # When the provider's notification is delivered again
    again = integrator.post(order_url(order.number, "payments"), pay_body("10.00", "psp-1"), format="json")

    # Then the same payment is returned and nothing is recorded twice
    assert again.status_code == 200
    assert again.data["id"] == first.data["id"]
    assert again.data["order"]["amount_paid"] == "10.00"
    assert order_state(order.number) == before


def test_a_payment_reference_of_another_order_answers_409(integrator) -> None:
    # Given a reference already recorded for one order
    paid = make_order(S.UNHANDLED)
    integrator.post(order_url(paid.number, "payments"), pay_body("10.00", "psp-1"), format="json")
    other = make_order(S.UNHANDLED)
    before = order_state(other.number)

    # When the same reference is sent for another order
    response = integrator.post(order_url(other.number, "payments"), pay_body("10.00", "psp-1"), format="json")

    # Then
    assert response.status_code == 409
    assert response.data["code"] == "payment_reference_in_use"
    assert order_state(other.number) == before
    assert Payment.objects.count() == 1


def test_a_payment_in_another_currency_answers_400(integrator) -> None:
    order = make_order(S.UNHANDLED)
    before = order_state(order.number)

    response = integrator.post(
        order_url(order.number, "payments"), pay_body("34.89", "psp-1", currency="USD"), format="json"
    )

    assert response.status_code == 400
    assert response.data["code"] == "currency_mismatch"
    assert set(response.data["fields"]) == {"currency"}
    assert order_state(order.number) == before


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "abc"])
def test_a_payment_amount_must_be_positive(integrator, amount: str) -> None:
    order = make_order(S.UNHANDLED)
    before = order_state(order.number)

    response = integrator.post(order_url(order.number, "payments"), pay_body(amount, "psp-1"), format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["fields"]) == {"amount"}
    assert order_state(order.number) == before


def test_a_payment_needs_a_known_method_and_a_reference(integrator) -> None:
    order = make_order(S.UNHANDLED)
    before = order_state(order.number)

    response = integrator.post(
        order_url(order.number, "payments"), {"amount": "5.00", "method": "barter"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"method", "reference"}
    assert order_state(order.number) == before


# --- lists ----------------------------------------------------------------------------------


def numbers(response: Any) -> list[str]:
    return [row["number"] for row in response.data["results"]]


def test_the_list_shows_orders_newest_first(integrator) -> None:
    older, newer = make_order(), make_order()

    response = integrator.get(ORDERS_URL)

    assert response.status_code == 200
    assert numbers(response) == [newer.number, older.number]
    assert response.data["results"][0]["customer"]["email"] == "ann@example.com"


def test_the_list_filters_by_one_status(integrator) -> None:
    make_order(S.UNHANDLED)
    paid = make_order(S.PAID)

    response = integrator.get(ORDERS_URL, {"status": "paid"})

    assert numbers(response) == [paid.number]


def test_the_status_filter_can_be_repeated(integrator) -> None:
    make_order(S.UNHANDLED)
    paid, cancelled = make_order(S.PAID), make_order(S.CANCELLED)

    response = integrator.get(f"{ORDERS_URL}?status=paid&status=cancelled")

    assert set(numbers(response)) == {paid.number, cancelled.number}


def test_an_unknown_status_filter_answers_400(integrator) -> None:
    response = integrator.get(ORDERS_URL, {"status": "lost"})

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert "status" in response.data["fields"]


def test_a_created_after_offset_beyond_postgresqls_range_is_compared_in_utc(integrator) -> None:
    # Given an order placed now, and the same instant an hour earlier written with a +22:00
    # offset (valid ISO 8601, beyond the ±15:59 PostgreSQL takes)
    order = make_order()
    an_hour_ago = (order.created_at - timedelta(hours=1)).astimezone(timezone.get_fixed_timezone(22 * 60))

    # When
    response = integrator.get(ORDERS_URL, {"created_after": an_hour_ago.isoformat()})

    # Then
    assert response.status_code == 200, response.data
    assert numbers(response) == [order.number]


def test_a_created_after_before_year_1_in_utc_answers_400(integrator) -> None:
    response = integrator.get(ORDERS_URL, {"created_after": "0001-01-01T00:00:00+01:00"})

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["fields"]["created_after"] == ["Enter a date and time between the years 1 and 9999 in UTC."]


def test_a_cursor_the_list_did_not_give_out_answers_400(integrator) -> None:
    response = integrator.get(ORDERS_URL, {"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert response.data["code"] == "invalid_cursor"
    assert set(response.data["fields"]) == {"cursor"}


def test_the_list_filters_by_channel(integrator) -> None:
    make_order(channel="web")
    phone = make_order(channel="phone")

    response = integrator.get(ORDERS_URL, {"channel": "phone"})

    assert numbers(response) == [phone.number]


def test_the_list_filters_by_customer_email_ignoring_case(integrator) -> None:
    make_order(email="ann@example.com")
    bob = make_order(email="bob@example.com")

    response = integrator.get(ORDERS_URL, {"customer_email": "BOB@example.com"})

    assert numbers(response) == [bob.number]


def test_the_list_filters_by_creation_time(integrator) -> None:
    # Given orders created three, two and one days ago
    now = timezone.now()
    orders = [make_order() for _ in range(3)]
    for days, order in zip((3, 2, 1), orders, strict=True):
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(days=days))

    # When asking for the window between them
    response = integrator.get(
        ORDERS_URL,
        {
            "created_after": (now - timedelta(days=2, hours=1)).isoformat(),
            "created_before": (now - timedelta(hours=36)).isoformat(),
        },
    )

    # Then only the middle one is listed
    assert numbers(response) == [orders[1].number]


def test_the_list_can_be_ordered_oldest_first(integrator) -> None:
    first, second, third = make_order(), make_order(), make_order()

    response = integrator.get(ORDERS_URL, {"ordering": "created_at"})

    assert numbers(response) == [first.number, second.number, third.number]


def test_the_list_is_paged_by_cursor(integrator) -> None:
    # Given three orders and pages of two
    made = [make_order() for _ in range(3)]

    # When the client follows the next link
    page1 = integrator.get(ORDERS_URL, {"page_size": 2})
    page2 = integrator.get(page1.data["next"])

    # Then it sees every order once, newest first, and the last page has no next link
    assert len(page1.data["results"]) == 2
    assert page1.data["next"]
    assert "cursor=" in page1.data["next"]
    assert page2.data["next"] is None
    assert numbers(page1) + numbers(page2) == [o.number for o in reversed(made)]


def test_the_page_size_is_capped(integrator) -> None:
    make_order()

    response = integrator.get(ORDERS_URL, {"page_size": 100000})

    assert response.status_code == 200
    assert len(response.data["results"]) == 1


def _placement_queries(client: APIClient, body: dict[str, Any], key: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.data
    return len(ctx.captured_queries)


def test_placing_an_order_costs_the_same_queries_for_1_and_3_lines(integrator, catalogue) -> None:
    # Given three stocked SKUs (and a first request, which also stamps the key's last use)
    for sku in ("MUG-1", "CAP-1"):
        stock_up(sku, 10)
    integrator.post(ORDERS_URL, order_payload(), format="json")
    three_lines = [
        {"sku": "TSHIRT-RED-M", "quantity": 1},
        {"sku": "MUG-1", "quantity": 2},
        {"sku": "CAP-1", "quantity": 1},
    ]

    # When an order of one line and one of three are placed with an Idempotency-Key
    one = _placement_queries(integrator, order_payload(), "key-one")
    three = _placement_queries(integrator, order_payload(lines=three_lines), "key-three")

    # Then both cost the same 21 statements: API key, permissions; then the
    # transaction (a savepoint and its release here, inside the test's) with the key claim,
    # shipping method, products, address, number, order, lines, event, outbox
    # messages, the key's completion, and last the stock: lock and re-check, reservations,
    # counters, ledger, allocations, reorder rules. The relay after commit does not run here.
    assert one == three == 21


def _list_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(ORDERS_URL)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_listing_costs_the_same_queries_for_3_and_30_orders(integrator) -> None:
    # Given three orders (and a first request, which also stamps the key's last use)
    for _ in range(3):
        make_order(S.PAID)
    integrator.get(ORDERS_URL)
    with_3 = _list_queries(integrator)

    # When there are thirty
    for _ in range(27):
        make_order(S.PAID)
    with_30 = _list_queries(integrator)

    # Then listing them costs the same
    assert len(integrator.get(ORDERS_URL).data["results"]) == 30
    assert with_30 == with_3
    assert with_3 <= 6


def test_listing_as_staff_costs_the_same_queries_for_3_and_30_orders(staff_client) -> None:
    client = staff_client("manager")
    for _ in range(3):
        make_order()
    with_3 = _list_queries(client)
    for _ in range(27):
        make_order()

    assert _list_queries(client) == with_3


# --- detail ---------------------------------------------------------------------------------


def test_the_detail_has_lines_payments_events_and_allowed_transitions(integrator) -> None:
    order = make_order(S.PAID)

    response = integrator.get(order_url(order.number))

    assert response.status_code == 200
    data = response.data
    assert data["number"] == order.number
    assert data["status"] == "paid"
    assert [line["sku"] for line in data["lines"]] == ["TSHIRT-RED-M"]
    assert [(p["reference"], p["amount"]) for p in data["payments"]] == [(f"card-{order.number}", "34.89")]
    assert [e["kind"] for e in data["events"]] == ["created", "payment_recorded", "status_changed"]
    assert data["allowed_transitions"] == ["cancelled", "picking"]
    assert data["shipping_address"]["postal_code"] == "00-001"


def test_a_final_order_allows_no_transitions(integrator) -> None:
    order = make_order(S.RETURNED)

    response = integrator.get(order_url(order.number))

    assert response.data["allowed_transitions"] == []


def _detail_queries(client: APIClient, number: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(order_url(number))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_detail_costs_the_same_queries_however_many_lines_and_events(integrator) -> None:
    # Given a small order (one line, one event) and a big one (six lines, a payment, six moves)
    small = make_order(S.UNHANDLED)
    big = make_order(S.RETURNED, skus=("A-1", "A-2", "A-3", "A-4", "A-5", "A-6"))
    integrator.get(order_url(small.number))  # stamps the key's last use

    # When both are read
    small_queries = _detail_queries(integrator, small.number)
    big_queries = _detail_queries(integrator, big.number)

    # Then they cost the same
    assert big.lines.count() == 6
    assert big.events.count() > 5
    assert big_queries == small_queries


def test_an_unknown_order_number_answers_404(integrator) -> None:
    response = integrator.get(order_url("OMS-999999"))

    assert response.status_code == 404
    assert response.data["code"] == "order_not_found"
    assert "OMS-999999" in response.data["message"]


def test_an_order_number_in_a_shape_never_issued_answers_the_json_404(integrator) -> None:
    # Every API error, a bad address included, has the documented {"code", "message"} shape.
    response = integrator.get(order_url("OMS%20000001"))

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] in {"not_found", "order_not_found"}


# --- no writable status ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_order_cannot_be_changed_by_patch_or_put(integrator, method: str) -> None:
    # Given
    order = make_order(S.UNHANDLED)
    before = order_state(order.number)

    # When a client tries to write the status directly
    response = getattr(integrator, method)(order_url(order.number), {"status": "shipped"}, format="json")

    # Then the method is not allowed and the order is untouched
    assert response.status_code == 405, response.data
    assert response.data["code"] == "method_not_allowed"
    assert order_state(order.number) == before


def test_an_order_cannot_be_deleted(integrator) -> None:
    order = make_order(S.UNHANDLED)
    before = order_state(order.number)

    response = integrator.delete(order_url(order.number))

    assert response.status_code == 405
    assert order_state(order.number) == before


def test_a_status_sent_to_an_action_endpoint_is_ignored(integrator) -> None:
    # Given a paid order
    order = make_order(S.PAID)

    # When start-picking is sent with another status in the body
    response = integrator.post(order_url(order.number, "start-picking"), {"status": "executed"}, format="json")

    # Then the endpoint makes its own move only
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == S.PICKING


def test_a_status_sent_with_a_payment_is_ignored(integrator) -> None:
    order = make_order(S.UNHANDLED)

    response = integrator.post(
        order_url(order.number, "payments"), pay_body("1.00", "psp-1", status="shipped"), format="json"
    )

    assert response.status_code == 201
    order.refresh_from_db()
    assert order.status == S.UNHANDLED
