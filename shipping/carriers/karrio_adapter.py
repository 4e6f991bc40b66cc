"""Couriers reached through the karrio SDK (``Carrier.adapter = karrio``): DHL, UPS, FedEx, GLS,
DPD and the other carriers karrio has an extension for (docs/adr/0007).

karrio is optional: it is imported here, inside the calls, and nowhere else, so a project
without it installed runs and tests everything but these carriers; a karrio carrier then fails
its labels with a sentence saying what to install.

- The carrier's karrio name is ``Carrier.karrio_carrier`` (such as ``dhl_poland``); its
  connection settings (account, password, ``test_mode``...) are a JSON object in the
  environment variable ``OMS_CARRIER_<CODE>_CREDENTIALS`` (``credentials_variable``), read on
  each call and never written to the database, a task's arguments or a message.
- The service sent is ``CarrierService.code``: karrio's service name (``dhl_poland_polska``)
  or the carrier's own product code (``AH``).
- The carrier numbers parcels itself: ``create_label`` returns its tracking number and, as the
  carrier reference, the shipment id that ``void`` cancels with.
- karrio catches every failure, a dropped connection included, and returns it as a message;
  messages are sorted here (``_failure``): an answer karrio could not read, a 5xx status
  or no answer at all is CarrierUnavailable (the label is tried again); anything the carrier
  said is CarrierRejected with its words. karrio opens connections without a timeout, so each
  call runs in a thread the caller waits for at most ``OMS_CARRIER_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from shipping.carriers.base import CarrierRejected, CarrierUnavailable, LabelRequest, LabelResult, TrackingUpdate
from shipping.enums import LabelFormat, TrackingStatus
from shipping.models import Carrier

logger = logging.getLogger(__name__)

T = TypeVar("T")

# karrio's codes for its own failures (karrio.core.errors).
SDK_FAILURE = "SHIPPING_SDK_INTERNAL_ERROR"  # an exception inside karrio: network, unreadable answer
NOT_SUPPORTED = "SHIPPING_SDK_NON_SUPPORTED_ERROR"  # the carrier's extension lacks the operation

# karrio's normalised tracking statuses (karrio.core.units.TrackingStatus) in our vocabulary.
KARRIO_STATUS: dict[str, str] = {
    "pending": TrackingStatus.LABEL_CREATED,
    "picked_up": TrackingStatus.IN_TRANSIT,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "on_hold": TrackingStatus.DELAYED,
    "delivery_delayed": TrackingStatus.DELAYED,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "ready_for_pickup": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "delivery_failed": TrackingStatus.ATTEMPTED_DELIVERY,
    "return_to_sender": TrackingStatus.RETURNED_TO_SENDER,
    "cancelled": TrackingStatus.EXCEPTION,
    "delivered": TrackingStatus.DELIVERED,
    # A scan karrio could not classify: the parcel is with the carrier and nothing says it
    # went wrong; the carrier's code and words stay in carrier_status and description.
    "unknown": TrackingStatus.IN_TRANSIT,
}

_setup_lock = threading.Lock()
_token_cache: Any = None  # one karrio Cache per process: OAuth carriers reuse their tokens


def credentials_variable(carrier_code: str) -> str:
    """The environment variable holding a carrier's karrio settings, such as
    ``OMS_CARRIER_DHL_PL_CREDENTIALS`` for carrier ``dhl-pl``."""
    return f"OMS_CARRIER_{re.sub(r'[^A-Z0-9]', '_', carrier_code.upper())}_CREDENTIALS"


def _karrio() -> Any:
    """The karrio SDK module, imported on first use. karrio logs through its own logger
    (loguru, to stderr, INFO: two lines per request); it is set to warnings unless
    ``KARRIO_LOG_LEVEL`` says otherwise."""
    global _token_cache
    import karrio.sdk as sdk

    if _token_cache is None:
        with _setup_lock:
            if _token_cache is None:
                from karrio.core.utils import Cache
                from karrio.core.utils.logger import configure_logger

                if not os.environ.get("KARRIO_LOG_LEVEL"):
                    configure_logger(level="WARNING")
                _token_cache = Cache()
    return sdk


class KarrioAdapter:
    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier

    def needs_serial(self) -> bool:
        return False

    def reserve_tracking_number(self, *, serial: int, origin_country: str) -> str | None:
        return None

    # --- operations ---------------------------------------------------------------------

    def quote(self, request: LabelRequest) -> Decimal:
        """The carrier's price for the parcel, in the currency of its answer (karrio's rate;
        carriers without a rating API price from the rate sheet in their settings)."""
        sdk, gateway = self._gateway()
        from karrio.core import models

        rate_request = models.RateRequest(
            shipper=self._address(request.sender, shipper=True),
            recipient=self._address(request.recipient),
            parcels=[self._parcel(request)],
            services=[request.service_code],
            reference=request.reference,
        )
        rates, messages = self._call(lambda: sdk.Rating.fetch(rate_request).from_(gateway).parse(), "the quote")
        chosen = [rate for rate in rates or [] if rate.service == request.service_code] or list(rates or [])
        if not chosen:
            if messages:
                raise self._failure(messages, "the quote")
            raise CarrierRejected(
                f"{self.carrier.name} has no price for {request.service_code} to {request.recipient.country} "
                f"at {request.weight_grams} g."
            )
        try:
            return Decimal(str(min(rate.total_charge for rate in chosen)))
        except InvalidOperation as exc:
            raise CarrierUnavailable(f"{self.carrier.name} answered the quote with no readable price.") from exc

    def create_label(self, request: LabelRequest) -> LabelResult:
        sdk, gateway = self._gateway()
        from karrio.core import models

        label_type = "ZPL" if self.carrier.label_format == LabelFormat.ZPL else "PDF"
        shipment_request = models.ShipmentRequest(
            service=request.service_code,
            shipper=self._address(request.sender, shipper=True),
            recipient=self._address(request.recipient),
            parcels=[self._parcel(request)],
            reference=request.reference,
            order_id=request.order_number,
            label_type=label_type,
            metadata={"order": request.order_number, "package": f"{request.package}/{request.packages}"},
        )
        shipment, messages = self._call(
            lambda: sdk.Shipment.create(shipment_request).from_(gateway).parse(), "the label"
        )
        if shipment is None:
            raise self._failure(messages, "the label")
        tracking_number = str(shipment.tracking_number or "").strip()
        reference = str(shipment.shipment_identifier or tracking_number).strip()
        if messages:
            logger.warning("%s made label %s with messages: %s", self.carrier.code, tracking_number, messages)
        pdf, zpl = _documents(shipment)
        problem = ""
        if not tracking_number or len(tracking_number) > 64 or len(reference) > 100:
            problem = f"a tracking number we cannot store ({tracking_number!r})"
        elif pdf is None and not zpl:
            problem = "no label document we can print"
        if problem:
            # The carrier made a shipment nobody can use: cancel it so it is not billed.
            try:
                self.void(tracking_number=tracking_number, carrier_reference=reference)
            except (CarrierRejected, CarrierUnavailable) as exc:
                logger.warning("Could not cancel unusable shipment %s at %s: %s", reference, self.carrier.code, exc)
            raise CarrierRejected(
                f"{self.carrier.name} answered with {problem} for shipment {reference or 'without an id'}; "
                "it was cancelled at the carrier. Check the carrier's settings and karrio extension, then retry."
            )
        return LabelResult(tracking_number=tracking_number, carrier_reference=reference, pdf=pdf, zpl=zpl)

    def void(self, *, tracking_number: str, carrier_reference: str) -> None:
        """Cancels the shipment at the carrier. A carrier whose karrio extension cannot cancel
        (it bills only parcels it collects) has nothing to cancel."""
        sdk, gateway = self._gateway()
        from karrio.core import models

        cancel_request = models.ShipmentCancelRequest(shipment_identifier=carrier_reference or tracking_number)
        confirmation, messages = self._call(
            lambda: sdk.Shipment.cancel(cancel_request).from_(gateway).parse(), "the cancellation"
        )
        if confirmation is not None and confirmation.success:
            return
        if messages and all(m.code == NOT_SUPPORTED for m in messages):
            logger.info(
                "%s cannot cancel labels through karrio; %s is left unused.", self.carrier.code, tracking_number
            )
            return
        raise self._failure(messages, "the cancellation")

    def track(self, tracking_numbers: list[str]) -> list[TrackingUpdate]:
        """Asks the carrier for the parcels' events (karrio's tracking request) and reads them
        like a pushed tracking payload."""
        sdk, gateway = self._gateway()
        from karrio.core import models
        from karrio.core.utils import DP

        tracking_request = models.TrackingRequest(tracking_numbers=tracking_numbers)
        details, messages = self._call(
            lambda: sdk.Tracking.fetch(tracking_request).from_(gateway).parse(), "the tracking request"
        )
        if not details and messages:
            raise self._failure(messages, "the tracking request")
        return [update for detail in details or [] for update in self.parse_tracking(DP.to_dict(detail))]

    def parse_tracking(self, payload: dict[str, Any]) -> list[TrackingUpdate]:
        """karrio's tracking details of one parcel, as its SDK returns them (``TrackingDetails``
        as a dict): ``{"tracking_number", "status"?, "delivered"?, "events": [{"date",
        "time"?, "timestamp"?, "code"?, "status"?, "description"?, "location"?}]}``. An event's
        status is karrio's normalised one; an event without it takes the parcel's status when
        it is the newest, else counts as in transit. Times without a zone are shop time."""
        if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
            raise ValueError(
                'The body must be karrio tracking details {"tracking_number": ..., "events": [...]}; '
                "other tracking for this carrier comes through the aggregator's webhook."
            )
        number = payload.get("tracking_number")
        if not isinstance(number, str) or not number.strip():
            raise ValueError("tracking_number is required.")
        events = payload["events"]
        moments = [_event_time(index, event) for index, event in enumerate(events)]
        newest = max(range(len(events)), key=lambda i: moments[i]) if events else -1
        overall = str(payload.get("status") or ("delivered" if payload.get("delivered") else ""))
        updates = []
        for index, event in enumerate(events):
            given = str(event.get("status") or "")
            status = given or (overall if index == newest else "") or "unknown"
            if status not in KARRIO_STATUS:
                status = "unknown"
            code = str(event.get("code") or given or "")
            description = str(event.get("description") or "")
            fingerprint = hashlib.sha256(f"{code}|{moments[index].isoformat()}|{description}".encode()).hexdigest()
            updates.append(
                TrackingUpdate(
                    tracking_number=number.strip().upper(),
                    status=KARRIO_STATUS[status],
                    occurred_at=moments[index],
                    dedup_key=f"karrio:{fingerprint}",
                    carrier_status=code[:100],
                    description=description[:500],
                    location=str(event.get("location") or "")[:200],
                    raw={"tracking_number": number, "event": event},
                )
            )
        return updates

    # --- plumbing -----------------------------------------------------------------------

    def _gateway(self) -> tuple[Any, Any]:
        """karrio and a gateway for this carrier with the credentials from the environment.
        Raises CarrierRejected naming what to install or which variable to fix."""
        name = self.carrier.karrio_carrier.strip()
        if not name:
            raise CarrierRejected(
                f"Carrier {self.carrier.code} has no karrio carrier name: set it in the admin, such as dhl_poland."
            )
        try:
            sdk = _karrio()
        except ImportError as exc:
            raise CarrierRejected(
                f"Carrier {self.carrier.code} needs the karrio SDK, which is not installed on the workers: "
                f"pip install karrio karrio.{name}, restart the workers, then retry the labels."
            ) from exc
        provider = sdk.gateway.providers.get(name)
        if provider is None:
            raise CarrierRejected(
                f"karrio has no carrier named {name}: install its extension (pip install karrio.{name}) "
                f"or correct the karrio name of carrier {self.carrier.code}."
            )
        credentials = self._credentials(provider.Settings)
        try:
            gateway = sdk.gateway[name].create(credentials, cache=_token_cache)
        except Exception as exc:
            raise CarrierRejected(
                f"karrio refused the settings in {credentials_variable(self.carrier.code)} for {name} "
                f"({exc.__cause__.__class__.__name__ if exc.__cause__ else exc.__class__.__name__}): "
                "check them against the karrio documentation of the carrier."
            ) from exc
        return sdk, gateway

    def _credentials(self, settings_class: Any) -> dict[str, Any]:
        """The JSON object in the carrier's variable, its keys checked against the karrio
        settings class (a misspelt key would otherwise be dropped, and logged with its value,
        by karrio). Messages name keys, never values."""
        import attr

        variable = credentials_variable(self.carrier.code)
        raw = os.environ.get(variable, "").strip()
        if not raw:
            raise CarrierRejected(
                f"Carrier {self.carrier.code} has no credentials: set the environment variable {variable} "
                'to a JSON object with its karrio settings, such as {"username": "...", "password": "..."}, '
                "on the workers, restart them, then retry the labels."
            )
        try:
            credentials = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise CarrierRejected(
                f"The environment variable {variable} is not valid JSON ({exc.msg} at character {exc.pos}): "
                "write it as one JSON object, then retry the labels."
            ) from None
        if not isinstance(credentials, dict) or not credentials:
            raise CarrierRejected(
                f"The environment variable {variable} must be a JSON object with the carrier's karrio settings, "
                'such as {"username": "...", "password": "..."}.'
            )
        fields = {field.name: field for field in attr.fields(settings_class)}
        unknown = sorted(set(credentials) - set(fields))
        missing = sorted(n for n, f in fields.items() if f.default is attr.NOTHING and n not in credentials)
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"lacks {', '.join(missing)}")
            if unknown:
                parts.append(f"has keys karrio does not know ({', '.join(unknown)})")
            raise CarrierRejected(
                f"The environment variable {variable} {' and '.join(parts)}; "
                f"{self.carrier.karrio_carrier} takes {', '.join(fields)}."
            )
        return credentials

    def _call(self, work: Callable[[], T], doing: str) -> T:
        """Runs one karrio operation, waiting at most ``OMS_CARRIER_TIMEOUT_SECONDS``. karrio
        opens its connections without a timeout, so a carrier that stops answering would hold
        the worker for good; the thread left waiting ends with the connection."""
        timeout = settings.OMS_CARRIER_TIMEOUT_SECONDS
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = work()
            except BaseException as exc:  # re-raised in the caller's thread below
                outcome["error"] = exc

        thread = threading.Thread(target=run, name=f"karrio-{self.carrier.code}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise CarrierUnavailable(f"{self.carrier.name} did not answer {doing} within {timeout} s.")
        if "error" in outcome:
            exc = outcome["error"]
            if isinstance(exc, OSError):
                raise CarrierUnavailable(f"{self.carrier.name} could not be reached for {doing}: {exc}") from exc
            raise CarrierRejected(f"karrio failed on {doing} for {self.carrier.name}: {exc}") from exc
        return outcome["result"]

    def _failure(self, messages: list[Any] | None, doing: str) -> CarrierRejected | CarrierUnavailable:
        """What karrio's messages mean: the carrier's own words refuse; karrio's report of an
        exception (connection, timeout, an answer it could not read) or a 5xx is temporary;
        no answer and no message is an error page karrio could not read."""
        messages = list(messages or [])
        words = [m for m in messages if not _temporary(m)]
        if words:
            return CarrierRejected(f"{self.carrier.name} refused {doing}: {'; '.join(_text(m) for m in words)}")
        if messages:
            return CarrierUnavailable(
                f"{self.carrier.name} could not be reached or answered {doing} with something karrio could not read: "
                f"{_text(messages[0])}"
            )
        return CarrierUnavailable(
            f"{self.carrier.name} answered {doing} with neither a result nor a message (an error page?)."
        )

    def _address(self, address: Any, *, shipper: bool = False) -> Any:
        from karrio.core import models

        company = address.company or (address.name if shipper else "")
        return models.Address(
            person_name=address.name if not (shipper and company == address.name) else None,
            company_name=company or None,
            address_line1=address.line1,
            address_line2=address.line2 or None,
            postal_code=address.postal_code,
            city=address.city,
            state_code=address.region or None,
            country_code=address.country.upper(),
            phone_number=address.phone or None,
            email=address.email or None,
            residential=not shipper and not address.company,
        )

    def _parcel(self, request: LabelRequest) -> Any:
        from karrio.core import models

        measured = request.length_mm and request.width_mm and request.height_mm
        return models.Parcel(
            weight=max(request.weight_grams, 1) / 1000,
            weight_unit="KG",
            length=request.length_mm / 10 if measured else None,
            width=request.width_mm / 10 if measured else None,
            height=request.height_mm / 10 if measured else None,
            dimension_unit="CM" if measured else None,
            reference_number=request.reference,
        )


def _temporary(message: Any) -> bool:
    if message.code == SDK_FAILURE:
        return True
    details = message.details if isinstance(message.details, dict) else {}
    status = str(details.get("http_status") or message.code or "")
    return len(status) == 3 and status.startswith("5") and status.isdigit()


def _text(message: Any) -> str:
    text = str(message.message or "").strip() or "no message"
    code = str(message.code or "").strip()
    return f"{text} (code {code})" if code and code != SDK_FAILURE else text


def _documents(shipment: Any) -> tuple[bytes | None, str]:
    """The label as PDF bytes or ZPL text. karrio returns it base64-encoded in ``docs.label``
    and, for some carriers, also in ``docs.pdf_label`` / ``docs.zpl_label``. The content
    decides which it is, not ``label_type``, which many extensions leave empty; anything else
    (an image) is not a label we can print."""
    docs = shipment.docs
    pdf: bytes | None = None
    zpl = ""
    for encoded in (docs.label, getattr(docs, "pdf_label", None), getattr(docs, "zpl_label", None)):
        if not encoded:
            continue
        try:
            content = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError):
            continue
        if content.lstrip().startswith(b"%PDF"):
            pdf = pdf or content
        elif b"^XA" in content[:2000]:
            zpl = zpl or content.decode("utf-8", errors="replace")
    return pdf, zpl


def _event_time(index: int, event: Any) -> datetime:
    if not isinstance(event, dict):
        raise ValueError(f"events[{index}] must be an object.")
    stamp = event.get("timestamp")
    if isinstance(stamp, str) and stamp:
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"events[{index}].timestamp is not an ISO 8601 time: {stamp!r}.") from None
    else:
        day = event.get("date")
        if not isinstance(day, str) or not day:
            raise ValueError(f"events[{index}] needs a timestamp or a date.")
        try:
            date = datetime.fromisoformat(day).date()
        except ValueError:
            raise ValueError(f"events[{index}].date is not a date such as 2026-11-23: {day!r}.") from None
        moment = datetime.combine(date, _clock(index, event.get("time")))
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment)
    return moment


def _clock(index: int, value: Any) -> time:
    """karrio's event time: ``14:05``, ``14:05:09`` or ``02:05 PM``; midnight when absent."""
    if not isinstance(value, str) or not value.strip():
        return time(0, 0)
    for pattern in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p"):
        try:
            return datetime.strptime(value.strip(), pattern).time()
        except ValueError:
            continue
    raise ValueError(f"events[{index}].time is not a time such as 14:05: {value!r}.")
