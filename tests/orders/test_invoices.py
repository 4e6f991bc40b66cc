"""Invoices: numbered without gaps per year, issued once per paid order, and their PDF, read
back as text the way a person reads it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from oms.common.errors import Conflict, NotFound
from orders import services
from orders.demo import order_walk_to
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus
from orders.invoice_pdf import invoice_pdf
from orders.models import Address, Invoice, InvoiceSequence, Order
from orders.selectors import invoice_of_order
from orders.services import invoice_issue
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory, make_order, stock_up
from tests.orders.test_concurrency import run_together

S = OrderStatus


def pages_of(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(pages_of(pdf)).split())  # table cells wrap: one space for any run


def customer_order(
    name: str = "Zoë Ødegård", lines: dict[str, int] | None = None, status: str = S.PAID, **address: str
) -> Order:
    """An order placed through the service for a customer whose name needs more than ASCII."""
    ShippingMethodFactory()
    lines = lines or {"MUG-BLUE": 2}
    for sku in lines:
        ProductFactory(sku=sku, name=f"Mug {sku.lower()}", price=Decimal("12.50"))
        stock_up(sku, 100)
    shipping = {"name": name, "line1": "Storgata 7", "city": "Tromsø", "postal_code": "9008", "country": "NO"}
    draft = services.OrderDraft(
        channel="web",
        currency="EUR",
        customer=services.CustomerData(email="zoe@example.com", name=name),
        shipping_address=services.AddressData(**{**shipping, **address}),
        lines=[services.LineData(sku=sku, quantity=q) for sku, q in lines.items()],
        shipping_method="standard",
    )
    order = services.order_create(actor=SYSTEM, draft=draft).order
    order_walk_to(order=order, status=status, actor=SYSTEM)
    return Order.objects.get(pk=order.pk)


def issue(order: Order) -> Invoice:
    return invoice_issue(actor=SYSTEM, number=order.number)


def invoice_state() -> dict[str, Any]:
    return {
        "invoices": list(Invoice.objects.values_list("number", flat=True)),
        "counters": list(InvoiceSequence.objects.values_list("year", "last_number")),
    }


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes ``moment`` the current time for what follows in the test."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


# --- numbering ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invoices_are_numbered_one_two_three_in_the_year_of_issue(settings) -> None:
    settings.OMS_INVOICE_PREFIX = "FV/"
    orders = [make_order(S.PAID) for _ in range(3)]

    invoices = [issue(order) for order in orders]

    year = timezone.localdate().year
    assert [i.number for i in invoices] == [f"FV/{year}-000001", f"FV/{year}-000002", f"FV/{year}-000003"]
    assert [(i.year, i.sequence) for i in invoices] == [(year, 1), (year, 2), (year, 3)]
    assert InvoiceSequence.objects.get(year=year).last_number == 3


@pytest.mark.django_db
def test_a_new_year_starts_again_at_one(monkeypatch) -> None:
    # Given two invoices issued on the last day of 2026
    first, second, third = (make_order(S.PAID) for _ in range(3))
    at(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), monkeypatch)
    issue(first)
    issue(second)

    # When the next one is issued on New Year's Day
    at(datetime(2027, 1, 1, 0, 1, tzinfo=UTC), monkeypatch)
    invoice = issue(third)

    # Then it is the first of 2027, and 2026 keeps its own count
    assert invoice.number == "INV-2027-000001"
    assert list(InvoiceSequence.objects.order_by("year").values_list("year", "last_number")) == [(2026, 2), (2027, 1)]


@pytest.mark.django_db
def test_issuing_twice_returns_the_same_invoice_and_uses_no_number() -> None:
    order = make_order(S.PAID)
    first = issue(order)
    state = invoice_state()

    again = issue(order)

    assert again.pk == first.pk and again.number == first.number
    assert invoice_state() == state
    assert order.events.filter(kind=OrderEventKind.INVOICE_ISSUED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.UNHANDLED, S.CANCELLED])
def test_an_order_never_paid_gets_no_invoice_and_no_number(status: str) -> None:
    # Given an order that was never paid, and no invoice yet
    order = make_order(status)
    before = (invoice_state(), order.events.count(), Order.objects.get(pk=order.pk).updated_at)

    # When
    with pytest.raises(Conflict) as refused:
        issue(order)

    # Then it is refused, nothing changed, and the next paid order still gets number 1
    assert refused.value.code == "order_not_invoiceable"
    assert (invoice_state(), order.events.count(), Order.objects.get(pk=order.pk).updated_at) == before
    assert issue(make_order(S.PAID)).sequence == 1


@pytest.mark.django_db
def test_an_invoice_rolled_back_gives_its_number_back() -> None:
    rolled_back, kept = make_order(S.PAID), make_order(S.PAID)

    with pytest.raises(RuntimeError), transaction.atomic():
        issue(rolled_back)
        raise RuntimeError("the caller's transaction fails after the invoice was issued")

    assert not Invoice.objects.exists()
    assert issue(kept).sequence == 1


@pytest.mark.django_db
def test_an_issued_invoice_freezes_what_it_bills() -> None:
    # Given an issued invoice
    order = customer_order(lines={"MUG-BLUE": 2, "MUG-RED": 1})
    invoice = issue(order)

    # When the order's billing address is changed afterwards
    Address.objects.filter(pk=order.billing_address_id).update(name="Someone Else", city="Oslo")

    # Then the invoice still bills what it billed at issue
    invoice.refresh_from_db()
    assert invoice.bill_to == {
        "name": "Zoë Ødegård",
        "email": "zoe@example.com",
        "lines": ["Zoë Ødegård", "Storgata 7", "9008 Tromsø", "Norway"],
    }
    assert invoice.lines == [
        {"sku": "MUG-BLUE", "name": "Mug mug-blue", "quantity": 2, "unit_price": "12.50", "line_total": "25.00"},
        {"sku": "MUG-RED", "name": "Mug mug-red", "quantity": 1, "unit_price": "12.50", "line_total": "12.50"},
    ]
    assert (invoice.subtotal, invoice.shipping, invoice.total) == (Decimal("37.50"), Decimal("4.99"), Decimal("42.49"))


# --- concurrency: real transactions on PostgreSQL ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_invoices_issued_at_the_same_moment_get_numbers_without_gap_or_repeat() -> None:
    # Given eight paid orders
    orders = [make_order(S.PAID) for _ in range(8)]

    # When their invoices are issued all at once, one transaction each
    results = run_together(*[lambda number=o.number: invoice_issue(actor=SYSTEM, number=number) for o in orders])

    # Then each order has one invoice, and the numbers are 1 to 8, none twice, none missing
    assert all(isinstance(r, Invoice) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(1, 9))
    assert {r.order_id for r in results} == {o.pk for o in orders}
    assert Invoice.objects.count() == 8
    assert InvoiceSequence.objects.get().last_number == 8


@pytest.mark.django_db(transaction=True)
def test_one_order_issued_by_several_workers_at_once_gets_one_invoice() -> None:
    order = make_order(S.PAID)

    results = run_together(*[lambda: invoice_issue(actor=SYSTEM, number=order.number) for _ in range(5)])

    assert {r.number for r in results} == {Invoice.objects.get().number}
    assert InvoiceSequence.objects.get().last_number == 1


# --- finding an issued invoice --------------------------------------------------------------


@pytest.mark.django_db
def test_the_invoice_of_an_order_is_found_by_the_order_number() -> None:
    order = make_order(S.PAID)
    invoice = issue(order)

    assert invoice_of_order(number=order.number) == invoice


@pytest.mark.django_db
def test_an_order_without_an_invoice_says_it_is_issued_once_paid() -> None:
    order = make_order(S.UNHANDLED)

    with pytest.raises(NotFound) as missing:
        invoice_of_order(number=order.number)

    assert missing.value.code == OrderErrorCode.INVOICE_NOT_ISSUED
    assert "once the order is paid" in missing.value.message
    assert missing.value.extra == {"number": order.number, "status": "unhandled"}


@pytest.mark.django_db
def test_an_unknown_order_has_no_invoice() -> None:
    with pytest.raises(NotFound) as missing:
        invoice_of_order(number="OMS-NO-SUCH")

    assert missing.value.code == "order_not_found"


# --- the PDF --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_pdf_shows_seller_number_dates_customer_lines_and_totals(settings) -> None:
    settings.OMS_SHOP_NAME = "Lee & Sons <Ltd>"
    settings.OMS_SUPPORT_EMAIL = "help@lee.example"
    settings.OMS_SUPPORT_PHONE = "+48 22 000 00 00"
    settings.OMS_SITE_URL = "https://shop.lee.example"
    settings.OMS_SHOP_LOCALE = "en_US"
    settings.OMS_SELLER_NAME = "Lee & Sons <Ltd>"
    settings.OMS_SELLER_ADDRESS = ["Hoza 1", "00-528 Warszawa", "Poland"]
    settings.OMS_SELLER_TAX_ID = "PL5260001246"
    order = customer_order(lines={"MUG-BLUE": 2, "MUG-RED": 1})
    invoice = issue(order)

    text = text_of(invoice_pdf(invoice))

    assert text.startswith("Lee & Sons <Ltd>")
    assert "Hoza 1 00-528 Warszawa Poland VAT ID PL5260001246" in text
    assert "https://shop.lee.example" in text and "help@lee.example" in text and "+48 22 000 00 00" in text
    assert f"Invoice {invoice.number}" in text
    assert timezone.localtime(invoice.issued_at).strftime("%B %-d, %Y") in text
    assert order.number in text
    assert "Bill to Zoë Ødegård Storgata 7 9008 Tromsø Norway zoe@example.com" in text
    assert "MUG-BLUE Mug mug-blue 2 €12.50 €25.00" in text
    assert "MUG-RED Mug mug-red 1 €12.50 €12.50" in text
    assert "Subtotal €37.50 Shipping €4.99 Total €42.49" in text


@pytest.mark.django_db
def test_money_and_dates_follow_the_shop_locale(settings, monkeypatch) -> None:
    settings.OMS_SHOP_LOCALE = "de_DE"
    order = customer_order(lines={"MUG-BLUE": 100})
    at(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), monkeypatch)
    invoice = issue(order)

    text = text_of(invoice_pdf(invoice))

    assert "2. März 2026" in text
    assert "1.250,00 €" in text and "1.254,99 €" in text


@pytest.mark.django_db
def test_the_pdf_is_the_invoice_as_issued_even_after_the_order_and_the_seller_changed(settings) -> None:
    settings.OMS_SELLER_NAME = "Lee Ltd"
    settings.OMS_SELLER_TAX_ID = "PL5260001246"
    order = customer_order()
    invoice = issue(order)
    pdf = invoice_pdf(invoice)

    Address.objects.filter(pk=order.billing_address_id).update(name="Someone Else")
    Order.objects.filter(pk=order.pk).update(customer_email="new@example.com", total=Decimal("1.00"))
    settings.OMS_SELLER_NAME = "Lee Group plc"
    settings.OMS_SELLER_TAX_ID = "GB123456789"
    settings.OMS_SUPPORT_EMAIL = "new-help@example.com"

    assert invoice_pdf(Invoice.objects.get(pk=invoice.pk)) == pdf


@pytest.mark.django_db
def test_the_same_invoice_renders_to_the_same_bytes_dated_at_its_issue(monkeypatch) -> None:
    order = customer_order()
    at(datetime(2026, 3, 2, 10, 15, 30, tzinfo=UTC), monkeypatch)
    invoice = issue(order)
    monkeypatch.undo()

    pdf = invoice_pdf(invoice)

    assert invoice_pdf(Invoice.objects.get(pk=invoice.pk)) == pdf
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == f"Invoice {invoice.number}"
    assert metadata.creation_date == datetime(2026, 3, 2, 10, 15, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_long_invoice_flows_over_pages_with_the_table_header_and_page_numbers_on_each() -> None:
    skus = {f"SKU-{i:03d}": 1 for i in range(70)}
    invoice = issue(customer_order(lines=skus))

    pages = pages_of(invoice_pdf(invoice))

    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert f"page {n} of {len(pages)}" in page
        assert f"Invoice {invoice.number}" in page
        assert "Unit price" in page and "Line total" in page
    everything = "\n".join(pages)
    found = [everything.find(sku) for sku in skus]
    assert -1 not in found and found == sorted(found)
    assert "Total €879.99" in " ".join(pages[-1].split())


@pytest.mark.django_db
def test_a_character_the_font_lacks_prints_as_a_question_mark_not_a_blank() -> None:
    invoice = issue(customer_order(name="Łucja 東京"))

    text = text_of(invoice_pdf(invoice))

    assert "Łucja ??" in text
