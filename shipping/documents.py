"""Printed shipping documents: the courier manifest the driver signs at pickup, as an A4 PDF.

It is laid out with the fulfillment documents' fonts and building blocks (DejaVu Sans, so
names and places print in any Latin, Greek or Cyrillic script; byte-for-byte the same file
for the same data).
"""

from __future__ import annotations

from typing import Any

from django_countries import countries
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from fulfillment.documents import (
    BOLD,
    CELL,
    CELL_BOLD,
    FONT,
    HEADING,
    RIGHT,
    TITLE,
    WIDTH,
    _facts,
    _heading,
    _p,
    _render,
    _shop_name,
    _table,
    _when,
    printable,
)
from shipping.selectors_handover import ManifestDetail, manifest_detail


def kilograms(grams: int | None) -> str:
    return f"{(grams or 0) / 1000:.2f} kg"


def _country(code: str) -> str:
    name = str(countries.name(code)) if code else ""
    return f"{code} {name}".strip() if name else code


def _signature_block(parcels: int) -> list[Flowable]:
    """Lines the driver fills in by hand."""
    line = "_" * 48
    rows = [
        [_p("Driver's name", CELL_BOLD), _p(line)],
        [_p("Signature", CELL_BOLD), _p(line)],
        [_p("Date and time of pickup", CELL_BOLD), _p(line)],
    ]
    table = Table(
        rows,
        colWidths=[55 * mm, WIDTH - 55 * mm],
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("TOPPADDING", (0, 0), (-1, -1), 10),
            ]
        ),
        hAlign="LEFT",
    )
    return [
        KeepTogether(
            [
                *_heading("Received by the carrier"),
                _p(f"I received the {parcels} parcel(s) listed above.", CELL),
                Spacer(1, 2 * mm),
                table,
            ]
        )
    ]


def manifest_pdf(number: str) -> bytes:
    """The manifest ``number`` on paper: the carrier and pickup day, every parcel on it
    (tracking number, order, destination, weight, package n of N), the totals, and lines for
    the driver's name, signature and time. Raises NotFound ``manifest_not_found``."""
    detail: ManifestDetail = manifest_detail(number=number)
    carrier = detail.carrier
    shop = _shop_name()
    facts = [
        ("Carrier", f"{carrier.name} ({carrier.code})"),
        ("Manifest", detail.number),
        ("Pickup date", detail.pickup_date.isoformat()),
        ("Opened", f"{_when(detail.created_at)} by {detail.opened_by}"),
    ]
    if detail.closed_at:
        facts.append(("Closed", f"{_when(detail.closed_at)} by {detail.closed_by}"))
    story: list[Flowable] = [
        _p(shop, TITLE),
        _p(f"Courier manifest {detail.number}", HEADING),
        _facts(facts),
        *_heading("Parcels"),
    ]
    if not detail.parcels:
        story.append(_p("No parcel is scanned onto this manifest yet."))
    else:
        rows: list[list[Any]] = [["#", "Tracking number", "Order", "Package", "Recipient city", "Country", "Weight"]]
        for n, parcel in enumerate(detail.parcels, start=1):
            rows.append(
                [
                    _p(n, RIGHT),
                    _p(parcel.tracking_number, CELL_BOLD),
                    _p(parcel.order_number),
                    _p(f"{parcel.package} of {parcel.packages}"),
                    _p(parcel.recipient_city),
                    _p(_country(parcel.recipient_country)),
                    _p(kilograms(parcel.weight_grams), RIGHT),
                ]
            )
        widths = [9 * mm, 38 * mm, 28 * mm, 18 * mm, 0.0, 30 * mm, 20 * mm]
        widths[4] = WIDTH - sum(widths)
        table = _table(rows, widths)
        story.append(table)
    totals = Table(
        [
            [_p("Parcels", CELL_BOLD), _p(detail.parcel_count, RIGHT)],
            [_p("Total weight", CELL_BOLD), _p(kilograms(detail.weight_grams), RIGHT)],
        ],
        colWidths=[35 * mm, 30 * mm],
        style=TableStyle([("FONTNAME", (0, 0), (-1, -1), BOLD), ("LINEABOVE", (0, 0), (-1, 0), 0.8, "black")]),
        hAlign="RIGHT",
    )
    story += [Spacer(1, 3 * mm), totals, Spacer(1, 6 * mm), *_signature_block(detail.parcel_count)]
    return _render(
        story,
        title=f"Manifest {detail.number}",
        subject=printable(f"Courier manifest for {carrier.name}, pickup {detail.pickup_date.isoformat()}"),
        footer=f"{shop} - manifest {detail.number} - {carrier.code} - {detail.pickup_date.isoformat()}",
    )
