"""The carriers' tracking webhook over HTTP: signatures, refusals that store nothing, the answer,
and its place in the OpenAPI schema."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from orders.enums import OrderStatus
from orders.models import Order, OrderEvent
from shipping.enums import ShipmentStatus
from shipping.enums import TrackingStatus as T
from shipping.models import Carrier, Label, Shipment, ShipmentEvent, TrackingEvent
from tests.factories import make_staff
from tests.shipping.test_tracking import SECRET, T0, detail, easypost_body, event, numbers, own_body, shipped

pytestmark = pytest.mark.django_db

URL = "/api/v1/carriers/{code}/tracking-events/"
_addresses = itertools.count(1)


@pytest.fixture
def address() -> Iterator[str]:
    """A client address of this test alone, so the per-address limit (counted in Redis,
    which other tests and runs share) starts from zero and is left clean."""
    addr = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{next(_addresses) % 250 + 1}"
    yield addr
    cache.delete(f"throttle_tracking_webhook_{addr}")


@pytest.fixture
def carrier_client(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def post(client: APIClient, body: bytes, headers: dict[str, str] | None = None, code: str = "FLEET") -> Any:
    return client.generic("POST", URL.format(code=code), body, content_type="application/json", headers=headers or {})


def oms_signature(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-OMS-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def state() -> dict[str, Any]:
    """Everything a tracking call could write, to show a refusal changed nothing."""
    return {
        "tracking_events": TrackingEvent.objects.count(),
        "labels": sorted(Label.objects.values_list("pk", "tracking_status", "last_event_at")),
        "shipments": sorted(
            Shipment.objects.values_list(
                "pk", "status", "tracking_status", "last_event_at", "stale_since", "updated_at"
            )
        ),
        "shipment_events": ShipmentEvent.objects.count(),
        "orders": sorted(Order.objects.values_list("number", "status", "updated_at")),
        "order_events": OrderEvent.objects.count(),
    }


@pytest.fixture
def delivery() -> tuple[Order, bytes]:
    """A shipped order and a body reporting its parcel delivered."""
    order = shipped()
    [number] = numbers(order)
    return order, own_body(event(number, "delivered", T0 + timedelta(days=1), event_id="pod-1"))


# --- accepted -------------------------------------------------------------------------------


def test_a_signed_delivery_is_recorded_and_answered_per_event(
    carrier_client: APIClient, delivery: tuple[Order, bytes]
) -> None:
    # Given a shipped order and a signed body reporting it delivered
    order, body = delivery
    [number] = numbers(order)

    # When the carrier posts it
    response = post(carrier_client, body, oms_signature(body))

    # Then
    assert response.status_code == 200, response.content
    assert response.json() == {
        "carrier": "FLEET",
        "source": "own",
        "message": "1 event(s): 1 stored, 0 already known, 0 for tracking numbers of no parcel of carrier FLEET.",
        "stored": 1,
        "duplicates": 0,
        "unknown": 0,
        "results": [
            {
                "index": 0,
                "tracking_number": number,
                "status": "delivered",
                "occurred_at": "2026-03-03T08:00:00Z",
                "result": "stored",
            }
        ],
    }
    assert TrackingEvent.objects.get().status == T.DELIVERED
    assert Shipment.objects.get(order=order).status == ShipmentStatus.DELIVERED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


def test_the_same_call_sent_again_answers_200_with_duplicate(
    carrier_client: APIClient, delivery: tuple[Order, bytes]
) -> None:
    _order, body = delivery
    post(carrier_client, body, oms_signature(body))
    before = state()

    response = post(carrier_client, body, oms_signature(body))

    assert response.status_code == 200
    assert [r["result"] for r in response.json()["results"]] == ["duplicate"]
    assert state() == before


def test_an_unknown_tracking_number_is_answered_200_per_event(carrier_client: APIClient) -> None:
    shipped()
    body = own_body(event("FL999999995PL", "in_transit", T0))

    response = post(carrier_client, body, oms_signature(body))

    assert response.status_code == 200
    assert response.json()["unknown"] == 1
    assert response.json()["results"][0]["result"] == "unknown_tracking_number"
    assert not TrackingEvent.objects.exists()


def test_an_easypost_event_is_accepted_with_easypost_s_own_signature(carrier_client: APIClient) -> None:
    # Given a carrier whose secret changes under NFKD normalisation ("ﬁ" becomes "fi"), as
    # EasyPost's secrets are normalised before they sign
    order = shipped()
    [number] = numbers(order)
    Carrier.objects.filter(code="FLEET").update(webhook_secret="ﬁeld-secret")
    body = easypost_body(
        number,
        detail("pre_transit", "2026-03-02T09:12:00Z", "Shipping label created", "label_created"),
        detail("out_for_delivery", "2026-03-03T07:10:00Z", "Out for delivery", "out_for_delivery", city="Warsaw"),
    )
    digest = hmac.new(b"field-secret", body, hashlib.sha256).hexdigest()

    # When EasyPost posts it
    response = post(carrier_client, body, {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"})

    # Then
    assert response.status_code == 200, response.content
    assert response.json()["source"] == "easypost"
    assert [(r["status"], r["result"]) for r in response.json()["results"]] == [
        ("label_created", "stored"),
        ("out_for_delivery", "stored"),
    ]
    assert Shipment.objects.get(order=order).tracking_status == T.OUT_FOR_DELIVERY


def test_a_wrong_easypost_signature_is_refused(carrier_client: APIClient) -> None:
    order = shipped()
    body = easypost_body(numbers(order)[0], detail("delivered", "2026-03-03T07:10:00Z", "Delivered"))
    before = state()
    digest = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()

    response = post(carrier_client, body, {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"})

    assert response.status_code == 401
    assert state() == before


def test_a_logged_in_browser_session_needs_no_csrf_token(address: str, delivery: tuple[Order, bytes]) -> None:
    # Given a client that enforces CSRF, with a staff session
    _order, body = delivery
    client = APIClient(enforce_csrf_checks=True, REMOTE_ADDR=address)
    client.force_login(make_staff("manager"))

    response = post(client, body, oms_signature(body))

    assert response.status_code == 200


# --- refused: nothing stored ----------------------------------------------------------------


def test_a_wrong_signature_answers_401_and_stores_nothing(
    carrier_client: APIClient, delivery: tuple[Order, bytes]
) -> None:
    # Given a body signed with another secret
    _order, body = delivery
    before = state()

    # When
    response = post(carrier_client, body, oms_signature(body, secret="guessed"))

    # Then
    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert "X-OMS-Signature: sha256=<hex>" in response.json()["message"]
    assert response["WWW-Authenticate"] == 'HMAC-SHA256 header="X-OMS-Signature"'
    assert state() == before


def test_a_body_changed_after_signing_answers_401(carrier_client: APIClient, delivery: tuple[Order, bytes]) -> None:
    _order, body = delivery
    before = state()

    response = post(carrier_client, body.replace(b"delivered", b"in_transit"), oms_signature(body))

    assert response.status_code == 401
    assert state() == before


def test_a_missing_signature_answers_401_and_stores_nothing(
    carrier_client: APIClient, delivery: tuple[Order, bytes]
) -> None:
    _order, body = delivery
    before = state()

    response = post(carrier_client, body)

    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert state() == before


def test_an_unknown_carrier_answers_exactly_as_a_bad_signature(
    carrier_client: APIClient, delivery: tuple[Order, bytes]
) -> None:
    _order, body = delivery
    before = state()
    bad_signature = post(carrier_client, body, oms_signature(body, secret="guessed"))

    unknown = post(carrier_client, body, oms_signature(body), code="NOSUCH")

    assert (unknown.status_code, unknown.json()) == (bad_signature.status_code, bad_signature.json())
    assert state() == before


def test_a_carrier_without_a_secret_refuses_every_call(
    carrier_client: APIClient, delivery: tuple[Order, bytes]
) -> None:
    # Given the carrier's secret was cleared, and a body "signed" with the empty secret
    _order, body = delivery
    Carrier.objects.filter(code="FLEET").update(webhook_secret="")
    before = state()

    response = post(carrier_client, body, oms_signature(body, secret=""))

    assert response.status_code == 401
    assert response.json()["code"] == "signature_invalid"
    assert state() == before


def test_a_body_that_is_not_json_answers_400_and_stores_nothing(carrier_client: APIClient) -> None:
    shipped()
    body = b'{"events": [{"tracking_number": "FL'
    before = state()

    response = post(carrier_client, body, oms_signature(body))

    assert response.status_code == 400
    assert response.json()["code"] == "payload_invalid"
    assert response.json()["fields"]["body"][0].startswith("The body is not JSON")
    assert state() == before


def test_a_body_nested_too_deeply_answers_400_not_a_server_error(carrier_client: APIClient) -> None:
    shipped()
    body = b"[" * 100_000 + b"]" * 100_000
    before = state()

    response = post(carrier_client, body, oms_signature(body))

    assert response.status_code == 400
    assert response.json()["code"] == "payload_invalid"
    assert state() == before


def test_a_body_of_neither_shape_answers_400_saying_what_is_expected(carrier_client: APIClient) -> None:
    shipped()
    body = json.dumps({"tracking_number": "FL000000017PL", "status": "delivered"}).encode()

    response = post(carrier_client, body, oms_signature(body))

    assert response.status_code == 400
    assert response.json()["code"] == "payload_invalid"
    assert '{"events": [...]}' in response.json()["message"]


def test_one_bad_event_refuses_the_whole_call(carrier_client: APIClient) -> None:
    # Given a call with a good event and one with a status outside the vocabulary
    order = shipped()
    [number] = numbers(order)
    body = own_body(event(number, "in_transit", T0), event(number, "lost_in_space", T0))
    before = state()

    response = post(carrier_client, body, oms_signature(body))

    assert response.status_code == 400
    assert "events[1].status" in response.json()["fields"]["body"][0]
    assert state() == before


def test_get_is_not_allowed(carrier_client: APIClient) -> None:
    response = carrier_client.get(URL.format(code="FLEET"))

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@override_settings(
    REST_FRAMEWORK={
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"tracking_webhook": "2/min"},
    }
)
def test_calls_beyond_the_limit_from_one_address_answer_429(carrier_client: APIClient) -> None:
    body = own_body(event("FL999999995PL", "in_transit", T0))

    answers = [post(carrier_client, body, oms_signature(body)).status_code for _ in range(3)]

    assert answers == [401, 401, 429]


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_documents_the_webhook_and_its_answers() -> None:
    schema = yaml.safe_load(APIClient().get("/api/v1/schema/").content)

    operation = schema["paths"]["/api/v1/carriers/{code}/tracking-events/"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "429"}
    assert "`signature_invalid`" in operation["responses"]["401"]["description"]
    assert "`payload_invalid`" in operation["responses"]["400"]["description"]
    assert {p["name"] for p in operation["parameters"]} == {"code", "X-OMS-Signature", "X-Hmac-Signature"}
    assert len(operation["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 2
    assert operation["security"] == [{}]
    assert "get" not in schema["paths"]["/api/v1/carriers/{code}/tracking-events/"]
