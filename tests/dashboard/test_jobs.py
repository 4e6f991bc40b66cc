"""Bulk jobs: what starting one checks, what a run makes (labels, packing slips, a CSV of
orders) and how it reports orders it could not process, that running again changes nothing,
and the pages: the list, the progress that refreshes itself, and who may download the file."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from dashboard.enums import JobKind, JobState
from dashboard.models import BulkJob
from dashboard.services import jobs
from dashboard.tasks import run_bulk_job
from oms.common.actors import Actor
from oms.common.errors import Forbidden, InvalidInput
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus
from orders.models import Order
from shipping.models import Label
from tests.factories import make_order, make_staff
from tests.fulfillment.helpers import paid_order, stock
from tests.notifications.conftest import Relays
from tests.shipping.test_labels_api import labelled, labels_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def relays(monkeypatch: pytest.MonkeyPatch) -> Relays:
    """The broker's stand-in: the tests run the queued jobs themselves."""
    from oms.common import outbox

    fake = Relays()
    monkeypatch.setattr(outbox, "current_app", fake)
    return fake


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def start(user: Any, kind: str, params: dict[str, Any]) -> BulkJob:
    return jobs.bulk_job_start(actor=Actor.for_user(user), user=user, kind=kind, params=params)


def run(job: BulkJob) -> BulkJob:
    """Runs the job's outbox message as the worker's task would."""
    message = OutboxMessage.objects.get(key=f"bulk-job:{job.pk}")
    run_bulk_job(message.pk)
    return BulkJob.objects.get(pk=job.pk)


def content(job: BulkJob) -> bytes:
    with job.result.open("rb") as file:
        return file.read()


def pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def rows(job: BulkJob) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content(job).decode())))


def nothing_written() -> tuple[int, int]:
    return BulkJob.objects.count(), OutboxMessage.objects.filter(task=jobs.RUN_TASK).count()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response: Any) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def placed_at(order: Order, when: datetime) -> Order:
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return Order.objects.get(pk=order.pk)


WARSAW = ZoneInfo("Europe/Warsaw")


# --- starting a job -------------------------------------------------------------------------


def test_starting_a_print_job_writes_the_job_and_its_outbox_message_together(relays: Relays) -> None:
    shipper = make_staff("shipper")

    job = start(shipper, JobKind.PRINT_LABELS, {"orders": [" OMS-1 ", "OMS-2", "OMS-1", ""], "format": "zpl"})

    assert (job.state, job.total, job.processed, job.requested_by) == (JobState.QUEUED, 2, 0, shipper)
    assert job.params == {"orders": ["OMS-1", "OMS-2"], "format": "zpl"}
    message = OutboxMessage.objects.get(key=f"bulk-job:{job.pk}")
    assert (message.task, message.payload, message.state) == (jobs.RUN_TASK, {"job": job.pk}, OutboxState.PENDING)


@pytest.mark.parametrize(
    ("kind", "params", "code"),
    [
        ("reprint_everything", {"orders": ["OMS-1"]}, "invalid"),
        (JobKind.PRINT_LABELS, {"orders": []}, "nothing_selected"),
        (JobKind.PRINT_LABELS, {}, "nothing_selected"),
        (JobKind.PRINT_LABELS, {"orders": ["  "]}, "nothing_selected"),
        (JobKind.PRINT_LABELS, {"orders": "OMS-1"}, "invalid"),
        (JobKind.PRINT_LABELS, {"orders": [1, 2]}, "invalid"),
        (JobKind.PRINT_LABELS, {"orders": ["OMS-1"], "format": "png"}, "invalid"),
        (JobKind.PRINT_LABELS, {"orders": [f"OMS-{n}" for n in range(5001)]}, "job_too_large"),
        (JobKind.PACKING_SLIPS, {"orders": [f"OMS-{n}" for n in range(2001)]}, "job_too_large"),
        (JobKind.EXPORT_ORDERS, {"date_from": "2026-01-01"}, "invalid"),
        (JobKind.EXPORT_ORDERS, {"date_from": "01/01/2026", "date_to": "2026-02-01"}, "invalid"),
        (JobKind.EXPORT_ORDERS, {"date_from": "2026-03-01", "date_to": "2026-02-01"}, "invalid"),
        (JobKind.EXPORT_ORDERS, {"date_from": "2025-01-01", "date_to": "2026-01-02"}, "job_too_large"),
        (JobKind.EXPORT_ORDERS, {"date_from": "2026-01-01", "date_to": "2026-01-31", "status": "lost"}, "invalid"),
        (JobKind.EXPORT_ORDERS, {"date_from": "2001-01-01", "date_to": "2001-12-31"}, "nothing_selected"),
    ],
)
def test_a_job_asking_for_the_wrong_thing_is_refused_and_nothing_is_written(
    kind: str, params: dict[str, Any], code: str
) -> None:
    make_order()  # placed today: outside 2001
    manager = make_staff("manager")

    with pytest.raises(InvalidInput) as refused:
        start(manager, kind, params)

    assert refused.value.code == code
    assert refused.value.message
    assert nothing_written() == (0, 0)


def test_a_year_of_366_days_is_one_export() -> None:
    order = make_order()
    day = timezone.localdate(order.created_at)

    job = start(
        make_staff("manager"), JobKind.EXPORT_ORDERS, {"date_from": str(day - timedelta(days=365)), "date_to": str(day)}
    )

    assert job.total == 1


@pytest.mark.parametrize(
    ("role", "kind", "params"),
    [
        ("support", JobKind.PRINT_LABELS, {"orders": ["OMS-1"]}),  # support does no label work
        ("picker", JobKind.PACKING_SLIPS, {"orders": ["OMS-1"]}),  # no bulk jobs for pickers
        ("packer", JobKind.EXPORT_ORDERS, {"date_from": "2026-01-01", "date_to": "2026-01-31"}),
        (None, JobKind.EXPORT_ORDERS, {"date_from": "2026-01-01", "date_to": "2026-01-31"}),
    ],
)
def test_a_role_without_the_rights_for_the_kind_of_job_is_refused(role: str | None, kind: str, params: dict) -> None:
    with pytest.raises(Forbidden):
        start(make_staff(role), kind, params)

    assert nothing_written() == (0, 0)


# --- print labels ---------------------------------------------------------------------------


def test_a_print_job_makes_one_pdf_of_the_live_labels_and_names_the_orders_without_one(
    monkeypatch: pytest.MonkeyPatch, media: Path
) -> None:
    monkeypatch.setattr(jobs, "CHUNK", 2)  # three chunks: progress saved between them
    one = labelled()
    two_boxes = labelled(2, sku="TEE")
    stock("CAP", 10, "B-CAP", 3)
    unlabelled = paid_order({"CAP": 1})
    shipper = make_staff("shipper")
    job = start(
        shipper, JobKind.PRINT_LABELS, {"orders": [one.number, unlabelled.number, two_boxes.number, "OMS-NOPE"]}
    )

    job = run(job)

    assert (job.state, job.processed, job.total) == (JobState.DONE, 4, 4)
    assert job.failures == [
        {"order": unlabelled.number, "reason": "no live label"},
        {"order": "OMS-NOPE", "reason": "no live label"},
    ]
    assert job.result_name == f"labels-{job.pk}.pdf"
    assert job.result.name.startswith("jobs/")
    assert (media / job.result.name).is_file()
    text = pages(content(job))
    assert len(text) == 3
    tracking = [label.tracking_number for order in (one, two_boxes) for label in labels_of(order)]
    assert all(number in page for number, page in zip(tracking, text, strict=True))
    assert [label.print_count for order in (one, two_boxes) for label in labels_of(order)] == [1, 1, 1]
    assert job.started_at is not None and job.finished_at is not None


def test_a_zpl_print_job_concatenates_the_labels() -> None:
    one, two = labelled(), labelled(sku="TEE")
    job = start(make_staff("manager"), JobKind.PRINT_LABELS, {"orders": [one.number, two.number], "format": "zpl"})

    job = run(job)

    data = content(job).decode()
    assert job.result_name == f"labels-{job.pk}.zpl"
    assert data.count("^XA") == 2 and data.startswith("^XA")
    assert labels_of(one)[0].tracking_number in data and labels_of(two)[0].tracking_number in data


def test_a_label_refused_by_the_printer_fails_its_order_alone() -> None:
    good, bad = labelled(), labelled(sku="TEE")
    Label.objects.filter(shipment__order=bad).update(zpl="")  # its carrier made only the PDF
    job = start(make_staff("manager"), JobKind.PRINT_LABELS, {"orders": [good.number, bad.number], "format": "zpl"})

    job = run(job)

    assert job.state == JobState.DONE
    assert [f["order"] for f in job.failures] == [bad.number]
    assert "no ZPL copy" in job.failures[0]["reason"]
    assert content(job).decode().count("^XA") == 1


def test_a_print_job_where_no_order_has_a_label_finishes_without_a_file() -> None:
    stock("CAP", 10, "B-CAP", 3)
    order = paid_order({"CAP": 1})
    job = start(make_staff("manager"), JobKind.PRINT_LABELS, {"orders": [order.number]})

    job = run(job)

    assert (job.state, job.processed, bool(job.result)) == (JobState.DONE, 1, False)
    assert job.failures == [{"order": order.number, "reason": "no live label"}]


# --- packing slips --------------------------------------------------------------------------


def test_a_packing_slip_job_makes_one_pdf_and_names_unknown_orders() -> None:
    first, second = make_order(OrderStatus.PAID), make_order(OrderStatus.PAID, skus=("MUG",))
    job = start(make_staff("support"), JobKind.PACKING_SLIPS, {"orders": [first.number, "OMS-NOPE", second.number]})

    job = run(job)

    assert (job.state, job.processed, job.result_name) == (JobState.DONE, 3, f"packing-slips-{job.pk}.pdf")
    text = pages(content(job))
    assert len(text) == 2
    assert first.number in text[0] and second.number in text[1]
    assert len(job.failures) == 1 and job.failures[0]["order"] == "OMS-NOPE"
    assert "OMS-NOPE" in job.failures[0]["reason"]


# --- export ---------------------------------------------------------------------------------


def test_an_export_writes_one_row_per_order_placed_in_the_range_oldest_first(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Warsaw"
    shipped = labelled()
    Order.objects.filter(pk=shipped.pk).update(shipped_at=datetime(2026, 3, 2, 9, 0, tzinfo=WARSAW))
    shipped = placed_at(shipped, datetime(2026, 3, 1, 0, 30, tzinfo=WARSAW))  # 23:30 UTC the day before
    unpaid = placed_at(make_order(email="bo@example.com"), datetime(2026, 2, 1, 12, 0, tzinfo=WARSAW))
    placed_at(make_order(), datetime(2026, 3, 2, 0, 0, tzinfo=WARSAW))  # the day after
    placed_at(make_order(), datetime(2026, 1, 31, 23, 59, tzinfo=WARSAW))  # the day before
    job = start(make_staff("support"), JobKind.EXPORT_ORDERS, {"date_from": "2026-02-01", "date_to": "2026-03-01"})

    job = run(job)

    assert (job.state, job.total, job.processed, job.failures) == (JobState.DONE, 2, 2, [])
    assert job.result_name == "orders-2026-02-01-to-2026-03-01.csv"
    got = rows(job)
    assert list(got[0]) == jobs.EXPORT_COLUMNS
    assert [row["number"] for row in got] == [unpaid.number, shipped.number]
    first = got[0]
    assert first["created_at"] == "2026-02-01T12:00:00+01:00"
    assert (first["status"], first["channel"], first["customer_email"], first["country"]) == (
        "unhandled",
        "web",
        "bo@example.com",
        "PL",
    )
    assert (first["items"], first["total"], first["currency"]) == ("1", f"{unpaid.total:.2f}", "EUR")
    assert (first["paid_at"], first["shipped_at"], first["carrier"], first["tracking_numbers"]) == ("", "", "", "")
    second = got[1]
    assert second["shipped_at"] == "2026-03-02T09:00:00+01:00"
    assert second["carrier"] == "City Fleet"
    assert second["tracking_numbers"] == labels_of(shipped)[0].tracking_number
    assert (second["subtotal"], second["shipping"]) == (f"{shipped.subtotal:.2f}", f"{shipped.shipping_price:.2f}")


def test_an_export_of_one_status_names_it_in_the_file() -> None:
    paid = make_order(OrderStatus.PAID)
    make_order()
    day = str(timezone.localdate(paid.created_at))
    job = start(
        make_staff("manager"), JobKind.EXPORT_ORDERS, {"date_from": day, "date_to": day, "status": OrderStatus.PAID}
    )

    job = run(job)

    assert job.result_name == f"orders-{day}-to-{day}-paid.csv"
    assert [row["number"] for row in rows(job)] == [paid.number]


# --- running again, failing -----------------------------------------------------------------


def test_running_a_finished_job_again_changes_nothing() -> None:
    one = labelled()
    job = run(start(make_staff("manager"), JobKind.PRINT_LABELS, {"orders": [one.number]}))
    before = (job.result.name, content(job), job.finished_at)

    jobs.bulk_job_run({"job": job.pk}, 2)

    again = BulkJob.objects.get(pk=job.pk)
    assert (again.result.name, content(again), again.finished_at) == before
    assert (again.processed, again.failures) == (1, [])
    assert labels_of(one)[0].print_count == 1


def test_a_job_cut_short_by_a_dead_worker_starts_again_and_counts_each_order_once() -> None:
    order = make_order(OrderStatus.PAID)
    job = start(make_staff("manager"), JobKind.PACKING_SLIPS, {"orders": [order.number, "OMS-NOPE"]})
    BulkJob.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, processed=2, failures=[{"order": "OMS-NOPE", "reason": "from the dead run"}]
    )

    jobs.bulk_job_run({"job": job.pk}, 2)

    job = BulkJob.objects.get(pk=job.pk)
    assert (job.state, job.processed) == (JobState.DONE, 2)
    assert [f["order"] for f in job.failures] == ["OMS-NOPE"] and "from the dead run" not in job.failures[0]["reason"]
    assert len(pages(content(job))) == 1


def test_a_job_failing_on_every_attempt_is_marked_failed_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    order = make_order(OrderStatus.PAID)
    job = start(make_staff("manager"), JobKind.PACKING_SLIPS, {"orders": [order.number]})

    def broken(number: str) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "packing_slip_pdf", broken)
    message = OutboxMessage.objects.get(key=f"bulk-job:{job.pk}")
    for _ in range(3):
        OutboxMessage.objects.filter(pk=message.pk).update(locked_until=None)
        run_bulk_job(message.pk)

    job = BulkJob.objects.get(pk=job.pk)
    assert job.state == JobState.FAILED
    assert "disk full" in job.error and job.finished_at is not None
    assert not job.result
    page = client_for(job.requested_by).get(f"/staff/jobs/{job.pk}/")
    assert "The job failed" in page.content.decode() and "disk full" in page.content.decode()


def test_a_job_deleted_before_its_turn_gives_up() -> None:
    job = start(make_staff("manager"), JobKind.PRINT_LABELS, {"orders": ["OMS-1"]})
    message = OutboxMessage.objects.get(key=f"bulk-job:{job.pk}")
    job.delete()

    assert run_bulk_job(message.pk) == "failed"


# --- pages ----------------------------------------------------------------------------------


def a_job(user: Any, **fields: Any) -> BulkJob:
    defaults: dict[str, Any] = {"kind": JobKind.PRINT_LABELS, "params": {"orders": ["OMS-1"]}, "total": 1}
    return BulkJob.objects.create(requested_by=user, **{**defaults, **fields})


def test_the_list_shows_the_users_own_jobs_newest_first_and_a_manager_everyones() -> None:
    ann, bob, boss = make_staff("shipper", "ann"), make_staff("support", "bob"), make_staff("manager", "boss")
    older, newer = a_job(ann), a_job(ann)
    other = a_job(bob)

    own = client_for(ann).get("/staff/jobs/")
    everyone = client_for(boss).get("/staff/jobs/")

    assert own.status_code == 200
    assert [job.pk for job in own.context["jobs"]] == [newer.pk, older.pk]
    assert [job.pk for job in everyone.context["jobs"]] == [other.pk, newer.pk, older.pk]
    assert "bob" in everyone.content.decode()


def test_the_list_costs_the_same_few_queries_however_many_jobs(django_assert_max_num_queries: Any) -> None:
    boss = make_staff("manager")
    users = [make_staff("shipper") for _ in range(5)]
    for n in range(60):
        a_job(users[n % 5], state=JobState.DONE, processed=1)
    client = client_for(boss)

    with django_assert_max_num_queries(9):
        response = client.get("/staff/jobs/")

    assert response.status_code == 200 and len(response.context["jobs"]) == 50
    assert client.get("/staff/jobs/?page=2").context["jobs"][-1].pk == BulkJob.objects.order_by("id")[0].pk


def test_pickers_and_visitors_have_no_jobs_page() -> None:
    assert client_for(make_staff("picker")).get("/staff/jobs/").status_code == 403
    visitor = Client().get("/staff/jobs/")
    assert visitor.status_code == 302 and visitor["Location"].startswith("/staff/login/")


def test_a_running_job_page_polls_its_progress_and_a_finished_one_stops() -> None:
    ann = make_staff("shipper")
    job = a_job(
        ann, state=JobState.RUNNING, total=500, processed=150, failures=[{"order": "OMS-9", "reason": "no live label"}]
    )
    client = client_for(ann)

    page = client.get(f"/staff/jobs/{job.pk}/").content.decode()
    fragment = client.get(f"/staff/jobs/{job.pk}/progress/").content.decode()

    assert f'hx-get="/staff/jobs/{job.pk}/progress/"' in page and "every 2s" in page
    assert '<progress value="150" max="500"' in page and "150 of 500 orders processed" in page
    assert "OMS-9" in page and "no live label" in page
    assert f'href="/staff/jobs/{job.pk}/"' in page  # the refresh link for a browser without JavaScript
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment and "every 2s" in fragment

    BulkJob.objects.filter(pk=job.pk).update(
        state=JobState.DONE, processed=500, result="jobs/x.pdf", result_name="labels.pdf"
    )
    finished = client.get(f"/staff/jobs/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in finished and f"/staff/jobs/{job.pk}/download/" in finished


def test_someone_elses_job_is_403_except_for_a_manager_and_an_unknown_one_404() -> None:
    ann = make_staff("shipper")
    job = a_job(ann)

    for address in (f"/staff/jobs/{job.pk}/", f"/staff/jobs/{job.pk}/progress/", f"/staff/jobs/{job.pk}/download/"):
        assert client_for(make_staff("support")).get(address).status_code == 403
        assert client_for(make_staff("manager")).get(address).status_code in (200, 409)
    assert client_for(ann).get(f"/staff/jobs/{job.pk + 1000}/").status_code == 404


def test_the_file_downloads_for_its_requester_and_a_manager_only() -> None:
    ann = make_staff("support")
    order = make_order(OrderStatus.PAID)
    job = run(start(ann, JobKind.PACKING_SLIPS, {"orders": [order.number]}))

    for user in (ann, make_staff("manager")):
        response = client_for(user).get(f"/staff/jobs/{job.pk}/download/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="packing-slips-{job.pk}.pdf"'
        assert b"".join(response.streaming_content) == content(job)
    assert client_for(make_staff("shipper")).get(f"/staff/jobs/{job.pk}/download/").status_code == 403


def test_a_csv_downloads_as_csv() -> None:
    order = make_order()
    day = str(timezone.localdate(order.created_at))
    job = run(start(make_staff("manager"), JobKind.EXPORT_ORDERS, {"date_from": day, "date_to": day}))

    response = client_for(job.requested_by).get(f"/staff/jobs/{job.pk}/download/")

    assert response["Content-Type"] == "text/csv"
    assert order.number.encode() in b"".join(response.streaming_content)


def test_a_job_not_done_yet_has_nothing_to_download() -> None:
    ann = make_staff("shipper")
    job = a_job(ann, state=JobState.RUNNING, total=10, processed=3)

    response = client_for(ann).get(f"/staff/jobs/{job.pk}/download/")

    assert response.status_code == 409
    assert "still running: 3 of 10" in response.content.decode()


def test_the_export_form_starts_an_export_and_shows_its_job(relays: Relays) -> None:
    order = make_order()
    day = str(timezone.localdate(order.created_at))
    client = client_for(make_staff("support"))

    form = client.get("/staff/jobs/export/")
    response = client.post("/staff/jobs/export/", {"date_from": day, "date_to": day, "status": ""})

    assert form.status_code == 200 and 'type="date"' in form.content.decode()
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/jobs/{job.pk}/"
    assert (job.kind, job.params, job.total) == (
        JobKind.EXPORT_ORDERS,
        {"date_from": day, "date_to": day, "status": ""},
        1,
    )
    assert OutboxMessage.objects.filter(key=f"bulk-job:{job.pk}").exists()


def test_the_export_form_refuses_a_range_too_long_and_writes_nothing() -> None:
    client = client_for(make_staff("support"))

    response = client.post("/staff/jobs/export/", {"date_from": "2024-01-01", "date_to": "2026-01-01"})

    assert response.status_code == 400
    assert any("at most 366 days" in message for message in said(response))
    assert nothing_written() == (0, 0)


def test_a_role_without_bulk_jobs_may_not_export() -> None:
    client = client_for(make_staff("packer"))

    assert client.get("/staff/jobs/export/").status_code == 403
    assert client.post("/staff/jobs/export/", {"date_from": "2026-01-01", "date_to": "2026-01-02"}).status_code == 403
    assert nothing_written() == (0, 0)


def test_progress_is_saved_after_each_chunk_so_the_page_sees_it_move(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "CHUNK", 2)
    numbers = [make_order(OrderStatus.PAID).number for _ in range(5)]
    job = start(make_staff("manager"), JobKind.PACKING_SLIPS, {"orders": numbers})
    seen: list[int] = []
    slip = jobs.packing_slip_pdf

    def watched(number: str) -> bytes:
        seen.append(BulkJob.objects.get(pk=job.pk).processed)
        return slip(number)

    monkeypatch.setattr(jobs, "packing_slip_pdf", watched)

    job = run(job)

    assert seen == [0, 0, 2, 2, 4]
    assert (job.processed, job.total, len(pages(content(job)))) == (5, 5, 5)


def test_an_export_saves_its_progress_every_chunk_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "EXPORT_CHUNK", 2)
    orders = [make_order() for _ in range(5)]
    day = str(timezone.localdate(orders[0].created_at))
    job = start(make_staff("manager"), JobKind.EXPORT_ORDERS, {"date_from": day, "date_to": day})
    saved: list[int] = []
    save = jobs._Progress.save

    def watched(progress: Any) -> None:
        saved.append(progress.processed)
        save(progress)

    monkeypatch.setattr(jobs._Progress, "save", watched)

    job = run(job)

    assert saved == [2, 4, 5]
    assert sorted(row["number"] for row in rows(job)) == sorted(order.number for order in orders)


def test_a_long_job_renews_its_outbox_lease_so_no_second_worker_takes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "CHUNK", 1)
    numbers = [make_order(OrderStatus.PAID).number for _ in range(3)]
    job = start(make_staff("manager"), JobKind.PACKING_SLIPS, {"orders": numbers})
    message = OutboxMessage.objects.get(key=f"bulk-job:{job.pk}")
    leases: list[datetime] = []
    slip = jobs.packing_slip_pdf

    def watched(number: str) -> bytes:
        locked_until = OutboxMessage.objects.get(pk=message.pk).locked_until
        assert locked_until is not None
        leases.append(locked_until)
        return slip(number)

    monkeypatch.setattr(jobs, "packing_slip_pdf", watched)

    run(job)

    assert leases == sorted(leases) and len(set(leases)) == 3
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxState.DONE
