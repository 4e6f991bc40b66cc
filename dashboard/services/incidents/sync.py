"""The sync: opens an incident per new problem, closes those that cleared."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from dashboard.models import Incident
from dashboard.services.incidents.watches import RESOLUTION_MAX, WATCHES, Cause, Watch, sentence

# --- the sync -------------------------------------------------------------------------------


def incidents_sync(*, now: datetime | None = None) -> int:
    """Opens an incident for each problem not seen before and closes the open incidents whose
    problem cleared (``resolved_at`` now, ``resolved_by`` empty, ``resolution`` "Cleared: ...").
    Run every minute by beat; running it twice opens nothing twice (the key is unique). Each
    kind is synced in its own transaction, so one kind's failure leaves the others in step.
    Returns how many incidents it opened."""
    now = now or timezone.now()
    opened = 0
    for watch in WATCHES:
        with transaction.atomic():
            opened += _sync_kind(watch, now)
    return opened


def _sync_kind(watch: Watch, now: datetime) -> int:
    open_incidents = list(
        Incident.objects.filter(resolved_at__isnull=True, kind=watch.kind).select_related("order").order_by("pk")
    )
    causes = watch.find(now, open_incidents)
    opened = _open(causes)
    if watch.explain is not None:
        current = {cause.key for cause in causes}
        cleared = [incident for incident in open_incidents if incident.key not in current]
        if cleared:
            _clear(watch.explain(cleared), now)
    return opened


def _open(causes: list[Cause]) -> int:
    if not causes:
        return 0
    seen = set(Incident.objects.filter(key__in=[c.key for c in causes]).values_list("key", flat=True))
    new = [c for c in causes if c.key not in seen]
    Incident.objects.bulk_create(
        [
            Incident(
                key=c.key,
                kind=c.kind,
                order_id=c.order_id,
                summary=c.summary,
                detail=c.detail,
                raised_at=c.raised_at,
            )
            for c in new
        ],
        ignore_conflicts=True,  # a sync running at the same time opened it first
    )
    return len(new)


def _clear(why: dict[int, str], now: datetime) -> None:
    """One UPDATE for any number; an incident staff resolved meanwhile keeps their note."""
    Incident.objects.filter(pk__in=list(why), resolved_at__isnull=True).update(
        resolved_at=now,
        resolved_by=None,
        resolution=Case(
            *[When(pk=pk, then=Value(sentence(text, RESOLUTION_MAX))) for pk, text in why.items()],
            output_field=CharField(),
        ),
    )
