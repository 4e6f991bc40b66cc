"""Printed documents: the pick list a picker walks with and the packing slip that goes into
the parcel, as A4 PDFs.

They embed DejaVu Sans (``oms/common/pdf.py``: names in any Latin, Greek or Cyrillic script
print as written). Files are byte-for-byte the same for the same data (reportlab's
``invariant`` mode: no creation time or random document id).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_countries import countries
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fulfillment.enums import EntryState, TaskStatus
from fulfillment.models import Package, PickList, PickTask
from fulfillment.selectors import packages_of_order, pick_list_detail
from oms.common.pdf import BOLD, FONT, paragraph, paragraph_lines, printable
from orders.models import Address, Order
from orders.selectors import order_detail

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN

BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11)
CELL = ParagraphStyle("cell", parent=BODY)
CELL_BOLD = ParagraphStyle("cell_bold", parent=BODY, fontName=BOLD)
BIN = ParagraphStyle("bin", parent=BODY, fontName=BOLD, fontSize=11, leading=13)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=TA_RIGHT)
QUANTITY = ParagraphStyle("quantity", parent=BIN, alignment=TA_RIGHT)
TITLE = ParagraphStyle("title", parent=BODY, fontName=BOLD, fontSize=18, leading=22, spaceAfter=4)
HEADING = ParagraphStyle("heading", parent=BODY, fontName=BOLD, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4)


def _p(text: object, style: ParagraphStyle = CELL) -> Paragraph:
    return paragraph(text, style)


def _heading(text: str) -> list[Flowable]:
    """A section title that starts a new page rather than stand alone at the foot of one."""
    return [CondPageBreak(30 * mm), _p(text, HEADING)]


def _lines(*parts: str, style: ParagraphStyle = BODY) -> Paragraph:
    """Several lines of plain text in one paragraph; empty parts are left out."""
    return paragraph_lines(parts, style)


def _shop_name() -> str:
    return getattr(settings, "OMS_SHOP_NAME", "") or "OMS"


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


class _Checkbox(Flowable):  # type: ignore[misc]
    """An empty box the picker ticks with a pen."""

    def __init__(self, size: float = 10) -> None:
        super().__init__()
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.width, self.height)


class _NumberedCanvas(Canvas):  # type: ignore[misc]
    """Keeps the pages until the end, so each can say "page n of N" next to what the
    document is (a pick list that comes apart must still show whose page it is)."""

    def __init__(self, *args: Any, footer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

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


def _render(flowables: list[Flowable], *, title: str, subject: str, footer: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 5 * mm,  # room for the footer
        title=printable(title),
        author=printable(_shop_name()),
        subject=subject,
        creator="OMS",
        invariant=True,
        initialFontName=FONT,
    )
    canvasmaker: Callable[..., Canvas] = partial(_NumberedCanvas, footer=footer)
    doc.build(flowables, canvasmaker=canvasmaker)
    return buffer.getvalue()


def _table(rows: list[list[Any]], widths: list[float], *, padding: float = 3) -> Table:
    """A grid whose first row (the header) is repeated on every page the table reaches."""
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("TOPPADDING", (0, 0), (-1, -1), padding),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
    ]
    return Table(rows, colWidths=widths, repeatRows=1, style=TableStyle(commands), hAlign="LEFT")


def _facts(pairs: list[tuple[str, str]]) -> Table:
    """Label / value pairs in two columns, without lines."""
    rows = [[_p(label, CELL_BOLD), _p(value)] for label, value in pairs]
    return Table(
        rows,
        colWidths=[35 * mm, WIDTH - 35 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        hAlign="LEFT",
    )


# --- Pick list ---------------------------------------------------------------------------------


def _units(task: PickTask) -> int:
    """Units the task stands for: all of them while it is to do or done, else those found."""
    return task.quantity if task.status in (TaskStatus.OPEN, TaskStatus.DONE) else task.quantity_picked


def _tick(task: PickTask) -> Flowable:
    if task.status == TaskStatus.OPEN and not task.quantity_picked:
        return _Checkbox()
    if task.status == TaskStatus.OPEN:
        return _p(f"{task.quantity_picked} picked")
    if task.status == TaskStatus.SHORT:
        return _p(f"short, {task.quantity_picked} found")
    return _p(task.get_status_display().lower())


def pick_list_pdf(number: str) -> bytes:
    """The pick list ``number`` on paper: its totes, and the bins in walking order with a box to
    tick per task. Raises NotFound ``pick_list_not_found``."""
    pick_list: PickList = pick_list_detail(number=number)
    path: list[PickTask] = [t for t in pick_list.path if t.status != TaskStatus.CANCELLED]  # type: ignore[attr-defined]
    entries = [e for e in pick_list.entries.all() if e.state != EntryState.REMOVED]
    units_per_entry: dict[int, int] = {}
    for task in path:
        units_per_entry[task.entry_id] = units_per_entry.get(task.entry_id, 0) + _units(task)
    picker = pick_list.picker
    warehouse = pick_list.warehouse

    story: list[Flowable] = [
        _p(f"Pick list {pick_list.number}", TITLE),
        _facts(
            [
                ("Warehouse", f"{warehouse.code} - {warehouse.name}"),
                ("Picker", picker.get_full_name() or picker.get_username()),
                ("Status", pick_list.get_status_display()),
                ("Created", _when(pick_list.created_at)),
                ("Orders", str(len(entries))),
                ("Units", str(sum(units_per_entry.values()))),
            ]
        ),
        *_heading("Totes"),
    ]
    tote_rows: list[list[Any]] = [["Tote", "Order", "Customer", "Units"]]
    for entry in entries:
        state = "" if entry.state in (EntryState.QUEUED, EntryState.PICKING) else f" ({entry.get_state_display()})"
        tote_rows.append(
            [
                _p(entry.tote, CELL_BOLD),
                _p(entry.order.number),
                _p(entry.order.customer_name + state),
                _p(units_per_entry.get(entry.pk, 0), RIGHT),
            ]
        )
    story.append(_table(tote_rows, [45 * mm, 40 * mm, WIDTH - 105 * mm, 20 * mm]))

    story += _heading("Pick path")
    if not path:
        story.append(_p("Nothing left to pick on this list."))
    else:
        path_rows: list[list[Any]] = [["Bin", "SKU", "Product", "Barcode", "Qty", "Tote / order", "Done"]]
        for task in path:
            path_rows.append(
                [
                    _p(task.location.code, BIN),
                    _p(task.product.sku),
                    _p(task.line.name or task.product.name),
                    _p(task.product.barcode),
                    _p(task.quantity, QUANTITY),
                    _lines(task.entry.tote, task.entry.order.number, style=CELL),
                    _tick(task),
                ]
            )
        widths = [22 * mm, 28 * mm, 0.0, 31 * mm, 11 * mm, 36 * mm, 15 * mm]
        widths[2] = WIDTH - sum(widths)
        table = _table(path_rows, widths, padding=5)
        table.setStyle(TableStyle([("ALIGN", (6, 1), (6, -1), "CENTER")]))
        story.append(table)

    return _render(
        story,
        title=f"Pick list {pick_list.number}",
        subject=f"Pick list for warehouse {warehouse.code}",
        footer=f"Pick list {pick_list.number} - {warehouse.code} - {picker.get_username()}",
    )


# --- Packing slip ------------------------------------------------------------------------------


def _address(address: Address) -> list[str]:
    return [
        address.name,
        address.company,
        address.line1,
        address.line2,
        f"{address.postal_code} {address.city}".strip(),
        address.region,
        str(countries.name(address.country)),
        address.phone,
    ]


def _weight(package: Package) -> str:
    return f"{package.weight_grams:,} g" if package.weight_grams is not None else "not weighed yet"


def packing_slip_pdf(order_number: str) -> bytes:
    """The packing slip of an order: who it goes to, what is in it and in which package; no
    prices. Raises NotFound ``order_not_found``."""
    order: Order = order_detail(number=order_number)
    packages = packages_of_order(order_number=order.number)
    shop = _shop_name()

    story: list[Flowable] = [
        _p(shop, TITLE),
        *_heading("Packing slip"),
        _facts(
            [
                ("Order", order.number),
                ("Order date", timezone.localtime(order.created_at).strftime("%Y-%m-%d")),
                ("Shipping method", order.shipping_method.name),
            ]
        ),
        *_heading("Ship to"),
        _lines(*_address(order.shipping_address)),
        *_heading("Items"),
    ]
    line_rows: list[list[Any]] = [["SKU", "Item", "Quantity"]]
    for line in order.lines.all():
        line_rows.append([_p(line.sku), _p(line.name), _p(line.quantity, RIGHT)])
    story.append(_table(line_rows, [40 * mm, WIDTH - 60 * mm, 20 * mm]))

    story += _heading("Packages")
    if not packages:
        story.append(_p("Not packed yet."))
    else:
        package_rows: list[list[Any]] = [["Package", "Box", "Contents", "Weight"]]
        for n, package in enumerate(packages, start=1):
            contents = [f"{item.quantity} x {item.line.sku}" for item in package.items.all()]
            package_rows.append(
                [
                    _p(f"{n} of {len(packages)}"),
                    _p(package.package_type.name),
                    _lines(*contents, style=CELL),
                    _p(_weight(package), RIGHT),
                ]
            )
        story.append(_table(package_rows, [22 * mm, 45 * mm, WIDTH - 92 * mm, 25 * mm]))

    if order.customer_note:
        story += [*_heading("Note"), _lines(*order.customer_note.splitlines())]
    story += [Spacer(1, 8 * mm), _p(f"Thank you for your order from {shop}.")]

    return _render(
        story,
        title=f"Packing slip {order.number}",
        subject=f"Packing slip for order {order.number}",
        footer=f"{shop} - packing slip for order {order.number}",
    )
