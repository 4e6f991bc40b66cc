"""Inbound tracking: carriers' webhook calls, checked by their signature, stored raw and
normalised, and what they mean for the shipment and the order; and shipments gone quiet.

A call is one transaction. Locks follow docs/architecture.md: the orders concerned (by id),
then their shipments (by id), then the labels named (by id). The order services called here
lock their order again, which the transaction already holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from oms.common.actors import Actor
from oms.common.errors import AuthenticationFailed, InvalidInput
from oms.common.outbox import outbox_emit
from orders.enums import OrderStatus
from orders.locks import lock_orders
from orders.models import Order
from orders.services import order_mark_executed, order_mark_returned, order_mark_shipped
from shipping.carriers.base import TrackingUpdate
from shipping.enums import LabelStatus, ShipmentStatus, ShippingErrorCode, TrackingStatus
from shipping.models import Carrier, Label, Shipment, TrackingEvent
from shipping.services.shipments import _shipment_set_status, lock_shipment, shipment_record
from shipping.tracking_payloads import parse_body

SIGNATURE_HEADER = "X-OMS-Signature"  # sha256=<hex>
EASYPOST_SIGNATURE_HEADER = "X-Hmac-Signature"  # hmac-sha256-hex=<hex>

# The outcome of each event of a call.
STORED = "stored"
DUPLICATE = "duplicate"
UNKNOWN_TRACKING_NUMBER = ShippingErrorCode.UNKNOWN_TRACKING_NUMBER.value

SIGNATURE_MESSAGE = (
    "The signature is missing or does not match. Sign the exact request body with HMAC-SHA256 and the "
    "carrier's webhook secret, and send it as 'X-OMS-Signature: sha256=<hex>' (EasyPost: "
    "'X-Hmac-Signature: hmac-sha256-hex=<hex>') to /api/v1/carriers/<code>/tracking-events/ of that carrier."
)


class SignatureInvalid(AuthenticationFailed):
    code = ShippingErrorCode.SIGNATURE_INVALID


@dataclass(frozen=True)
class EventResult:
    index: int
    tracking_number: str
    status: str
    occurred_at: datetime
    result: str  # STORED, DUPLICATE or UNKNOWN_TRACKING_NUMBER


@dataclass(frozen=True)
class TrackingReceipt:
    carrier: str
    source: str
    results: list[EventResult]
    ignored: str = ""

    def count(self, result: str) -> int:
        return sum(1 for r in self.results if r.result == result)

    @property
    def message(self) -> str:
        if self.ignored:
            return f"{self.ignored} Nothing was recorded."
        return (
            f"{len(self.results)} event(s): {self.count(STORED)} stored, {self.count(DUPLICATE)} already known, "
            f"{self.count(UNKNOWN_TRACKING_NUMBER)} for tracking numbers of no parcel of carrier {self.carrier}."
        )


# --- signatures -----------------------------------------------------------------------------


def sign_body(secret: str, body: bytes) -> str:
    """The ``X-OMS-Signature`` value for a body: ``sha256=`` and the HMAC-SHA256 in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _easypost_signature(secret: str, body: bytes) -> str:
    # EasyPost's client libraries normalise the secret (NFKD) before signing.
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the body carries a valid signature made with ``secret``: ours in
    ``X-OMS-Signature``, or EasyPost's in ``X-Hmac-Signature``. An empty secret matches
    nothing. Compared in constant time."""
    ours = headers.get(SIGNATURE_HEADER)
    theirs = headers.get(EASYPOST_SIGNATURE_HEADER)
    if ours is not None:
        given, expected = ours, sign_body(secret, body)
    elif theirs is not None:
        given, expected = theirs, _easypost_signature(secret, body)
    else:
        return False
    matches = hmac.compare_digest(given.strip().lower().encode(), expected.encode())
    return matches and bool(secret)


def _verified_carrier(code: str, body: bytes, headers: Mapping[str, str]) -> Carrier:
    """The carrier whose secret signed the body. An unknown carrier, a carrier without a
    secret and a bad signature are refused alike, after the same work, so a caller cannot
    tell which carrier codes exist."""
    carrier = Carrier.objects.filter(code=code).first()
    secret = carrier.webhook_secret if carrier is not None else ""
    if not signature_valid(secret or secrets.token_hex(32), body, headers) or not secret or carrier is None:
        raise SignatureInvalid(SIGNATURE_MESSAGE)
    return carrier


# --- receiving ------------------------------------------------------------------------------


def tracking_receive(*, carrier_code: str, body: bytes, headers: Mapping[str, str]) -> TrackingReceipt:
    """Records a carrier's tracking webhook call: the signature is checked first, then the
    body is read (our payload or EasyPost's, told apart by shape), then each event is stored
    once per parcel, raw and normalised, and its consequences applied, all in one transaction.

    An event for a tracking number that is no parcel of this carrier is answered
    ``unknown_tracking_number`` and the rest of the call goes on; an event stored before is a
    ``duplicate``. Parcels and shipments show their latest event by when it happened, never
    moving back when an older one arrives late. Effects: see ``_apply_effects``.

    Raises SignatureInvalid (401 ``signature_invalid``: unknown carrier, no secret, missing
    or wrong signature) and InvalidInput (400 ``payload_invalid``), both before anything is
    written.
    """
    carrier = _verified_carrier(carrier_code, body, headers)
    try:
        parsed = parse_body(json.loads(body), carrier)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        if isinstance(exc, RecursionError):
            reason = "The body is not JSON we can read: it is nested too deeply."
        elif isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
            reason = f"The body is not JSON: {exc}."
        else:
            reason = str(exc)
        raise InvalidInput(
            f"{reason} Nothing was recorded; see docs/tracking-webhooks.md for the payload.",
            fields={"body": [reason]},
            code=ShippingErrorCode.PAYLOAD_INVALID,
        ) from None
    results = _record(carrier, parsed.source, parsed.updates) if parsed.updates else []
    return TrackingReceipt(carrier=carrier.code, source=parsed.source, results=results, ignored=parsed.ignored)


@transaction.atomic
def _record(carrier: Carrier, source: str, updates: list[TrackingUpdate]) -> list[EventResult]:
    actor = Actor.system(f"carrier {carrier.code}: tracking webhook")
    wanted = {u.tracking_number for u in updates} | {u.tracking_number.upper() for u in updates}
    rows = list(
        Label.objects.filter(tracking_number__in=wanted, shipment__carrier=carrier).values_list(
            "pk", "tracking_number", "shipment_id", "shipment__order__number"
        )
    )
    label_of = {str(number).upper(): pk for pk, number, _s, _o in rows}
    order_of = {shipment_id: number for _p, _n, shipment_id, number in rows}
    lock_orders(numbers=[number for _pk, _n, _s, number in rows])
    shipments = {pk: lock_shipment(pk) for pk in sorted({shipment_id for _p, _n, shipment_id, _o in rows})}
    labels = {
        label.pk: label
        for label in Label.objects.select_for_update(no_key=True).filter(pk__in=label_of.values()).order_by("pk")
    }
    seen = set(
        TrackingEvent.objects.filter(label_id__in=labels, dedup_key__in={u.dedup_key for u in updates}).values_list(
            "label_id", "dedup_key"
        )
    )

    results: list[EventResult] = []
    stored: list[TrackingEvent] = []
    for index, update in enumerate(updates):
        label_id = label_of.get(update.tracking_number.upper())
        if label_id is None:
            outcome = UNKNOWN_TRACKING_NUMBER
        elif (label_id, update.dedup_key) in seen:
            outcome = DUPLICATE
        else:
            outcome = STORED
            seen.add((label_id, update.dedup_key))
            stored.append(
                TrackingEvent(
                    label_id=label_id,
                    dedup_key=update.dedup_key,
                    status=update.status,
                    carrier_status=update.carrier_status,
                    description=update.description,
                    location=update.location,
                    occurred_at=update.occurred_at,
                    source=source,
                    raw=update.raw,
                )
            )
        results.append(EventResult(index, update.tracking_number, update.status, update.occurred_at, outcome))
    TrackingEvent.objects.bulk_create(stored)

    for label in labels.values():
        _follow_latest(label, [e for e in stored if e.label_id == label.pk])
    for shipment in shipments.values():
        # A voided label's events stay with that label; they say nothing of the shipment.
        news = [
            e
            for e in stored
            if labels[e.label_id].shipment_id == shipment.pk and labels[e.label_id].status == LabelStatus.LIVE
        ]
        if news:
            _follow_latest(shipment, news)
            _clear_stale(shipment, actor)
            _apply_effects(shipment, news, actor)
            _emit_tracking_updated(
                shipment, order_of[shipment.pk], carrier, news, {pk: labels[pk].tracking_number or "" for pk in labels}
            )
    return results


def _emit_tracking_updated(
    shipment: Shipment, order_number: str, carrier: Carrier, news: list[TrackingEvent], numbers: dict[int, str]
) -> None:
    """Tells the customer (out for delivery, delayed...) and integrators, from the outbox."""
    latest = _latest(news)
    outbox_emit(
        topic="shipment.tracking_updated",
        key=f"shipment.tracking_updated:{shipment.pk}:{max(e.pk for e in news)}",
        payload={
            "order": order_number,
            "shipment": shipment.pk,
            "occurred_at": latest.occurred_at.isoformat(),
            "snapshot": {
                "order": order_number,
                "carrier": carrier.code,
                "shipment_status": shipment.status,
                "tracking_status": shipment.tracking_status,
                "events": [
                    {
                        "tracking_number": numbers[e.label_id],
                        "status": e.status,
                        "carrier_status": e.carrier_status,
                        "description": e.description,
                        "location": e.location,
                        "occurred_at": e.occurred_at.isoformat(),
                    }
                    for e in sorted(news, key=lambda e: (e.occurred_at, e.pk))
                ],
            },
        },
    )


def _latest(events: list[TrackingEvent]) -> TrackingEvent:
    # Equal times: the one listed last in the call wins.
    return max(reversed(events), key=lambda e: e.occurred_at)


def _follow_latest(row: Label | Shipment, events: list[TrackingEvent]) -> None:
    """A parcel or shipment shows the event that happened last; an event that happened before
    the one it shows (arriving late) changes nothing."""
    if not events:
        return
    latest = _latest(events)
    if row.last_event_at is not None and latest.occurred_at <= row.last_event_at:
        return
    row.tracking_status = latest.status
    row.last_event_at = latest.occurred_at
    fields = ["tracking_status", "last_event_at"]
    row.save(update_fields=[*fields, "updated_at"] if isinstance(row, Shipment) else fields)


def _clear_stale(shipment: Shipment, actor: Actor) -> None:
    if shipment.stale_since is None:
        return
    since = shipment.stale_since
    shipment.stale_since = None
    shipment.save(update_fields=["stale_since", "updated_at"])
    shipment_record(shipment, actor, "stale_cleared", f"Tracking resumed; quiet since {since:%Y-%m-%d %H:%M} UTC.")


def _apply_effects(shipment: Shipment, news: list[TrackingEvent], actor: Actor) -> None:
    """What the live parcels' new events (``news``) mean for the shipment and its order, with
    both locked:

    - a first carrier event beyond ``label_created`` on a live parcel proves the carrier has
      it, even when the dock scan-out was missed: a labelled shipment is handed over and a
      packed order shipped;
    - a live parcel ``returned_to_sender``: the shipment is returned, and the order too when
      it is shipped or executed;
    - every live parcel ``delivered``: the shipment is delivered, and a shipped order
      executed.
    """
    live = list(Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE).order_by("pk"))
    order = Order.objects.get(pk=shipment.order_id)
    carried = [e for e in news if e.status != TrackingStatus.LABEL_CREATED]

    if shipment.status == ShipmentStatus.LABELLED and carried:
        first = min(carried, key=lambda e: e.occurred_at)
        note = f"Carrier scan: {first.get_status_display().lower()} at {first.occurred_at:%Y-%m-%d %H:%M} UTC"
        if order.status == OrderStatus.PACKED:
            order = order_mark_shipped(actor=actor, number=order.number, note=note)
        _shipment_set_status(shipment, ShipmentStatus.HANDED_OVER, actor=actor, note=note)
        _stamp(shipment, "handed_over_at", first.occurred_at)

    if shipment.status != ShipmentStatus.HANDED_OVER or not live:
        return
    returned = [label for label in live if label.tracking_status == TrackingStatus.RETURNED_TO_SENDER]
    if returned:
        note = f"Returned to sender: {', '.join(str(label) for label in returned)}"
        _shipment_set_status(shipment, ShipmentStatus.RETURNED, actor=actor, note=note)
        if order.status in (OrderStatus.SHIPPED, OrderStatus.EXECUTED):
            order_mark_returned(actor=actor, number=order.number, note=note)
    elif all(label.tracking_status == TrackingStatus.DELIVERED for label in live):
        note = f"Delivered: {', '.join(str(label) for label in live)}"
        _shipment_set_status(shipment, ShipmentStatus.DELIVERED, actor=actor, note=note)
        _stamp(shipment, "delivered_at", max(label.last_event_at or timezone.now() for label in live))
        if order.status == OrderStatus.SHIPPED:
            order_mark_executed(actor=actor, number=order.number, note=note)


def _stamp(shipment: Shipment, name: str, when: datetime) -> None:
    """The time the carrier reported, rather than the time we learned of it, when earlier."""
    current = getattr(shipment, name)
    if current is None or when < current:
        setattr(shipment, name, when)
        shipment.save(update_fields=[name])


# --- shipments gone quiet -------------------------------------------------------------------


def shipments_flag_stale(*, now: datetime | None = None) -> list[str]:
    """Flags handed-over shipments with no tracking event for ``OMS_TRACKING_STALE_DAYS``
    (counted from the latest event, or from the hand-over when none came): sets
    ``stale_since`` and records a ``stale`` shipment event. The next event clears it. Returns
    the order numbers flagged now; a shipment already flagged is not flagged again.

    Each shipment is checked again under its lock, in its own transaction, so an event
    arriving meanwhile wins.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OMS_TRACKING_STALE_DAYS)
    quiet = Q(status=ShipmentStatus.HANDED_OVER, stale_since__isnull=True, quiet_since__lt=cutoff)
    candidates = list(
        Shipment.objects.annotate(quiet_since=Coalesce("last_event_at", "handed_over_at"))
        .filter(quiet)
        .order_by("pk")
        .values_list("pk", "order__number")
    )
    actor = Actor.system("system: stale tracking check")
    flagged = []
    for pk, number in candidates:
        with transaction.atomic():
            shipment = lock_shipment(pk)
            quiet_since = shipment.last_event_at or shipment.handed_over_at
            if (
                shipment.status != ShipmentStatus.HANDED_OVER
                or shipment.stale_since is not None
                or quiet_since is None
                or quiet_since >= cutoff
            ):
                continue
            shipment.stale_since = now
            shipment.save(update_fields=["stale_since", "updated_at"])
            shipment_record(
                shipment,
                actor,
                "stale",
                f"No tracking event since {quiet_since:%Y-%m-%d %H:%M} UTC "
                f"({settings.OMS_TRACKING_STALE_DAYS} days or more).",
            )
            flagged.append(number)
    return flagged
