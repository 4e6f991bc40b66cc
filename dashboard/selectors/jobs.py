"""Reads of bulk jobs for the staff pages: whose jobs a user sees, and one job checked
against who asks for it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboard.enums import DashboardErrorCode
from dashboard.models import BulkJob
from oms.common.errors import Forbidden, NotFound


def sees_all_jobs(user: Any) -> bool:
    """Managers look after everyone's jobs (``dashboard.view_all_bulkjob``); everybody else
    sees the jobs they started."""
    return bool(user.has_perm("dashboard.view_all_bulkjob"))


def jobs_of(user: Any) -> QuerySet[BulkJob]:
    """The jobs the user may see, newest first, with the requester loaded for the list."""
    jobs = BulkJob.objects.select_related("requested_by").defer("params", "failures", "error")
    if not sees_all_jobs(user):
        jobs = jobs.filter(requested_by=user)
    return jobs.order_by("-created_at", "-id")


def job_of(user: Any, job_id: int) -> BulkJob:
    """One job, for its requester or a manager. Raises NotFound ``job_not_found``, Forbidden
    when it is someone else's."""
    job = BulkJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job {job_id}.", code=DashboardErrorCode.JOB_NOT_FOUND)
    if job.requested_by_id != user.pk and not sees_all_jobs(user):
        raise Forbidden(f"Job {job_id} is someone else's; ask them or a manager for its file.")
    return job
