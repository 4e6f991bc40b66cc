"""The carrier adapter interface: what shipping needs from any carrier, whether the shop's own
fleet (built in, offline) or a courier's API reached through a multi-carrier SDK.

Adapters write nothing to the database; services call them outside transactions (a carrier's
API is a network call) and record the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class CarrierUnavailable(Exception):
    """The carrier did not answer or answered with a temporary error: try again later."""


class CarrierRejected(Exception):
    """The carrier refused the request (bad address, unknown service): retrying will not help;
    the message says what to fix."""


@dataclass(frozen=True)
class PostalAddress:
    name: str
    line1: str
    postal_code: str
    city: str
    country: str  # ISO 3166 alpha-2
    company: str = ""
    line2: str = ""
    region: str = ""
    phone: str = ""
    email: str = ""

    def lines(self) -> list[str]:
        """As printed on a label: name, company, street, town, country."""
        town = " ".join(p for p in (self.postal_code, self.city) if p)
        return [
            line for line in (self.name, self.company, self.line1, self.line2, town, self.region, self.country) if line
        ]


@dataclass(frozen=True)
class LabelRequest:
    reference: str  # ours, unique per label attempt: carriers that support it de-duplicate by it
    carrier_code: str
    carrier_name: str
    service_code: str
    service_name: str
    sender: PostalAddress
    recipient: PostalAddress
    weight_grams: int
    package: int  # n of ...
    packages: int  # ... N
    order_number: str
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    tracking_number: str = ""  # set when the adapter numbers parcels itself (reserve_tracking_number)


@dataclass(frozen=True)
class LabelResult:
    tracking_number: str
    carrier_reference: str
    pdf: bytes | None = None
    zpl: str = ""


@dataclass(frozen=True)
class TrackingUpdate:
    """One tracking event in the canonical vocabulary (``shipping.enums.TrackingStatus``)."""

    tracking_number: str
    status: str
    occurred_at: datetime
    dedup_key: str
    carrier_status: str = ""
    description: str = ""
    location: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class CarrierAdapter(Protocol):
    def reserve_tracking_number(self, *, serial: int, origin_country: str) -> str | None:
        """The number for the ``serial``-th parcel when the shop numbers parcels itself (own
        fleet); None when the carrier assigns numbers in ``create_label``."""
        ...

    def needs_serial(self) -> bool:
        """Whether ``reserve_tracking_number`` takes a serial from the carrier's counter."""
        ...

    def quote(self, request: LabelRequest) -> Decimal:
        """The price of shipping the parcel. Raises CarrierRejected or CarrierUnavailable."""
        ...

    def create_label(self, request: LabelRequest) -> LabelResult:
        """Creates the label. Raises CarrierRejected or CarrierUnavailable."""
        ...

    def void(self, *, tracking_number: str, carrier_reference: str) -> None:
        """Cancels a label so the carrier does not bill it. Raises CarrierRejected (already
        in transit) or CarrierUnavailable."""
        ...

    def parse_tracking(self, payload: dict[str, Any]) -> list[TrackingUpdate]:
        """The events in a webhook body this carrier sent. Raises ValueError naming what is
        wrong with the payload."""
        ...
