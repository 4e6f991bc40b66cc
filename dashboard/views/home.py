"""The staff home (a counter per stage, each a link to its queue) and the start page that
sends each user to their role's own work after log-in."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.selectors import home as selectors
from dashboard.views.common import View
from oms.common import roles
from shipping.views.ship_today import span_text

# Where each role's day starts, in the order that decides for someone with several roles:
# work on the floor first, then the desk.
ROLE_LANDINGS: tuple[tuple[str, str, str], ...] = (
    (roles.PICKER, "fulfillment:picking", "Picking"),
    (roles.PACKER, "fulfillment:packing", "Packing"),
    (roles.SHIPPER, "shipping:handover", "Hand-over"),
    (roles.SUPPORT, "dashboard:incidents", "Exceptions"),
    (roles.MANAGER, "dashboard:kpis", "KPIs"),
)

# The tiles in the order an order moves through them, with what each counts.
STAGES: tuple[tuple[str, str, str], ...] = (
    (selectors.AWAITING_PAYMENT, "Awaiting payment", "Placed, not paid in full."),
    (selectors.AWAITING_STOCK, "Awaiting stock", "Paid, some units not in stock yet."),
    (selectors.READY_TO_PICK, "Ready to pick", "Paid, every unit held, on no pick list."),
    (selectors.PICKING, "Picking", "Being picked, or on a pick list not started yet."),
    (selectors.TO_PACK, "To pack", "Picked, waiting for the packer."),
    (selectors.TO_SHIP_TODAY, "To ship today", "Must leave today, or should have left."),
    (selectors.IN_TRANSIT, "In transit", "With the carrier, not delivered yet."),
    (selectors.EXCEPTIONS, "Exceptions", "Problems nobody has resolved yet."),
    (selectors.LATE, "Late", "Past the ship-by day, or past the promised delivery."),
)


def staff_only(view: View) -> View:
    """Anonymous visitors go to the log-in; signed-in users who are not staff get 403."""

    @wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return login_required(check)


@dataclass(frozen=True)
class Tile:
    stage: str
    label: str
    hint: str
    count: int
    url: str
    alert: bool = False
    late_note: str = ""  # "LATE: 3 past the cut-off"
    note: str = ""  # "Next cut-off: 2 h 15 min left"

    @property
    def count_text(self) -> str:
        """The count with thousands separators: 1,204,311 is read at a glance, 1204311 is not."""
        return f"{self.count:,}"


def _tiles(counts: selectors.StageCounts) -> list[Tile]:
    ship = counts.ship_today
    ship_notes = {
        "late_note": f"LATE: {ship.late:,} past the cut-off" if ship.late else "",
        "note": f"Next cut-off: {span_text(ship.next_time_left)} left" if ship.next_time_left is not None else "",
    }
    alerts = {
        selectors.TO_SHIP_TODAY: ship.late > 0,
        selectors.EXCEPTIONS: counts.counts[selectors.EXCEPTIONS] > 0,
        selectors.LATE: counts.counts[selectors.LATE] > 0,
    }
    return [
        Tile(
            stage=stage,
            label=label,
            hint=hint,
            count=counts.counts[stage],
            url=reverse("dashboard:queue", args=[stage]),
            alert=alerts.get(stage, False),
            **(ship_notes if stage == selectors.TO_SHIP_TODAY else {}),
        )
        for stage, label, hint in STAGES
    ]


def _landing(role_names: set[str]) -> tuple[str, str] | None:
    """The URL name and title of the first role's work (see ``ROLE_LANDINGS``), or None
    without a staff role."""
    return next(((url, title) for role, url, title in ROLE_LANDINGS if role in role_names), None)


@require_GET
@staff_only
def home(request: HttpRequest) -> HttpResponse:
    role_names = set(request.user.groups.values_list("name", flat=True))
    landing = _landing(role_names)
    return render(
        request,
        "dashboard/home.html",
        {
            "tiles": _tiles(selectors.stage_counts(now=timezone.now())),
            "roles": [role for role in roles.STAFF_ROLES if role in role_names],
            "is_superuser": request.user.is_superuser,
            "work": landing[1] if landing else "",
        },
    )


@require_GET
@staff_only
def start(request: HttpRequest) -> HttpResponse:
    """Where log-in lands (``LOGIN_REDIRECT_URL``): the user's own work, so a picker starts on
    the pick lists, not on a page of counters; without a role, the home. A ``?next=`` on the
    log-in still wins."""
    landing = _landing(set(request.user.groups.values_list("name", flat=True)))
    return redirect(landing[0] if landing else "dashboard:home")
