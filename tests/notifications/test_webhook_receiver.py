"""Webhooks to a real HTTP receiver on 127.0.0.1 (http.server in a thread, started by the
tests): an order event travels through the outbox, the receiver fails first and recovers,
and the event arrives once, signed so the receiver can check it with the documented code."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from notifications import tasks
from notifications.enums import DeliveryState, WebhookEventType
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from notifications.services.webhooks import webhook_subscription_create, webhook_subscription_rotate_secret
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus
from tests.factories import make_order
from tests.notifications.conftest import Relays
from tests.notifications.receiver import Receiver, documented_verifier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

PUBLISH_TASK = "notifications.tasks.publish_webhook_event"
DELIVER_TASK = "notifications.tasks.deliver_webhook"


def run_pending(task: str) -> list[str]:
    """Runs every pending message of ``task`` that nobody holds, as a worker would."""
    ids = OutboxMessage.objects.filter(task=task, state=OutboxState.PENDING, locked_until__isnull=True)
    run = tasks.publish_webhook_event if task == PUBLISH_TASK else tasks.deliver_webhook
    return [run(pk) for pk in ids.order_by("pk").values_list("pk", flat=True)]


def make_due(task: str) -> None:
    """The retries' delays have passed (their delayed tasks arrive)."""
    OutboxMessage.objects.filter(task=task, state=OutboxState.PENDING).update(locked_until=None)


def test_a_receiver_failing_then_recovering_gets_the_order_event_once_signed(
    receiver: Receiver, relays: Relays
) -> None:
    receiver.answers = [500, 200]
    subscription = webhook_subscription_create(
        name="ERP", url=receiver.url, event_types=[WebhookEventType.ORDER_CREATED]
    )
    receiver.secret = subscription.secret  # the integrator stored it from the create answer
    order = make_order(OrderStatus.UNHANDLED)

    assert run_pending(PUBLISH_TASK) == ["done"]
    first = run_pending(DELIVER_TASK)
    (retry,) = [r for r in relays.sent if r[0] == DELIVER_TASK and r[2] is not None]
    make_due(DELIVER_TASK)
    second = run_pending(DELIVER_TASK)

    assert first == ["retry"]
    assert retry[2] == 30  # the first backoff: OMS_OUTBOX_RETRY_BASE_SECONDS
    assert second == ["done"]
    assert run_pending(DELIVER_TASK) == []
    # Two requests, one accepted: the event arrived once, after the receiver recovered.
    assert [r.answered for r in receiver.received] == [500, 200]
    (accepted,) = receiver.accepted()
    assert [r.verified for r in receiver.received] == [True, True]
    verify = documented_verifier()
    assert verify(subscription.secret, accepted.headers["X-OMS-Signature"], accepted.body)
    assert not verify("whsec_someone-else", accepted.headers["X-OMS-Signature"], accepted.body)
    body = json.loads(accepted.body)
    event = WebhookEvent.objects.get()
    assert body["id"] == str(event.event_id) == accepted.headers["X-OMS-Event-Id"]
    assert body["type"] == "order.created" == accepted.headers["X-OMS-Event"]
    assert body["data"]["order"]["number"] == order.number
    assert [line["sku"] for line in body["data"]["order"]["lines"]] == ["TSHIRT-RED-M"]
    assert accepted.path == "/hooks/oms"
    assert accepted.headers["User-Agent"] == "OMS-Webhooks/1"
    assert accepted.headers["Content-Type"] == "application/json"
    # Both attempts sent the same bytes; only the signature's timestamp may differ.
    assert receiver.received[0].body == accepted.body
    delivery = WebhookDelivery.objects.get()
    assert accepted.headers["X-OMS-Delivery"] == str(delivery.pk)
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code) for a in log] == [(1, 500), (2, 200)]
    assert log[0].error == "The receiver answered 500."
    assert log[1].error == ""
    assert all(a.duration_ms >= 0 for a in log)
    assert log[0].response_excerpt.startswith('{"status": 500')
    assert len(log[0].response_excerpt) == 500


def test_every_status_change_of_an_order_reaches_the_receiver_in_its_own_event(receiver: Receiver) -> None:
    webhook_subscription_create(name="ERP", url=receiver.url, event_types=[WebhookEventType.ORDER_STATUS_CHANGED])
    order = make_order(OrderStatus.PAID)

    run_pending(PUBLISH_TASK)
    outcomes = run_pending(DELIVER_TASK)

    assert outcomes == ["done"]
    (accepted,) = receiver.accepted()
    body = json.loads(accepted.body)
    assert body["type"] == "order.status_changed"
    assert (body["data"]["from"], body["data"]["to"]) == ("unhandled", "paid")
    assert body["data"]["order"]["number"] == order.number
    assert body["data"]["order"]["status"] == "paid"


def test_a_receiver_that_is_down_is_retried_and_logged_without_a_status_code(relays: Relays) -> None:
    down = Receiver()  # never started: nothing listens on its port
    down.server.server_close()
    webhook_subscription_create(name="ERP", url=down.url, event_types=[WebhookEventType.ORDER_CREATED])
    make_order(OrderStatus.UNHANDLED)
    run_pending(PUBLISH_TASK)

    outcomes = run_pending(DELIVER_TASK)

    assert outcomes == ["retry"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status_code is None
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert attempt.error.startswith("Could not connect")


def test_a_receiver_holding_a_stale_secret_refuses_and_the_delivery_is_retried(receiver: Receiver) -> None:
    subscription = webhook_subscription_create(name="ERP", url=receiver.url, event_types=["order.created"])
    receiver.secret = subscription.secret
    make_order(OrderStatus.UNHANDLED)
    run_pending(PUBLISH_TASK)
    webhook_subscription_rotate_secret(subscription=subscription)  # the integrator missed the new one

    assert run_pending(DELIVER_TASK) == ["retry"]

    assert [(r.verified, r.answered) for r in receiver.received] == [(False, 401)]
    assert WebhookAttempt.objects.get().status_code == 401


def test_a_receiver_answering_too_late_counts_as_a_failed_attempt(receiver: Receiver) -> None:
    receiver.delay = 2.5
    webhook_subscription_create(name="ERP", url=receiver.url, event_types=["order.created"])
    make_order(OrderStatus.UNHANDLED)
    run_pending(PUBLISH_TASK)

    with override_settings(OMS_WEBHOOK_TIMEOUT_SECONDS=1):
        outcomes = run_pending(DELIVER_TASK)

    assert outcomes == ["retry"]
    (attempt,) = WebhookAttempt.objects.all()
    assert attempt.status_code is None
    assert attempt.error.startswith("No answer within 1 s")
    assert 1000 <= attempt.duration_ms < 2500
