"""Label benchmark: how many shipping labels a worker process makes per second.

Three measurements, one after the other, in its own database (``oms_bench_labels`` by default,
dropped and re-created on each run):

(a) render only, the baseline: ``shipping.labels.label_pdf`` + ``label_zpl`` for one parcel,
    in this process, no database: the floor of what one own-fleet label costs;
(b) the label task in process: packed orders (one closed, weighed package each, prepared
    through the ORM before timing) get their labels from the real task body,
    ``shipping.tasks.create_order_labels(message_id)`` (``outbox_run`` with the labels
    handler: claim the message, open the shipment, request the label, take a tracking number
    from the carrier's counter row, render PDF and ZPL, store them, mark the shipment
    labelled), in 1 process and in 2 processes side by side (forked, each with its own
    database connection, the messages split between them);
(c) a real Celery worker (``celery -A oms worker -c N``) on Redis: the messages are relayed
    with ``outbox_relay`` and the clock stops when every label is live.

The carrier is the built-in own fleet (offline); a karrio carrier adds the carrier's API
round trip, which no local benchmark can stand for. Run from the project root::

    .venv/bin/python bench/labels.py                     # 200 orders per phase, about a minute
    .venv/bin/python bench/labels.py --orders 500 --processes 1,2,4 --celery 1,2

Figures and their reading: ``docs/performance.md`` ("Labels").
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchlib import (  # bench/ is the script's own folder, first on sys.path
    CLOCK_TICKS,
    backend_ticks,
    busy_share,
    celery_worker,
    db_seconds,
    droppable_database,
    machine_ticks,
    migrate,
    order_numbers,
    own_cpu,
    percentile_ms,
    print_machine_facts,
    python_speed_ms,
    recreate_database,
    setup_django,
    tree_ticks,
)

DEFAULT_DB_NAME = "oms_bench_labels"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PACKAGE_GRAMS = 450


# --- results --------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    processes: int
    labels: int  # labels made live in the measured window
    wall: float
    latencies: list[float] = field(default_factory=list)  # per order, where measured
    outcomes: Counter[str] = field(default_factory=Counter)
    cpu_workers: float | None = None  # CPU seconds of the label-making processes
    cpu_db: float | None = None  # CPU seconds of the benchmark database's PostgreSQL backends
    busy: float | None = None  # share of all cores busy in the window

    @property
    def rate(self) -> float:
        return self.labels / self.wall if self.wall > 0 else 0.0

    def cpu_ms(self, seconds: float | None) -> str:
        return "n/a" if seconds is None or not self.labels else f"{seconds * 1000 / self.labels:.1f}"


# --- set-up ---------------------------------------------------------------------------------


@dataclass
class Fixtures:
    station_id: int
    package_type_id: int
    packer_id: int


def seed() -> Fixtures:
    """The standard shipping method carried by an own-fleet service, a warehouse with its
    dispatch address, a packing station in it, a box and a packer."""
    from django.contrib.auth import get_user_model

    from fulfillment.models import PackageType, PackingStation
    from inventory.models import Warehouse
    from orders.models import ShippingMethod
    from shipping.models import Carrier, CarrierService, ShippingMethodService

    ShippingMethod.objects.create(code="standard", name="Standard", price=Decimal("4.99"))
    carrier = Carrier.objects.create(code="FLEET", name="City Fleet", tracking_prefix="FL")
    service = CarrierService.objects.create(
        carrier=carrier, code="STD", name="Standard parcel", transit_days=2, pickup_weekdays=[0, 1, 2, 3, 4]
    )
    ShippingMethodService.objects.create(shipping_method_id="standard", service=service)
    warehouse = Warehouse.objects.create(
        code="MAIN",
        name="Main warehouse",
        sender_name="Demo Shop",
        line1="Magazynowa 3",
        postal_code="05-800",
        city="Pruszków",
        country="PL",
    )
    station = PackingStation.objects.create(code="PACK-1", name="Packing 1", warehouse=warehouse)
    box = PackageType.objects.create(
        code="BOX-S", name="Box S", length_mm=300, width_mm=200, height_mm=100, tare_grams=150
    )
    packer = get_user_model().objects.create_user("bench-packer", password=secrets.token_urlsafe(12))
    return Fixtures(station.pk, box.pk, packer.pk)


_order_numbers = itertools.count(1)


def prepare(fixtures: Fixtures, count: int, run_id: str) -> list[int]:
    """``count`` packed orders, each with one closed, weighed package and its label message
    (as packing writes it), made directly through the ORM. Returns the message ids. Messages
    are not relayed: each phase runs them itself."""
    from django.db import transaction
    from django.utils import timezone

    from fulfillment.enums import PackageStatus, PackingStatus
    from fulfillment.models import Package, PackingSession
    from oms.common.models import OutboxMessage
    from orders.enums import OrderStatus
    from orders.models import Address, Order
    from shipping.services.labels import LABELS_TASK

    now = timezone.now()
    numbers = [f"LB{run_id}-{next(_order_numbers):06d}" for _ in range(count)]
    with transaction.atomic():
        addresses = Address.objects.bulk_create(
            [
                Address(name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL")
                for _ in numbers
            ]
        )
        orders = Order.objects.bulk_create(
            [
                Order(
                    number=number,
                    channel="web",
                    status=OrderStatus.PACKED,
                    currency="EUR",
                    customer_email="ann@example.com",
                    customer_name="Ann Lee",
                    customer_phone="+48600100200",
                    shipping_address=address,
                    billing_address=address,
                    shipping_method_id="standard",
                    shipping_price=Decimal("4.99"),
                    subtotal=Decimal("40.00"),
                    total=Decimal("44.99"),
                    amount_paid=Decimal("44.99"),
                    paid_at=now,
                    picking_at=now,
                    packed_at=now,
                )
                for number, address in zip(numbers, addresses, strict=True)
            ]
        )
        sessions = PackingSession.objects.bulk_create(
            [
                PackingSession(
                    order=order,
                    station_id=fixtures.station_id,
                    packer_id=fixtures.packer_id,
                    status=PackingStatus.COMPLETED,
                    completed_at=now,
                )
                for order in orders
            ]
        )
        Package.objects.bulk_create(
            [
                Package(
                    order=order,
                    session=session,
                    sequence=1,
                    package_type_id=fixtures.package_type_id,
                    status=PackageStatus.CLOSED,
                    weight_grams=PACKAGE_GRAMS,
                    expected_weight_grams=PACKAGE_GRAMS,
                    closed_at=now,
                )
                for order, session in zip(orders, sessions, strict=True)
            ]
        )
        messages = OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    key=f"labels:{number}:bench",
                    task=LABELS_TASK,
                    payload={"order": number},
                    available_at=now + timedelta(hours=1),
                )
                for number in numbers
            ]
        )
    return [m.pk for m in messages]


# --- (a) rendering only ---------------------------------------------------------------------


def sample_label(serial: int) -> Any:
    from shipping import labels, tracking_numbers

    return labels.LabelData(
        tracking_number=tracking_numbers.tracking_number(prefix="FL", serial=serial, country="PL"),
        carrier="City Fleet",
        service="Standard parcel",
        sender=["Demo Shop", "Magazynowa 3", "05-800 Pruszków", "PL"],
        recipient=["Ann Lee", "Main St 1", "00-001 Warsaw", "PL"],
        weight_grams=PACKAGE_GRAMS,
        package=1,
        packages=1,
        order_number=f"LB-{serial:06d}",
    )


def measure_render(count: int) -> tuple[Phase, float, float]:
    """PDF + ZPL for ``count`` labels in this process; also the PDF and the ZPL alone (ms)."""
    from shipping import labels

    data = [sample_label(900_000 + i) for i in range(count)]
    for d in data[:5]:  # fonts and barcode tables load on first use
        labels.label_pdf(d)
    cpu, began = own_cpu(), time.perf_counter()
    latencies = []
    for d in data:
        t = time.perf_counter()
        labels.label_pdf(d)
        labels.label_zpl(d)
        latencies.append(time.perf_counter() - t)
    wall, cpu = time.perf_counter() - began, own_cpu() - cpu
    t = time.perf_counter()
    for d in data:
        labels.label_pdf(d)
    pdf_ms = (time.perf_counter() - t) * 1000 / count
    t = time.perf_counter()
    for d in data:
        labels.label_zpl(d)
    zpl_ms = (time.perf_counter() - t) * 1000 / count
    return Phase("render only (PDF + ZPL)", 1, count, wall, latencies, cpu_workers=cpu), pdf_ms, zpl_ms


# --- (b) the task body in 1..N processes -----------------------------------------------------


def _label_process(warmup: list[int], work: list[int], start: Any, results: Any) -> None:
    """One worker process: its own connection, warm-up orders, then its share after the
    common start."""
    from django.db import connections

    from shipping.tasks import create_order_labels

    connections.close_all()  # never the parent's connection: a fresh one for this process
    for message_id in warmup:
        create_order_labels(message_id)
    start.wait()
    cpu, began = own_cpu(), time.perf_counter()
    latencies, outcomes = [], Counter[str]()
    for message_id in work:
        t = time.perf_counter()
        outcomes[create_order_labels(message_id)] += 1
        latencies.append(time.perf_counter() - t)
    results.put((latencies, dict(outcomes), time.perf_counter() - began, own_cpu() - cpu))
    connections.close_all()


def measure_processes(fixtures: Fixtures, run: Run, processes: int) -> Phase:
    from django.db import connections

    warm = prepare(fixtures, run.args.warmup * processes, run.run_id)
    work = prepare(fixtures, run.args.orders, run.run_id)
    run.measured.extend(work)
    connections.close_all()  # children must not share this process's connection
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(processes + 1), context.Queue()
    children = [
        context.Process(
            target=_label_process,
            args=(warm[i::processes], work[i::processes], start, results),
            name=f"labels-{i}",
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    db_before = backend_ticks(run.db_name)
    start.wait()  # every child has warmed up; the clock starts for all of them at once
    machine_before = machine_ticks()
    collected = [results.get(timeout=600) for _ in children]
    machine_after, db_after = machine_ticks(), backend_ticks(run.db_name)
    for child in children:
        child.join()
    phase = Phase(
        f"task body, {processes} process{'es' if processes > 1 else ''}",
        processes,
        labels=0,
        wall=max(wall for _, _, wall, _ in collected),
        cpu_workers=sum(cpu for *_, cpu in collected),
        cpu_db=db_seconds(db_before, db_after),
        busy=busy_share(machine_before, machine_after),
    )
    for latencies, outcomes, _, _ in collected:
        phase.latencies.extend(latencies)
        phase.outcomes.update(outcomes)
    phase.labels = phase.outcomes.get("done", 0)
    return phase


# --- (c) a Celery worker --------------------------------------------------------------------


def measure_celery(fixtures: Fixtures, run: Run, concurrency: int) -> Phase:
    from celery import current_app
    from django.db import connections

    from oms.common.outbox import outbox_relay
    from shipping.enums import LabelStatus
    from shipping.models import Label

    warm = prepare(fixtures, run.args.warmup * concurrency, run.run_id)
    work = prepare(fixtures, run.args.orders, run.run_id)
    run.measured.extend(work)
    with current_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    log = Path(tempfile.gettempdir()) / f"oms-bench-labels-worker-{run.run_id}-{concurrency}.log"
    with celery_worker(run.env, concurrency, log, node=f"bench-labels-{concurrency}@%h") as worker:
        # Warm-up: the pool's processes import the project and load the fonts.
        outbox_relay(warm)
        warm_numbers, deadline = order_numbers(warm), time.monotonic() + 120
        while Label.objects.filter(shipment__order__number__in=warm_numbers, status=LabelStatus.LIVE).count() < len(
            warm
        ):
            if time.monotonic() > deadline:
                raise SystemExit(f"The Celery worker made no labels in 2 minutes; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        numbers = order_numbers(work)
        cpu_before, db_before, machine_before = tree_ticks(worker.pid), backend_ticks(run.db_name), machine_ticks()
        began = time.perf_counter()
        outbox_relay(work)
        live = 0
        while live < len(work):
            time.sleep(0.02)
            live = Label.objects.filter(shipment__order__number__in=numbers, status=LabelStatus.LIVE).count()
            if time.perf_counter() - began > 600:
                break
        wall = time.perf_counter() - began
        cpu_after, db_after, machine_after = tree_ticks(worker.pid), backend_ticks(run.db_name), machine_ticks()
    log.unlink(missing_ok=True)
    connections.close_all()
    return Phase(
        f"Celery worker -c {concurrency}",
        concurrency,
        labels=live,
        wall=wall,
        outcomes=Counter(done=live),
        cpu_workers=(cpu_after - cpu_before) / CLOCK_TICKS,
        cpu_db=db_seconds(db_before, db_after),
        busy=busy_share(machine_before, machine_after),
    )


# --- main -----------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    env: dict[str, str]
    db_name: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(2))
    measured: list[int] = field(default_factory=list)


def check_database(run: Run) -> list[str]:
    """Every measured order has exactly one live label with a PDF and ZPL, its shipment is
    labelled, and no two labels share a tracking number."""
    from django.db.models import Count

    from oms.common.models import OutboxMessage
    from shipping.enums import LabelStatus, ShipmentStatus
    from shipping.models import Label, Shipment

    numbers = order_numbers(run.measured)
    problems = []
    live = Label.objects.filter(shipment__order__number__in=numbers, status=LabelStatus.LIVE)
    if live.count() != len(numbers):
        problems.append(f"{live.count()} live labels for {len(numbers)} measured orders")
    if live.filter(pdf__isnull=True).exists() or live.filter(zpl="").exists():
        problems.append("a live label lacks its PDF or ZPL")
    labelled = Shipment.objects.filter(order__number__in=numbers, status=ShipmentStatus.LABELLED).count()
    if labelled != len(numbers):
        problems.append(f"{labelled} labelled shipments for {len(numbers)} orders")
    if Label.objects.values("tracking_number").annotate(n=Count("id")).filter(n__gt=1).exists():
        problems.append("a tracking number is used twice")
    not_done = OutboxMessage.objects.filter(pk__in=run.measured).exclude(state="done").count()
    if not_done:
        problems.append(f"{not_done} label messages not done")
    return problems


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="labels measured per phase (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured labels per process first (default 5)")
    parser.add_argument("--render", type=int, default=300, help="labels rendered for the baseline (default 300)")
    parser.add_argument("--processes", default="1,2", help="worker processes for (b), comma-separated (default 1,2)")
    parser.add_argument(
        "--celery", default="1", help="Celery worker concurrencies for (c), comma-separated; empty skips (default 1)"
    )
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_LABELS_DB_NAME"),
        help="benchmark database, dropped and re-created (default from BENCH_DATABASE_URL: oms_bench_labels)",
    )
    args = parser.parse_args(argv)
    args.levels = [int(v) for v in args.processes.split(",") if v.strip()]
    args.celery_levels = [int(v) for v in args.celery.split(",") if v.strip()]
    if args.orders < 1 or args.warmup < 0 or args.render < 1 or min(args.levels + args.celery_levels, default=1) < 1:
        parser.error("--orders, --render, --processes and --celery must be positive, --warmup not negative")
    return args


def print_results(render: Phase, pdf_ms: float, zpl_ms: float, phases: list[Phase]) -> None:
    base = render.rate
    print()
    print(
        f"(a) render only, 1 process, no database: {render.rate:.1f} labels/s"
        f" ({render.wall * 1000 / render.labels:.2f} ms per label: PDF {pdf_ms:.2f} ms, ZPL {zpl_ms:.3f} ms;"
        f" p50 {percentile_ms(render.latencies, 0.5):.2f} ms, p95 {percentile_ms(render.latencies, 0.95):.2f} ms)"
    )
    print()
    print(
        f"{'phase':<28} {'labels':>6} {'wall s':>7} {'labels/s':>9} {'per process':>11} {'vs render':>9}"
        f" {'p50 ms':>7} {'p95 ms':>7} {'CPU busy':>8}  CPU ms/label: workers     db"
    )
    for p in phases:
        busy = "n/a" if p.busy is None else f"{p.busy * 100:.0f}%"
        p50 = f"{percentile_ms(p.latencies, 0.5):.1f}" if p.latencies else "-"
        p95 = f"{percentile_ms(p.latencies, 0.95):.1f}" if p.latencies else "-"
        print(
            f"{p.name:<28} {p.labels:>6} {p.wall:>7.2f} {p.rate:>9.1f} {p.rate / p.processes:>11.1f}"
            f" {p.rate / p.processes / base if base else 0:>9.2f} {p50:>7} {p95:>7} {busy:>8}"
            f"  {'':>13}{p.cpu_ms(p.cpu_workers):>7} {p.cpu_ms(p.cpu_db):>6}"
        )
        other = {k: v for k, v in p.outcomes.items() if k != "done"}
        if other:
            print(f"  ! {p.name}: outcomes other than done: {other}")
    in_process = {p.processes: p for p in phases if p.name.startswith("task body")}
    if 1 in in_process:
        one = in_process[1].rate
        for n, p in sorted(in_process.items()):
            if n > 1 and one:
                print(f"  {n} processes make {p.rate / one:.2f}x the labels of 1 process ({p.rate:.1f} vs {one:.1f}/s)")
    print()
    print("vs render = labels/s per process divided by the render-only rate (a): the share of a label's")
    print("time that is rendering. CPU ms/label: workers = the processes making labels (in (c) the Celery")
    print("worker and its pool); db = PostgreSQL backends of the benchmark database. CPU busy = share of all")
    print(f"{os.cpu_count()} cores busy during the window. p50/p95 = one order's task, as one process sees it.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url, db_name = droppable_database(DEFAULT_DATABASE_URL, args.db_name, DEFAULT_DB_NAME)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32)),
    }
    env.pop("DJANGO_DEBUG", None)
    run = Run(args=args, env=env, db_name=db_name)

    print_machine_facts("Label benchmark")
    print(f"  PostgreSQL  : {recreate_database(url, db_name)}, database {db_name} (dropped and re-created)")
    print(
        f"  workload    : own-fleet labels (S10 number from the carrier's counter, 4x6 PDF + ZPL), one package"
        f" per order; {args.orders} labels per phase after {args.warmup} warm-up per process;"
        f" processes {args.levels}, Celery {args.celery_levels or 'skipped'}"
    )
    migrate(env)
    setup_django(env)
    fixtures = seed()

    render, pdf_ms, zpl_ms = measure_render(args.render)
    phases = [measure_processes(fixtures, run, n) for n in args.levels]
    for concurrency in args.celery_levels:
        phases.append(measure_celery(fixtures, run, concurrency))

    print_results(render, pdf_ms, zpl_ms, phases)
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    problems = check_database(run)
    if problems:
        print("Database check FAILED: " + "; ".join(problems))
    else:
        print(
            f"Database check: {len(run.measured)} measured orders, each with one live label (PDF and ZPL)"
            " and a labelled shipment; every tracking number unique; every message done."
        )
    from django.db import connections

    connections.close_all()
    return 0 if not problems and all(set(p.outcomes) <= {"done"} for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
