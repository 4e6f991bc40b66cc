"""Webhook services: which subscriptions an event goes to, once; each attempt logged; retries
inside the window, dead letters after it, redelivery of dead ones only; signatures that the
documented code verifies; subscriptions refused with a code and nothing written."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.enums import DeliveryState, WebhookEventType
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from notifications.services import webhooks
from oms.common.errors import Conflict, InvalidInput
from oms.common.models import OutboxMessage, OutboxState
from oms.common.outbox import GiveUp, TryLater
from orders.enums import OrderStatus
from tests.factories import SYSTEM, make_order, make_staff
from tests.notifications.conftest import Relays
from tests.notifications.receiver import Receiver, documented_verifier
from tests.notifications.test_webhook_receiver import DELIVER_TASK, PUBLISH_TASK, make_due, run_pending

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

ALL_TYPES = list(WebhookEventType.values)


def subscribe(url: str = "https://erp.example.com/hooks", types: list[str] | None = None, **kw: Any):
    return webhooks.webhook_subscription_create(name="ERP", url=url, event_types=types or ALL_TYPES, **kw)


def publish_messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(task=PUBLISH_TASK).order_by("pk"))


def deliveries_state() -> list[tuple[Any, ...]]:
    return list(
        WebhookDelivery.objects.order_by("pk").values_list(
            "pk", "state", "attempts", "redeliveries", "last_status_code", "dead_at"
        )
    )


# --- publishing -----------------------------------------------------------------------------


def test_an_event_goes_only_to_active_subscriptions_that_want_its_type() -> None:
    wants = subscribe(types=[WebhookEventType.ORDER_CREATED])
    other_type = subscribe(types=[WebhookEventType.STOCK_LOW])
    paused = subscribe(types=[WebhookEventType.ORDER_CREATED], is_active=False)
    make_order(OrderStatus.UNHANDLED)

    assert run_pending(PUBLISH_TASK) == ["done"]

    event = WebhookEvent.objects.get()
    assert event.type == WebhookEventType.ORDER_CREATED
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.subscription_id == wants.pk
    assert delivery.state == DeliveryState.PENDING
    assert not WebhookDelivery.objects.filter(subscription__in=[other_type, paused]).exists()
    (message,) = OutboxMessage.objects.filter(task=DELIVER_TASK)
    assert message.key == f"webhook-delivery:{delivery.pk}"
    assert message.payload == {"delivery": delivery.pk}


def test_publishing_the_same_outbox_event_twice_makes_one_event_and_one_delivery() -> None:
    subscribe()
    make_order(OrderStatus.UNHANDLED)
    (message,) = publish_messages()
    run_pending(PUBLISH_TASK)
    first_id = WebhookEvent.objects.get().event_id

    # A worker killed after publishing, before the outbox recorded it: the message comes back,
    # and the same payload also arrives under another message (a replayed relay).
    OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxState.PENDING, locked_until=None)
    OutboxMessage.objects.create(
        key="replayed", task=PUBLISH_TASK, payload=message.payload, available_at=message.available_at
    )
    assert run_pending(PUBLISH_TASK) == ["done", "done"]

    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == [first_id]
    assert WebhookDelivery.objects.count() == 1
    assert OutboxMessage.objects.filter(task=DELIVER_TASK).count() == 1


def test_a_subscription_made_after_the_event_does_not_get_it() -> None:
    make_order(OrderStatus.UNHANDLED)
    subscribe()

    run_pending(PUBLISH_TASK)

    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 0


def test_a_returned_order_is_a_status_change_and_a_return_update() -> None:
    subscribe()
    order = make_order(OrderStatus.RETURNED)

    run_pending(PUBLISH_TASK)

    changes = WebhookEvent.objects.filter(type=WebhookEventType.ORDER_STATUS_CHANGED)
    assert [(e.data["from"], e.data["to"]) for e in changes.order_by("occurred_at", "id")] == [
        ("unhandled", "paid"),
        ("paid", "picking"),
        ("picking", "packed"),
        ("packed", "shipped"),
        ("shipped", "executed"),
        ("executed", "returned"),
    ]
    (returned,) = WebhookEvent.objects.filter(type=WebhookEventType.RETURN_UPDATED)
    assert returned.data["status"] == "returned"
    assert returned.data["order"]["number"] == order.number
    assert returned.data["order"]["status"] == "returned"
    assert WebhookEvent.objects.filter(type=WebhookEventType.PAYMENT_RECEIVED).count() == 1
    assert WebhookDelivery.objects.count() == WebhookEvent.objects.count()


def test_a_refund_publishes_no_webhook() -> None:
    subscribe()
    payload = {"topic": "refund.issued", "order": "OMS-1", "refund": 1, "occurred_at": timezone.now().isoformat()}

    webhooks.webhook_publish(payload, 1)

    assert WebhookEvent.objects.count() == 0


def test_low_stock_and_tracking_events_carry_their_snapshot_and_name_their_cause() -> None:
    subscribe()
    now = timezone.now().isoformat()
    stock = {
        "topic": "stock.low",
        "alert": 7,
        "occurred_at": now,
        "snapshot": {"sku": "A", "warehouse": "MAIN", "available": 2, "reorder_point": 5, "reorder_quantity": 20},
    }
    news = [{"tracking_number": "T1", "status": "in_transit", "occurred_at": now}]
    tracking = {
        "topic": "shipment.tracking_updated",
        "order": "OMS-1",
        "shipment": 3,
        "occurred_at": now,
        "snapshot": {"order": "OMS-1", "carrier": "DHL", "tracking_status": "in_transit", "events": news},
    }
    later = {**tracking, "snapshot": {**tracking["snapshot"], "events": [{**news[0], "status": "delivered"}]}}

    for payload in (stock, tracking, tracking, later):
        webhooks.webhook_publish(payload, 1)

    low = WebhookEvent.objects.get(type=WebhookEventType.STOCK_LOW)
    assert low.key == "stock.low:alert:7"
    assert low.data == {"alert": 7, **stock["snapshot"]}
    updates = WebhookEvent.objects.filter(type=WebhookEventType.SHIPMENT_TRACKING_UPDATED)
    assert updates.count() == 2  # the same news twice is one event; new news is another
    assert all(e.data["shipment"] == 3 and e.data["carrier"] == "DHL" for e in updates)


# --- delivering -----------------------------------------------------------------------------


def published_delivery(receiver: Receiver, types: list[str] | None = None) -> WebhookDelivery:
    subscribe(url=receiver.url, types=types or [WebhookEventType.ORDER_CREATED])
    make_order(OrderStatus.UNHANDLED)
    run_pending(PUBLISH_TASK)
    return WebhookDelivery.objects.select_related("event", "subscription").get()


def test_a_delivery_answered_2xx_is_delivered_and_its_attempt_logged(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)

    webhooks.webhook_deliver({"delivery": delivery.pk}, 1)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.response_excerpt.startswith('{"status": 200')
    assert receiver.received[0].body == webhooks.webhook_body(delivery.event)


def test_a_delivered_delivery_is_not_sent_again(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)
    webhooks.webhook_deliver({"delivery": delivery.pk}, 1)

    webhooks.webhook_deliver({"delivery": delivery.pk}, 2)

    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.count() == 1


def test_a_500_raises_try_later_and_logs_the_attempt(receiver: Receiver) -> None:
    receiver.answers = [500]
    delivery = published_delivery(receiver)

    with pytest.raises(TryLater, match="answered 500"):
        webhooks.webhook_deliver({"delivery": delivery.pk}, 1)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.PENDING, 1, 500)
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.status_code, attempt.error) == (500, "The receiver answered 500.")


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver: Receiver) -> None:
    receiver.answers = [301]
    receiver.location = receiver.url + "/moved"
    delivery = published_delivery(receiver)

    with pytest.raises(TryLater, match="not followed"):
        webhooks.webhook_deliver({"delivery": delivery.pk}, 1)

    assert [r.path for r in receiver.received] == ["/hooks/oms"]
    assert WebhookAttempt.objects.get().status_code == 301


def test_a_failure_past_the_retry_window_makes_the_delivery_dead(receiver: Receiver, relays: Relays) -> None:
    receiver.answers = [503]
    delivery = published_delivery(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=24))

    with pytest.raises(GiveUp, match="Retried for 24 h"):
        webhooks.webhook_deliver({"delivery": delivery.pk}, 30)
    # Through the outbox, as a worker runs it: the message fails and the delivery is dead.
    assert run_pending(DELIVER_TASK) == ["failed"]

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
    assert delivery.dead_at is not None
    assert "The receiver answered 503." in delivery.last_error
    assert delivery.attempts == 2
    assert not [r for r in relays.sent if r[0] == DELIVER_TASK and r[2] is not None]  # no retry queued


def test_a_failure_whose_next_retry_fits_the_window_is_retried(receiver: Receiver) -> None:
    receiver.answers = [503]
    delivery = published_delivery(receiver)
    # 22 h in, an hour's backoff still lands inside the 24 h window.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=22))

    with pytest.raises(TryLater):
        webhooks.webhook_deliver({"delivery": delivery.pk}, 20)


def test_a_delivery_to_a_deactivated_subscription_becomes_dead_without_a_call(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)
    webhooks.webhook_subscription_update(subscription=delivery.subscription, is_active=False)

    webhooks.webhook_deliver({"delivery": delivery.pk}, 1)

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
    assert "deactivated" in delivery.last_error
    assert receiver.received == []


def test_a_delivery_of_a_deleted_subscription_finds_nothing_to_send(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)
    webhooks.webhook_subscription_delete(subscription=delivery.subscription)

    assert run_pending(DELIVER_TASK) == ["done"]

    assert receiver.received == []
    assert WebhookDelivery.objects.count() == 0


# --- redelivery -----------------------------------------------------------------------------


def test_only_a_dead_delivery_can_be_redelivered(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)
    before = deliveries_state()
    messages = OutboxMessage.objects.count()

    with pytest.raises(Conflict) as refused:
        webhooks.webhook_redeliver(delivery_id=delivery.pk, actor=SYSTEM)

    assert refused.value.code == "delivery_not_dead"
    assert refused.value.extra == {"delivery": delivery.pk, "state": "pending"}
    assert deliveries_state() == before
    assert OutboxMessage.objects.count() == messages


def test_a_redelivered_dead_delivery_gets_a_new_window_and_arrives(receiver: Receiver) -> None:
    receiver.answers = [500, 200]
    delivery = published_delivery(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert run_pending(DELIVER_TASK) == ["failed"]
    assert WebhookDelivery.objects.get().state == DeliveryState.DEAD

    redelivered = webhooks.webhook_redeliver(delivery_id=delivery.pk, actor=SYSTEM)

    assert (redelivered.state, redelivered.redeliveries, redelivered.dead_at) == (DeliveryState.PENDING, 1, None)
    message = OutboxMessage.objects.get(key=f"webhook-delivery:{delivery.pk}:redeliver:1")
    assert message.payload["delivery"] == delivery.pk
    # Three days after the delivery was made, yet inside the redelivery's new window.
    assert run_pending(DELIVER_TASK) == ["done"]
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
        (1, 500),
        (2, 200),
    ]


def test_a_redelivery_failing_again_is_retried_from_its_own_start(receiver: Receiver) -> None:
    receiver.answers = [500]
    delivery = published_delivery(receiver)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(days=3))
    run_pending(DELIVER_TASK)
    webhooks.webhook_redeliver(delivery_id=delivery.pk, actor=SYSTEM)

    assert run_pending(DELIVER_TASK) == ["retry"]
    assert WebhookDelivery.objects.get().state == DeliveryState.PENDING


# --- signatures -----------------------------------------------------------------------------


def test_the_signature_verifies_with_the_documented_code_and_nothing_else(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)
    webhooks.webhook_deliver({"delivery": delivery.pk}, 1)
    (request,) = receiver.received
    header, body, secret = request.headers["X-OMS-Signature"], request.body, delivery.subscription.secret
    verify = documented_verifier()

    assert verify(secret, header, body)
    assert not verify(secret, header, body.replace(b'"order.created"', b'"order.creatEd"'))
    assert not verify(secret + "x", header, body)
    assert not verify(secret, header, body, now=time.time() + 301)  # replayed six minutes later
    assert not verify(secret, "v1=abc", body)
    t = int(header.split(",")[0][2:])
    assert header == webhooks.webhook_signature(secret=secret, timestamp=t, body=body)


def test_the_body_is_the_same_bytes_every_time_and_compact() -> None:
    subscribe()
    make_order(OrderStatus.UNHANDLED)
    run_pending(PUBLISH_TASK)
    event = WebhookEvent.objects.get()

    first = webhooks.webhook_body(event)
    again = webhooks.webhook_body(WebhookEvent.objects.get(pk=event.pk))

    assert first == again
    assert b": " not in first.split(b'"data"')[0]
    assert json.loads(first)["created"] == event.occurred_at.isoformat()


def test_a_rotated_secret_signs_the_next_attempt(receiver: Receiver) -> None:
    receiver.answers = [500, 200]
    delivery = published_delivery(receiver)
    old = delivery.subscription.secret
    assert run_pending(DELIVER_TASK) == ["retry"]

    new = webhooks.webhook_subscription_rotate_secret(subscription=delivery.subscription).secret
    make_due(DELIVER_TASK)
    run_pending(DELIVER_TASK)

    verify = documented_verifier()
    first, second = receiver.received
    assert new != old and new.startswith("whsec_")
    assert verify(old, first.headers["X-OMS-Signature"], first.body)
    assert verify(new, second.headers["X-OMS-Signature"], second.body)
    assert not verify(old, second.headers["X-OMS-Signature"], second.body)


# --- subscriptions --------------------------------------------------------------------------


def test_a_subscription_gets_a_fresh_secret_and_its_types_once_each() -> None:
    one = subscribe(types=["order.created", "stock.low", "order.created"])
    two = subscribe()

    assert one.event_types == ["order.created", "stock.low"]
    assert one.secret.startswith("whsec_") and len(one.secret) > 40
    assert one.secret != two.secret


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://erp.example.com/hooks", "https://"),
        ("erp.example.com/hooks", "https://"),
        ("https:///hooks", "host"),
        ("https://erp.example.com/my hooks", "spaces"),
        ("https://erp.example.com:port/", "could not be read"),
        ("https://erp.example.com/" + "a" * 500, "500 characters"),
    ],
)
def test_a_subscription_to_a_bad_url_is_refused_and_nothing_is_written(url: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        subscribe(url=url)

    assert refused.value.code == "webhook_url_invalid"
    assert reason in refused.value.fields["url"][0]
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize("types", [["order.created", "order.deleted", "stock.high"], []])
def test_a_subscription_to_unknown_event_types_is_refused_and_nothing_is_written(types: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        webhooks.webhook_subscription_create(name="ERP", url="https://erp.example.com/", event_types=types)

    assert refused.value.code == "unknown_event_type"
    assert refused.value.extra["allowed"] == ALL_TYPES
    if types:
        assert refused.value.extra["unknown"] == ["order.deleted", "stock.high"]
        assert "order.deleted, stock.high" in refused.value.message
    assert WebhookSubscription.objects.count() == 0


def test_a_refused_change_leaves_the_subscription_as_it_was() -> None:
    subscription = subscribe(types=["order.created"])

    with pytest.raises(InvalidInput):
        webhooks.webhook_subscription_update(
            subscription=WebhookSubscription.objects.get(), name="Renamed", event_types=["nope"]
        )

    stored = WebhookSubscription.objects.get()
    assert (stored.name, stored.event_types, stored.secret) == ("ERP", ["order.created"], subscription.secret)


# --- the admin ------------------------------------------------------------------------------


def admin_as(role: str) -> Client:
    client = Client()
    client.force_login(make_staff(role))
    return client


def test_adding_a_subscription_in_the_admin_makes_a_secret_and_shows_it_once() -> None:
    client = admin_as("manager")

    response = client.post(
        reverse("admin:notifications_webhooksubscription_add"),
        {"name": "ERP", "url": "https://erp.example.com/hooks", "event_types": ["order.created"], "is_active": "on"},
        follow=True,
    )

    stored = WebhookSubscription.objects.get()
    assert stored.secret.startswith("whsec_")
    assert stored.event_types == ["order.created"]
    assert stored.secret in response.content.decode()  # the message after saving
    page = client.get(reverse("admin:notifications_webhooksubscription_change", args=[stored.pk])).content.decode()
    assert stored.secret not in page
    assert stored.secret[:10] in page


def test_the_admin_refuses_a_bad_url_with_the_services_reason_and_writes_nothing() -> None:
    response = admin_as("manager").post(
        reverse("admin:notifications_webhooksubscription_add"),
        {"name": "ERP", "url": "ftp://erp.example.com/", "event_types": ["order.created"]},
    )

    assert response.status_code == 200
    assert "It must start with https://" in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_the_admin_redeliver_action_redelivers_dead_deliveries_only(receiver: Receiver) -> None:
    delivery = published_delivery(receiver)
    webhooks.webhook_delivery_mark_dead(delivery.pk, "The receiver answered 500.")
    make_order(OrderStatus.UNHANDLED)
    run_pending(PUBLISH_TASK)
    pending = WebhookDelivery.objects.exclude(pk=delivery.pk).get()

    response = admin_as("manager").post(
        reverse("admin:notifications_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [delivery.pk, pending.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert f"Redelivering 1 delivery(ies): {delivery.pk}." in page
    assert f"not dead (still being retried, or delivered): {pending.pk}" in page
    assert deliveries_state() == [
        (delivery.pk, DeliveryState.PENDING, 0, 1, None, None),
        (pending.pk, DeliveryState.PENDING, 0, 0, None, None),
    ]


def test_the_admin_shows_a_deliverys_attempts(receiver: Receiver) -> None:
    receiver.answers = [500]
    delivery = published_delivery(receiver)
    run_pending(DELIVER_TASK)

    page = admin_as("support").get(reverse("admin:notifications_webhookdelivery_change", args=[delivery.pk]))

    assert page.status_code == 200
    assert "The receiver answered 500." in page.content.decode()
