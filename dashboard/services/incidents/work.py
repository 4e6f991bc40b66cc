"""Staff work on incidents: take, release, resolve, each under a row lock."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from dashboard.enums import DashboardErrorCode
from dashboard.locks import lock_incident
from dashboard.models import Incident
from dashboard.services.incidents.watches import RESOLUTION_MAX, local_moment
from oms.common.errors import Conflict, Forbidden, InvalidInput, NotFound

WORK_INCIDENT = "dashboard.work_incident"


# --- staff: take, release, resolve ----------------------------------------------------------


def _lock_incident(incident_id: int) -> Incident:
    incident = lock_incident(incident_id)
    if incident is None:
        raise NotFound(
            f"There is no incident {incident_id}; it may have been removed. Reload the inbox.",
            code=DashboardErrorCode.INCIDENT_NOT_FOUND,
            extra={"incident": incident_id},
        )
    return incident


def _require_worker(user: User) -> None:
    if not user.is_active or not user.has_perm(WORK_INCIDENT):
        raise Forbidden("Your role may look at the exception inbox but not take or resolve incidents.")


def _name(user: Any) -> str:
    return str(user.get_username()) if user is not None else "someone"


def _refuse_resolved(incident: Incident) -> None:
    if incident.resolved_at is not None:
        by = _name(incident.resolved_by) if incident.resolved_by_id else "the system (it cleared by itself)"
        raise Conflict(
            f"This incident was already resolved on {local_moment(incident.resolved_at)} by {by}: "
            f"{incident.resolution or 'no note'}.",
            code=DashboardErrorCode.INCIDENT_RESOLVED,
            extra={"incident": incident.pk},
        )


def _refuse_taken(incident: Incident, user: User, what: str) -> None:
    if incident.owner_id is not None and incident.owner_id != user.pk:
        owner = _name(incident.owner)
        raise Conflict(
            f"{owner} has taken this incident. Ask them, or take it over before you {what}.",
            code=DashboardErrorCode.INCIDENT_TAKEN,
            extra={"incident": incident.pk, "owner": owner},
        )


@transaction.atomic
def incident_take(*, user: User, incident_id: int, take_over: bool = False) -> Incident:
    """Makes ``user`` the incident's owner (``taken_at`` now). Taking one you own changes
    nothing. Raises NotFound ``incident_not_found``, Forbidden (the role may not work
    incidents), Conflict ``incident_resolved``, Conflict ``incident_taken`` when someone else
    owns it and ``take_over`` is not set."""
    _require_worker(user)
    incident = _lock_incident(incident_id)
    _refuse_resolved(incident)
    if incident.owner_id == user.pk:
        return incident
    if not take_over:
        _refuse_taken(incident, user, "work on it")
    incident.owner = user  # type: ignore[assignment]
    incident.taken_at = timezone.now()
    incident.save(update_fields=["owner", "taken_at"])
    return incident


@transaction.atomic
def incident_release(*, user: User, incident_id: int) -> Incident:
    """Gives the incident back to the inbox (no owner). Releasing one nobody owns changes
    nothing. Raises NotFound, Forbidden, Conflict ``incident_resolved``, Conflict
    ``incident_taken`` when someone else owns it (only the owner lets go of their work)."""
    _require_worker(user)
    incident = _lock_incident(incident_id)
    _refuse_resolved(incident)
    if incident.owner_id is None:
        return incident
    _refuse_taken(incident, user, "release it")
    incident.owner = None
    incident.taken_at = None
    incident.save(update_fields=["owner", "taken_at"])
    return incident


@transaction.atomic
def incident_resolve(*, user: User, incident_id: int, note: str) -> Incident:
    """Closes the incident with the user's ``note`` saying what was done (``resolved_by``
    the user; an unowned incident becomes theirs). The sync never opens its key again, even
    if the problem goes on. Raises InvalidInput (no note), NotFound, Forbidden, Conflict
    ``incident_resolved``, Conflict ``incident_taken`` when someone else owns it."""
    _require_worker(user)
    note = (note or "").strip()
    if not note:
        raise InvalidInput(
            "Say what was done (refunded, re-sent, called the carrier...), then resolve it.",
            fields={"note": ["This field may not be blank."]},
        )
    if len(note) > RESOLUTION_MAX:
        raise InvalidInput(
            f"Keep the note under {RESOLUTION_MAX} characters.",
            fields={"note": [f"At most {RESOLUTION_MAX} characters."]},
        )
    incident = _lock_incident(incident_id)
    _refuse_resolved(incident)
    _refuse_taken(incident, user, "resolve it")
    now = timezone.now()
    fields = ["resolved_at", "resolved_by", "resolution"]
    if incident.owner_id is None:
        incident.owner = user  # type: ignore[assignment]
        incident.taken_at = now
        fields += ["owner", "taken_at"]
    incident.resolved_at = now
    incident.resolved_by = user  # type: ignore[assignment]
    incident.resolution = note
    incident.save(update_fields=fields)
    return incident
