"""Webhooks about returns (RMAs): each status a return reaches is an event of its own type,
delivered once to the subscriptions that want it, carrying the return as it was at that
status (even when the worker publishes it later) in the shape docs/webhooks.md gives."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from notifications.enums import WebhookEventType
from notifications.models import WebhookDelivery, WebhookEvent
from notifications.services import webhooks
from oms.common.models import OutboxMessage
from returns.enums import ReturnReason
from returns.models import Return
from returns.services import return_cancel
from tests.factories import SYSTEM
from tests.notifications.receiver import Receiver
from tests.notifications.return_helpers import BOTH, approved, outbox_payload, received, refunded, rejected, requested
from tests.notifications.test_webhook_receiver import DELIVER_TASK, PUBLISH_TASK, run_pending
from tests.returns.helpers import delivered_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

W = WebhookEventType
RETURN_TYPES: list[str] = [W.RETURN_REQUESTED, W.RETURN_APPROVED, W.RETURN_REJECTED, W.RETURN_CANCELLED]
RETURN_TYPES += [W.RETURN_RECEIVED, W.RETURN_REFUNDED]


def subscribe(url: str = "https://erp.example.com/hooks", types: list[str] | None = None) -> Any:
    return webhooks.webhook_subscription_create(name="ERP", url=url, event_types=types or RETURN_TYPES)


def return_events(ret: Return) -> dict[str, dict[str, Any]]:
    """The return's published events' data, by type."""
    events = WebhookEvent.objects.filter(type__startswith="return.", data__number=ret.number)
    return {event.type: event.data for event in events}


def documented_examples() -> list[dict[str, Any]]:
    """Every event in the "Other `data` shapes" block of docs/webhooks.md, parsed."""
    text = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    block = text.split("Other `data` shapes:", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    decoder, examples, at = json.JSONDecoder(), [], 0
    while at < len(block.rstrip()):
        at = len(block) - len(block[at:].lstrip())
        example, at = decoder.raw_decode(block, at)
        examples.append(example)
    return examples


def test_a_subscription_to_approved_returns_gets_one_delivery_with_the_documented_payload(receiver: Receiver) -> None:
    subscription = subscribe(url=receiver.url, types=[W.RETURN_APPROVED])
    order = delivered_order()
    ret = approved(order, *BOTH)
    payload = outbox_payload(PUBLISH_TASK, "return.approved", order=order, ret=ret)

    run_pending(PUBLISH_TASK)
    assert run_pending(DELIVER_TASK) == ["done"]

    (delivery,) = WebhookDelivery.objects.filter(subscription=subscription)
    assert delivery.event.type == W.RETURN_APPROVED
    (request,) = receiver.received
    body = json.loads(request.body)
    assert request.headers["X-OMS-Event"] == "return.approved"
    assert body["type"] == "return.approved"
    assert body["data"] == {
        "number": ret.number,
        "order": order.number,
        "status": "approved",
        "decision_note": "",
        "lines": [
            {"sku": "MUG", "quantity": 2, "reason": "damaged", "quantity_received": 0},
            {"sku": "TEE", "quantity": 1, "reason": "too_small", "quantity_received": 0},
        ],
        "refund": None,
        "occurred_at": payload["occurred_at"],
    }
    assert body["created"] == delivery.event.occurred_at.isoformat()


def test_publishing_a_return_event_twice_makes_one_event_and_one_delivery() -> None:
    subscribe()
    ret = requested()
    (message,) = OutboxMessage.objects.filter(task=PUBLISH_TASK, payload__topic="return.requested")
    OutboxMessage.objects.create(
        key="replayed", task=PUBLISH_TASK, payload=message.payload, available_at=message.available_at
    )

    assert run_pending(PUBLISH_TASK)[-2:] == ["done", "done"]

    (event,) = WebhookEvent.objects.filter(type=W.RETURN_REQUESTED)
    assert event.key == f"return.requested:return-event:{message.payload['event']}"
    assert event.data["number"] == ret.number
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    assert OutboxMessage.objects.filter(task=DELIVER_TASK).count() == 1


def test_each_event_shows_the_return_as_it_was_then_even_when_published_after_the_refund() -> None:
    subscribe()
    ret = refunded(None, *BOTH)  # every step done before any worker ran

    run_pending(PUBLISH_TASK)

    events = return_events(ret)
    assert set(events) == {W.RETURN_REQUESTED, W.RETURN_APPROVED, W.RETURN_RECEIVED, W.RETURN_REFUNDED}
    assert {t: data["status"] for t, data in events.items()} == {
        W.RETURN_REQUESTED: "requested",
        W.RETURN_APPROVED: "approved",
        W.RETURN_RECEIVED: "received",
        W.RETURN_REFUNDED: "refunded",
    }
    for before in (W.RETURN_REQUESTED, W.RETURN_APPROVED):
        assert [line["quantity_received"] for line in events[before]["lines"]] == [0, 0]
        assert events[before]["refund"] is None
    assert [line["quantity_received"] for line in events[W.RETURN_RECEIVED]["lines"]] == [2, 1]
    assert events[W.RETURN_RECEIVED]["refund"] is None
    assert events[W.RETURN_REFUNDED]["refund"] == {
        "amount": "60.00",  # two mugs and a T-shirt at 20.00
        "currency": "EUR",
        "method": "card",
        "reference": f"re-{ret.number}",
    }
    assert WebhookDelivery.objects.count() == 4


def test_a_partial_arrival_counts_each_line_received() -> None:
    subscribe()
    ret = received(None, *BOTH, counts={"MUG": 1, "TEE": 0})

    run_pending(PUBLISH_TASK)

    lines = return_events(ret)[W.RETURN_RECEIVED]["lines"]
    assert [(line["sku"], line["quantity"], line["quantity_received"]) for line in lines] == [
        ("MUG", 2, 1),
        ("TEE", 1, 0),
    ]


def test_a_rejected_and_a_cancelled_return_say_why() -> None:
    subscribe()
    refused = rejected("Outside the return window")
    withdrawn = requested(None, ("TEE", 1, "changed_mind"))
    return_cancel(actor=SYSTEM, number=withdrawn.number, reason="The customer keeps it")

    run_pending(PUBLISH_TASK)

    assert return_events(refused)[W.RETURN_REJECTED]["decision_note"] == "Outside the return window"
    assert return_events(refused)[W.RETURN_REQUESTED]["decision_note"] == ""
    cancelled = return_events(withdrawn)[W.RETURN_CANCELLED]
    assert (cancelled["status"], cancelled["decision_note"]) == ("cancelled", "The customer keeps it")


def test_inspection_is_not_published() -> None:
    subscribe(types=list(W.values))
    ret = refunded()

    assert not OutboxMessage.objects.filter(task=PUBLISH_TASK, payload__topic="return.inspected").exists()
    run_pending(PUBLISH_TASK)

    assert not WebhookEvent.objects.filter(type__contains="inspect").exists()
    # Not even if the topic were routed here: no event type describes it.
    approval = outbox_payload(PUBLISH_TASK, "return.approved", order=ret.order, ret=ret)
    assert webhooks.webhook_events_for({**approval, "topic": "return.inspected", "to": "inspected"}) == []


def test_the_documented_return_payloads_have_the_fields_that_are_sent() -> None:
    subscribe()
    ret = refunded(None, *BOTH)
    run_pending(PUBLISH_TASK)
    sent = return_events(ret)[W.RETURN_REFUNDED]

    documented = [e for e in documented_examples() if e["type"] in RETURN_TYPES]

    assert {e["type"] for e in documented} >= {W.RETURN_RECEIVED, W.RETURN_REFUNDED, W.RETURN_REJECTED}
    for example in documented:
        data = example["data"]
        assert set(data) == set(sent), example["type"]
        assert all(set(line) == set(sent["lines"][0]) for line in data["lines"])
        assert data["refund"] is None or set(data["refund"]) == set(sent["refund"])
        assert all(line["reason"] in ReturnReason.values for line in data["lines"])


def test_every_event_type_and_return_reason_is_documented() -> None:
    text = (Path(settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    table = text.split("## Event types", 1)[1].split("\n\n", 2)[1]

    assert set(re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.MULTILINE)) == set(W.values)
    for reason in ReturnReason.values:
        assert f"`{reason}`" in text
