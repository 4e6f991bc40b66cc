"""Tracking webhook bodies: which shape a body has, and EasyPost's tracker events read into
the canonical vocabulary (``shipping.enums.TrackingStatus``).

Pure functions: no database access. Parsers raise ValueError with a sentence naming what is
wrong and where, which the webhook answers as 400 ``payload_invalid``. The mapping tables are
documented in docs/tracking-webhooks.md; keep the two in step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shipping.carriers.base import TrackingUpdate
from shipping.carriers.own_fleet import OwnFleetAdapter
from shipping.enums import TrackingStatus as T
from shipping.models import Carrier

SOURCE_OWN = "own"
SOURCE_EASYPOST = "easypost"

# EasyPost's Tracker and TrackingDetail ``status``.
EASYPOST_STATUS: dict[str, str] = {
    "pre_transit": T.LABEL_CREATED,
    "in_transit": T.IN_TRANSIT,
    "out_for_delivery": T.OUT_FOR_DELIVERY,
    "available_for_pickup": T.AVAILABLE_FOR_PICKUP,
    "delivered": T.DELIVERED,
    "return_to_sender": T.RETURNED_TO_SENDER,
    "failure": T.EXCEPTION,
    "error": T.EXCEPTION,
    "cancelled": T.EXCEPTION,
    # A scan EasyPost could not classify: the parcel is with the carrier, and nothing says
    # anything went wrong. The carrier's words stay in carrier_status and description.
    "unknown": T.IN_TRANSIT,
}

# ``status_detail`` says more than ``status`` for a parcel on its way (status in_transit,
# out_for_delivery or unknown): a failed attempt, a delay, a loss. Details not named here
# (arrived_at_facility, departed_facility, status_update, return...) add nothing and the
# status decides.
EASYPOST_DETAIL: dict[str, str] = {
    "delivery_exception": T.ATTEMPTED_DELIVERY,
    "arrived_at_pickup_location": T.AVAILABLE_FOR_PICKUP,
    "delayed": T.DELAYED,
    "weather_delay": T.DELAYED,
    "held": T.DELAYED,
    "awaiting_information": T.DELAYED,
    "address_correction": T.DELAYED,
    "missorted": T.DELAYED,
    "damaged": T.EXCEPTION,
    "lost": T.EXCEPTION,
    "refused": T.EXCEPTION,
    "transit_exception": T.EXCEPTION,
    "expired": T.EXCEPTION,
    "failure": T.EXCEPTION,
    "cancelled": T.EXCEPTION,
}
REFINED_BY_DETAIL = frozenset({"in_transit", "out_for_delivery", "unknown"})


def easypost_status(status: str, status_detail: str = "") -> str:
    """The canonical status of one EasyPost tracking detail. A status EasyPost adds later
    counts as ``unknown``."""
    known = status if status in EASYPOST_STATUS else "unknown"
    if known in REFINED_BY_DETAIL and status_detail in EASYPOST_DETAIL:
        return EASYPOST_DETAIL[status_detail]
    return EASYPOST_STATUS[known]


@dataclass(frozen=True)
class ParsedBody:
    """What a webhook body holds: its shape (``own`` or ``easypost``), its events, and why it
    holds none when it is a kind of notification that carries no tracking."""

    source: str
    updates: list[TrackingUpdate] = field(default_factory=list)
    ignored: str = ""


def parse_body(payload: Any, carrier: Carrier) -> ParsedBody:
    """Detects the shape of a decoded JSON body and reads its events. Our own payload, which
    any carrier may send, is read by the own-fleet adapter's parser; an EasyPost Event by
    ``parse_easypost``. Raises ValueError saying which shapes are accepted when the body is
    neither."""
    if isinstance(payload, dict) and "events" in payload:
        return ParsedBody(SOURCE_OWN, OwnFleetAdapter(carrier).parse_tracking(payload))
    if isinstance(payload, dict) and payload.get("object") == "Event":
        return parse_easypost(payload)
    raise ValueError(
        'The body must be our tracking payload {"events": [...]} or an EasyPost Event '
        '{"object": "Event", "description": "tracker.updated", "result": {"object": "Tracker", ...}}.'
    )


def parse_easypost(event: dict[str, Any]) -> ParsedBody:
    """An EasyPost webhook Event. A tracker event (``tracker.created``, ``tracker.updated``)
    carries the tracker's whole history in ``result.tracking_details``: every detail becomes
    one update, keyed by its status, time and message, so a detail seen again is the same
    event. Events about other objects (batches, refunds...) are ignored, not refused:
    EasyPost sends every kind to a webhook unless told otherwise."""
    description = event.get("description")
    result = event.get("result")
    kind = result.get("object") if isinstance(result, dict) else None
    if not (isinstance(description, str) and description.startswith("tracker.")) and kind != "Tracker":
        return ParsedBody(
            SOURCE_EASYPOST,
            ignored=f"EasyPost event {description or kind or 'without a description'} is not a tracker event.",
        )
    if not isinstance(result, dict) or kind != "Tracker":
        raise ValueError('result must be the Tracker object ({"object": "Tracker", "tracking_code": ...}).')
    code = result.get("tracking_code")
    if not isinstance(code, str) or not code.strip():
        raise ValueError("result.tracking_code is required.")
    details = result.get("tracking_details")
    if details is None:
        details = []
    if not isinstance(details, list):
        raise ValueError("result.tracking_details must be a list.")
    context = {"event": event.get("id"), "tracker": result.get("id"), "tracking_code": code}
    return ParsedBody(
        SOURCE_EASYPOST,
        [_easypost_detail(code.strip(), index, detail, context) for index, detail in enumerate(details)],
    )


def _easypost_detail(code: str, index: int, detail: Any, context: dict[str, Any]) -> TrackingUpdate:
    where = f"result.tracking_details[{index}]"
    if not isinstance(detail, dict):
        raise ValueError(f"{where} must be an object.")
    status = detail.get("status")
    if not isinstance(status, str) or not status:
        raise ValueError(f"{where}.status is required, such as in_transit or delivered.")
    status_detail = detail.get("status_detail") if isinstance(detail.get("status_detail"), str) else ""
    moment = detail.get("datetime")
    if not isinstance(moment, str):
        raise ValueError(f"{where}.datetime is required (ISO 8601).")
    try:
        occurred_at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}.datetime is not an ISO 8601 time: {moment!r}.") from None
    if occurred_at.tzinfo is None:
        # EasyPost gives UTC when it cannot tell the scan's local time zone.
        occurred_at = occurred_at.replace(tzinfo=UTC)
    message = str(detail.get("message") or detail.get("description") or "").strip()
    fingerprint = hashlib.sha256(f"{status}|{occurred_at.isoformat()}|{message}".encode()).hexdigest()
    return TrackingUpdate(
        tracking_number=code,
        status=easypost_status(status, status_detail or ""),
        occurred_at=occurred_at,
        dedup_key=f"easypost:{fingerprint}",
        carrier_status=(f"{status}/{status_detail}" if status_detail else status)[:100],
        description=message[:500],
        location=_location(detail.get("tracking_location"))[:200],
        raw={**context, "detail": detail},
    )


def _location(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    town = " ".join(str(value[key]) for key in ("zip", "city") if value.get(key))
    return ", ".join(part for part in (town, str(value.get("state") or ""), str(value.get("country") or "")) if part)
