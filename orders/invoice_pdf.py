"""The invoice of an order as an A4 PDF.

It is drawn from the issued ``Invoice`` row alone: what it bills (bill-to, lines, totals,
currency) was frozen at issue, so a reprint years later is the same file, whatever happened
to the order since. The only thing read through the order is its number, which never changes.
Files are byte-for-byte the same for the same invoice: reportlab's ``invariant`` mode (no
random document id) and the issue time as the document's creation date.

Money and dates are written for the shop's locale (``OMS_SHOP_LOCALE``, CLDR data from
babel). The text is set in DejaVu Sans (``oms/common/pdf.py``), so names such as
``Zoë Ødegård`` or ``Łódź`` print as written.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from functools import partial
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from oms.common.pdf import BOLD, FONT, paragraph, paragraph_lines, printable
from orders.models import Invoice

MARGIN = 15 * mm
# The frame a page's content flows in keeps 6 pt from the margins: tables as wide as this
# line up with the text instead of running into the right margin.
WIDTH = A4[0] - 2 * MARGIN - 2 * 6

BODY = ParagraphStyle("invoice_body", fontName=FONT, fontSize=9, leading=12)
SMALL = ParagraphStyle("invoice_small", parent=BODY, fontSize=8, leading=10, textColor=colors.dimgrey)
BOLD_BODY = ParagraphStyle("invoice_bold", parent=BODY, fontName=BOLD)
RIGHT = ParagraphStyle("invoice_right", parent=BODY, alignment=TA_RIGHT)
RIGHT_BOLD = ParagraphStyle("invoice_right_bold", parent=RIGHT, fontName=BOLD)
SHOP = ParagraphStyle("invoice_shop", parent=BODY, fontName=BOLD, fontSize=14, leading=18)
TITLE = ParagraphStyle("invoice_title", parent=BODY, fontName=BOLD, fontSize=18, leading=22, alignment=TA_RIGHT)
LABEL = ParagraphStyle("invoice_label", parent=BODY, fontName=BOLD, fontSize=8, leading=10, textColor=colors.dimgrey)


def money(amount: Decimal | str, currency: str) -> str:
    """An amount as the shop's customers write it: "€1,234.50" (en_US), "1.234,50 €" (de_DE)."""
    return format_currency(Decimal(str(amount)), currency, locale=settings.OMS_SHOP_LOCALE)


def _day(invoice: Invoice) -> str:
    """The issue day in the shop's time zone, in the locale's long form (March 2, 2026)."""
    return format_date(timezone.localtime(invoice.issued_at).date(), format="long", locale=settings.OMS_SHOP_LOCALE)


def _p(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    return paragraph(text, style)


def _lines(parts: list[str], style: ParagraphStyle = BODY) -> Paragraph:
    """Several lines of plain text in one paragraph; empty parts are left out."""
    return paragraph_lines(parts, style)


def _seller_name(invoice: Invoice) -> str:
    return str((invoice.seller or {}).get("name") or settings.OMS_SHOP_NAME or "OMS")


def _seller(invoice: Invoice) -> list[str]:
    """The seller's address, tax number and contact as frozen on the invoice."""
    seller: dict[str, Any] = invoice.seller or {}
    tax_id = str(seller.get("tax_id") or "")
    return [
        *(str(line) for line in seller.get("address", [])),
        f"VAT ID {tax_id}" if tax_id else "",
        *(str(seller.get(key) or "") for key in ("website", "email", "phone")),
    ]


def _bill_to(invoice: Invoice) -> list[str]:
    bill_to: dict[str, Any] = invoice.bill_to or {}
    return [*(str(line) for line in bill_to.get("lines", [])), str(bill_to.get("email", ""))]


class _InvoiceCanvas(Canvas):  # type: ignore[misc]
    """Keeps the pages until the end, so each can say "page n of N" next to whose invoice
    it is, and dates the file at the invoice's issue instead of the time of printing."""

    def __init__(self, *args: Any, footer: str, created: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []
        self.setDateFormatter(lambda *_now: created)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, page in enumerate(self._pages, start=1):
            self.__dict__.update(page)
            self.setFont(FONT, 8)
            self.setFillColor(colors.black)
            self.drawString(MARGIN, MARGIN / 2, printable(self._footer))
            self.drawRightString(A4[0] - MARGIN, MARGIN / 2, f"page {number} of {total}")
            super().showPage()
        super().save()


def _header(invoice: Invoice, order_number: str) -> Table:
    """The seller on the left; what the document is, its number and dates on the right."""
    facts = Table(
        [
            [_p("Invoice number", LABEL), _p(invoice.number, RIGHT_BOLD)],
            [_p("Issue date", LABEL), _p(_day(invoice), RIGHT)],
            [_p("Order", LABEL), _p(order_number, RIGHT)],
            [_p("Currency", LABEL), _p(invoice.currency, RIGHT)],
        ],
        colWidths=[28 * mm, 50 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
        hAlign="RIGHT",
    )
    seller: list[Flowable] = [_p(_seller_name(invoice), SHOP), _lines(_seller(invoice), SMALL)]
    title: list[Flowable] = [_p(f"Invoice {invoice.number}", TITLE), Spacer(1, 3 * mm), facts]
    return Table(
        [[seller, title]],
        colWidths=[WIDTH - 85 * mm, 85 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def _items(invoice: Invoice) -> Table:
    """A row per line; the header row is repeated on every page the table reaches."""
    numbers = [_p(title, RIGHT_BOLD) for title in ("Qty", "Unit price", "Line total")]
    rows: list[list[Any]] = [[_p("SKU", BOLD_BODY), _p("Item", BOLD_BODY), *numbers]]
    for line in invoice.lines:
        rows.append(
            [
                _p(line["sku"]),
                _p(line["name"]),
                _p(line["quantity"], RIGHT),
                _p(money(line["unit_price"], invoice.currency), RIGHT),
                _p(money(line["line_total"], invoice.currency), RIGHT),
            ]
        )
    widths = [32 * mm, 0.0, 14 * mm, 30 * mm, 30 * mm]
    widths[1] = WIDTH - sum(widths)
    return Table(
        rows,
        colWidths=widths,
        repeatRows=1,
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.lightgrey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ]
        ),
    )


def _totals(invoice: Invoice) -> Table:
    rows = [
        [_p("Subtotal"), _p(money(invoice.subtotal, invoice.currency), RIGHT)],
        [_p("Shipping"), _p(money(invoice.shipping, invoice.currency), RIGHT)],
        [_p("Total", BOLD_BODY), _p(money(invoice.total, invoice.currency), RIGHT_BOLD)],
    ]
    return Table(
        rows,
        colWidths=[40 * mm, 40 * mm],
        hAlign="RIGHT",
        style=TableStyle([("LINEABOVE", (0, 2), (-1, 2), 0.8, colors.black)]),
    )


def _pdf_date(invoice: Invoice) -> str:
    """The issue time as a PDF date string (D:YYYYMMDDHHmmSS, in UTC)."""
    return invoice.issued_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice on paper: the seller, "Invoice <number>", issue date and order number, who
    is billed, a row per line (SKU, item, quantity, unit price, line total), then subtotal,
    shipping and total. A long invoice flows over pages, each with the table's header and
    "page n of N". Reads nothing but the invoice and its order's number."""
    order_number = invoice.order.number
    shop = _seller_name(invoice)
    story: list[Flowable] = [
        _header(invoice, order_number),
        Spacer(1, 8 * mm),
        _p("Bill to", LABEL),
        _lines(_bill_to(invoice)),
        Spacer(1, 8 * mm),
        _items(invoice),
        Spacer(1, 4 * mm),
        _totals(invoice),
    ]
    email = (invoice.seller or {}).get("email")
    if email:
        story += [Spacer(1, 10 * mm), _p(f"Questions about this invoice? Write to {email}.")]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 5 * mm,  # room for the footer
        title=printable(f"Invoice {invoice.number}"),
        author=printable(shop),
        subject=f"Invoice for order {order_number}",
        creator="OMS",
        invariant=True,
        initialFontName=FONT,
    )
    canvasmaker: Callable[..., Canvas] = partial(
        _InvoiceCanvas, footer=f"{shop} - Invoice {invoice.number} - order {order_number}", created=_pdf_date(invoice)
    )
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def invoice_filename(invoice: Invoice) -> str:
    """``<number>.pdf``, with any character a file name or a header cannot hold (a prefix such
    as ``FV/``) as ``-``."""
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "-" for c in invoice.number)
    return f"{safe}.pdf"
