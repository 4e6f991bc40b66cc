"""Stock levels from a CSV file (``sku,location,on_hand``), with a dry run that reports every
row it would change and every row it rejects, and why."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from inventory.models import AdjustmentReason, Location, Product, StockLevel
from inventory.services.stock import stock_adjust
from oms.common.actors import Actor
from oms.common.errors import InvalidInput

REQUIRED_COLUMNS = ("sku", "location", "on_hand")
MAX_ROWS = 50_000
MAX_ON_HAND = 2_147_483_647  # the database column's largest value


@dataclass
class ImportRow:
    line: int  # line number in the file, header = 1
    sku: str
    location: str
    on_hand: int | None = None
    current: int | None = None
    action: str = ""  # "set", "unchanged" or "rejected"
    reason: str = ""


@dataclass
class ImportReport:
    dry_run: bool
    applied: bool = False
    rows: list[ImportRow] = field(default_factory=list)

    @property
    def rejected(self) -> list[ImportRow]:
        return [r for r in self.rows if r.action == "rejected"]

    @property
    def changes(self) -> list[ImportRow]:
        return [r for r in self.rows if r.action == "set"]


def _invalid_csv(message: str, problem: str) -> InvalidInput:
    return InvalidInput(message, fields={"csv": [problem]}, code="invalid_csv")


def _parse(text: str) -> list[ImportRow]:
    if "\x00" in text:
        raise _invalid_csv(
            "The file contains NUL characters, so it is not a CSV text file (a spreadsheet or other binary "
            "file?); export it as CSV (UTF-8) and send it again.",
            "Binary data (NUL characters).",
        )
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _read_rows(reader)
    except csv.Error as exc:  # an over-long field, a quote left open...
        raise _invalid_csv(
            f"The CSV cannot be read after line {reader.line_num}: {exc}.", f"After line {reader.line_num}: {exc}."
        ) from None


def _read_rows(reader: csv.DictReader[str]) -> list[ImportRow]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"The CSV needs a header row with the columns sku, location, on_hand; missing: {', '.join(missing)}.",
            fields={"csv": [f"Missing column: {c}" for c in missing]},
            code="invalid_csv",
        )
    # A column the import does not know (a typo, a delta instead of an absolute count) is refused
    # rather than ignored: the file may not mean what the import would do with it.
    unknown = [h or "(empty)" for h in header if h not in REQUIRED_COLUMNS]
    if unknown or len(header) != len(set(header)):
        problem = f"it also has: {', '.join(unknown)}. Remove those columns" if unknown else "it names a column twice"
        raise InvalidInput(
            f"The CSV header must be exactly sku, location, on_hand; {problem}.",
            fields={"csv": [f"Unknown column: {h}" for h in unknown] or ["A column is named twice."]},
            code="invalid_csv",
        )
    reader.fieldnames = header
    rows: list[ImportRow] = []
    for record in reader:
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(
                f"The CSV has more than {MAX_ROWS} rows; split it into smaller files.",
                fields={"csv": ["Too many rows."]},
                code="invalid_csv",
            )
        row = ImportRow(
            line=reader.line_num, sku=(record.get("sku") or "").strip(), location=(record.get("location") or "").strip()
        )
        extra = record.get(None)  # type: ignore[call-overload]  # DictReader's restkey for surplus cells
        short = [c for c in REQUIRED_COLUMNS if record.get(c) is None]
        if extra or short:
            count = len(header) + len(extra or []) - len(short)
            row.action, row.reason = "rejected", f"The row has {count} values; the header has {len(header)} columns."
            rows.append(row)
            continue
        raw = (record.get("on_hand") or "").strip()
        try:
            row.on_hand = int(raw)
        except ValueError:
            shown = raw if len(raw) <= 30 else f"{raw[:30]}..."
            row.action, row.reason = "rejected", f"on_hand {shown!r} is not a whole number."
        rows.append(row)
    return rows


def _check(rows: list[ImportRow]) -> None:
    products = {p.sku: p for p in Product.objects.filter(sku__in={r.sku for r in rows})}
    locations = {loc.code: loc for loc in Location.objects.filter(code__in={r.location for r in rows})}
    current = {
        (s.product_id, s.location_id): s.on_hand
        for s in StockLevel.objects.filter(product__in=products.values(), location__in=locations.values())
    }
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.action == "rejected":
            continue
        problem = ""
        if not row.sku:
            problem = "The sku is empty."
        elif row.sku not in products:
            problem = f"No product with SKU {row.sku}."
        elif not row.location:
            problem = "The location is empty."
        elif row.location not in locations:
            problem = f"No location {row.location}."
        elif row.on_hand is not None and row.on_hand < 0:
            problem = "on_hand cannot be negative."
        elif row.on_hand is not None and row.on_hand > MAX_ON_HAND:
            problem = f"on_hand {row.on_hand} is more than the {MAX_ON_HAND} a bin can record."
        elif (row.sku, row.location) in seen:
            problem = f"{row.sku} at {row.location} is already set on line {seen[(row.sku, row.location)]}."
        if problem:
            row.action, row.reason = "rejected", problem
            continue
        seen[(row.sku, row.location)] = row.line
        row.current = current.get((products[row.sku].pk, locations[row.location].pk), 0)
        row.action = "unchanged" if row.current == row.on_hand else "set"


def stock_import_csv(*, actor: Actor, text: str, dry_run: bool, reference: str = "") -> ImportReport:
    """Checks every row; with ``dry_run`` only reports. Otherwise applies every change as an
    absolute set recorded as an adjustment (reason ``import``), all in one transaction, and
    only if no row is rejected (then it raises InvalidInput carrying the report, changing
    nothing)."""
    rows = _parse(text)
    _check(rows)
    report = ImportReport(dry_run=dry_run, rows=rows)
    if dry_run:
        return report
    if report.rejected:
        raise StockImportRejected(report)
    with transaction.atomic():
        products = {p.sku: p for p in Product.objects.filter(sku__in={r.sku for r in report.changes})}
        locations = {loc.code: loc for loc in Location.objects.filter(code__in={r.location for r in report.changes})}
        for row in report.changes:
            stock_adjust(
                actor=actor,
                product=products[row.sku],
                location=locations[row.location],
                on_hand=row.on_hand,
                reason=AdjustmentReason.IMPORT,
                reference=reference,
                note=f"CSV import line {row.line}",
            )
    report.applied = True
    return report


class StockImportRejected(InvalidInput):
    code = "import_rejected"

    def __init__(self, report: ImportReport) -> None:
        rejected = report.rejected
        super().__init__(
            f"{len(rejected)} row(s) cannot be imported, so nothing was changed. Fix them and send the file again.",
            fields={f"line {r.line}": [r.reason] for r in rejected},
        )
        self.report = report
