"""The webhook REST API: subscriptions (the secret shown only on create and rotate), each API
client seeing its own; deliveries with their attempts log and redelivery of dead ones;
events; who may do what; and list pages whose query count does not grow with rows."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.apis.deliveries import WebhookDeliveryViewSet, WebhookEventViewSet
from notifications.apis.subscriptions import WebhookSubscriptionViewSet
from notifications.enums import DeliveryState, WebhookEventType
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.services import webhooks
from oms.common.models import ApiClient, OutboxMessage
from tests.factories import make_api_client
from tests.permission_matrix import client_for_role, parse_matrix

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions/"
DELIVERIES = "/api/v1/webhooks/deliveries/"
EVENTS = "/api/v1/webhooks/events/"
_seq = count(1)


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "ERP production",
        "url": "https://erp.example.com/oms-webhooks",
        "event_types": ["order.created", "payment.received"],
        **overrides,
    }


def key_client(name: str) -> tuple[APIClient, ApiClient]:
    created = make_api_client(name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw_key}")
    return client, created.client


def subscription_of(owner: ApiClient | None = None, **kw: Any) -> WebhookSubscription:
    return webhooks.webhook_subscription_create(
        name=kw.get("name", "ERP"),
        url="https://erp.example.com/hooks",
        event_types=kw.get("types", list(WebhookEventType.values)),
        api_client=owner,
    )


def delivery_to(
    subscription: WebhookSubscription,
    *,
    state: str = DeliveryState.PENDING,
    attempts: int = 0,
    type: str = WebhookEventType.ORDER_CREATED,
) -> WebhookDelivery:
    """An event published to the subscription, its delivery set to ``state`` with
    ``attempts`` logged 500s."""
    n = next(_seq)
    event = webhooks.webhook_event_publish(
        webhooks.EventSpec(type, f"{type}:test:{n}", timezone.now(), {"order": {"number": f"OMS-{n}"}})
    )
    delivery = WebhookDelivery.objects.get(event=event, subscription=subscription)
    now = timezone.now()
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(
            delivery=delivery,
            number=i,
            attempted_at=now,
            status_code=500,
            duration_ms=12,
            response_excerpt="boom",
            error="The receiver answered 500.",
        )
        for i in range(1, attempts + 1)
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        attempts=attempts,
        last_status_code=500 if attempts else None,
        dead_at=now if state == DeliveryState.DEAD else None,
    )
    return WebhookDelivery.objects.get(pk=delivery.pk)


def subscriptions_state() -> list[tuple[Any, ...]]:
    fields = ("pk", "name", "url", "event_types", "secret", "is_active")
    return list(WebhookSubscription.objects.order_by("pk").values_list(*fields))


def deliveries_state() -> list[tuple[Any, ...]]:
    return list(WebhookDelivery.objects.order_by("pk").values_list("pk", "state", "redeliveries", "dead_at"))


# --- subscriptions --------------------------------------------------------------------------


def test_an_integrator_subscribes_and_sees_the_secret_only_in_the_answer(integrator: APIClient) -> None:
    response = integrator.post(SUBSCRIPTIONS, body(), format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    stored = WebhookSubscription.objects.select_related("api_client").get()
    assert created["secret"] == stored.secret and stored.secret.startswith("whsec_")
    assert response["Location"] == f"{SUBSCRIPTIONS}{stored.pk}/"
    assert created["api_client"] == stored.api_client.name == "shop-front"
    assert created["event_types"] == ["order.created", "payment.received"]
    assert created["is_active"] is True
    listed = integrator.get(SUBSCRIPTIONS).json()["results"]
    detail = integrator.get(f"{SUBSCRIPTIONS}{stored.pk}/").json()
    assert [s["id"] for s in listed] == [stored.pk]
    assert "secret" not in listed[0] and "secret" not in detail
    assert stored.secret not in str(listed) + str(detail)


def test_an_integrator_changes_pauses_rotates_and_deletes_its_subscription(integrator: APIClient) -> None:
    sid = integrator.post(SUBSCRIPTIONS, body(), format="json").json()["id"]
    old_secret = WebhookSubscription.objects.get().secret

    patched = integrator.patch(
        f"{SUBSCRIPTIONS}{sid}/", {"event_types": ["stock.low"], "is_active": False}, format="json"
    )
    rotated = integrator.post(f"{SUBSCRIPTIONS}{sid}/rotate-secret/")

    assert patched.status_code == 200
    assert (patched.json()["event_types"], patched.json()["is_active"]) == (["stock.low"], False)
    assert patched.json()["name"] == "ERP production"  # left alone: not sent
    assert "secret" not in patched.json()
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret and WebhookSubscription.objects.get().secret == new_secret

    deleted = integrator.delete(f"{SUBSCRIPTIONS}{sid}/")

    assert deleted.status_code == 204
    assert WebhookSubscription.objects.count() == 0


def test_put_is_not_offered_only_patch(integrator: APIClient) -> None:
    sid = integrator.post(SUBSCRIPTIONS, body(), format="json").json()["id"]
    before = subscriptions_state()

    response = integrator.put(f"{SUBSCRIPTIONS}{sid}/", body(name="Other"), format="json")

    assert response.status_code == 405
    assert subscriptions_state() == before


def test_an_api_client_sees_only_its_own_subscriptions_and_staff_see_all(staff_client: Callable) -> None:
    mine, me = key_client("erp")
    _theirs, them = key_client("marketplace")
    own = subscription_of(me, name="mine")
    other = subscription_of(them, name="theirs")
    by_staff = subscription_of(None, name="staff")
    before = subscriptions_state()

    listed = [s["id"] for s in mine.get(SUBSCRIPTIONS).json()["results"]]
    other_detail = mine.get(f"{SUBSCRIPTIONS}{other.pk}/")
    other_patch = mine.patch(f"{SUBSCRIPTIONS}{other.pk}/", {"name": "taken over"}, format="json")
    other_delete = mine.delete(f"{SUBSCRIPTIONS}{other.pk}/")
    other_rotate = mine.post(f"{SUBSCRIPTIONS}{by_staff.pk}/rotate-secret/")
    manager = [s["id"] for s in staff_client("manager").get(SUBSCRIPTIONS).json()["results"]]

    assert listed == [own.pk]
    assert [r.status_code for r in (other_detail, other_patch, other_delete, other_rotate)] == [404] * 4
    assert other_detail.json()["code"] == "not_found"
    assert subscriptions_state() == before
    assert manager == [own.pk, other.pk, by_staff.pk]


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"url": "ftp://erp.example.com/"}, "webhook_url_invalid", "url"),
        ({"url": "https://"}, "webhook_url_invalid", "url"),
        ({"event_types": ["order.created", "order.deleted"]}, "unknown_event_type", "event_types"),
        ({"event_types": []}, "unknown_event_type", "event_types"),
        ({"event_types": "order.created"}, "invalid", "event_types"),
        ({"name": ""}, "invalid", "name"),
    ],
)
def test_a_refused_subscription_answers_400_with_the_code_and_writes_nothing(
    integrator: APIClient, change: dict[str, Any], code: str, field: str
) -> None:
    response = integrator.post(SUBSCRIPTIONS, body(**change), format="json")

    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == code
    assert field in answer["fields"]
    assert WebhookSubscription.objects.count() == 0


def test_an_unknown_event_type_is_named_with_the_allowed_ones(integrator: APIClient) -> None:
    response = integrator.post(SUBSCRIPTIONS, body(event_types=["order.created", "order.deleted"]), format="json")

    answer = response.json()
    assert answer["extra"] == {"unknown": ["order.deleted"], "allowed": list(WebhookEventType.values)}
    assert "order.deleted" in answer["message"]
    assert answer["fields"]["event_types"] == ["Unknown event type: order.deleted"]


def test_a_refused_change_writes_nothing(integrator: APIClient) -> None:
    sid = integrator.post(SUBSCRIPTIONS, body(), format="json").json()["id"]
    before = subscriptions_state()

    response = integrator.patch(
        f"{SUBSCRIPTIONS}{sid}/", {"name": "Renamed", "url": "mailto:ops@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_url_invalid"
    assert subscriptions_state() == before


# --- deliveries and events ------------------------------------------------------------------


def test_deliveries_list_with_their_attempts_and_filter(integrator: APIClient) -> None:
    owner = ApiClient.objects.get(name="shop-front")
    subscription = subscription_of(owner)
    dead = delivery_to(subscription, state=DeliveryState.DEAD, attempts=3)
    pending = delivery_to(subscription, attempts=1, type=WebhookEventType.STOCK_LOW)

    everything = integrator.get(DELIVERIES).json()["results"]
    dead_only = integrator.get(DELIVERIES, {"state": "dead"}).json()["results"]
    stock = integrator.get(DELIVERIES, {"event_type": "stock.low"}).json()["results"]
    by_event = integrator.get(DELIVERIES, {"event": str(dead.event.event_id)}).json()["results"]
    detail = integrator.get(f"{DELIVERIES}{dead.pk}/").json()

    assert [d["id"] for d in everything] == [pending.pk, dead.pk]
    assert [d["id"] for d in dead_only] == [dead.pk]
    assert [d["id"] for d in stock] == [pending.pk]
    assert [d["id"] for d in by_event] == [dead.pk]
    assert detail["state"] == "dead" and detail["subscription"] == subscription.pk
    assert detail["event"]["id"] == str(dead.event.event_id)
    assert detail["event"]["type"] == "order.created"
    assert [(a["number"], a["status_code"], a["duration_ms"]) for a in detail["attempts_log"]] == [
        (1, 500, 12),
        (2, 500, 12),
        (3, 500, 12),
    ]
    assert detail["attempts_log"][0]["response_excerpt"] == "boom"


def test_a_bad_delivery_filter_answers_400(integrator: APIClient) -> None:
    response = integrator.get(DELIVERIES, {"state": "lost"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "state" in response.json()["fields"]


def test_an_api_client_sees_only_the_deliveries_to_its_subscriptions() -> None:
    mine, me = key_client("erp")
    _theirs, them = key_client("marketplace")
    own = delivery_to(subscription_of(me, types=["order.created"]))
    other = delivery_to(subscription_of(them, types=["stock.low"]), type=WebhookEventType.STOCK_LOW)

    listed = [d["id"] for d in mine.get(DELIVERIES).json()["results"]]
    detail = mine.get(f"{DELIVERIES}{other.pk}/")
    redeliver = mine.post(f"{DELIVERIES}{other.pk}/redeliver/")

    assert listed == [own.pk]
    assert (detail.status_code, redeliver.status_code) == (404, 404)


def test_a_dead_delivery_is_redelivered(integrator: APIClient) -> None:
    delivery = delivery_to(subscription_of(ApiClient.objects.get(name="shop-front")), state=DeliveryState.DEAD)

    response = integrator.post(f"{DELIVERIES}{delivery.pk}/redeliver/")

    assert response.status_code == 202
    assert (response.json()["state"], response.json()["redeliveries"]) == ("pending", 1)
    assert OutboxMessage.objects.filter(key=f"webhook-delivery:{delivery.pk}:redeliver:1").exists()


@pytest.mark.parametrize("state", [DeliveryState.PENDING, DeliveryState.DELIVERED])
def test_redelivering_a_delivery_that_is_not_dead_answers_409_and_changes_nothing(
    integrator: APIClient, state: str
) -> None:
    delivery = delivery_to(subscription_of(ApiClient.objects.get(name="shop-front")), state=state)
    before, messages = deliveries_state(), OutboxMessage.objects.count()

    response = integrator.post(f"{DELIVERIES}{delivery.pk}/redeliver/")

    assert response.status_code == 409
    assert response.json()["code"] == "delivery_not_dead"
    assert response.json()["extra"] == {"delivery": delivery.pk, "state": state}
    assert deliveries_state() == before
    assert OutboxMessage.objects.count() == messages


def test_events_list_filter_by_type_and_open_by_id(integrator: APIClient) -> None:
    subscription = subscription_of()
    created = delivery_to(subscription).event
    low = delivery_to(subscription, type=WebhookEventType.STOCK_LOW).event

    everything = integrator.get(EVENTS).json()["results"]
    stock = integrator.get(EVENTS, {"type": "stock.low"}).json()["results"]
    detail = integrator.get(f"{EVENTS}{created.event_id}/")
    missing = integrator.get(f"{EVENTS}{uuid.uuid4()}/")

    assert [e["id"] for e in everything] == [str(low.event_id), str(created.event_id)]
    assert [e["id"] for e in stock] == [str(low.event_id)]
    assert detail.status_code == 200
    assert detail.json()["data"] == created.data
    assert detail.json()["type"] == "order.created"
    assert missing.status_code == 404


# --- query counts ---------------------------------------------------------------------------


def _queries(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_list_pages_cost_the_same_queries_for_one_row_and_ten(
    integrator: APIClient, django_assert_max_num_queries: Any
) -> None:
    owner = ApiClient.objects.get(name="shop-front")
    subscription = subscription_of(owner, types=["order.created"])
    delivery_to(subscription, attempts=2)
    for url in (SUBSCRIPTIONS, DELIVERIES, EVENTS):  # the key's first use of the day is recorded once
        integrator.get(url)
    one = {url: _queries(integrator, url) for url in (SUBSCRIPTIONS, DELIVERIES, EVENTS)}
    for _ in range(9):
        subscription_of(owner, types=["stock.low"])
        delivery_to(subscription, state=DeliveryState.DEAD, attempts=3)

    ten = {url: _queries(integrator, url) for url in (SUBSCRIPTIONS, DELIVERIES, EVENTS)}

    assert ten == one
    with django_assert_max_num_queries(5):  # the key with its user, permissions, the page, its attempts
        integrator.get(DELIVERIES)
    assert len(integrator.get(DELIVERIES).json()["results"]) == 10


# --- who may do what ------------------------------------------------------------------------

# A = allowed (any answer but 401/403), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint         picker  packer  shipper  support  manager  integrator  no_role  anonymous
sub_list         F       F       F        F        A        A           F        U
sub_create       F       F       F        F        A        A           F        U
sub_detail       F       F       F        F        A        A           F        U
sub_update       F       F       F        F        A        A           F        U
sub_rotate       F       F       F        F        A        A           F        U
sub_delete       F       F       F        F        A        A           F        U
delivery_list    F       F       F        A        A        A           F        U
delivery_detail  F       F       F        A        A        A           F        U
redeliver        F       F       F        F        A        A           F        U
event_list       F       F       F        A        A        A           F        U
event_detail     F       F       F        A        A        A           F        U
"""
ROLES, EXPECTED = parse_matrix(MATRIX)
# endpoint -> (method, address, the view's action)
CALLS: dict[str, tuple[str, Callable[[WebhookDelivery], str], str]] = {
    "sub_list": ("get", lambda d: SUBSCRIPTIONS, "list"),
    "sub_create": ("post", lambda d: SUBSCRIPTIONS, "create"),
    "sub_detail": ("get", lambda d: f"{SUBSCRIPTIONS}{d.subscription_id}/", "retrieve"),
    "sub_update": ("patch", lambda d: f"{SUBSCRIPTIONS}{d.subscription_id}/", "partial_update"),
    "sub_rotate": ("post", lambda d: f"{SUBSCRIPTIONS}{d.subscription_id}/rotate-secret/", "rotate_secret"),
    "sub_delete": ("delete", lambda d: f"{SUBSCRIPTIONS}{d.subscription_id}/", "destroy"),
    "delivery_list": ("get", lambda d: DELIVERIES, "list"),
    "delivery_detail": ("get", lambda d: f"{DELIVERIES}{d.pk}/", "retrieve"),
    "redeliver": ("post", lambda d: f"{DELIVERIES}{d.pk}/redeliver/", "redeliver"),
    "event_list": ("get", lambda d: EVENTS, "list"),
    "event_detail": ("get", lambda d: f"{EVENTS}{d.event.event_id}/", "retrieve"),
}
VIEWS = {"sub": WebhookSubscriptionViewSet, "delivery": WebhookDeliveryViewSet, "redeliver": WebhookDeliveryViewSet}


def _view_of(endpoint: str) -> Any:
    return WebhookEventViewSet if endpoint.startswith("event") else VIEWS[endpoint.split("_")[0]]


@pytest.mark.parametrize(("endpoint", "role"), sorted(EXPECTED))
def test_each_role_may_call_what_the_table_says(endpoint: str, role: str, staff_client: Callable) -> None:
    client = client_for_role(role, staff_client)
    # The integrator's own subscription (an API client sees only its own); staff see every one.
    owner = ApiClient.objects.filter(name="perm-integrator").first()
    delivery = delivery_to(subscription_of(owner), state=DeliveryState.DEAD)
    before = (subscriptions_state(), deliveries_state())
    method, url, _action = CALLS[endpoint]

    data = body() if endpoint == "sub_create" else {"name": "Renamed"} if endpoint == "sub_update" else None
    response = getattr(client, method)(url(delivery), data, format="json")

    mark = EXPECTED[(endpoint, role)]
    if mark == "A":
        assert response.status_code in (200, 201, 202, 204), response.content[:300]
    else:
        assert response.status_code == (403 if mark == "F" else 401)
        assert response.json()["code"] in ("permission_denied", "not_authenticated")
        assert (subscriptions_state(), deliveries_state()) == before


def test_the_table_agrees_with_the_role_grants() -> None:
    grants = importlib.import_module("notifications.migrations.0002_roles").GRANTS

    for (endpoint, role), mark in EXPECTED.items():
        if role in ("no_role", "anonymous"):
            continue
        app, codename = _view_of(endpoint).required_permissions[CALLS[endpoint][2]].split(".")
        assert app == "notifications"
        assert (mark == "A") == (codename in grants.get(role, [])), (endpoint, role, codename)
