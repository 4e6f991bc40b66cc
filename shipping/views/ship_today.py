"""The ship-today list: orders that must leave today or should have left already, with the time
left to their carrier's cut-off, late ones flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from fulfillment.views.common import staff_permission
from orders.enums import OrderStatus
from shipping import selectors
from shipping.enums import VIEW_SHIPMENTS
from shipping.selectors import ShipTodayRow


def span_text(span: timedelta) -> str:
    """A span as people say it on the floor: "2 h 15 min", "40 min", "1 d 3 h"; whole minutes,
    rounded down, and "under 1 min" below one."""
    minutes = int(abs(span.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under 1 min"


@dataclass(frozen=True)
class ShipTodayLine:
    row: ShipTodayRow

    @property
    def when(self) -> str:
        """ "2 h 15 min left", or "late by 40 min" once the cut-off has passed."""
        if self.row.late:
            return f"late by {span_text(self.row.time_left)}"
        return f"{span_text(self.row.time_left)} left"

    @property
    def status_label(self) -> str:
        return OrderStatus(self.row.status).label


@require_GET
@staff_permission(VIEW_SHIPMENTS)
def ship_today(request: HttpRequest) -> HttpResponse:
    lines = [ShipTodayLine(row) for row in selectors.ship_today(now=timezone.now())]
    return render(
        request,
        "shipping/ship_today.html",
        {"lines": lines, "late_count": sum(1 for line in lines if line.row.late), "now": timezone.localtime()},
    )
