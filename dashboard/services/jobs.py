"""Bulk jobs: work on many orders that a worker does in the background (the labels of 500
orders in one file, a year of orders as CSV) while staff watch its progress.

``bulk_job_start`` checks what is asked and who asks, then writes the job and its outbox
message in one transaction. The worker's ``bulk_job_run`` does the work in chunks, each
chunk's progress and failures saved in its own short transaction so the progress page sees
it move; no transaction is held across the run. The file is written to a temporary file and
stored under ``MEDIA_ROOT/jobs/`` only at the end, so a run cut short by a dead worker simply
starts again from the beginning on the next attempt, and a job already done is not run again.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

from django.contrib.postgres.aggregates import StringAgg
from django.core.files import File
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from dashboard.enums import DashboardErrorCode, JobKind, JobState
from dashboard.models import BulkJob
from fulfillment.documents import packing_slip_pdf
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, Forbidden, InvalidInput
from oms.common.outbox import GiveUp, outbox_enqueue, outbox_extend_lease
from orders.enums import OrderStatus
from orders.models import Order, OrderLine
from shipping.enums import MANAGE_LABELS, LabelFormat, LabelStatus
from shipping.models import Label
from shipping.services.labels import labels_print, live_labels_of_orders

logger = logging.getLogger(__name__)

RUN_TASK = "dashboard.tasks.run_bulk_job"
CHUNK = 50  # orders per progress step of a print job: the page moves every second or so
EXPORT_CHUNK = 2000  # rows fetched at a time by an export, and rows per progress step
MAX_ORDERS = {JobKind.PRINT_LABELS: 5000, JobKind.PACKING_SLIPS: 2000}  # one file people can still print
MAX_EXPORT_DAYS = 366  # a year, leap years included
NO_LIVE_LABEL = "no live label"

# What each kind of job needs besides the right to run jobs: printing labels is label work
# (packers, shippers, managers); a packing slip or an export shows only what an order viewer
# already sees.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    JobKind.PRINT_LABELS: ("dashboard.add_bulkjob", MANAGE_LABELS),
    JobKind.PACKING_SLIPS: ("dashboard.add_bulkjob", "orders.view_order"),
    JobKind.EXPORT_ORDERS: ("dashboard.add_bulkjob", "orders.view_order"),
}

CONTENT_TYPES = {"pdf": "application/pdf", "zpl": "application/zpl", "csv": "text/csv"}

EXPORT_COLUMNS = [
    "number",
    "created_at",
    "status",
    "channel",
    "customer_name",
    "customer_email",
    "country",
    "items",
    "subtotal",
    "shipping",
    "total",
    "currency",
    "paid_at",
    "shipped_at",
    "carrier",
    "tracking_numbers",
]


def content_type_of(result_name: str) -> str:
    """The content type a job's file is downloaded with, from its extension."""
    return CONTENT_TYPES.get(result_name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


# --- start ----------------------------------------------------------------------------------


def bulk_job_start(*, actor: Actor, user: Any, kind: str, params: dict[str, Any]) -> BulkJob:
    """Queues a bulk job for ``user`` and returns it; a worker runs it (see ``bulk_job_run``).

    Side effects: one ``BulkJob`` and its outbox message, in one transaction.

    Raises InvalidInput (unknown kind, malformed parameters; code ``nothing_selected`` when no
    order is named or the date range holds none, ``job_too_large`` past the caps), Forbidden
    when the user may not run this kind of job. Nothing is written then.
    """
    if kind not in JobKind.values:
        raise InvalidInput(f"There is no kind of job called {kind!r}.", fields={"kind": ["Unknown kind of job."]})
    missing = [perm for perm in PERMISSIONS[kind] if not user.has_perm(perm)]
    if missing:
        raise Forbidden(f"Your role may not start this job ({JobKind(kind).label.lower()}).")
    if kind == JobKind.EXPORT_ORDERS:
        clean, total = _export_params(params)
    else:
        clean = _order_params(JobKind(kind), params)
        total = len(clean["orders"])
    with transaction.atomic():
        job = BulkJob.objects.create(kind=kind, params=clean, requested_by=user, total=total)
        outbox_enqueue(task=RUN_TASK, key=f"bulk-job:{job.pk}", payload={"job": job.pk})
    logger.info("%s queued bulk job %s (%s, %s orders)", actor.label, job.pk, kind, total)
    return job


def _order_params(kind: JobKind, params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("orders")
    if raw is None:
        raw = []
    if not isinstance(raw, list | tuple) or not all(isinstance(n, str) for n in raw):
        raise InvalidInput("Name the orders as a list of order numbers.", fields={"orders": ["A list of numbers."]})
    numbers = list(dict.fromkeys(n.strip() for n in raw if n.strip()))
    if not numbers:
        raise InvalidInput(
            "Choose at least one order.",
            fields={"orders": ["Choose at least one order."]},
            code=DashboardErrorCode.NOTHING_SELECTED,
        )
    cap = MAX_ORDERS[kind]
    if len(numbers) > cap:
        raise InvalidInput(
            f"{len(numbers)} orders is more than one job takes ({cap}); split them into smaller jobs.",
            fields={"orders": [f"At most {cap} orders."]},
            code=DashboardErrorCode.JOB_TOO_LARGE,
        )
    clean: dict[str, Any] = {"orders": numbers}
    if kind == JobKind.PRINT_LABELS:
        fmt = params.get("format") or ""
        if fmt not in ("", *LabelFormat.values):
            raise InvalidInput(f"Labels print as PDF or ZPL, not {fmt!r}.", fields={"format": ["Choose PDF or ZPL."]})
        clean["format"] = fmt
    return clean


def _export_params(params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    days: dict[str, date] = {}
    for name, label in (("date_from", "start"), ("date_to", "end")):
        try:
            days[name] = date.fromisoformat(str(params.get(name) or ""))
        except ValueError:
            raise InvalidInput(
                f"Give the {label} date as YYYY-MM-DD.", fields={name: ["A date such as 2026-01-31."]}
            ) from None
    date_from, date_to = days["date_from"], days["date_to"]
    if date_to < date_from:
        raise InvalidInput(
            "The end date is before the start date; swap them.", fields={"date_to": ["Before the start date."]}
        )
    if (date_to - date_from).days + 1 > MAX_EXPORT_DAYS:
        raise InvalidInput(
            f"One export covers at most {MAX_EXPORT_DAYS} days; export the period a year at a time.",
            fields={"date_to": [f"At most {MAX_EXPORT_DAYS} days after the start."]},
            code=DashboardErrorCode.JOB_TOO_LARGE,
        )
    status = params.get("status") or ""
    if status not in ("", *OrderStatus.values):
        raise InvalidInput(f"There is no order status {status!r}.", fields={"status": ["Unknown status."]})
    clean = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "status": status}
    total = _export_queryset(clean).count()
    if not total:
        raise InvalidInput(
            f"No {OrderStatus(status).label.lower() + ' ' if status else ''}order was placed between "
            f"{date_from} and {date_to}; there is nothing to export.",
            fields={"date_from": ["No orders in this range."]},
            code=DashboardErrorCode.NOTHING_SELECTED,
        )
    return clean, total


# --- run ------------------------------------------------------------------------------------


@dataclass
class _Progress:
    """What the run has done so far; ``save`` writes it in its own short transaction and keeps
    the outbox lease alive, so a long job is not handed to a second worker meanwhile."""

    job: BulkJob
    processed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def fail(self, order: str, reason: str) -> None:
        self.failures.append({"order": order, "reason": reason})

    def save(self) -> None:
        BulkJob.objects.filter(pk=self.job.pk).update(processed=self.processed, failures=self.failures)
        outbox_extend_lease(_message_key(self.job))


def _message_key(job: BulkJob) -> str:
    return f"bulk-job:{job.pk}"


def bulk_job_run(payload: dict[str, Any], attempt: int) -> None:
    """Outbox handler: runs the job to the end and stores its file.

    Idempotent: a job already done or failed is left alone; a job found running (its worker
    died) starts again from the first order, since nothing of a run counts until its file is
    stored. Side effects: the job's progress, failures, state and file; printing labels counts
    a print on each label (``labels_print``). Raises GiveUp when the job no longer exists.
    """
    job = BulkJob.objects.select_related("requested_by").filter(pk=payload["job"]).first()
    if job is None:
        raise GiveUp(f"Bulk job {payload['job']} no longer exists.")
    if job.state in (JobState.DONE, JobState.FAILED):
        return
    BulkJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, started_at=timezone.now(), processed=0, failures=[], error=""
    )
    progress = _Progress(job)
    with tempfile.TemporaryFile() as out:
        if job.kind == JobKind.PRINT_LABELS:
            extension = _print_labels(job, progress, out)
            name = f"labels-{job.pk}.{extension}"
        elif job.kind == JobKind.PACKING_SLIPS:
            _packing_slips(job, progress, out)
            name = f"packing-slips-{job.pk}.pdf"
        else:
            _export_orders(job, progress, out)
            status = job.params.get("status")
            name = f"orders-{job.params['date_from']}-to-{job.params['date_to']}{'-' + status if status else ''}.csv"
        done: dict[str, Any] = {"processed": progress.processed, "failures": progress.failures}
        if job.kind == JobKind.EXPORT_ORDERS:
            done["total"] = progress.processed  # orders placed in the range since the job was queued count too
        if out.tell():
            out.seek(0)
            job.result.save(name, File(out, name=name), save=False)
            done.update(result=job.result.name, result_name=name)
    BulkJob.objects.filter(pk=job.pk).update(state=JobState.DONE, finished_at=timezone.now(), **done)


def bulk_job_failed(payload: dict[str, Any], error: str) -> None:
    """Outbox: the job failed on its last attempt; staff see why on its page."""
    BulkJob.objects.filter(pk=payload["job"]).exclude(state=JobState.DONE).update(
        state=JobState.FAILED, error=error, finished_at=timezone.now()
    )


def _actor_of(job: BulkJob) -> Actor:
    if job.requested_by is not None:
        return Actor.for_user(job.requested_by)
    return Actor.system(f"bulk job {job.pk}")


def _chunks(numbers: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(numbers), size):
        yield numbers[start : start + size]


def _print_labels(job: BulkJob, progress: _Progress, out: IO[bytes]) -> str:
    """The live labels of the orders in one file, in the order asked; returns its extension.
    A chunk the printing refuses as a whole (a label without a copy in the format, a label
    voided meanwhile) is printed order by order, so one bad order fails alone."""
    numbers: list[str] = job.params["orders"]
    fmt = job.params.get("format") or _common_format(numbers)
    actor = _actor_of(job)
    pdf = PdfWriter() if fmt == LabelFormat.PDF else None

    def write(content: bytes) -> None:
        if pdf is not None:
            pdf.append(PdfReader(io.BytesIO(content)))
        else:
            out.write(content)

    for chunk in _chunks(numbers, CHUNK):
        label_ids, without = live_labels_of_orders(chunk)
        for number in without:
            progress.fail(number, NO_LIVE_LABEL)
        if label_ids:
            try:
                write(labels_print(actor=actor, label_ids=label_ids, fmt=fmt).content)
            except ApplicationError:
                for number in chunk:
                    if number in without:
                        continue
                    try:
                        ids, _ = live_labels_of_orders([number])
                        write(labels_print(actor=actor, label_ids=ids, fmt=fmt).content)
                    except ApplicationError as exc:
                        progress.fail(number, exc.message)
        progress.processed += len(chunk)
        progress.save()
    if pdf is not None and len(pdf.pages):
        pdf.write(out)
    return str(fmt)


def _common_format(numbers: list[str]) -> str:
    """The format of the orders' live labels when they share one, else PDF (as ``labels_print``
    decides for one document)."""
    formats = set(
        Label.objects.filter(shipment__order__number__in=numbers, status=LabelStatus.LIVE)
        .values_list("format", flat=True)
        .distinct()
    )
    return formats.pop() if len(formats) == 1 else LabelFormat.PDF


def _packing_slips(job: BulkJob, progress: _Progress, out: IO[bytes]) -> None:
    pdf = PdfWriter()
    for chunk in _chunks(job.params["orders"], CHUNK):
        for number in chunk:
            try:
                pdf.append(PdfReader(io.BytesIO(packing_slip_pdf(number))))
            except ApplicationError as exc:
                progress.fail(number, exc.message)
        progress.processed += len(chunk)
        progress.save()
    if len(pdf.pages):
        pdf.write(out)


def _export_queryset(params: dict[str, Any]) -> QuerySet[Order]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(date.fromisoformat(params["date_from"]), time.min, tzinfo=zone)
    end = datetime.combine(date.fromisoformat(params["date_to"]) + timedelta(days=1), time.min, tzinfo=zone)
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end)
    if params.get("status"):
        orders = orders.filter(status=params["status"])
    return orders


def _export_orders(job: BulkJob, progress: _Progress, out: IO[bytes]) -> None:
    """One CSV row per order placed in the range, oldest first. Rows are read as tuples from
    a server-side cursor and written straight to the file, so memory stays flat for a year."""
    items = OrderLine.objects.filter(order=OuterRef("pk")).values("order").annotate(n=Sum("quantity")).values("n")
    tracking = (
        Label.objects.filter(shipment__order=OuterRef("pk"), status=LabelStatus.LIVE)
        .exclude(tracking_number=None)
        .values("shipment__order")
        .annotate(numbers=StringAgg("tracking_number", " ", order_by=("package__sequence", "id")))
        .values("numbers")
    )
    rows = (
        _export_queryset(job.params)
        .annotate(items=Subquery(items), tracking=Subquery(tracking))
        .order_by("created_at", "id")
        .values_list(
            "number",
            "created_at",
            "status",
            "channel",
            "customer_name",
            "customer_email",
            "shipping_address__country",
            "items",
            "subtotal",
            "shipping_price",
            "total",
            "currency",
            "paid_at",
            "shipped_at",
            "shipment__carrier__name",
            "tracking",
        )
    )
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows.iterator(chunk_size=EXPORT_CHUNK):
        writer.writerow([_cell(value) for value in row])
        progress.processed += 1
        if progress.processed % EXPORT_CHUNK == 0:
            progress.save()
    progress.save()
    text.flush()
    text.detach()  # the caller still needs the file


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)
