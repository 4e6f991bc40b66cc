"""Bulk jobs on the staff dashboard: the list of one's jobs (a manager's: everyone's), a
job's page whose progress refreshes itself while a worker runs it, the download of its file,
and the form that starts an orders export. Print jobs are started from the queues' bulk
actions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.enums import JobKind, JobState
from dashboard.models import BulkJob
from dashboard.selectors import jobs as selectors
from dashboard.services import jobs as services
from dashboard.views.common import request_actor, staff_permission
from oms.common.errors import ApplicationError, Forbidden, NotFound
from orders.enums import OrderStatus

VIEW_JOBS = "dashboard.view_bulkjob"
ADD_JOBS = "dashboard.add_bulkjob"
PER_PAGE = 50
POLL_SECONDS = 2


class ExportForm(forms.Form):
    date_from = forms.DateField(label="Placed from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Placed until (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *OrderStatus.choices])


def _job(request: HttpRequest, job_id: int) -> BulkJob:
    try:
        return selectors.job_of(request.user, job_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None


def _progress_context(job: BulkJob) -> dict[str, Any]:
    running = job.state in (JobState.QUEUED, JobState.RUNNING)
    return {
        "job": job,
        "running": running,
        "downloadable": job.state == JobState.DONE and bool(job.result),
        "poll_seconds": POLL_SECONDS,
    }


@require_GET
@staff_permission(VIEW_JOBS)
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.jobs_of(request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/jobs/list.html",
        {
            "page": page,
            "jobs": list(page.object_list),
            "everyone": selectors.sees_all_jobs(request.user),
            "may_export": request.user.has_perm(ADD_JOBS) and request.user.has_perm("orders.view_order"),
        },
    )


@require_GET
@staff_permission(VIEW_JOBS)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "dashboard/jobs/detail.html", _progress_context(_job(request, job_id)))


@require_GET
@staff_permission(VIEW_JOBS)
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress region alone, which the job page fetches every few seconds while the job
    runs; once it is finished the fragment carries no trigger, so the polling stops."""
    return render(request, "dashboard/jobs/_progress.html", _progress_context(_job(request, job_id)))


@require_GET
@login_required
@permission_required(VIEW_JOBS, raise_exception=True)  # staff_permission, spelt out: it types views as HttpResponse
def job_download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """The job's file, as an attachment, for its requester or a manager; a job without a file
    yet answers 409 with a page saying how far it got."""
    job = _job(request, job_id)
    if job.state != JobState.DONE or not job.result:
        return render(request, "dashboard/jobs/not_done.html", _progress_context(job), status=409)
    return FileResponse(
        job.result.open("rb"),
        as_attachment=True,
        filename=job.result_name,
        content_type=services.content_type_of(job.result_name),
    )


@require_http_methods(["GET", "POST"])
@staff_permission(ADD_JOBS)
def job_export(request: HttpRequest) -> HttpResponse:
    """The form that starts an orders CSV export for a date range (a year at most)."""
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.bulk_job_start(
                    actor=request_actor(request),
                    user=request.user,
                    kind=JobKind.EXPORT_ORDERS,
                    params={
                        "date_from": data["date_from"].isoformat(),
                        "date_to": data["date_to"].isoformat(),
                        "status": data["status"],
                    },
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Export queued: {job.total} orders. The file appears here when it is ready.")
                return redirect("dashboard:job", job.pk)
        return render(request, "dashboard/jobs/export.html", {"form": form}, status=400)
    today = timezone.localdate()
    form = ExportForm(initial={"date_from": date(today.year, 1, 1), "date_to": today})
    return render(request, "dashboard/jobs/export.html", {"form": form})
