"""Staff dashboard benchmark: server time and queries of every queue page, the search, an order
page, the exception inbox and the KPI page with a million orders in PostgreSQL.

The target (issue 7) is under 300 ms of server time per page and a number of queries that does
not grow with the orders. Each page is requested in this process with Django's test ``Client``
as a signed-in manager, against production settings (``DJANGO_DEBUG`` unset, PostgreSQL,
Redis cache, static files collected into a temporary folder as ``collectstatic`` does for the
server): ``--warmup`` unmeasured requests, then ``--runs`` measured ones. Server time is the
``Client.get`` call (middleware, view, template, reading a streamed body); the queries are
counted and timed with ``connection.execute_wrapper`` (SQL ms = time inside
``cursor.execute``, which includes the rows' transfer).

The big database is made by ``manage.py seed_demo --orders N`` (a year of history in bulk plus
a live shop's open work), or reused: a database whose name contains ``bench`` and that holds N
orders (within 1 %) is kept, any other bench database is dropped and seeded again, and
``--reuse`` uses the named database as it is and never drops it. The same pages on a small
database seeded the same way (``--baseline-orders``, 10,000 by default) are the second
baseline: their query counts must be the same as on the big one.

Run from the project root, with the PostgreSQL and Redis the tests use::

    .venv/bin/python bench/dashboard.py                               # seeds 1,000,000 orders once (~6 min)
    .venv/bin/python bench/dashboard.py --db-name h7_seed_big --reuse --baseline-orders 0

Figures and their reading: ``docs/performance.md`` ("Dashboard").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg2
from benchlib import (  # bench/ is the script's own folder, first on sys.path
    ROOT,
    code_version,
    cpu_model,
    database_url,
    dsn_for,
    machine_busy_share,
    migrate,
    percentile_ms,
    python_speed_ms,
    setup_django,
)
from psycopg2 import sql

DEFAULT_DB_NAME = "oms_bench_dashboard"
DEFAULT_SMALL_DB_NAME = "oms_bench_dashboard_small"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_MS = 300.0
BENCH_USER = "bench-manager"
SIZE_TOLERANCE = 0.01  # a kept database holds the asked number of orders within 1 %


# --- the databases ---------------------------------------------------------------------------


def _server(url: str) -> Any:
    conn = psycopg2.connect(dsn_for(url, "postgres"))
    conn.autocommit = True
    return conn


def database_exists(url: str, name: str) -> bool:
    conn = _server(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cur.fetchone() is not None
    finally:
        conn.close()


def order_count(url: str) -> int | None:
    """Orders in the database at ``url`` (an estimate from the planner's statistics when they
    are fresh, else a count), or None when it has no order table."""
    conn = psycopg2.connect(dsn_for(url))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('orders_order')")
            if cur.fetchone()[0] is None:
                return None
            cur.execute("SELECT count(*) FROM orders_order")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def server_facts(url: str) -> str:
    conn = psycopg2.connect(dsn_for(url, "postgres"))
    try:
        with conn.cursor() as cur:
            facts = []
            for setting in ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "random_page_cost"):
                cur.execute(sql.SQL("SHOW {}").format(sql.Identifier(setting)))
                facts.append(f"{setting}={cur.fetchone()[0]}")
            return ", ".join(facts)
    finally:
        conn.close()


def database_size(url: str) -> str:
    conn = psycopg2.connect(dsn_for(url))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            return str(cur.fetchone()[0])
    finally:
        conn.close()


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def prepare_database(*, url: str, name: str, orders: int, reuse: bool, env: dict[str, str]) -> str:
    """Makes ``name`` hold ``orders`` demo orders and returns a sentence saying how. Only a
    database whose name contains "bench" is ever dropped; ``reuse`` never drops or migrates."""
    exists = database_exists(url, name)
    if reuse:
        if not exists:
            raise SystemExit(f"--reuse: database {name!r} does not exist.")
        pending = _manage(env, "migrate", "--check", "--plan")
        if pending.returncode != 0:
            raise SystemExit(f"--reuse: database {name!r} has unapplied migrations:\n{pending.stdout}")
        count = order_count(url)
        return f"reused as it is (--reuse), {count or 0:,} orders"
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop or seed database {name!r}: its name must contain 'bench' (or use --reuse).")
    if exists:
        count = order_count(url)
        if count is not None and abs(count - orders) <= max(orders * SIZE_TOLERANCE, 1):
            migrate(env)
            return f"reused: it already holds {count:,} orders (asked {orders:,}, within 1 %)"
    conn = _server(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    migrate(env)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        seeded = _manage(
            env, "seed_demo", "--orders", str(orders), "--credentials-file", str(Path(folder) / "credentials.txt")
        )
    if seeded.returncode != 0:
        raise SystemExit(f"manage.py seed_demo failed:\n{seeded.stdout[-3000:]}\n{seeded.stderr[-3000:]}")
    return (
        f"dropped, re-created and seeded: seed_demo --orders {orders:,} took {time.monotonic() - began:.0f} s, "
        f"{order_count(url) or 0:,} orders"
    )


def collect_static(env: dict[str, str]) -> None:
    """The production storage (WhiteNoise's manifest) needs ``collectstatic`` first."""
    done = _manage(env, "collectstatic", "--noinput")
    if done.returncode != 0:
        raise SystemExit(f"manage.py collectstatic failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


# --- measuring, in a child process per database (Django is set up once per process) --------


@dataclass
class Page:
    key: str  # stable name, the same on every database
    label: str
    url: str
    status: int = 200


@dataclass
class Figures:
    key: str
    label: str
    url: str
    status: int
    statuses: list[int]
    cold_ms: float
    times: list[float]  # seconds, per measured request
    queries: list[int]
    sql_seconds: list[float]
    slowest_sql: str = ""
    slowest_params: list[Any] = field(default_factory=list)
    slowest_ms: float = 0.0
    plan: str = ""

    @property
    def p50(self) -> float:
        return percentile_ms(self.times, 0.5)

    @property
    def p95(self) -> float:
        return percentile_ms(self.times, 0.95)

    @property
    def max_ms(self) -> float:
        return max(self.times) * 1000 if self.times else float("nan")

    @property
    def sql_ms(self) -> float:
        return percentile_ms(self.sql_seconds, 0.5)

    @property
    def query_count(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"

    @property
    def ok(self) -> bool:
        return all(s == self.status for s in self.statuses)


class QueryMeter:
    """Counts and times the statements of the current thread's connection; keeps the slowest."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.slowest: tuple[float, str, Any] = (0.0, "", None)

    def __call__(self, execute: Callable[..., Any], sql_text: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            spent = time.perf_counter() - began
            self.count += 1
            self.seconds += spent
            if spent > self.slowest[0]:
                self.slowest = (spent, sql_text, params)


def _pages() -> tuple[list[Page], dict[str, int], dict[str, str]]:
    """The pages to measure, the rows in each queue (counted once, untimed) and what was
    picked from the data (the order, the search texts)."""
    from django.db.models import Exists, OuterRef
    from django.urls import reverse
    from django.utils import timezone

    from dashboard.selectors.home import shop_today
    from dashboard.selectors.queues import STAGES, QueueFilters, queue_orders
    from inventory.models import Warehouse
    from orders.enums import OrderStatus
    from orders.models import Order
    from shipping.models import Label, TrackingEvent

    today = shop_today(timezone.now())
    sizes = {
        slug: queue_orders(stage=stage, filters=QueueFilters(), today=today).count() for slug, stage in STAGES.items()
    }
    biggest = max(sizes, key=lambda slug: sizes[slug])
    shipped = (
        Order.objects.filter(status=OrderStatus.SHIPPED)
        .filter(Exists(TrackingEvent.objects.filter(label__shipment__order=OuterRef("pk"))))
        .order_by("-pk")
        .values_list("number", "customer_email")
        .first()
    ) or Order.objects.filter(status=OrderStatus.SHIPPED).order_by("-pk").values_list(
        "number", "customer_email"
    ).first()
    if shipped is None:
        raise SystemExit("The database holds no shipped order: seed it with seed_demo --orders N.")
    number, email = shipped
    email_prefix = email.split("@", 1)[0]
    tracking = (
        Label.objects.filter(shipment__order__number=number)
        .exclude(tracking_number="")
        .values_list("tracking_number", flat=True)
        .first()
        or ""
    )
    sku = "MUG-LOGO"
    end = timezone.localdate()
    year = f"start={(end - timedelta(days=364)).isoformat()}&end={end.isoformat()}"

    search = reverse("dashboard:search")
    warehouse = Warehouse.objects.order_by("pk").values_list("pk", flat=True).first()

    def queue(slug: str) -> str:
        return reverse("dashboard:queue", args=[slug])

    pages = [Page("home", "home", reverse("dashboard:home"))]
    pages += [Page(f"queue:{slug}", f"queue {slug}", queue(slug)) for slug in STAGES]
    pages += [
        Page("queue:biggest:p5", f"queue {biggest}, page 5", queue(biggest) + "?page=5"),
        Page(
            "queue:biggest:filter-sort",
            f"queue {biggest}, method + channel filter, total desc",
            queue(biggest) + "?shipping_method=standard&channel=web&sort=-total",
        ),
        Page(
            "queue:to_ship_today:warehouse",
            "queue to_ship_today, warehouse filter",
            queue("to_ship_today") + f"?warehouse={warehouse}",
        ),
        Page("search:number", "search: order number (opens it)", search + f"?q={number}", 302),
        Page("search:email", "search: email prefix", search + f"?q={email_prefix}"),
        Page("search:sku", f"search: SKU {sku}", search + f"?q={sku}"),
        *(
            [Page("search:tracking", "search: tracking number prefix", search + f"?q={tracking[:-4]}")]
            if tracking
            else []
        ),
        Page("order", "order page, shipped order", reverse("dashboard:order", args=[number])),
        Page("incidents", "exception inbox", reverse("dashboard:incidents")),
        Page("kpis", "KPIs, last 30 days", reverse("dashboard:kpis")),
        Page("kpis:warehouse", "KPIs, warehouse MAIN", reverse("dashboard:kpis") + "?warehouse=MAIN"),
        Page("kpis:carrier", "KPIs, carrier FLEET", reverse("dashboard:kpis") + "?carrier=FLEET"),
        Page("kpis:365", "KPIs, 365 days", reverse("dashboard:kpis") + f"?{year}"),
        Page("kpis:csv", "KPI CSV stage-times, 30 days", reverse("dashboard:kpis-csv", args=["stage-times"])),
    ]
    picked = {
        "order": number,
        "email prefix": email_prefix,
        "sku": sku,
        "tracking prefix": tracking[:-4],
        "biggest queue": biggest,
    }
    return pages, sizes, picked


def _bench_user() -> Any:
    """A manager (the role that sees every page measured here), created when missing."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from oms.common import roles

    user, created = get_user_model().objects.get_or_create(username=BENCH_USER, defaults={"is_staff": True})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=roles.MANAGER))
    return user


@contextmanager
def _metered() -> Iterator[QueryMeter]:
    from django.db import connection

    meter = QueryMeter()
    with connection.execute_wrapper(meter):
        yield meter


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def _explain(sql_text: str, params: Any) -> str:
    from django.db import connection

    if not sql_text.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql_text, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_pages(*, runs: int, warmup: int, explain: bool) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from dashboard.services.incidents import incidents_sync

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    syncs = []
    for _ in range(2):  # the first may open many incidents; the second is the minute-by-minute cost
        with _metered() as meter:
            began = time.perf_counter()
            opened = incidents_sync()
            syncs.append({"ms": (time.perf_counter() - began) * 1000, "opened": opened, "queries": meter.count,
                          "sql_ms": meter.seconds * 1000})  # fmt: skip
    from dashboard.services.kpi_rollup import kpi_refresh

    rollups = []
    # The first rebuilds every day (as after a first start or kpi_rebuild); the second is what
    # the beat does every minute: the days whose orders changed in the last minutes, and today.
    for rebuild_all in (True, False):
        with _metered() as meter:
            began = time.perf_counter()
            refreshed = kpi_refresh(rebuild_all=rebuild_all)
            rollups.append({"ms": (time.perf_counter() - began) * 1000, "all": rebuild_all,
                            "days": refreshed.days, "rows": refreshed.rows, "queries": meter.count,
                            "sql_ms": meter.seconds * 1000})  # fmt: skip
    pages, sizes, picked = _pages()
    client = Client()
    client.force_login(_bench_user())
    results = []
    for page in pages:
        statuses, times, queries, sql_seconds = [], [], [], []
        slowest: tuple[float, str, Any] = (0.0, "", None)
        cold = 0.0
        for n in range(warmup + runs):
            with _metered() as meter:
                began = time.perf_counter()
                response = _get(client, page.url)
                spent = time.perf_counter() - began
            if n == 0:
                cold = spent * 1000
            if n < warmup:
                continue
            statuses.append(response.status_code)
            times.append(spent)
            queries.append(meter.count)
            sql_seconds.append(meter.seconds)
            if meter.slowest[0] > slowest[0]:
                slowest = meter.slowest
        figures = Figures(
            key=page.key, label=page.label, url=page.url, status=page.status, statuses=statuses, cold_ms=cold,
            times=times, queries=queries, sql_seconds=sql_seconds, slowest_sql=slowest[1],
            slowest_params=[str(p) for p in slowest[2] or []], slowest_ms=slowest[0] * 1000,
        )  # fmt: skip
        if explain and figures.p95 >= TARGET_MS and slowest[1]:
            figures.plan = _explain(slowest[1], slowest[2])
        results.append(asdict(figures))
    return {"jit": jit, "syncs": syncs, "rollups": rollups, "sizes": sizes, "picked": picked, "pages": results}


def run_child(url: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--child-output", str(path), "--runs", str(args.runs), "--warmup",
             str(args.warmup), *(["--explain"] if args.explain else [])],
            cwd=ROOT, env={**env, "DATABASE_URL": url}, capture_output=True, text=True,
        )  # fmt: skip
        if child.returncode != 0:
            raise SystemExit(f"Measuring {url} failed:\n{child.stdout[-3000:]}\n{child.stderr[-5000:]}")
        result: dict[str, Any] = json.loads(path.read_text())
        return result
    finally:
        path.unlink(missing_ok=True)


# --- printing --------------------------------------------------------------------------------


def _figures(data: dict[str, Any]) -> dict[str, Figures]:
    return {p["key"]: Figures(**p) for p in data["pages"]}


def print_results(big: dict[str, Any], small: dict[str, Any] | None, *, verbose: bool) -> list[str]:
    """Prints the table and returns the problems found (errors, differing query counts)."""
    problems: list[str] = []
    pages = _figures(big)
    base = _figures(small) if small else {}
    print()
    for name, data in (("big", big), ("small", small)):
        if data:
            print(f"Queue sizes, {name} database: " + ", ".join(f"{k} {v:,}" for k, v in data["sizes"].items()))
    print("Picked from the data: " + ", ".join(f"{k} {v}" for k, v in big["picked"].items()))
    for n, sync in enumerate(big["syncs"], 1):
        print(
            f"incidents_sync run {n}: {sync['ms']:.0f} ms, opened {sync['opened']}, {sync['queries']} queries,"
            f" {sync['sql_ms']:.0f} ms in SQL (beat runs it every minute)"
        )
    for rollup in big["rollups"]:
        print(
            f"kpi_refresh ({'every day' if rollup['all'] else 'changed days'}): {rollup['ms'] / 1000:.1f} s,"
            f" {rollup['days']} days, {rollup['rows']} rows, {rollup['queries']} queries,"
            f" {rollup['sql_ms'] / 1000:.1f} s in SQL" + ("" if rollup["all"] else " (beat runs it every minute)")
        )
    print()
    header = "| page | status | cold ms | p50 ms | p95 ms | max ms | queries | SQL ms (p50) | SQL share | vs 300 ms |"
    rule = "|---|---|---|---|---|---|---|---|---|---|"
    if small:
        header += " small DB p50 ms | small DB queries | same queries |"
        rule += "---|---|---|"
    print(header)
    print(rule)
    for key, f in pages.items():
        share = f"{f.sql_ms / f.p50 * 100:.0f} %" if f.p50 else "n/a"
        verdict = "PASS" if f.p95 < TARGET_MS else "OVER"
        if not f.ok:
            verdict = "ERROR " + ",".join(str(s) for s in sorted(set(f.statuses)))
            problems.append(f"{f.label}: answered {sorted(set(f.statuses))}, expected {f.status}")
        row = (
            f"| {f.label} | {f.status} | {f.cold_ms:.0f} | {f.p50:.1f} | {f.p95:.1f} | {f.max_ms:.1f} | {f.query_count}"
            f" | {f.sql_ms:.1f} | {share} | {verdict} |"
        )
        if small:
            b = base.get(key)
            if b is None:
                row += " n/a | n/a | n/a |"
            else:
                same = b.query_count == f.query_count
                row += f" {b.p50:.1f} | {b.query_count} | {'yes' if same else 'NO'} |"
                if not same:
                    problems.append(
                        f"{f.label}: {b.query_count} queries on the small database, {f.query_count} on the big"
                    )
        print(row)
    print()
    print(
        f"server time = the Client.get call in process (middleware, view, template, streamed body); p50/p95/max over"
        f" the measured requests, cold = the first request of the page; verdict on p95 against {TARGET_MS:.0f} ms;"
        " SQL ms = time inside cursor.execute (rows' transfer included)."
    )
    if verbose or any(f.plan for f in pages.values()):
        for f in pages.values():
            if verbose or f.plan:
                print(
                    f"\n--- {f.label}: slowest statement {f.slowest_ms:.1f} ms\n{f.slowest_sql}"
                    f"\n    params {f.slowest_params}"
                )
                if f.plan:
                    print(f.plan)
    return problems


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the big database (default 1,000,000)")
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_DB_NAME", DEFAULT_DB_NAME),
        help=f"the big database (default {DEFAULT_DB_NAME}); kept when it holds --orders orders, else dropped and "
        "seeded, and only if its name contains 'bench'",
    )
    parser.add_argument("--reuse", action="store_true", help="use --db-name as it is: never drop, migrate or seed it")
    parser.add_argument(
        "--baseline-orders",
        type=int,
        default=10_000,
        help="orders in the small baseline database (default 10,000; 0 skips it)",
    )
    parser.add_argument("--baseline-db-name", default=DEFAULT_SMALL_DB_NAME, help=f"(default {DEFAULT_SMALL_DB_NAME})")
    parser.add_argument("--runs", type=int, default=20, help="measured requests per page (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page first (default 3)")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest statement of pages over 300 ms"
    )
    parser.add_argument("--verbose", action="store_true", help="print the slowest statement of every page")
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.orders < 1 or args.baseline_orders < 0:
        parser.error("--runs and --orders must be positive, --warmup and --baseline-orders not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output:
        setup_django(dict(os.environ))
        result = measure_pages(runs=args.runs, warmup=args.warmup, explain=args.explain)
        Path(args.child_output).write_text(json.dumps(result, default=str))
        return 0
    base_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    url, db_name = database_url(base_url, args.db_name, DEFAULT_DB_NAME)
    with tempfile.TemporaryDirectory(prefix="oms-bench-static-") as static_root:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
            "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32)),
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "OMS_STATIC_ROOT": static_root,
        }
        env.pop("DJANGO_DEBUG", None)
        print("Dashboard benchmark")
        print(f"  machine     : {os.cpu_count()} cores ({cpu_model()}), {platform.system()} {platform.release()}")
        print(f"  Python      : {platform.python_version()}, sum(range(10**6)) takes {python_speed_ms():.1f} ms")
        busy = machine_busy_share()
        if busy is not None:
            print(f"  before run  : {busy * 100:.0f}% of the cores busy (1-second sample)")
            if busy > 0.1:
                print("  ! the machine is not idle: other work competes for the cores")
        print(f"  code        : {code_version()}")
        print(f"  PostgreSQL  : {server_facts(url)}")
        how = prepare_database(url=url, name=db_name, orders=args.orders, reuse=args.reuse, env=env)
        print(f"  database    : {db_name} ({database_size(url)}): {how}")
        small_url = ""
        if args.baseline_orders:
            small_url, small_name = database_url(base_url, args.baseline_db_name, DEFAULT_SMALL_DB_NAME)
            if small_name == db_name:
                raise SystemExit("--baseline-db-name must differ from --db-name.")
            small_how = prepare_database(
                url=small_url, name=small_name, orders=args.baseline_orders, reuse=False,
                env={**env, "DATABASE_URL": small_url},
            )  # fmt: skip
            print(f"  baseline DB : {small_name} ({database_size(small_url)}): {small_how}")
        print(
            f"  workload    : each page {args.warmup} warm-up + {args.runs} measured GETs through Django's test Client"
            f" as {BENCH_USER} (manager role), production settings (DEBUG off, Redis cache, collected static files)"
        )
        collect_static(env)
        big = run_child(url, env, args)
        print(f"  JIT         : {big['jit']} on the application's connections")
        small = run_child(small_url, env, args) if small_url else None
    problems = print_results(big, small, verbose=args.verbose)
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    pages = _figures(big)
    over = [f.label for f in pages.values() if f.p95 >= TARGET_MS]
    counts = ", ".join(f"{f.key} {f.query_count}" for f in pages.values())
    if small:
        print(
            "Check: query counts "
            + ("identical on both databases for every page" if not problems else "DIFFER or pages failed")
            + f" ({counts})."
        )
    else:
        print(f"Check: no small database (--baseline-orders 0); query counts on the big one: {counts}.")
    for problem in problems:
        print(f"  ! {problem}")
    print(f"Pages over {TARGET_MS:.0f} ms at p95: {', '.join(over) if over else 'none'}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
