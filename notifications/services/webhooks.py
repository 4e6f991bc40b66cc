"""Integrator webhooks: subscriptions, events snapshotted when they happen, and deliveries
retried for a day, then dead until someone redelivers them.

The outbox runs ``webhook_publish`` for every routed topic. It turns the topic into the
webhook event(s) it means (or none), stores each event once under a key naming its cause
(so a second run finds the first one's rows), and in the same transaction writes one
``WebhookDelivery`` per active subscription that wants the type, with an outbox message
that runs ``webhook_deliver``.

``webhook_deliver`` POSTs the event (the same bytes every attempt, signed at send time)
outside any transaction and logs the attempt. A 2xx answer delivers it; anything else
raises ``TryLater`` and the outbox retries with exponential backoff until the next try would
fall outside ``OMS_WEBHOOK_RETRY_HOURS``, when it raises ``GiveUp`` and the delivery is dead.
Staff or the integrator redeliver a dead delivery, which opens a new retry window.

Topics that no webhook type describes (``refund.issued``, ``label.failed``,
``return.inspected``) publish nothing (and are not routed here): the published contract
(docs/webhooks.md) has no refund event of its own (a return's refund is told by
``return.refunded``), label failures are the warehouse's business, not the integrator's, and
so is the inspection of a returned unit (its restocking shows in the stock it adds).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.enums import DeliveryState, NotificationErrorCode, WebhookEventType
from notifications.locks import lock_webhook_delivery
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput, NotFound
from oms.common.models import ApiClient
from oms.common.outbox import GiveUp, TryLater, backoff_seconds, outbox_enqueue
from returns.enums import ReturnStatus
from returns.models import Return, ReturnLine

logger = logging.getLogger(__name__)

DELIVER_TASK = "notifications.tasks.deliver_webhook"
USER_AGENT = "OMS-Webhooks/1"
SIGNATURE_HEADER = "X-OMS-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105  # the prefix that makes a leaked secret recognisable, not a secret
# How much of the receiver's answer the delivery log keeps (and reads off the socket).
EXCERPT_CHARS = 500
EXCERPT_BYTES = 4 * EXCERPT_CHARS
URL_MAX_LENGTH = 500

# Order statuses reached after creation: each is an order.status_changed event.
_STATUS_TOPICS = frozenset(
    f"order.{status}" for status in ("paid", "picking", "packed", "shipped", "executed", "returned", "cancelled")
)


# Return (RMA) statuses an integrator hears of, each as the webhook type of the same name.
_RETURN_TYPES = {
    "return.requested": WebhookEventType.RETURN_REQUESTED,
    "return.approved": WebhookEventType.RETURN_APPROVED,
    "return.rejected": WebhookEventType.RETURN_REJECTED,
    "return.cancelled": WebhookEventType.RETURN_CANCELLED,
    "return.received": WebhookEventType.RETURN_RECEIVED,
    "return.refunded": WebhookEventType.RETURN_REFUNDED,
}
# From these statuses on, the units received are known (recorded once, on arrival).
_RECEIVED_OR_LATER = frozenset({ReturnStatus.RECEIVED, ReturnStatus.INSPECTED, ReturnStatus.REFUNDED})
# The statuses whose move records why (the return's decision note).
_DECIDED_WITH_A_NOTE = frozenset({ReturnStatus.REJECTED, ReturnStatus.CANCELLED})


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSpec:
    """A webhook event an outbox topic means, before it is stored."""

    type: str
    key: str
    occurred_at: datetime
    data: dict[str, Any]


def _occurred_at(payload: dict[str, Any]) -> datetime:
    value = parse_datetime(str(payload.get("occurred_at", "")))
    if value is None:
        # A payload without its time is a bug in the emitter: retrying will not fix it.
        raise GiveUp(f"The {payload.get('topic')} event has no valid occurred_at: {payload.get('occurred_at')!r}.")
    return value


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def return_snapshot(payload: dict[str, Any]) -> dict[str, Any]:
    """The return as it was when it reached the status of its ``return.<status>`` event.

    A return's outbox payload names it but carries no snapshot, so the return is read when
    the event is first published (the event's key keeps that first snapshot for every
    delivery). It still shows the return as of its event, whatever happened to it since: the
    lines are fixed when it is asked for, the units received are recorded once, on arrival,
    the refund is linked when it is refunded and the decision note written when it is
    rejected or cancelled, so each of these is shown only from the status that recorded it.
    Raises GiveUp when the return does not exist (returns are never deleted: retrying cannot
    help)."""
    ret = (
        Return.objects.select_related("order", "refund")
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("id")))
        .filter(number=payload["return"])
        .first()
    )
    if ret is None:
        raise GiveUp(f"The {payload.get('topic')} event names return {payload['return']}, which does not exist.")
    status = payload["to"]
    received = status in _RECEIVED_OR_LATER
    refund = ret.refund if status == ReturnStatus.REFUNDED else None
    return {
        "number": ret.number,
        "order": ret.order.number,
        "status": status,
        "decision_note": ret.decision_note if status in _DECIDED_WITH_A_NOTE else "",
        "lines": [
            {
                "sku": line.order_line.sku,
                "quantity": line.quantity,
                "reason": line.reason,
                "quantity_received": line.quantity_received if received else 0,
            }
            for line in ret.lines.all()
        ],
        "refund": (
            {
                "amount": str(refund.amount),
                "currency": refund.currency,
                "method": refund.method,
                "reference": refund.reference,
            }
            if refund is not None
            else None
        ),
        "occurred_at": payload["occurred_at"],
    }


def webhook_events_for(payload: dict[str, Any]) -> list[EventSpec]:
    """The webhook events an outbox payload means (none, one, or two for a returned order).
    Keys name the cause: the order event, return event, payment, shipment news or alert
    behind it. Return events read the return (``return_snapshot``); the rest read nothing."""
    topic = payload.get("topic", "")
    if topic in _RETURN_TYPES:
        event_type = _RETURN_TYPES[topic]
        when = _occurred_at(payload)
        return [EventSpec(event_type, f"{event_type}:return-event:{payload['event']}", when, return_snapshot(payload))]
    if topic == "order.created":
        return [
            EventSpec(
                WebhookEventType.ORDER_CREATED,
                f"{WebhookEventType.ORDER_CREATED}:order-event:{payload['event']}",
                _occurred_at(payload),
                {"order": payload["snapshot"]},
            )
        ]
    if topic in _STATUS_TOPICS:
        when = _occurred_at(payload)
        specs = [
            EventSpec(
                WebhookEventType.ORDER_STATUS_CHANGED,
                f"{WebhookEventType.ORDER_STATUS_CHANGED}:order-event:{payload['event']}",
                when,
                {"order": payload["snapshot"], "from": payload["from"], "to": payload["to"]},
            )
        ]
        if topic == "order.returned":
            specs.append(
                EventSpec(
                    WebhookEventType.RETURN_UPDATED,
                    f"{WebhookEventType.RETURN_UPDATED}:order-event:{payload['event']}",
                    when,
                    {"order": payload["snapshot"], "status": "returned"},
                )
            )
        return specs
    if topic == "payment.received":
        snapshot = payload["snapshot"]
        return [
            EventSpec(
                WebhookEventType.PAYMENT_RECEIVED,
                f"{WebhookEventType.PAYMENT_RECEIVED}:payment:{payload['payment']}",
                _occurred_at(payload),
                {"order": snapshot["order"], "payment": snapshot["payment"]},
            )
        ]
    if topic == "shipment.tracking_updated":
        snapshot = payload["snapshot"]
        # The payload carries no id of the tracking news itself: its events name it.
        return [
            EventSpec(
                WebhookEventType.SHIPMENT_TRACKING_UPDATED,
                f"{WebhookEventType.SHIPMENT_TRACKING_UPDATED}:shipment:{payload['shipment']}:"
                f"{_digest(snapshot.get('events', []))}",
                _occurred_at(payload),
                {"shipment": payload["shipment"], **snapshot},
            )
        ]
    if topic == "stock.low":
        return [
            EventSpec(
                WebhookEventType.STOCK_LOW,
                f"{WebhookEventType.STOCK_LOW}:alert:{payload['alert']}",
                _occurred_at(payload),
                {"alert": payload["alert"], **payload["snapshot"]},
            )
        ]
    return []


def _wants(subscription: WebhookSubscription, event_type: str) -> bool:
    return isinstance(subscription.event_types, list) and event_type in subscription.event_types


@transaction.atomic
def webhook_event_publish(spec: EventSpec) -> WebhookEvent:
    """Stores the event under its key (the one stored before when the key exists) and queues
    one delivery per active subscription that wants its type and existed when it happened.

    Subscriptions made after the event do not get it, so running this again later (a worker
    died before the outbox recorded the outcome) adds nothing."""
    event, _created = WebhookEvent.objects.get_or_create(
        key=spec.key, defaults={"type": spec.type, "occurred_at": spec.occurred_at, "data": spec.data}
    )
    subscriptions = WebhookSubscription.objects.filter(is_active=True, created_at__lte=event.occurred_at).order_by("pk")
    for subscription in subscriptions:
        if not _wants(subscription, event.type):
            continue
        delivery, _ = WebhookDelivery.objects.get_or_create(event=event, subscription=subscription)
        # A duplicate key writes nothing: safe whether or not the delivery is new.
        outbox_enqueue(task=DELIVER_TASK, key=f"webhook-delivery:{delivery.pk}", payload={"delivery": delivery.pk})
    return event


def webhook_publish(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler (every routed topic): stores the event(s) and queues their deliveries."""
    for spec in webhook_events_for(payload):
        webhook_event_publish(spec)


# --- the body and its signature -------------------------------------------------------------


def webhook_body(event: WebhookEvent) -> bytes:
    """What every delivery of the event sends: compact JSON with sorted keys, so each
    attempt (and each subscription) gets the same bytes."""
    document = {
        "id": str(event.event_id),
        "type": event.type,
        "created": event.occurred_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-OMS-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``.
    The timestamp is signed so a captured delivery cannot be replayed later."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_headers(delivery: WebhookDelivery, body: bytes, *, timestamp: int) -> dict[str, str]:
    event = delivery.event
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-OMS-Event": event.type,
        "X-OMS-Event-Id": str(event.event_id),
        "X-OMS-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: webhook_signature(secret=delivery.subscription.secret, timestamp=timestamp, body=body),
    }


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one HTTP call came back with: a status code, or the error that stopped it."""

    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return f"No answer within {settings.OMS_WEBHOOK_TIMEOUT_SECONDS} s ({exc.__class__.__name__})."
    if isinstance(exc, requests.ConnectionError):
        return f"Could not connect: {exc}"
    return f"{exc.__class__.__name__}: {exc}"


def _post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """One POST, never following a redirect, reading at most EXCERPT_BYTES of the answer."""
    started = time.monotonic()
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=settings.OMS_WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        )
        try:
            raw = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
        finally:
            response.close()
    except requests.RequestException as exc:
        return Answer(None, int((time.monotonic() - started) * 1000), error=_describe(exc))
    duration_ms = int((time.monotonic() - started) * 1000)
    excerpt = raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]
    error = ""
    if 300 <= response.status_code < 400:
        error = f"Redirect to {response.headers.get('Location', '?')} not followed: update the subscription's URL."
    elif not 200 <= response.status_code < 300:
        error = f"The receiver answered {response.status_code}."
    return Answer(response.status_code, duration_ms, excerpt=excerpt, error=error)


def _window_start(delivery: WebhookDelivery, payload: dict[str, Any]) -> datetime:
    """Since when this round of retries runs: the redelivery (named in its message) or the
    delivery's creation."""
    since = parse_datetime(str(payload.get("since", "")))
    return since or delivery.created_at


def webhook_deliver(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler: one HTTP attempt of a delivery, logged. Does nothing for a delivery
    already delivered or dead (or deleted with its subscription), and marks it dead when its
    subscription has been deactivated. Raises TryLater on a failed attempt within the retry
    window, GiveUp when the next retry would fall outside it."""
    delivery = WebhookDelivery.objects.select_related("event", "subscription").filter(pk=payload["delivery"]).first()
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return
    if not delivery.subscription.is_active:
        webhook_delivery_mark_dead(
            delivery.pk, "The subscription was deactivated; reactivate it and redeliver to send this event."
        )
        return
    body = webhook_body(delivery.event)
    attempted_at = timezone.now()
    answer = _post(delivery.subscription.url, body, webhook_headers(delivery, body, timestamp=int(time.time())))
    _log_attempt(delivery, attempted_at, answer)
    if answer.delivered:
        return
    elapsed = timezone.now() - _window_start(delivery, payload)
    window = timedelta(hours=settings.OMS_WEBHOOK_RETRY_HOURS)
    if elapsed + timedelta(seconds=backoff_seconds(attempt)) > window:
        raise GiveUp(f"{answer.error} Retried for {settings.OMS_WEBHOOK_RETRY_HOURS} h; redeliver it once fixed.")
    raise TryLater(answer.error)


@transaction.atomic
def _log_attempt(delivery: WebhookDelivery, attempted_at: datetime, answer: Answer) -> None:
    # Numbered across redeliveries: the log reads #1, #2, ... for the delivery's whole life.
    locked = lock_webhook_delivery(delivery.pk)
    if locked is None:
        raise WebhookDelivery.DoesNotExist(f"Webhook delivery {delivery.pk} was deleted during its attempt.")
    WebhookAttempt.objects.create(
        delivery_id=delivery.pk,
        number=locked.attempts + 1,
        attempted_at=attempted_at,
        status_code=answer.status_code,
        duration_ms=answer.duration_ms,
        response_excerpt=answer.excerpt,
        error=answer.error,
    )
    changes: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "last_status_code": answer.status_code,
        "last_error": answer.error,
    }
    if answer.delivered:
        changes.update(state=DeliveryState.DELIVERED, delivered_at=timezone.now())
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(**changes)


def webhook_delivery_mark_dead(delivery_id: int, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.DEAD, dead_at=timezone.now(), last_error=error
    )


def webhook_delivery_dead(payload: dict[str, Any], error: str) -> None:
    """Outbox final failure: the delivery becomes a dead letter, visible to staff and the
    integrator, until someone redelivers it."""
    webhook_delivery_mark_dead(payload["delivery"], error)


@transaction.atomic
def webhook_redeliver(*, delivery_id: int, actor: Actor) -> WebhookDelivery:
    """Sends a dead delivery again, with a new day of retries from now; the attempts log
    continues. Raises NotFound, and Conflict ``delivery_not_dead`` unless it is dead."""
    delivery = lock_webhook_delivery(delivery_id)
    if delivery is None:
        raise NotFound(f"No webhook delivery {delivery_id}.", code=NotificationErrorCode.DELIVERY_NOT_FOUND)
    if delivery.state != DeliveryState.DEAD:
        raise Conflict(
            f"Delivery {delivery.pk} is {delivery.state}: only a dead delivery can be redelivered; "
            "a pending one is still being retried.",
            code=NotificationErrorCode.DELIVERY_NOT_DEAD,
            extra={"delivery": delivery.pk, "state": delivery.state},
        )
    now = timezone.now()
    delivery.state = DeliveryState.PENDING
    delivery.redeliveries += 1
    delivery.dead_at = None
    delivery.save(update_fields=["state", "redeliveries", "dead_at"])
    outbox_enqueue(
        task=DELIVER_TASK,
        key=f"webhook-delivery:{delivery.pk}:redeliver:{delivery.redeliveries}",
        payload={"delivery": delivery.pk, "since": now.isoformat()},
    )
    logger.info("Webhook delivery %s redelivered by %s.", delivery.pk, actor.label)
    return delivery


# --- subscriptions --------------------------------------------------------------------------


def webhook_url_validate(url: str) -> str:
    """The URL, stripped, when it is http(s) with a host; raises InvalidInput
    ``webhook_url_invalid`` otherwise."""
    url = (url or "").strip()
    problem = ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number
    except ValueError:
        problem = "It could not be read as a URL."
    else:
        if parts.scheme not in ("http", "https"):
            problem = "It must start with https:// (or http://)."
        elif not parts.hostname:
            problem = "It must name a host, such as https://erp.example.com/oms-webhooks."
        elif any(c.isspace() for c in url):
            problem = "It must not contain spaces."
        elif len(url) > URL_MAX_LENGTH:
            problem = f"It must be at most {URL_MAX_LENGTH} characters."
    if problem:
        raise InvalidInput(
            f"The webhook URL is not valid: {problem}",
            fields={"url": [problem]},
            code=NotificationErrorCode.WEBHOOK_URL_INVALID,
        )
    return url


def webhook_event_types_validate(event_types: Any) -> list[str]:
    """The event types without repeats, in the order given; raises InvalidInput
    ``unknown_event_type`` for an empty list or a type that does not exist."""
    allowed = list(WebhookEventType.values)
    if not isinstance(event_types, list) or not event_types:
        error = InvalidInput(
            f"Choose at least one event type: {', '.join(allowed)}.",
            fields={"event_types": ["Choose at least one event type."]},
            code=NotificationErrorCode.UNKNOWN_EVENT_TYPE,
        )
        error.extra = {"allowed": allowed}
        raise error
    unknown = [str(t) for t in event_types if t not in allowed]
    if unknown:
        error = InvalidInput(
            f"Unknown event type(s): {', '.join(unknown)}. Choose among {', '.join(allowed)}.",
            fields={"event_types": [f"Unknown event type: {t}" for t in unknown]},
            code=NotificationErrorCode.UNKNOWN_EVENT_TYPE,
        )
        error.extra = {"unknown": unknown, "allowed": allowed}
        raise error
    return list(dict.fromkeys(str(t) for t in event_types))


def _name_validate(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "Give the subscription a name of 1 to 100 characters.",
            fields={"name": ["Must be 1 to 100 characters."]},
        )
    return name


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_subscription_create(
    *,
    name: str,
    url: str,
    event_types: list[str],
    api_client: ApiClient | None = None,
    is_active: bool = True,
) -> WebhookSubscription:
    """A subscription with a new secret (read it from the result: it is shown once). Raises
    InvalidInput (``webhook_url_invalid``, ``unknown_event_type``) before writing anything."""
    name = _name_validate(name)
    url = webhook_url_validate(url)
    event_types = webhook_event_types_validate(event_types)
    return WebhookSubscription.objects.create(
        name=name,
        url=url,
        event_types=event_types,
        secret=_new_secret(),
        is_active=is_active,
        api_client=api_client,
    )


@transaction.atomic
def webhook_subscription_update(
    *,
    subscription: WebhookSubscription,
    name: str | None = None,
    url: str | None = None,
    event_types: list[str] | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    """Changes what is given. Deliveries already queued go to the new URL; events that
    happen from now on follow the new types. Raises InvalidInput as create does."""
    fields = []
    if name is not None:
        subscription.name = _name_validate(name)
        fields.append("name")
    if url is not None:
        subscription.url = webhook_url_validate(url)
        fields.append("url")
    if event_types is not None:
        subscription.event_types = webhook_event_types_validate(event_types)
        fields.append("event_types")
    if is_active is not None:
        subscription.is_active = is_active
        fields.append("is_active")
    if fields:
        subscription.save(update_fields=[*fields, "updated_at"])
    return subscription


@transaction.atomic
def webhook_subscription_rotate_secret(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new secret, in force at once: every attempt from now on, retries of older events
    included, is signed with it (signatures are made when sending)."""
    subscription.secret = _new_secret()
    subscription.save(update_fields=["secret", "updated_at"])
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Deletes the subscription with its deliveries and their log; their queued attempts
    find nothing to send. Deactivate it instead to keep the log."""
    subscription.delete()


# --- reads ----------------------------------------------------------------------------------


def webhook_subscription_list(*, api_client_id: int | None = None) -> Any:
    """Every subscription, or only an API client's own when ``api_client_id`` is given."""
    queryset = WebhookSubscription.objects.select_related("api_client")
    if api_client_id is not None:
        queryset = queryset.filter(api_client_id=api_client_id)
    return queryset


def webhook_delivery_list(*, api_client_id: int | None = None) -> Any:
    """Deliveries with their event, subscription and attempts log, in three queries a page;
    only those to an API client's own subscriptions when ``api_client_id`` is given."""
    queryset = WebhookDelivery.objects.select_related("event", "subscription").prefetch_related("attempts_log")
    if api_client_id is not None:
        queryset = queryset.filter(subscription__api_client_id=api_client_id)
    return queryset


def webhook_event_list() -> Any:
    return WebhookEvent.objects.all()
