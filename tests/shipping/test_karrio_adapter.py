"""Carriers through the karrio SDK, offline: karrio builds and reads the real carrier messages
(DHL Parcel Polska's DHL24 SOAP API, extension ``karrio.dhl_poland``) and only the socket is
replaced: ``urlopen`` inside karrio answers from ``CarrierServer``, and any other attempt to
reach a host off this machine fails the test."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from xml.sax.saxutils import escape

import pytest
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from oms.common.actors import Actor
from oms.common.models import OutboxMessage
from shipping.carriers.base import CarrierRejected, CarrierUnavailable, LabelRequest, PostalAddress
from shipping.carriers.karrio_adapter import KarrioAdapter, credentials_variable
from shipping.enums import AdapterKind, LabelFormat, LabelStatus, ShipmentStatus, TrackingStatus
from shipping.models import Carrier, CarrierService, Label, Shipment, ShipmentEvent, ShippingMethodService
from shipping.services.labels import label_void
from shipping.tasks import create_order_labels
from tests.shipping.helpers import label_messages, packed_order

ROOT = Path(__file__).resolve().parents[2]
DHL24 = "https://dhl24.com.pl/webapi2/provider/service.html?ws=1"
NS = DHL24
VARIABLE = "OMS_CARRIER_DHL_PL_CREDENTIALS"
SECRET = "s3cret-dhl24-password"
CREDENTIALS = {"username": "DEMO_SHOP", "password": SECRET, "account_number": "6000000"}


# --- no network -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only this machine may be reached (PostgreSQL, Redis); anything else is refused and
    fails the test, even when karrio swallows the error."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo
    local = {"127.0.0.1", "::1", "localhost"}

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in local:
            attempts.append(address)
            raise OSError(f"tests may not reach {address}")
        return real_connect(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in local and host is not None:
            attempts.append(host)
            raise OSError(f"tests may not look up {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    assert not attempts, f"a test tried to reach the network: {attempts}"


# --- the carrier's side ---------------------------------------------------------------------


@dataclass
class Call:
    url: str
    action: str
    body: str


@dataclass
class CarrierServer:
    """DHL24 as karrio's ``urlopen`` sees it: each SOAP action answered by a function of the
    request body returning (HTTP status, body), or raising like a dropped connection."""

    answers: dict[str, Callable[[str], tuple[int, str]]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def urlopen(self, request: Any, timeout: Any = None) -> _Response:
        action = dict(request.header_items()).get("Soapaction", "").rsplit("#", 1)[-1]
        body = request.data.decode()
        self.calls.append(Call(request.full_url, action, body))
        if action not in self.answers:
            raise AssertionError(f"unexpected DHL24 call {action}")
        status, answer = self.answers[action](body)
        if status >= 400:
            headers = Message()
            headers["Content-Type"] = "text/xml; charset=utf-8"
            raise HTTPError(request.full_url, status, "error", headers, io.BytesIO(answer.encode()))
        return _Response(answer.encode())


class _Response:
    status = 200
    url = DHL24

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers = {"Content-Type": "text/xml; charset=utf-8"}

    def read(self) -> bytes:
        return self.body

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *args: Any) -> None:
        return None


@pytest.fixture
def dhl24(monkeypatch: pytest.MonkeyPatch) -> CarrierServer:
    """karrio with the dhl_poland extension, its transport answering from CarrierServer, and
    the carrier's credentials in the environment."""
    pytest.importorskip("karrio.mappers.dhl_poland", reason="pip install -r requirements-dev.txt installs it")
    import karrio.core.utils.helpers as http

    server = CarrierServer()
    monkeypatch.setattr(http, "urlopen", server.urlopen)
    monkeypatch.setenv(VARIABLE, json.dumps(CREDENTIALS))
    return server


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns1="{NS}"><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>'
    )


def created(number: str, label: bytes, label_type: str = "BLP") -> Callable[[str], tuple[int, str]]:
    """createShipment answered with the shipment's number and its label."""

    def answer(_body: str) -> tuple[int, str]:
        fmt = "ZPL" if label_type == "ZBLP" else "PDF"
        return 200, envelope(
            "<ns1:createShipmentResponse><createShipmentResult>"
            f"<shipmentNotificationNumber>{number}</shipmentNotificationNumber>"
            f"<shipmentTrackingNumber>{number}</shipmentTrackingNumber>"
            f"<packagesTrackingNumbers><item>JJD0000{number}</item></packagesTrackingNumbers>"
            f"<label><labelType>{label_type}</labelType><labelFormat>{fmt}</labelFormat>"
            f"<labelContent>{base64.b64encode(label).decode()}</labelContent></label>"
            "</createShipmentResult></ns1:createShipmentResponse>"
        )

    return answer


def fault(code: str, text: str, status: int = 500) -> Callable[[str], tuple[int, str]]:
    """A SOAP fault, sent with HTTP 500 as SOAP 1.1 servers do."""
    return lambda _body: (
        status,
        envelope(
            f"<SOAP-ENV:Fault><faultcode>{code}</faultcode><faultstring>{escape(text)}</faultstring></SOAP-ENV:Fault>"
        ),
    )


def deleted(_body: str) -> tuple[int, str]:
    return 200, envelope(
        "<ns1:deleteShipmentResponse><deleteShipmentResult><id>1</id><result>true</result>"
        "</deleteShipmentResult></ns1:deleteShipmentResponse>"
    )


def carrier_pdf(text: str = "DHL Parcel 90000000001") -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(4 * inch, 6 * inch))
    page.drawString(20, 400, text)
    page.showPage()
    page.save()
    return out.getvalue()


ZPL = "^XA^FO50,50^A0N,40,40^FDDHL 90000000002^FS^BCN,100,Y,N,N^FD90000000002^FS^XZ"


# --- the adapter on its own -----------------------------------------------------------------


def dhl(label_format: str = LabelFormat.PDF) -> Carrier:
    return Carrier(
        code="DHL-PL",
        name="DHL Parcel Polska",
        adapter=AdapterKind.KARRIO,
        karrio_carrier="dhl_poland",
        label_format=label_format,
    )


def request(reference: str = "label-7") -> LabelRequest:
    return LabelRequest(
        reference=reference,
        carrier_code="DHL-PL",
        carrier_name="DHL Parcel Polska",
        service_code="AH",
        service_name="DHL Parcel Polska",
        sender=PostalAddress(
            name="Demo Shop",
            line1="Magazynowa 3",
            postal_code="05-800",
            city="Pruszków",
            country="PL",
            phone="221234567",
        ),
        recipient=PostalAddress(
            name="Anna Nowak",
            line1="Długa 5",
            postal_code="00-238",
            city="Warszawa",
            country="PL",
            email="anna@example.com",
        ),
        weight_grams=1450,
        package=1,
        packages=1,
        order_number="OMS-1001",
        length_mm=300,
        width_mm=200,
        height_mm=100,
    )


def test_a_label_is_made_with_the_carriers_tracking_number_and_pdf(dhl24: CarrierServer) -> None:
    pdf = carrier_pdf()
    dhl24.answers["createShipment"] = created("90000000001", pdf)

    result = KarrioAdapter(dhl()).create_label(request("label-7"))

    assert (result.tracking_number, result.carrier_reference) == ("90000000001", "90000000001")
    assert result.pdf == pdf and result.zpl == ""
    [call] = dhl24.calls
    assert call.url == DHL24 and call.action == "createShipment"
    for sent in ("<reference>label-7</reference>", "<serviceType>AH</serviceType>", "<labelType>BLP</labelType>",
                 "<username>DEMO_SHOP</username>", "<billingAccountNumber>6000000</billingAccountNumber>",
                 "<name>Anna Nowak</name>", "<postalCode>00238</postalCode>", "<country>PL</country>"):  # fmt: skip
        assert sent in call.body


def test_a_zpl_carrier_gets_its_label_as_zpl_text(dhl24: CarrierServer) -> None:
    dhl24.answers["createShipment"] = created("90000000002", ZPL.encode(), label_type="ZBLP")

    result = KarrioAdapter(dhl(LabelFormat.ZPL)).create_label(request())

    assert result.zpl == ZPL and result.pdf is None
    assert "<labelType>ZBLP</labelType>" in dhl24.calls[0].body


def test_the_carriers_error_is_a_rejection_with_its_message(dhl24: CarrierServer) -> None:
    dhl24.answers["createShipment"] = fault("101", "Nieprawidłowy kod pocztowy odbiorcy")

    with pytest.raises(CarrierRejected) as refused:
        KarrioAdapter(dhl()).create_label(request())

    assert str(refused.value) == "DHL Parcel Polska refused the label: Nieprawidłowy kod pocztowy odbiorcy (code 101)"


def test_a_timeout_is_unavailable(dhl24: CarrierServer) -> None:
    def timed_out(_body: str) -> tuple[int, str]:
        raise URLError(TimeoutError("timed out"))

    dhl24.answers["createShipment"] = timed_out

    with pytest.raises(CarrierUnavailable, match="timed out"):
        KarrioAdapter(dhl()).create_label(request())


def test_a_carrier_that_stops_answering_is_unavailable_after_the_timeout(dhl24: CarrierServer, settings: Any) -> None:
    settings.OMS_CARRIER_TIMEOUT_SECONDS = 0.3
    release = threading.Event()

    def hangs(_body: str) -> tuple[int, str]:
        release.wait(10)
        raise ConnectionResetError("closed by the test")

    dhl24.answers["createShipment"] = hangs
    try:
        with pytest.raises(CarrierUnavailable, match=r"did not answer the label within 0.3 s"):
            KarrioAdapter(dhl()).create_label(request())
    finally:
        release.set()


@pytest.mark.parametrize(
    "status, page",
    [
        (503, "<html><body><h1>503 Service Unavailable</h1></body></html>"),
        (502, "<html><body><p>Bad gateway<br></body></html>"),
    ],
)
def test_an_error_page_from_the_carriers_gateway_is_unavailable(dhl24: CarrierServer, status: int, page: str) -> None:
    dhl24.answers["createShipment"] = lambda _body: (status, page)

    with pytest.raises(CarrierUnavailable):
        KarrioAdapter(dhl()).create_label(request())


@pytest.mark.parametrize(
    "value, says",
    [
        (None, f"Carrier DHL-PL has no credentials: set the environment variable {VARIABLE}"),
        ('{"username": "DEMO_SHOP", "password": ', f"The environment variable {VARIABLE} is not valid JSON"),
        ('["DEMO_SHOP"]', f"The environment variable {VARIABLE} must be a JSON object"),
        (json.dumps({"username": "DEMO_SHOP"}), f"The environment variable {VARIABLE} lacks password"),
        (
            json.dumps({**CREDENTIALS, "pasword": SECRET}),
            f"The environment variable {VARIABLE} has keys karrio does not know (pasword)",
        ),
    ],
)
def test_missing_or_invalid_credentials_are_refused_naming_the_variable(
    dhl24: CarrierServer, monkeypatch: pytest.MonkeyPatch, value: str | None, says: str
) -> None:
    if value is None:
        monkeypatch.delenv(VARIABLE)
    else:
        monkeypatch.setenv(VARIABLE, value)

    with pytest.raises(CarrierRejected) as refused:
        KarrioAdapter(dhl()).create_label(request())

    assert str(refused.value).startswith(says)
    assert SECRET not in str(refused.value)
    assert dhl24.calls == []


def test_the_variable_is_named_after_the_carrier_code() -> None:
    assert credentials_variable("dhl-pl") == "OMS_CARRIER_DHL_PL_CREDENTIALS"
    assert credentials_variable("UPS.eu_2") == "OMS_CARRIER_UPS_EU_2_CREDENTIALS"


def test_a_carrier_without_an_installed_extension_is_refused_saying_what_to_install(dhl24: CarrierServer) -> None:
    carrier = dhl()
    carrier.karrio_carrier = "dhl_polska"

    with pytest.raises(CarrierRejected, match=r"karrio has no carrier named dhl_polska: install its extension"):
        KarrioAdapter(carrier).create_label(request())


def test_without_karrio_installed_labels_are_refused_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "karrio" or n.startswith("karrio.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "karrio", None)

    with pytest.raises(CarrierRejected, match=r"needs the karrio SDK, which is not installed.*pip install karrio "):
        KarrioAdapter(dhl()).create_label(request())


def test_void_cancels_the_shipment_at_the_carrier(dhl24: CarrierServer) -> None:
    dhl24.answers["deleteShipment"] = deleted

    KarrioAdapter(dhl()).void(tracking_number="90000000001", carrier_reference="90000000001")

    [call] = dhl24.calls
    assert call.action == "deleteShipment"
    assert "<shipmentIdentificationNumber>90000000001</shipmentIdentificationNumber>" in call.body


def test_a_refused_cancellation_is_a_rejection(dhl24: CarrierServer) -> None:
    dhl24.answers["deleteShipment"] = fault("201", "Przesyłka została już nadana")

    with pytest.raises(CarrierRejected, match="refused the cancellation: Przesyłka została już nadana"):
        KarrioAdapter(dhl()).void(tracking_number="90000000001", carrier_reference="90000000001")


def test_a_label_without_a_printable_document_is_cancelled_and_refused(dhl24: CarrierServer) -> None:
    dhl24.answers["createShipment"] = created("90000000003", b"GIF89a not a label we print")
    dhl24.answers["deleteShipment"] = deleted

    with pytest.raises(CarrierRejected, match="no label document we can print for shipment 90000000003"):
        KarrioAdapter(dhl()).create_label(request())

    assert [c.action for c in dhl24.calls] == ["createShipment", "deleteShipment"]


RATE_SHEET = [
    {
        "service_name": "DHL Parcel Polska",
        "service_code": "dhl_poland_polska",
        "carrier_service_code": "AH",
        "currency": "PLN",
        "zones": [
            {"rate": 18.5, "max_weight": 5, "country_codes": ["PL"]},
            {"rate": 24.0, "min_weight": 5, "max_weight": 31.5, "country_codes": ["PL"]},
        ],
    }
]


def test_quote_is_the_price_from_the_rate_sheet_in_the_carriers_settings(
    dhl24: CarrierServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, json.dumps({**CREDENTIALS, "services": RATE_SHEET}))
    quoted = request()
    quoted = LabelRequest(**{**quoted.__dict__, "service_code": "dhl_poland_polska"})

    assert KarrioAdapter(dhl()).quote(quoted) == Decimal("18.5")
    heavy = LabelRequest(**{**quoted.__dict__, "weight_grams": 40_000})
    with pytest.raises(CarrierRejected, match="has no price for dhl_poland_polska to PL at 40000 g"):
        KarrioAdapter(dhl()).quote(heavy)
    assert dhl24.calls == []  # DHL24 has no rating call: karrio prices from the sheet


def test_tracking_reads_karrios_tracking_details(dhl24: CarrierServer) -> None:
    dhl24.answers["getTrackAndTraceInfo"] = lambda _body: (
        200,
        envelope(
            "<ns1:getTrackAndTraceInfoResponse><getTrackAndTraceInfoResult>"
            "<shipmentId>90000000001</shipmentId><receivedBy>A. Nowak</receivedBy><events>"
            "<item><status>DOR</status><description>przesyłka doręczona do odbiorcy</description>"
            "<terminal>Warszawa</terminal><timestamp>2026-11-25 14:05:00</timestamp></item>"
            "<item><status>SORT</status><description>przesyłka przyjęta w terminalu</description>"
            "<terminal>Pruszków</terminal><timestamp>2026-11-24 18:30:00</timestamp></item>"
            "</events></getTrackAndTraceInfoResult></ns1:getTrackAndTraceInfoResponse>"
        ),
    )

    updates = KarrioAdapter(dhl()).track(["90000000001"])

    by_code = {u.carrier_status: u for u in updates}
    assert by_code["DOR"].status == TrackingStatus.DELIVERED  # the newest event, and the parcel is received
    assert by_code["SORT"].status == TrackingStatus.IN_TRANSIT
    assert by_code["DOR"].occurred_at == datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
    assert (by_code["SORT"].location, by_code["SORT"].tracking_number) == ("Pruszków", "90000000001")
    assert len({u.dedup_key for u in updates}) == 2


def test_tracking_statuses_karrio_normalised_are_mapped() -> None:
    payload = {
        "tracking_number": "90000000001",
        "events": [
            {"date": "2026-11-24", "time": "09:15 AM", "code": "OUT", "status": "out_for_delivery"},
            {"date": "2026-11-24", "time": "16:40", "code": "NOTHOME", "status": "delivery_failed"},
            {"timestamp": "2026-11-25T08:00:00+01:00", "code": "PUDO", "status": "ready_for_pickup"},
        ],
    }

    updates = KarrioAdapter(dhl()).parse_tracking(payload)

    assert [u.status for u in updates] == [
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.ATTEMPTED_DELIVERY,
        TrackingStatus.AVAILABLE_FOR_PICKUP,
    ]


@pytest.mark.parametrize(
    "payload, says",
    [
        ({"events": [{"tracking_number": "X", "status": "delivered"}]}, "tracking_number is required"),
        ({"object": "Event"}, "comes through the aggregator's webhook"),
        ({"tracking_number": "9", "events": [{"code": "X"}]}, r"events\[0\] needs a timestamp or a date"),
        ({"tracking_number": "9", "events": [{"date": "25.11.2026"}]}, r"events\[0\].date is not a date"),
    ],
)
def test_a_payload_that_is_not_karrios_tracking_is_refused(payload: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        KarrioAdapter(dhl()).parse_tracking(payload)


def test_the_project_does_not_import_karrio_unless_a_karrio_carrier_is_used() -> None:
    code = (
        "import sys, django; django.setup()\n"
        "import oms.urls, shipping.tasks, shipping.services.labels, shipping.carriers.karrio_adapter\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'karrio'], 'karrio imported'\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "oms.settings_test"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603

    assert done.returncode == 0, done.stderr


# --- through the label task -----------------------------------------------------------------


@pytest.fixture
def dhl_order(dhl24: CarrierServer, db: Any) -> Any:
    """An order packed for the standard method, which DHL Parcel Polska (karrio) now carries."""
    order = packed_order()
    carrier = Carrier.objects.create(
        code="DHL-PL",
        name="DHL Parcel Polska",
        adapter=AdapterKind.KARRIO,
        karrio_carrier="dhl_poland",
        tracking_url_template="https://www.dhl.com/pl-en/home/tracking.html?tracking-id={tracking_number}",
    )
    service = CarrierService.objects.create(
        carrier=carrier, code="AH", name="DHL Parcel Polska", transit_days=1, pickup_weekdays=[0, 1, 2, 3, 4]
    )
    ShippingMethodService.objects.filter(shipping_method_id="standard").update(service=service)
    return order


@pytest.mark.django_db
def test_the_label_task_makes_a_live_label_through_karrio(dhl24: CarrierServer, dhl_order: Any) -> None:
    pdf = carrier_pdf("DHL 90000000011")
    dhl24.answers["createShipment"] = created("90000000011", pdf)

    assert create_order_labels(label_messages(dhl_order)[0].pk) == "done"

    label = Label.objects.get(shipment__order=dhl_order)
    assert label.status == LabelStatus.LIVE
    assert (label.tracking_number, label.carrier_reference) == ("90000000011", "90000000011")
    assert bytes(label.pdf) == pdf and label.zpl == ""
    assert Shipment.objects.get(order=dhl_order).status == ShipmentStatus.LABELLED
    [call] = dhl24.calls
    assert f"<reference>label-{label.pk}</reference>" in call.body
    assert "<street>Main St 1</street>" in call.body and "<city>Warsaw</city>" in call.body
    stored = json.dumps(
        [list(OutboxMessage.objects.values()), list(ShipmentEvent.objects.values("note", "data"))], default=str
    )
    assert SECRET not in stored and "DEMO_SHOP" not in stored


@pytest.mark.django_db
def test_a_label_the_carrier_refuses_fails_with_its_words(dhl24: CarrierServer, dhl_order: Any) -> None:
    dhl24.answers["createShipment"] = fault("101", "Nieprawidłowy kod pocztowy odbiorcy")

    create_order_labels(label_messages(dhl_order)[0].pk)

    label = Label.objects.get(shipment__order=dhl_order)
    assert label.status == LabelStatus.FAILED
    assert label.last_error == "DHL Parcel Polska refused the label: Nieprawidłowy kod pocztowy odbiorcy (code 101)"
    assert label.tracking_number is None
    assert Shipment.objects.get(order=dhl_order).status == ShipmentStatus.AWAITING_LABELS


@pytest.mark.django_db
def test_an_unreachable_carrier_leaves_the_label_requested_for_a_retry(dhl24: CarrierServer, dhl_order: Any) -> None:
    def refused(_body: str) -> tuple[int, str]:
        raise URLError(ConnectionRefusedError(111, "Connection refused"))

    dhl24.answers["createShipment"] = refused

    assert create_order_labels(label_messages(dhl_order)[0].pk) == "retry"

    label = Label.objects.get(shipment__order=dhl_order)
    assert (label.status, label.attempts) == (LabelStatus.REQUESTED, 1)
    assert "Connection refused" in label.last_error


@pytest.mark.django_db
def test_voiding_a_karrio_label_cancels_it_at_the_carrier(dhl24: CarrierServer, dhl_order: Any) -> None:
    dhl24.answers["createShipment"] = created("90000000012", carrier_pdf())
    dhl24.answers["deleteShipment"] = deleted
    create_order_labels(label_messages(dhl_order)[0].pk)
    label = Label.objects.get(shipment__order=dhl_order)

    label_void(actor=Actor.system("test"), label_id=label.pk, reason="wrong box")

    label.refresh_from_db()
    assert label.status == LabelStatus.VOIDED
    assert [c.action for c in dhl24.calls] == ["createShipment", "deleteShipment"]
    assert "<shipmentIdentificationNumber>90000000012</shipmentIdentificationNumber>" in dhl24.calls[1].body
