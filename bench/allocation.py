"""Allocation benchmark: how fast does stock get allocated to orders, and what does the ORM cost?

Allocates 3-line orders in process by calling ``inventory.services.stock.stock_reserve_order``
inside ``transaction.atomic`` (fresh reservations each time), at 1 and at 4 threads, each thread
with its own database connection; then makes the same writes with raw SQL over psycopg2 at the
same concurrency: lock the SKUs' stock rows FOR NO KEY UPDATE ordered by id, insert the
reservations, update the counters, insert the ledger rows and the allocations, update the
reservations. Prints orders/s, p50/p95 latency, CPU per order and the ratio service/raw.

Every order takes the same three SKUs, so all threads queue on the same stock rows: the hot-SKU
case, where the time a transaction holds the stock locks bounds throughput.

It runs in its own database (``oms_bench_alloc`` by default), dropped and re-created each run.
Run from the project root::

    .venv/bin/python bench/allocation.py                  # 1000 orders per level, about a minute
    .venv/bin/python bench/allocation.py --orders 3000 --threads 1,2,4 --verbose

Figures and their reading: ``docs/performance.md`` ("Allocation").
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import resource
import secrets
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
from benchlib import (  # noqa: E402  (bench/ is the script's own folder)
    droppable_database,
    dsn_for,
    machine_ticks,
    percentile_ms,
    print_machine_facts,
    python_speed_ms,
    raw_allocate,
    recreate_database,
)

DEFAULT_DB_NAME = "oms_bench_alloc"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"

# Every order has these three lines: (SKU, units).
LINES = (("ALLOC-TEE", 1), ("ALLOC-MUG", 2), ("ALLOC-CAP", 1))
# Two bins in one warehouse hold every SKU; orders draw from the first in pick order.
BINS = (("ALLOC-01", 1), ("ALLOC-02", 2))
UNITS_PER_BIN = 1_000_000
ACTOR_LABEL = "bench: allocation"


# --- results --------------------------------------------------------------------------------


@dataclass
class Result:
    phase: str
    threads: int
    latencies: list[float]
    errors: Counter[str]
    wall: float
    cpu_bench: float  # CPU seconds of this process in the window
    cpu_db: float | None  # CPU seconds of the benchmark database's PostgreSQL backends
    cpu_other: float | None  # the rest of the machine's busy CPU seconds: work that is not ours
    busy: float | None  # share of all cores busy in the window

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of the successful orders, in milliseconds."""
        return percentile_ms(self.latencies, q)

    def cpu_ms(self, seconds: float | None) -> str:
        return "n/a" if seconds is None or not self.ok else f"{seconds * 1000 / self.ok:.2f}"


# --- CPU (Linux /proc; absent elsewhere) ----------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_ticks(db_name: str) -> dict[int, int] | None:
    """CPU ticks of every PostgreSQL backend connected to ``db_name``, by pid."""
    if not Path("/proc/self/stat").exists():
        return None
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not cmdline.startswith("postgres:") or f" {db_name} " not in cmdline:
                continue
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    return ticks


# --- load driver ----------------------------------------------------------------------------


class Worker:
    """One thread's way to allocate an order; ``close`` ends its connection."""

    def allocate(self, index: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def drive(workers: list[Worker], count: int, first_index: int) -> tuple[list[float], Counter[str], float]:
    """Allocates ``count`` orders, each worker in its own thread taking the next order as soon
    as it finishes one. Returns latencies of successes, errors, wall-clock seconds."""
    indexes = itertools.count(first_index)
    remaining = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    start = threading.Barrier(len(workers) + 1)

    def loop(worker: Worker) -> None:
        mine: list[float] = []
        failures: Counter[str] = Counter()
        start.wait()
        while True:
            with lock:
                if next(remaining) >= count:
                    break
                index = next(indexes)
            began = time.perf_counter()
            try:
                worker.allocate(index)
            except Exception as exc:  # a benchmark reports every failure and keeps going
                failures[f"{exc.__class__.__name__}: {exc}"[:160]] += 1
            else:
                mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)
            errors.update(failures)

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - began


# --- the service, in process ----------------------------------------------------------------


class ServiceWorker(Worker):
    """Calls the service as ``order_create`` does: inside the caller's transaction. Django
    gives every thread its own connection."""

    def __init__(self, run: Run) -> None:
        from inventory.services.stock import DemandLine, stock_reserve_order
        from oms.common.actors import Actor

        self.run = run
        self.reserve = stock_reserve_order
        self.demand_line = DemandLine
        self.actor = Actor.system(ACTOR_LABEL)

    def allocate(self, index: int) -> None:
        from django.db import transaction

        lines = [
            self.demand_line(line_id=self.run.line_id(index, i), product_id=product_id, sku=sku, quantity=units)
            for i, (product_id, sku, units) in enumerate(self.run.products)
        ]
        with transaction.atomic():
            self.reserve(
                actor=self.actor, order_number=self.run.order_number(index), lines=lines, allow_backorder=False
            )

    def close(self) -> None:
        from django.db import connection

        connection.close()


# --- the same writes in raw SQL -------------------------------------------------------------

# (statements, what): the raw transaction, step by step.
RAW_STEPS = [
    (1, "BEGIN"),
    (1, "SELECT the SKUs' stock rows with bins and warehouses ORDER BY id FOR NO KEY UPDATE"),
    (1, "INSERT 3 reservations with what they were allocated, RETURNING id"),
    (1, "UPDATE the counters of every stock row in one statement, as the service does"),
    (1, "INSERT 3 ledger rows"),
    (1, "INSERT 3 allocations"),
    (1, "COMMIT"),
]


class RawWorker(Worker):
    """The writes of ``stock_reserve_order`` for one warehouse: bins in pick order."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.conn = psycopg2.connect(run.dsn)
        self.product_ids = tuple(product_id for product_id, _, _ in run.products)

    def allocate(self, index: int) -> None:
        number = self.run.order_number(index)
        now = datetime.now(UTC)
        try:
            with self.conn.cursor() as cur:
                raw_allocate(
                    cur,
                    number=number,
                    lines=[
                        (self.run.line_id(index, i), product_id, units)
                        for i, (product_id, _, units) in enumerate(self.run.products)
                    ],
                    actor_label=ACTOR_LABEL,
                    now=now,
                )
            self.conn.commit()
        except Exception:
            self.conn.rollback()
            raise

    def close(self) -> None:
        self.conn.close()


# --- database -------------------------------------------------------------------------------


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py migrate failed:\n{result.stdout}\n{result.stderr}")


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.pop("DJANGO_DEBUG", None)  # DEBUG would keep every query in memory
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    warnings.filterwarnings("ignore", message="No directory at")  # STATIC_ROOT: irrelevant here
    django.setup()


def seed_stock() -> list[tuple[int, str, int]]:
    """Three products, a warehouse with two bins, and plenty of every SKU in both bins,
    received through the service. Returns (product id, SKU, units per order) per line."""
    from decimal import Decimal

    from inventory.models import Location, Warehouse
    from inventory.services.products import product_create
    from inventory.services.stock import ReceiptLine, stock_receive
    from oms.common.actors import Actor

    warehouse = Warehouse.objects.create(code="BENCH", name="Bench warehouse")
    bins = [Location.objects.create(warehouse=warehouse, code=code, pick_sequence=seq) for code, seq in BINS]
    products = [(product_create(sku=sku, name=sku, price=Decimal("10.00")), units) for sku, units in LINES]
    stock_receive(
        actor=Actor.system(ACTOR_LABEL),
        reference="bench stock",
        lines=[ReceiptLine(product, location, UNITS_PER_BIN) for product, _ in products for location in bins],
    )
    return [(product.pk, product.sku, units) for product, units in products]


def service_statements(run: Run) -> list[str]:
    """The SQL one in-process allocation sends, captured with CaptureQueriesContext."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    worker = ServiceWorker(run)
    with CaptureQueriesContext(connection) as captured:
        worker.allocate(run.next_index(1))
    return [q["sql"] for q in captured.captured_queries]


def check_database(run: Run) -> list[str]:
    """Every successful allocation left 3 fully allocated reservations, and the counters
    still equal the ledger and the allocations (inventory.services.reconcile)."""
    from django.db.models import F, Sum

    from inventory.models import Reservation, StockLevel
    from inventory.services.reconcile import stock_reconcile

    problems = []
    report = stock_reconcile()
    if not report.ok:
        problems.append(f"{len(report.drifts)} drift(s), first: {report.drifts[0]}")
    expected = run.allocated_orders * len(LINES)
    reservations = Reservation.objects.count()
    if reservations != expected:
        problems.append(f"{reservations} reservations, expected {expected}")
    if Reservation.objects.filter(quantity_allocated__lt=F("quantity")).exists():
        problems.append("some reservations are not fully allocated")
    units = StockLevel.objects.aggregate(total=Sum("allocated"))["total"] or 0
    expected_units = run.allocated_orders * sum(u for _, u in LINES)
    if units != expected_units:
        problems.append(f"{units} units allocated, expected {expected_units}")
    return problems


# --- main -----------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    dsn: str
    db_name: str
    products: list[tuple[int, str, int]]
    run_id: str = ""
    allocated_orders: int = 0

    def __post_init__(self) -> None:
        self.run_id = secrets.token_hex(3)
        self._next = itertools.count(1)
        self._lock = threading.Lock()

    def next_index(self, count: int) -> int:
        """Reserves ``count`` consecutive order indexes; returns the first."""
        with self._lock:
            first = next(self._next)
            for _ in range(count - 1):
                next(self._next)
            return first

    def order_number(self, index: int) -> str:
        return f"B{self.run_id}-{index}"

    def line_id(self, index: int, position: int) -> int:
        return index * 10 + position

    def measure(self, phase: str, threads: int, make_worker: Callable[[], Worker]) -> Result:
        print(f"  running {phase}, {threads} thread(s)...", flush=True)
        workers = [make_worker() for _ in range(threads)]
        try:
            warm_latencies, warm_errors, _ = drive(workers, self.args.warmup, self.next_index(self.args.warmup))
            if warm_errors:
                print(f"  warm-up errors ({phase}, {threads} threads): {dict(warm_errors)}")
            cpu_before, db_before, machine_before = own_cpu(), backend_ticks(self.db_name), machine_ticks()
            latencies, errors, wall = drive(workers, self.args.orders, self.next_index(self.args.orders))
            cpu_bench = own_cpu() - cpu_before
            db_after, machine_after = backend_ticks(self.db_name), machine_ticks()
        finally:
            for worker in workers:
                worker.close()
        cpu_db = cpu_other = busy = None
        if db_before is not None and db_after is not None:
            cpu_db = sum(t - db_before.get(pid, 0) for pid, t in db_after.items()) / CLOCK_TICKS
        if machine_before and machine_after and machine_after[1] > machine_before[1]:
            busy_ticks = machine_after[0] - machine_before[0]
            busy = busy_ticks / (machine_after[1] - machine_before[1])
            cpu_other = max(0.0, busy_ticks / CLOCK_TICKS - cpu_bench - (cpu_db or 0.0))
        self.allocated_orders += len(warm_latencies) + len(latencies)
        return Result(phase, threads, latencies, errors, wall, cpu_bench, cpu_db, cpu_other, busy)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders measured per level and phase (default 1000)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured orders before each level (default 50)")
    parser.add_argument("--threads", default="1,4", help="concurrency levels, comma-separated (default 1,4)")
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_ALLOC_DB_NAME"),
        help="benchmark database, dropped and re-created (default from BENCH_DATABASE_URL: oms_bench_alloc)",
    )
    parser.add_argument("--verbose", action="store_true", help="list the SQL statements of one allocation")
    args = parser.parse_args(argv)
    args.levels = [int(v) for v in args.threads.split(",") if v.strip()]
    if args.orders < 1 or args.warmup < 0 or not args.levels or min(args.levels) < 1:
        parser.error("--orders and --threads must be positive, --warmup not negative")
    return args


def statement_shape(statement: str) -> str:
    shape = re.sub(r"\s+", " ", statement).strip()
    return shape if len(shape) <= 140 else shape[:137] + "..."


def print_results(results: list[Result]) -> None:
    print()
    print(
        f"{'phase':<24} {'threads':>7} {'orders':>6} {'errors':>6} {'orders/s':>9} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'CPU busy':>8}   CPU ms/order: bench     db  other"
    )
    for r in results:
        busy = "n/a" if r.busy is None else f"{r.busy * 100:.0f}%"
        print(
            f"{r.phase:<24} {r.threads:>7} {r.ok:>6} {sum(r.errors.values()):>6} {r.rate:>9.1f}"
            f" {r.percentile_ms(0.5):>7.2f} {r.percentile_ms(0.95):>7.2f} {busy:>8}"
            f"   {'':>13}{r.cpu_ms(r.cpu_bench):>6} {r.cpu_ms(r.cpu_db):>6} {r.cpu_ms(r.cpu_other):>6}"
        )
    for r in results:
        for error, count in r.errors.most_common(5):
            print(f"  ! {r.phase}, {r.threads} threads: {count} x {error}")
    by_key = {(r.phase, r.threads): r for r in results}
    print()
    print("Service compared with raw SQL (same writes, same concurrency):")
    for (phase, threads), service in sorted(by_key.items()):
        raw = by_key.get(("raw SQL", threads))
        if phase != "service (in process)" or raw is None or not raw.rate or not service.rate:
            continue
        print(
            f"  {threads} thread(s): service {service.rate:.1f} orders/s vs raw {raw.rate:.1f} orders/s"
            f" -> service/raw = {service.rate / raw.rate:.3f};"
            f" p50 {service.percentile_ms(0.5):.2f} ms vs {raw.percentile_ms(0.5):.2f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url, db_name = droppable_database(DEFAULT_DATABASE_URL, args.db_name, DEFAULT_DB_NAME)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32)),
    }
    env.pop("DJANGO_DEBUG", None)

    print_machine_facts("Allocation benchmark")
    print(f"  PostgreSQL  : {recreate_database(url, db_name)}, database {db_name} (dropped and re-created)")
    print(
        f"  workload    : {args.orders} orders per level after {args.warmup} warm-up, threads {args.levels}; "
        f"3 lines ({' + '.join(str(u) for _, u in LINES)} units) on the same 3 SKUs, 2 bins each"
    )
    migrate(env)
    setup_django(env)
    products = seed_stock()
    run = Run(args=args, dsn=dsn_for(url), db_name=db_name, products=products)

    statements = service_statements(run)
    run.allocated_orders += 1
    from django.db import connection

    connection.close()

    # Each level: the service, then raw SQL right after it, so a machine whose speed drifts
    # affects both sides of a ratio alike.
    results = []
    for threads in args.levels:
        results.append(run.measure("service (in process)", threads, lambda: ServiceWorker(run)))
        results.append(run.measure("raw SQL", threads, lambda: RawWorker(run)))

    print()
    print(
        f"SQL of one allocation: the service sends {len(statements)} statements seen by Django "
        "(BEGIN and COMMIT of the caller's transaction included)" + ("" if args.verbose else "; --verbose lists them")
    )
    if args.verbose:
        for statement in statements:
            print(f"  - {statement_shape(statement)}")
    print(f"raw SQL sends {sum(n for n, _ in RAW_STEPS)}:")
    for n, step in RAW_STEPS:
        print(f"  - {step}" + (f" ({n})" if n > 1 else ""))
    print_results(results)
    print()
    print("CPU ms per order: bench = this process (Django and the ORM, or psycopg2 and the raw driver);")
    print("db = PostgreSQL backends of the benchmark database; other = the rest of the machine's busy time")
    print("(anything else running: a large figure means the phase shared the cores). CPU busy = share of all")
    print(f"{os.cpu_count()} cores busy during the measured window.")
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    problems = check_database(run)
    if problems:
        print("Database check FAILED: " + "; ".join(problems))
    else:
        print(
            f"Database check: {run.allocated_orders} orders, every reservation fully allocated, "
            "counters equal the ledger and the allocations (stock_reconcile)."
        )
    connection.close()
    return 0 if not problems and not any(r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
