"""Rebuilds the KPI rollup: every day, or the days given. Needed after the shop's time zone
changes (days are shop days) or after data was loaded around the services; the periodic
refresh keeps it up to date otherwise."""

from __future__ import annotations

from datetime import date
from time import monotonic
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.services.kpi_rollup import kpi_days_rebuild, kpi_refresh


class Command(BaseCommand):
    help = "Rebuild the KPI rollup from the orders: every day, or from --start to --end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=date.fromisoformat, help="First day to rebuild (YYYY-MM-DD).")
        parser.add_argument("--end", type=date.fromisoformat, help="Last day to rebuild (YYYY-MM-DD), included.")

    def handle(self, *args: Any, start: date | None, end: date | None, **options: Any) -> None:
        began = monotonic()
        if start is None and end is None:
            result = kpi_refresh(rebuild_all=True)
            if result.skipped:
                raise CommandError("A refresh of the KPI rollup is running; try again when it has finished.")
            days, rows = result.days, result.rows
        elif start is None or end is None or end < start:
            raise CommandError("Give both --start and --end, the end on or after the start.")
        else:
            days = (end - start).days + 1
            rows = kpi_days_rebuild(date.fromordinal(start.toordinal() + n) for n in range(days))
        self.stdout.write(f"Rebuilt {days:,} days of KPIs ({rows:,} rows) in {monotonic() - began:.1f} s.")
