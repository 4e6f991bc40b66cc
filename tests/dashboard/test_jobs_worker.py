"""A real Celery worker on the real Redis runs an orders export to the end and stores its file
where the web process finds it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from dashboard.enums import JobKind, JobState
from dashboard.models import BulkJob
from dashboard.services.jobs import bulk_job_start
from oms.common.actors import Actor
from tests.celery_worker import celery_worker, wait_for, worker_output
from tests.factories import make_order, make_staff


@pytest.mark.django_db(transaction=True)
def test_an_export_queued_from_the_dashboard_is_run_by_a_real_worker(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path  # the worker is told the same folder below
    orders = [make_order() for _ in range(3)]
    day = str(timezone.localdate(orders[0].created_at))
    manager = make_staff("manager")

    with celery_worker(extra_env={"OMS_MEDIA_ROOT": str(tmp_path)}) as worker:
        job = bulk_job_start(
            actor=Actor.for_user(manager),
            user=manager,
            kind=JobKind.EXPORT_ORDERS,
            params={"date_from": day, "date_to": day},
        )  # committed: its outbox message goes to Redis after commit
        finished = wait_for(lambda: BulkJob.objects.get(pk=job.pk).state in (JobState.DONE, JobState.FAILED))
        if not finished:
            pytest.fail(f"The export did not finish within 60 s. Worker output:\n{worker_output(worker)}")

    job = BulkJob.objects.get(pk=job.pk)
    assert (job.state, job.processed, job.total, job.error) == (JobState.DONE, 3, 3, "")
    assert (tmp_path / job.result.name).is_file()
    with job.result.open("rb") as file:
        rows = list(csv.DictReader(io.StringIO(file.read().decode())))
    assert sorted(row["number"] for row in rows) == sorted(order.number for order in orders)
