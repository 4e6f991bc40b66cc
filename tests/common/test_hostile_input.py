"""Hostile input: bodies too large, JSON and CSV that cannot be read, and text that looks like
markup, template code or SQL. Each is refused with a clear error and nothing stored, or stored
exactly as sent and shown escaped wherever people read it."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape
from pypdf import PdfReader
from rest_framework.test import APIClient

from fulfillment.documents import packing_slip_pdf
from inventory.models import Product, StockLevel, StockMovement
from notifications.email_context import customer_context
from notifications.rendering import render_email
from notifications.status_links import status_link_path
from oms.common import roles
from oms.common.models import OutboxMessage
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order
from orders.services import payment_record
from tests.factories import SYSTEM, make_staff, order_payload, stock_up

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
IMPORT = "/api/v1/stock/import/"
LIMIT = settings.OMS_MAX_REQUEST_BYTES

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE orders;--"
TEMPLATE = "{{7*7}}"
SHELL = "${7*7}"
HOSTILE = [SCRIPT, ATTRIBUTE, SQL, TEMPLATE, SHELL]


def post_json(client: APIClient, body: bytes) -> Any:
    # Raw bytes (the stubs say str): some of these bodies are not UTF-8 on purpose.
    return client.generic("POST", ORDERS, body, content_type="application/json")  # type: ignore[arg-type]


def post_csv(client: APIClient, body: bytes, *, dry_run: bool = False) -> Any:
    url = IMPORT + ("?dry_run=true" if dry_run else "")
    return client.generic("POST", url, body, content_type="text/csv")  # type: ignore[arg-type]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and len(body["message"]) > 20
    return body


@pytest.fixture
def manager_api(db: Any) -> APIClient:
    client = APIClient()
    client.force_login(make_staff(roles.MANAGER))
    return client


@pytest.fixture
def bin_stock(product: Product) -> StockLevel:
    return StockLevel.objects.get(product=product)


# --- bodies over the limit --------------------------------------------------------------------


def test_an_order_body_over_the_limit_answers_413_and_stores_nothing(integrator, product, shipping_method) -> None:
    body = json.dumps(order_payload(customer_note="x" * (LIMIT + 1))).encode()
    assert len(body) > LIMIT

    body_json = assert_error(post_json(integrator, body), 413, "request_too_large")

    assert str(LIMIT) in body_json["message"]
    assert Order.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_an_order_body_just_under_the_limit_is_read_and_validated(integrator, product, shipping_method) -> None:
    body = json.dumps(order_payload(customer_note="x" * 3000)).encode()

    response = post_json(integrator, body)

    # Read, not refused for its size: the note is longer than a note may be.
    body_json = assert_error(response, 400, "invalid")
    assert "customer_note" in body_json["fields"]


def test_a_csv_import_over_the_limit_answers_413_and_changes_no_stock(manager_api, bin_stock) -> None:
    row = f"{bin_stock.product.sku},{bin_stock.location.code},7\n".encode()
    body = b"sku,location,on_hand\n" + row * (LIMIT // len(row) + 1)
    assert len(body) > LIMIT
    movements = StockMovement.objects.count()

    assert_error(post_csv(manager_api, body), 413, "request_too_large")

    bin_stock.refresh_from_db()
    assert bin_stock.on_hand == 1000
    assert StockMovement.objects.count() == movements


def test_a_form_post_over_the_limit_answers_413_in_plain_text() -> None:
    response = Client().post("/staff/login/", {"username": "x" * (LIMIT + 1), "password": "y"})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert f"larger than {LIMIT} bytes" in response.content.decode()


# --- JSON that cannot be read -----------------------------------------------------------------

MALFORMED_JSON = {
    "truncated": (b'{"channel": "web", "lines": [{"sku": "TSHIRT-RED-M"', "malformed_request"),
    "a list at the top": (b'[{"channel": "web"}]', "invalid"),
    "a string at the top": (b'"an order"', "invalid"),
    "null": (b"null", "invalid"),
    "invalid UTF-8": (b'{"channel": "web", "customer": {"name": "\xff\xfe\xc3"}}', "malformed_request"),
    "arrays nested 10,000 deep": (b"[" * 10_000 + b"]" * 10_000, "malformed_request"),
    "objects nested 10,000 deep": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "malformed_request"),
    "a 5,000-digit number": (
        b'{"lines": [{"sku": "TSHIRT-RED-M", "quantity": 1' + b"0" * 5000 + b"}]}",
        "malformed_request",
    ),
    "NaN": (b'{"lines": [{"sku": "TSHIRT-RED-M", "quantity": NaN}]}', "malformed_request"),
    "Infinity": (b'{"lines": [{"sku": "TSHIRT-RED-M", "quantity": -Infinity}]}', "malformed_request"),
}


@pytest.mark.parametrize("case", list(MALFORMED_JSON))
def test_malformed_json_answers_400_with_a_code_and_stores_nothing(case, integrator, product, shipping_method) -> None:
    body, code = MALFORMED_JSON[case]

    answer = assert_error(post_json(integrator, body), 400, code)

    assert "Traceback" not in answer["message"] and "sys." not in answer["message"]
    assert Order.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_json_nested_deeply_inside_a_field_is_refused_as_invalid(integrator, product, shipping_method) -> None:
    body = json.dumps(order_payload()).replace('"Ann Lee"', "[" * 500 + "]" * 500, 1).encode()

    assert_error(post_json(integrator, body), 400, "invalid")
    assert Order.objects.count() == 0


@pytest.mark.parametrize("quantity", ["1e999", "1.5", "99999999999999999999", "-1", '"2; DROP TABLE orders"'])
def test_numbers_out_of_range_are_invalid_fields(quantity, integrator, product, shipping_method) -> None:
    body = json.dumps(order_payload()).replace('"quantity": 2', f'"quantity": {quantity}').encode()

    answer = assert_error(post_json(integrator, body), 400, "invalid")

    assert "lines.0.quantity" in answer["fields"]
    assert Order.objects.count() == 0


# --- CSV that cannot be read ------------------------------------------------------------------

MALFORMED_CSV = {
    "a wrong header": (b"product,bin,count\nTSHIRT-RED-M,A-01-1,5\n", "invalid_csv", "missing: sku, location, on_hand"),
    "binary garbage": (bytes(range(256)) * 40, "invalid_csv", "not UTF-8"),
    "NUL bytes in UTF-8": (b"sku,location,on_hand\nTSHIRT\x00RED,A-01-1,5\n", "invalid_csv", "NUL"),
    "invalid UTF-8": (b"sku,location,on_hand\nT\xe9-SHIRT,A-01-1,5\n", "invalid_csv", "not UTF-8"),
    "a missing column": (b"sku,on_hand\nTSHIRT-RED-M,5\n", "invalid_csv", "missing: location"),
    "an extra column": (b"sku,location,on_hand,delta\nTSHIRT-RED-M,A-01-1,5,2\n", "invalid_csv", "also has: delta"),
    "a column twice": (b"sku,location,on_hand,sku\nTSHIRT-RED-M,A-01-1,5,X\n", "invalid_csv", "column twice"),
    "a row with a cell too many": (b"sku,location,on_hand\nTSHIRT-RED-M,A-01-1,5,9\n", "import_rejected", "4 values"),
    "a row with a cell too few": (b"sku,location,on_hand\nTSHIRT-RED-M,A-01-1\n", "import_rejected", "2 values"),
    "a field over the csv limit": (
        b'sku,location,on_hand\n"' + b"A" * 200_000 + b'",A-01-1,5\n',
        "invalid_csv",
        "field larger than field limit",
    ),
    "an on hand past the column": (
        b"sku,location,on_hand\nTSHIRT-RED-M,A-01-1,99999999999\n",
        "import_rejected",
        "more than",
    ),
    # Short lines, so the file is under the byte limit and the row limit is what refuses it.
    "100,000 lines": (b"sku,location,on_hand\n" + b"T,A,5\n" * 100_000, "invalid_csv", "more than 50000 rows"),
}


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry run"])
@pytest.mark.parametrize("case", list(MALFORMED_CSV))
def test_malformed_csv_answers_400_naming_the_problem_and_changes_nothing(
    case, dry_run, manager_api, bin_stock
) -> None:
    body, code, named = MALFORMED_CSV[case]
    assert len(body) <= LIMIT  # refused for what it holds, not its size
    movements = StockMovement.objects.count()

    response = post_csv(manager_api, body, dry_run=dry_run)

    if dry_run and code == "import_rejected":
        # A dry run's answer is its report: the row and why it would be rejected.
        assert response.status_code == 200
        assert response.json()["summary"]["rejected"] == 1
        text = response.json()["rows"][0]["reason"]
    else:
        answer = assert_error(response, 400, code)
        text = answer["message"] + json.dumps(answer.get("fields", {}))
    assert named.lower() in text.lower(), text
    bin_stock.refresh_from_db()
    assert bin_stock.on_hand == 1000
    assert StockMovement.objects.count() == movements


# --- markup, template code and SQL in text fields ---------------------------------------------


@pytest.fixture
def hostile_order(integrator: APIClient, shipping_method: Any) -> Order:
    """An order placed over the API with every hostile string in a text field, for a product
    created over the API with a hostile name; paid, so it waits in a queue."""
    created = integrator.post(
        "/api/v1/products/", {"sku": "EVIL-1", "name": f"Mug {SCRIPT} {ATTRIBUTE}", "price": "9.90"}, format="json"
    )
    assert created.status_code == 201, created.content
    stock_up("EVIL-1", 10)
    payload = order_payload(
        external_reference=ATTRIBUTE,
        customer={"email": "evil@example.com", "name": SCRIPT, "phone": "+48600100200"},
        shipping_address={
            "name": ATTRIBUTE,
            "company": TEMPLATE,
            "line1": SQL,
            "line2": SHELL,
            "city": SCRIPT,
            "region": TEMPLATE,
            "postal_code": "00-001",
            "country": "PL",
            "phone": "",
        },
        lines=[{"sku": "EVIL-1", "quantity": 1}],
        customer_note=" | ".join(HOSTILE),
    )
    response = integrator.post(ORDERS, payload, format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    payment_record(
        actor=SYSTEM, number=order.number, amount=order.total, method=PaymentMethod.CARD, reference="pay-evil"
    )
    return Order.objects.get(pk=order.pk)


def assert_escaped(html: str, *strings: str) -> None:
    for text in strings:
        assert escape(text) in html, f"{text!r} is not shown escaped"
        if any(c in text for c in '<>"'):
            assert text not in html, f"{text!r} is in the page unescaped"
    assert "<script>alert" not in html and "onerror=alert(1)>" not in html


def test_hostile_text_is_stored_exactly_as_sent(hostile_order: Order) -> None:
    order = hostile_order
    address = order.shipping_address
    assert order.status == OrderStatus.PAID
    assert (order.customer_name, order.external_reference) == (SCRIPT, ATTRIBUTE)
    assert (address.name, address.company, address.line1, address.line2, address.city, address.region) == (
        ATTRIBUTE, TEMPLATE, SQL, SHELL, SCRIPT, TEMPLATE,
    )  # fmt: skip
    assert order.customer_note == " | ".join(HOSTILE)
    assert Product.objects.get(sku="EVIL-1").name == f"Mug {SCRIPT} {ATTRIBUTE}"
    assert Order.objects.count() == 1  # the DROP TABLE did not run: the table is there


def test_hostile_text_comes_back_verbatim_from_the_api(hostile_order: Order, integrator: APIClient) -> None:
    body = integrator.get(f"{ORDERS}{hostile_order.number}/").json()

    assert body["customer"]["name"] == SCRIPT
    assert body["external_reference"] == ATTRIBUTE
    assert body["shipping_address"]["line1"] == SQL
    assert body["customer_note"] == " | ".join(HOSTILE)


def staff_get(path: str) -> str:
    client = Client()
    client.force_login(make_staff(roles.MANAGER))
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def test_the_staff_order_page_shows_hostile_text_escaped(hostile_order: Order) -> None:
    html = staff_get(f"/staff/orders/{hostile_order.number}/")

    assert_escaped(html, SCRIPT, ATTRIBUTE, SQL, TEMPLATE, SHELL, f"Mug {SCRIPT} {ATTRIBUTE}")


def test_the_queue_shows_hostile_text_escaped(hostile_order: Order) -> None:
    html = staff_get("/staff/queues/ready_to_pick/")

    assert hostile_order.number in html
    assert_escaped(html, SCRIPT)


@pytest.mark.parametrize("query", [*HOSTILE, "%", "_", "\\", "' OR '1'='1"])
def test_searching_for_hostile_text_answers_normally(query, hostile_order: Order, integrator: APIClient) -> None:
    client = Client()
    client.force_login(make_staff(roles.MANAGER))

    response = client.get("/staff/search/", {"q": query})

    assert response.status_code == 200
    html = response.content.decode()
    if any(c in query for c in '<>"'):
        assert query not in html
    api = integrator.get(ORDERS, {"customer_email": query})
    assert api.status_code == 200
    assert api.json()["results"] == []
    assert Order.objects.count() == 1


def test_searching_by_the_hostile_reference_finds_the_order(hostile_order: Order, integrator: APIClient) -> None:
    api = integrator.get(ORDERS, {"external_reference": ATTRIBUTE})

    assert [o["number"] for o in api.json()["results"]] == [hostile_order.number]


def test_the_customer_status_page_shows_hostile_text_escaped(hostile_order: Order) -> None:
    response = Client().get(status_link_path(hostile_order))

    assert response.status_code == 200
    assert_escaped(response.content.decode(), SCRIPT, f"Mug {SCRIPT} {ATTRIBUTE}")


def test_the_order_email_shows_hostile_text_escaped_in_its_html(hostile_order: Order) -> None:
    message = OutboxMessage.objects.filter(payload__order=hostile_order.number, payload__topic="order.created").first()
    payload = dict(message.payload) if message else {}

    email = render_email("order_received", customer_context("order_received", hostile_order, payload))

    assert_escaped(email.html, SCRIPT, ATTRIBUTE, f"Mug {SCRIPT} {ATTRIBUTE}")
    assert SCRIPT in email.text  # the plain-text part is text: shown as written


def test_the_packing_slip_prints_hostile_text_as_written(hostile_order: Order) -> None:
    pdf = packing_slip_pdf(hostile_order.number)

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    for needle in (ATTRIBUTE, SQL, SHELL, TEMPLATE, SCRIPT):
        assert needle in flat, needle
