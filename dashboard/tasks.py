"""Thin Celery tasks of the dashboard: the exception inbox kept in step with the other apps,
and bulk jobs run under the outbox's lease, retry and failure rules."""

from celery import shared_task

from dashboard.services.incidents import incidents_sync
from dashboard.services.jobs import bulk_job_failed, bulk_job_run
from dashboard.services.kpi_rollup import kpi_refresh
from oms.common.outbox import outbox_run


@shared_task
def sync_incidents() -> int:
    """Periodic (beat): opens an incident for each new problem and closes those that cleared;
    returns how many it opened."""
    return incidents_sync()


@shared_task
def refresh_kpis() -> int:
    """Periodic (beat): rebuilds the KPI rollup's days that changed since the last run;
    returns how many days it rebuilt."""
    return kpi_refresh().days


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_bulk_job(message_id: int) -> str:
    """Outbox: runs one bulk job (labels, packing slips, an export) to the end; a job cut
    short by a lost worker resumes where its progress says."""
    return outbox_run(message_id, bulk_job_run, max_attempts=3, on_final_failure=bulk_job_failed).state
