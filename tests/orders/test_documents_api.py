"""An order's invoice and refunds over the API, and the staff page that downloads an invoice:
the PDF and its details, what an order without one answers, recording refunds once, refusals
that change nothing, who may do what, and the OpenAPI documentation."""

from __future__ import annotations

import importlib
import io
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from oms.common.models import OutboxMessage
from orders.apis_documents import OrderDocumentsViewSet
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Invoice, Order, Refund
from orders.services import invoice_issue
from tests.factories import SYSTEM, make_order, make_staff
from tests.permission_matrix import client_for_role, parse_matrix

pytestmark = pytest.mark.django_db

S = OrderStatus
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def invoice_url(number: str) -> str:
    return f"/api/v1/orders/{number}/invoice/"


def refunds_url(number: str) -> str:
    return f"/api/v1/orders/{number}/refunds/"


def invoiced(status: str = S.PAID) -> tuple[Order, Invoice]:
    order = make_order(status)
    return order, invoice_issue(actor=SYSTEM, number=order.number)


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def refund_body(amount: str = "10.00", reference: str = "rf-1", **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "method": "card", "reference": reference, **extra}


def refund_state(number: str) -> dict[str, Any]:
    """Everything a refused refund must leave alone."""
    order = Order.objects.get(number=number)
    return {
        "amount_refunded": order.amount_refunded,
        "updated_at": order.updated_at,
        "events": order.events.count(),
        "refunds": list(Refund.objects.order_by("pk").values_list("pk", "order_id", "amount", "reference")),
        "outbox": OutboxMessage.objects.count(),
    }


# --- the invoice ----------------------------------------------------------------------------


def test_the_invoice_downloads_as_a_pdf_named_after_its_number(integrator) -> None:
    order, invoice = invoiced()

    response = integrator.get(invoice_url(order.number))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    text = text_of(response.content)
    assert f"Invoice {invoice.number}" in text and "Ann Lee" in text and "€34.89" in text


def test_a_browser_gets_the_pdf_too(integrator) -> None:
    order, _invoice = invoiced()

    response = integrator.get(invoice_url(order.number), HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "Accept" in response["Vary"]


@pytest.mark.parametrize("how", [{"HTTP_ACCEPT": "application/json"}, {"QUERY_STRING": "format=json"}])
def test_asking_for_json_gives_the_invoice_details_and_where_the_pdf_is(integrator, how: dict[str, str]) -> None:
    order, invoice = invoiced()

    response = integrator.get(invoice_url(order.number), **how)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "number": invoice.number,
        "order": order.number,
        "issued_at": invoice.issued_at.isoformat().replace("+00:00", "Z"),
        "currency": "EUR",
        "subtotal": "29.90",
        "shipping": "4.99",
        "total": "34.89",
        "download_url": f"http://testserver/api/v1/orders/{order.number}/invoice/",
    }


def test_a_prefix_with_a_slash_is_left_out_of_the_file_name(integrator, settings) -> None:
    settings.OMS_INVOICE_PREFIX = "FV/"
    order, invoice = invoiced()

    response = integrator.get(invoice_url(order.number))

    assert invoice.number.startswith("FV/")
    assert response["Content-Disposition"] == f'attachment; filename="FV-{invoice.number[3:]}.pdf"'


def test_an_order_not_paid_yet_has_no_invoice_and_says_when_it_will(integrator) -> None:
    order = make_order(S.UNHANDLED)

    response = integrator.get(invoice_url(order.number), HTTP_ACCEPT="application/pdf")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invoice_not_issued"
    assert "once the order is paid" in body["message"]
    assert body["extra"] == {"number": order.number, "status": "unhandled"}
    assert not Invoice.objects.exists()


def test_an_unknown_order_has_no_invoice(integrator) -> None:
    response = integrator.get(invoice_url("OMS-NO-SUCH"))

    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


def test_a_client_that_takes_neither_pdf_nor_json_answers_406(integrator) -> None:
    order, _invoice = invoiced()

    response = integrator.get(invoice_url(order.number), HTTP_ACCEPT="text/csv")

    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_reading_the_invoice_issues_nothing_and_reprints_the_same_file(integrator) -> None:
    order, invoice = invoiced()
    first = integrator.get(invoice_url(order.number)).content

    again = integrator.get(invoice_url(order.number)).content

    assert again == first
    assert list(Invoice.objects.values_list("number", flat=True)) == [invoice.number]


# --- refunds --------------------------------------------------------------------------------


def test_a_refund_is_recorded_and_the_customer_is_told(integrator) -> None:
    # Given a paid order of 34.89 EUR
    order = make_order(S.PAID)

    # When 10.00 is refunded
    response = integrator.post(refunds_url(order.number), refund_body(reason="One mug broke"), format="json")

    # Then the refund is recorded, the order counts it, and the refund email and webhook are on their way
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("amount", "currency", "method", "reference", "reason", "recorded_by")} == {
        "amount": "10.00",
        "currency": "EUR",
        "method": "card",
        "reference": "rf-1",
        "reason": "One mug broke",
        "recorded_by": "api:shop-front",
    }
    assert body["order"] == {
        "number": order.number,
        "status": "paid",
        "total": "34.89",
        "amount_paid": "34.89",
        "amount_refunded": "10.00",
        "refundable": "24.89",
    }
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("10.00")
    assert order.events.filter(kind=OrderEventKind.REFUND_RECORDED).count() == 1
    assert OutboxMessage.objects.filter(payload__topic="refund.issued", payload__refund=body["id"]).exists()


def test_a_refund_sent_again_with_the_same_reference_records_nothing_more(integrator) -> None:
    order = make_order(S.PAID)
    first = integrator.post(refunds_url(order.number), refund_body(), format="json")
    before = refund_state(order.number)

    again = integrator.post(refunds_url(order.number), refund_body(), format="json")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["order"]["amount_refunded"] == "10.00"
    assert refund_state(order.number) == before


def test_a_refund_of_more_than_was_paid_answers_409_and_changes_nothing(integrator) -> None:
    order = make_order(S.PAID)
    integrator.post(refunds_url(order.number), refund_body("30.00", "rf-1"), format="json")
    before = refund_state(order.number)

    response = integrator.post(refunds_url(order.number), refund_body("5.00", "rf-2"), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds_payments"
    assert response.json()["extra"] == {"refundable": "4.89", "currency": "EUR"}
    assert refund_state(order.number) == before


def test_a_refund_reference_of_another_order_answers_409_and_changes_nothing(integrator) -> None:
    first, other = make_order(S.PAID), make_order(S.PAID)
    integrator.post(refunds_url(first.number), refund_body(), format="json")
    before = refund_state(other.number)

    response = integrator.post(refunds_url(other.number), refund_body(), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "refund_reference_in_use"
    assert refund_state(other.number) == before


@pytest.mark.parametrize(
    ("amount", "says"),
    [("0", "more than 0"), ("-5.00", "more than 0"), ("ten", "as a number"), ("1.234", "two decimals")],
)
def test_a_bad_amount_answers_400_naming_the_field_with_what_to_send(integrator, amount: str, says: str) -> None:
    order = make_order(S.PAID)
    before = refund_state(order.number)

    response = integrator.post(refunds_url(order.number), refund_body(amount), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["fields"]) == {"amount"}
    assert says in body["fields"]["amount"][0]
    assert refund_state(order.number) == before


def test_a_refund_without_method_or_reference_names_both(integrator) -> None:
    order = make_order(S.PAID)

    response = integrator.post(refunds_url(order.number), {"amount": "1.00"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"method", "reference"}


def test_a_refund_for_an_unknown_order_answers_404(integrator) -> None:
    response = integrator.post(refunds_url("OMS-NO-SUCH"), refund_body(), format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
    assert not Refund.objects.exists()


def test_the_refunds_of_an_order_are_listed_oldest_first(integrator) -> None:
    order, other = make_order(S.PAID), make_order(S.PAID)
    for n in (1, 2, 3):
        integrator.post(refunds_url(order.number), refund_body("1.00", f"rf-{n}"), format="json")
    integrator.post(refunds_url(other.number), refund_body("1.00", "rf-other"), format="json")

    response = integrator.get(refunds_url(order.number))

    assert response.status_code == 200
    assert [r["reference"] for r in response.json()] == ["rf-1", "rf-2", "rf-3"]
    assert integrator.get(refunds_url(make_order(S.PAID).number)).json() == []


def test_the_refunds_of_an_unknown_order_answer_404(integrator) -> None:
    response = integrator.get(refunds_url("OMS-NO-SUCH"))

    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


def _list_queries(client: APIClient, number: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(refunds_url(number))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_listing_refunds_costs_the_same_queries_for_one_and_ten(integrator) -> None:
    one, ten = make_order(S.PAID), make_order(S.PAID)
    integrator.post(refunds_url(one.number), refund_body("1.00", "one-1"), format="json")
    for n in range(10):
        integrator.post(refunds_url(ten.number), refund_body("1.00", f"ten-{n}"), format="json")

    assert _list_queries(integrator, ten.number) == _list_queries(integrator, one.number)


# --- who may do what ------------------------------------------------------------------------

# A = allowed (any answer but 401/403), F = forbidden (403), U = unauthenticated (401).
MATRIX = """
endpoint        picker  packer  shipper  support  manager  integrator  no_role  anonymous
invoice         F       F       F        A        A        A           F        U
refund_list     F       F       F        A        A        A           F        U
refund_create   F       F       F        F        A        A           F        U
"""
ROLES, EXPECTED = parse_matrix(MATRIX)
CALLS = {
    "invoice": ("get", invoice_url, "invoice"),
    "refund_list": ("get", refunds_url, "refunds"),
    "refund_create": ("post", refunds_url, "refund_create"),
}


@pytest.mark.parametrize(("endpoint", "role"), sorted(EXPECTED))
def test_each_role_may_call_what_the_table_says(endpoint: str, role: str, staff_client) -> None:
    order, _invoice = invoiced()
    before = refund_state(order.number)
    method, url, _action = CALLS[endpoint]
    client = client_for_role(role, staff_client)

    response = getattr(client, method)(url(order.number), refund_body() if method == "post" else None, format="json")

    mark = EXPECTED[(endpoint, role)]
    if mark == "A":
        assert response.status_code in (200, 201), response.content[:300]
    else:
        assert response.status_code == (403 if mark == "F" else 401)
        assert response.json()["code"] in ("permission_denied", "not_authenticated")
        assert refund_state(order.number) == before


def test_the_table_agrees_with_the_role_grants() -> None:
    grants = importlib.import_module("orders.migrations.0007_refund_invoice_roles").GRANTS
    earlier = importlib.import_module("orders.migrations.0002_roles").GRANTS

    for (endpoint, role), mark in EXPECTED.items():
        if role in ("no_role", "anonymous"):
            continue
        app, codename = OrderDocumentsViewSet.required_permissions[CALLS[endpoint][2]].split(".")
        assert app == "orders"
        granted = codename in grants.get(role, []) or codename in earlier.get(role, [])
        assert (mark == "A") == granted, (endpoint, role, codename)


# --- the staff page -------------------------------------------------------------------------


def staff(role: str | None) -> Client:
    client = Client()
    client.force_login(make_staff(role))
    return client


def test_staff_download_the_invoice_pdf() -> None:
    order, invoice = invoiced()
    address = reverse("orders:invoice-pdf", kwargs={"number": order.number})

    response = staff("support").get(address)

    assert address == f"/staff/orders/{order.number}/invoice.pdf"
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert f"Invoice {invoice.number}" in text_of(response.content)


def test_staff_asking_for_an_invoice_not_issued_get_a_page_saying_why() -> None:
    order = make_order(S.UNHANDLED)

    response = staff("manager").get(reverse("orders:invoice-pdf", kwargs={"number": order.number}))

    assert response.status_code == 404
    page = response.content.decode()
    assert f"No invoice for order {order.number}" in page
    assert "issued once the order is paid" in page
    assert 'href="/staff/"' in page  # the staff layout, with its way back


def test_staff_asking_for_an_unknown_order_get_a_page_saying_so() -> None:
    response = staff("manager").get(reverse("orders:invoice-pdf", kwargs={"number": "OMS-NO-SUCH"}))

    assert response.status_code == 404
    assert "No order OMS-NO-SUCH" in response.content.decode()


def test_the_staff_invoice_needs_a_log_in_and_the_download_permission() -> None:
    order, _invoice = invoiced()
    address = reverse("orders:invoice-pdf", kwargs={"number": order.number})

    anonymous = Client().get(address)
    picker = staff("picker").get(address)

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/")
    assert picker.status_code == 403


# --- the OpenAPI documentation --------------------------------------------------------------


def test_the_schema_documents_both_endpoints_their_answers_and_error_codes() -> None:
    schema = yaml.safe_load(APIClient().get("/api/v1/schema/").content)

    invoice = schema["paths"]["/api/v1/orders/{number}/invoice/"]["get"]
    assert set(invoice["responses"]["200"]["content"]) == {"application/pdf", "application/json"}
    assert "`invoice_not_issued`" in invoice["responses"]["404"]["description"]
    refunds = schema["paths"]["/api/v1/orders/{number}/refunds/"]
    assert refunds["get"]["summary"] and refunds["post"]["summary"]
    conflict = refunds["post"]["responses"]["409"]["description"]
    assert "`refund_exceeds_payments`" in conflict and "`refund_reference_in_use`" in conflict
    assert {"201", "200", "400", "401", "403", "404"} <= set(refunds["post"]["responses"])
