"""The built-in carrier: the shop's own fleet or a local courier that takes the shop's labels.

It works offline. Parcels are numbered by the shop in the UPU S10 shape (the carrier's two
letters, a serial from the carrier's counter, a check digit, the origin country), labels are
rendered here, prices come from the service's price rules, and tracking arrives in the
project's own webhook payload (documented in docs/tracking-webhooks.md).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from shipping import labels, tracking_numbers
from shipping.carriers.base import CarrierRejected, LabelRequest, LabelResult, TrackingUpdate
from shipping.enums import TrackingStatus
from shipping.models import Carrier, CarrierService
from shipping.pricing import price_for, price_rule_for


class OwnFleetAdapter:
    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier

    def needs_serial(self) -> bool:
        return True

    def reserve_tracking_number(self, *, serial: int, origin_country: str) -> str | None:
        if not self.carrier.tracking_prefix:
            raise CarrierRejected(
                f"Carrier {self.carrier.code} has no tracking prefix: set two letters for its tracking numbers."
            )
        try:
            return tracking_numbers.tracking_number(
                prefix=self.carrier.tracking_prefix, serial=serial, country=origin_country
            )
        except ValueError as exc:
            raise CarrierRejected(f"Carrier {self.carrier.code}: {exc}") from exc

    def quote(self, request: LabelRequest) -> Decimal:
        service = CarrierService.objects.get(carrier=self.carrier, code=request.service_code)
        rule = price_rule_for(list(service.price_rules.all()), request.recipient.country)
        if rule is None:
            raise CarrierRejected(f"{self.carrier.code}/{service.code} has no price for {request.recipient.country}.")
        return price_for(rule, request.weight_grams)

    def create_label(self, request: LabelRequest) -> LabelResult:
        if not request.tracking_number:
            raise CarrierRejected("An own-fleet label needs the tracking number reserved for it.")
        data = labels.LabelData(
            tracking_number=request.tracking_number,
            carrier=request.carrier_name,
            service=request.service_name,
            sender=request.sender.lines(),
            recipient=request.recipient.lines(),
            weight_grams=request.weight_grams,
            package=request.package,
            packages=request.packages,
            order_number=request.order_number,
        )
        return LabelResult(
            tracking_number=request.tracking_number,
            carrier_reference=request.tracking_number,
            pdf=labels.label_pdf(data),
            zpl=labels.label_zpl(data),
        )

    def void(self, *, tracking_number: str, carrier_reference: str) -> None:
        """The fleet has nothing to cancel: a voided number is simply never scanned out."""

    def parse_tracking(self, payload: dict[str, Any]) -> list[TrackingUpdate]:
        """Our documented payload: ``{"events": [{"tracking_number", "status", "occurred_at",
        "event_id"?, "description"?, "location"?}]}`` with ``status`` in the canonical
        vocabulary."""
        events = payload.get("events") if isinstance(payload, dict) else None
        if not isinstance(events, list) or not events:
            raise ValueError('The body must be {"events": [...]} with at least one event.')
        updates = []
        for index, event in enumerate(events):
            if not isinstance(event, dict):
                raise ValueError(f"events[{index}] must be an object.")
            number = event.get("tracking_number")
            status = event.get("status")
            occurred = event.get("occurred_at")
            if not isinstance(number, str) or not number.strip():
                raise ValueError(f"events[{index}].tracking_number is required.")
            if status not in TrackingStatus.values:
                raise ValueError(
                    f"events[{index}].status must be one of {', '.join(TrackingStatus.values)}; got {status!r}."
                )
            if not isinstance(occurred, str):
                raise ValueError(f"events[{index}].occurred_at is required (ISO 8601 with a time zone).")
            try:
                occurred_at = datetime.fromisoformat(occurred.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"events[{index}].occurred_at is not an ISO 8601 time: {occurred!r}.") from None
            if occurred_at.tzinfo is None:
                raise ValueError(f"events[{index}].occurred_at needs a time zone, such as Z or +01:00.")
            event_id = event.get("event_id")
            dedup = str(event_id) if event_id else f"{status}@{occurred_at.isoformat()}"
            updates.append(
                TrackingUpdate(
                    tracking_number=number.strip().upper(),
                    status=status,
                    occurred_at=occurred_at,
                    dedup_key=f"own:{dedup}"[:200],
                    carrier_status=status,
                    description=str(event.get("description") or "")[:500],
                    location=str(event.get("location") or "")[:200],
                    raw=event,
                )
            )
        return updates
