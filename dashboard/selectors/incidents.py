"""Reads of the exception inbox: open incidents oldest first, recently resolved ones newest
first, with the order, owner and resolver of each fetched in the same query."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet

from dashboard.models import Incident

OWNER_MINE = "mine"
OWNER_UNOWNED = "unowned"


def incident_list(
    *,
    resolved: bool = False,
    kind: str | None = None,
    owner: str | None = None,
    user: User | None = None,
    order_number: str | None = None,
) -> QuerySet[Incident]:
    """Open incidents, oldest problem first (``resolved``: resolved ones, the latest first).

    ``owner`` narrows to the ``user``'s own (``"mine"``) or to those nobody took
    (``"unowned"``); ``order_number`` to one order (any case). One query for a page of any
    size; the open list walks the index ``incident_open_kind_age``.
    """
    incidents = Incident.objects.select_related("order", "owner", "resolved_by")
    if resolved:
        incidents = incidents.filter(resolved_at__isnull=False).order_by("-resolved_at", "-id")
    else:
        incidents = incidents.filter(resolved_at__isnull=True).order_by("raised_at", "id")
    if kind:
        incidents = incidents.filter(kind=kind)
    if owner == OWNER_MINE and user is not None:
        incidents = incidents.filter(owner=user)
    elif owner == OWNER_UNOWNED:
        incidents = incidents.filter(owner__isnull=True)
    if order_number:
        incidents = incidents.filter(order__number__iexact=order_number.strip())
    return incidents


def incident_open_counts() -> dict[str, int]:
    """Open incidents per kind (one query), for the kind filter."""
    rows = Incident.objects.filter(resolved_at__isnull=True).order_by().values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


def age_label(since: datetime, now: datetime) -> str:
    """How long ago, as a person glancing at the list reads it: "5 min", "3 h", "2 d"."""
    seconds = max(int((now - since).total_seconds()), 0)
    if seconds < 3600:
        return f"{max(seconds // 60, 1)} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
