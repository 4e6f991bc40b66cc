"""Shipping labels for one package: a 4 x 6 inch PDF for office and label printers, and ZPL
for thermal printers. Both carry sender, recipient, service, weight, "package n of N" and a
Code 128 barcode of the tracking number. Pure rendering: the caller supplies the data."""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics.barcode import code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas

from fulfillment.documents import BOLD, FONT, printable

LABEL_SIZE = (4 * inch, 6 * inch)


@dataclass(frozen=True)
class LabelData:
    tracking_number: str
    carrier: str
    service: str
    sender: list[str]  # name and address lines
    recipient: list[str]
    weight_grams: int
    package: int  # n of ...
    packages: int  # ... N
    order_number: str


def _weight(grams: int) -> str:
    return f"{grams / 1000:.2f} kg"


def label_pdf(data: LabelData) -> bytes:
    """A one-page 4 x 6 inch label."""
    buffer = io.BytesIO()
    width, height = LABEL_SIZE
    pdf = Canvas(buffer, pagesize=LABEL_SIZE, invariant=True)
    pdf.setTitle(f"Label {data.tracking_number}")
    pdf.setAuthor("OMS")
    margin = 6 * mm
    y = height - margin - 10
    pdf.setFont(BOLD, 14)
    pdf.drawString(margin, y, printable(f"{data.carrier} · {data.service}"))
    pdf.setFont(BOLD, 14)
    pdf.drawRightString(width - margin, y, f"{data.package} of {data.packages}")
    y -= 20
    pdf.setFont(FONT, 7)
    pdf.drawString(margin, y, "FROM")
    for line in data.sender:
        y -= 10
        pdf.setFont(FONT, 9)
        pdf.drawString(margin, y, printable(line))
    y -= 18
    pdf.line(margin, y + 8, width - margin, y + 8)
    pdf.setFont(FONT, 7)
    pdf.drawString(margin, y - 2, "TO")
    y -= 18
    for index, line in enumerate(data.recipient):
        pdf.setFont(BOLD if index == 0 else FONT, 13)
        pdf.drawString(margin, y, printable(line))
        y -= 16
    y -= 4
    pdf.line(margin, y + 8, width - margin, y + 8)
    pdf.setFont(FONT, 10)
    pdf.drawString(margin, y - 6, f"Weight {_weight(data.weight_grams)}")
    pdf.drawRightString(width - margin, y - 6, printable(f"Order {data.order_number}"))
    barcode = code128.Code128(data.tracking_number, barHeight=22 * mm, barWidth=0.38 * mm, quiet=True)
    bar_x = (width - barcode.width) / 2
    barcode.drawOn(pdf, bar_x, margin + 16)
    pdf.setFont(BOLD, 12)
    pdf.drawCentredString(width / 2, margin + 2, data.tracking_number)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _zpl_text(text: str) -> str:
    # ^FD ends at ^ or ~: those characters cannot be printed as text and are dropped.
    return printable(text).replace("^", "").replace("~", "")


def label_zpl(data: LabelData) -> str:
    """The same label in ZPL II for a 203 dpi thermal printer (812 x 1218 dots)."""
    lines = [
        "^XA",
        "^CI28",  # UTF-8 text
        "^PW812^LL1218",
        f"^FO40,40^A0N,40,40^FD{_zpl_text(f'{data.carrier} {data.service}')}^FS",
        f"^FO600,40^A0N,40,40^FD{data.package} of {data.packages}^FS",
        "^FO40,100^A0N,22,22^FDFROM^FS",
    ]
    y = 130
    for line in data.sender:
        lines.append(f"^FO40,{y}^A0N,26,26^FD{_zpl_text(line)}^FS")
        y += 30
    y += 20
    lines.append(f"^FO40,{y}^A0N,22,22^FDTO^FS")
    y += 30
    for line in data.recipient:
        lines.append(f"^FO40,{y}^A0N,40,40^FD{_zpl_text(line)}^FS")
        y += 46
    lines += [
        f"^FO40,{y + 20}^A0N,30,30^FDWeight {_weight(data.weight_grams)}   Order {_zpl_text(data.order_number)}^FS",
        f"^FO60,900^BY3^BCN,200,Y,N,N^FD{data.tracking_number}^FS",
        "^XZ",
    ]
    return "\n".join(lines) + "\n"
