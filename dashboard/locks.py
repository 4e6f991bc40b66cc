"""Row locks of the dashboard's own rows (lock order: docs/architecture.md, item 8)."""

from __future__ import annotations

from dashboard.models import Incident, KpiRollupState


def lock_incident(incident_id: int) -> Incident | None:
    """The incident, locked for the rest of the transaction (FOR NO KEY UPDATE): a take, a
    release or a resolve of one incident queue behind each other. None when there is none."""
    return Incident.objects.select_for_update(no_key=True).filter(pk=incident_id).first()


def lock_kpi_rollup_state() -> KpiRollupState | None:
    """The KPI rollup's state row, locked for the rest of the transaction; None when another
    refresh holds it (SKIP LOCKED: a refresh that finds one running leaves it the work)."""
    return KpiRollupState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
