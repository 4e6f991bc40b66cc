"""Proves the stock counters against the ledger and the allocations; exits 1 on any drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from inventory.services.reconcile import Drift, stock_reconcile

HEADER = ("sku", "location", "counter", "expected", "actual")


def _where(drift: Drift) -> str:
    if drift.order_number:
        return f"order {drift.order_number} line {drift.line_id}"
    return drift.location


class Command(BaseCommand):
    help = (
        "Checks that every stock level's on_hand and allocated equal the sums of its ledger rows, that "
        "allocated equals its allocations, and that every reservation's quantity_allocated equals its "
        "allocations. Read-only; prints every drift and exits with status 1 when there is any."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = stock_reconcile()
        self.stdout.write(
            f"Checked {report.stock_levels_checked} stock levels and {report.reservations_checked} reservations."
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS("No drift: every counter equals its ledger and allocations."))
            return
        rows = [HEADER] + [(d.sku, _where(d), d.counter, str(d.expected), str(d.actual)) for d in report.drifts]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.rjust(width) if i >= 3 else cell.ljust(width)
                    for i, (cell, width) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
        raise CommandError(
            f"{len(report.drifts)} stock counter(s) differ from the ledger or the allocations (listed above). "
            "Counters change only through inventory.services.stock: look for a write that bypassed it."
        )
