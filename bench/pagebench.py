"""Measuring pages in process against a big seeded database, shared by ``dashboard.py`` and
``reads.py``: the database made by ``manage.py seed_demo --orders N`` (kept and reused when
it holds N orders), the production-like environment, each page requested with Django's test
``Client`` while its queries are counted and timed, one child process per database, and the
table that compares a big database with a small one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from benchlib import (  # bench/ is the script's own folder, first on sys.path
    ROOT,
    busy_share,
    database_url,
    dsn_for,
    machine_ticks,
    migrate,
    percentile_ms,
    print_machine_facts,
    production_env,
    setup_django,
)
from psycopg2 import sql

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
    """Orders in the database at ``url``, or None when it has no order table."""
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
    """``manage.py`` with ``env`` (the benchmark database), in a subprocess."""
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


def print_machine(title: str, url: str) -> float | None:
    """Prints the header every run starts with (machine, Python yardstick, how busy the cores
    are, code version, PostgreSQL settings); returns the busy share of the cores."""
    busy = print_machine_facts(title)
    print(f"  PostgreSQL  : {server_facts(url)}")
    return busy


# --- measuring pages, in a child process per database (Django is set up once per process) ----


@dataclass
class Page:
    key: str  # stable name, the same on every database
    label: str
    url: str
    status: int = 200
    target_ms: float = 0.0  # p95 target; 0: the script's one target


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
    target_ms: float = 0.0
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

    @property
    def verdict(self) -> str:
        if not self.ok:
            return "ERROR " + ",".join(str(s) for s in sorted(set(self.statuses)))
        return "PASS" if self.p95 < self.target_ms else "OVER"


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


@contextmanager
def metered() -> Iterator[QueryMeter]:
    from django.db import connection

    meter = QueryMeter()
    with connection.execute_wrapper(meter):
        yield meter


def get_page(client: Any, url: str) -> Any:
    """``client.get(url)``, reading a streamed body to the end."""
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def explain(sql_text: str, params: Any) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of a SELECT; empty for any other statement."""
    from django.db import connection

    if not sql_text.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql_text, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_page(client: Any, page: Page, *, runs: int, warmup: int, target_ms: float, explain_over: bool) -> Figures:
    """``warmup`` unmeasured then ``runs`` measured GETs of ``page``: server time, statuses,
    queries and their time; the plan of the slowest statement when ``explain_over`` and the
    p95 reaches the page's target (``target_ms`` when the page has none)."""
    statuses, times, queries, sql_seconds = [], [], [], []
    slowest: tuple[float, str, Any] = (0.0, "", None)
    cold = 0.0
    for n in range(warmup + runs):
        with metered() as meter:
            began = time.perf_counter()
            response = get_page(client, page.url)
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
        times=times, queries=queries, sql_seconds=sql_seconds, target_ms=page.target_ms or target_ms,
        slowest_sql=slowest[1], slowest_params=[str(p) for p in slowest[2] or []], slowest_ms=slowest[0] * 1000,
    )  # fmt: skip
    if explain_over and figures.p95 >= figures.target_ms and slowest[1]:
        figures.plan = explain(slowest[1], slowest[2])
    return figures


def run_child(script: str, url: str, env: dict[str, str], args: Sequence[str]) -> dict[str, Any]:
    """Runs ``script --child-output FILE *args`` on the database at ``url`` and returns the
    JSON it wrote there."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    try:
        child = subprocess.run(
            [sys.executable, script, "--child-output", str(path), *args],
            cwd=ROOT, env={**env, "DATABASE_URL": url}, capture_output=True, text=True,
        )  # fmt: skip
        if child.returncode != 0:
            raise SystemExit(f"Measuring {url} failed:\n{child.stdout[-3000:]}\n{child.stderr[-5000:]}")
        result: dict[str, Any] = json.loads(path.read_text())
        return result
    finally:
        path.unlink(missing_ok=True)


# --- printing --------------------------------------------------------------------------------


def figures_of(data: dict[str, Any]) -> dict[str, Figures]:
    return {p["key"]: Figures(**p) for p in data["pages"]}


def print_table(
    pages: dict[str, Figures], base: dict[str, Figures], *, verdict_title: str, show_target: bool = False
) -> list[str]:
    """Prints one row per page (with its p95 target when ``show_target``, and the small
    database's p50 and queries when ``base`` has them) and returns the problems found:
    unexpected statuses, differing query counts."""
    problems: list[str] = []
    target = " p95 target ms |" if show_target else ""
    header = (
        f"| page | status | cold ms | p50 ms | p95 ms | max ms | queries | SQL ms (p50) | SQL share |{target}"
        f" {verdict_title} |"
    )
    rule = "|---|---|---|---|---|---|---|---|---|" + ("---|" if show_target else "") + "---|"
    if base:
        header += " small DB p50 ms | small DB queries | same queries |"
        rule += "---|---|---|"
    print(header)
    print(rule)
    for key, f in pages.items():
        share = f"{f.sql_ms / f.p50 * 100:.0f} %" if f.p50 else "n/a"
        if not f.ok:
            problems.append(f"{f.label}: answered {sorted(set(f.statuses))}, expected {f.status}")
        row = (
            f"| {f.label} | {f.status} | {f.cold_ms:.0f} | {f.p50:.1f} | {f.p95:.1f} | {f.max_ms:.1f} | {f.query_count}"
            f" | {f.sql_ms:.1f} | {share} |{f' {f.target_ms:.0f} |' if show_target else ''} {f.verdict} |"
        )
        if base:
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
    return problems


def print_plans(pages: dict[str, Figures], *, verbose: bool) -> None:
    """The slowest statement of every page (``verbose``) or of those with a plan."""
    for f in pages.values():
        if verbose or f.plan:
            print(
                f"\n--- {f.label}: slowest statement {f.slowest_ms:.1f} ms\n{f.slowest_sql}"
                f"\n    params {f.slowest_params}"
            )
            if f.plan:
                print(f.plan)


def print_check(pages: dict[str, Figures], problems: list[str], *, small: bool) -> None:
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


# --- a whole run: the databases, then one child per database -----------------------------------


@dataclass
class Run:
    big: dict[str, Any]
    small: dict[str, Any] | None
    busy: float | None  # share of the cores busy when the run started
    busy_during: float | None  # share of the cores busy while the big database was measured


def run_on_databases(
    *,
    title: str,
    script: str,
    args: Any,
    child_args: Sequence[str],
    defaults: tuple[str, str, str, str],
    workload: str,
) -> Run:
    """Prints the header, prepares the big database (``args.db_name``, ``args.orders``,
    ``args.reuse``) and the small one (``args.baseline_db_name``, ``args.baseline_orders``;
    0 skips it), collects static files, and runs ``script`` as a child on each. ``defaults``:
    the big and small database names, the server URL and the Redis URL used when the
    environment (``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``) does not name them."""
    db_default, small_default, url_default, redis_default = defaults
    base_url = os.environ.get("BENCH_DATABASE_URL", url_default)
    url, db_name = database_url(base_url, args.db_name, db_default)
    with tempfile.TemporaryDirectory(prefix="oms-bench-static-") as static_root:
        env = production_env(
            url=url, redis_url=os.environ.get("BENCH_REDIS_URL", redis_default), static_root=static_root
        )
        busy = print_machine(title, url)
        how = prepare_database(url=url, name=db_name, orders=args.orders, reuse=args.reuse, env=env)
        print(f"  database    : {db_name} ({database_size(url)}): {how}")
        small_url = ""
        if args.baseline_orders:
            small_url, small_name = database_url(base_url, args.baseline_db_name, small_default)
            if small_name == db_name:
                raise SystemExit("--baseline-db-name must differ from --db-name.")
            small_how = prepare_database(
                url=small_url, name=small_name, orders=args.baseline_orders, reuse=False,
                env={**env, "DATABASE_URL": small_url},
            )  # fmt: skip
            print(f"  baseline DB : {small_name} ({database_size(small_url)}): {small_how}")
        print(f"  workload    : {workload}")
        collect_static(env)
        before = machine_ticks()
        big = run_child(script, url, env, child_args)
        busy_during = busy_share(before, machine_ticks())
        if busy_during is not None:
            print(f"  during run  : {busy_during * 100:.0f}% of the cores busy while the big database was measured")
        print(f"  JIT         : {big['jit']} on the application's connections")
        small = run_child(script, small_url, env, child_args) if small_url else None
    return Run(big=big, small=small, busy=busy, busy_during=busy_during)


def add_database_args(parser: Any, *, db_name: str, small_db_name: str) -> None:
    """The options every seeded-database benchmark takes: the big database, --reuse, the small
    baseline."""
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in the big database (default 1,000,000)")
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_DB_NAME", db_name),
        help=f"the big database (default {db_name}); kept when it holds --orders orders, else dropped and "
        "seeded, and only if its name contains 'bench'",
    )
    parser.add_argument("--reuse", action="store_true", help="use --db-name as it is: never drop, migrate or seed it")
    parser.add_argument(
        "--baseline-orders",
        type=int,
        default=10_000,
        help="orders in the small baseline database (default 10,000; 0 skips it)",
    )
    parser.add_argument("--baseline-db-name", default=small_db_name, help=f"(default {small_db_name})")


def jit_setting() -> str:
    """``SHOW jit`` on the application's connection (Django set up)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        return str(cursor.fetchone()[0])


def parse_page_args(
    description: str,
    argv: list[str] | None,
    *,
    db_name: str,
    small_db_name: str,
    runs: int,
    warmup: int,
    explain_help: str,
) -> Any:
    """The command line of a page benchmark: the databases, runs and warm-up per page,
    --explain, --verbose, and the hidden --child-output its measuring child is started with."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    add_database_args(parser, db_name=db_name, small_db_name=small_db_name)
    parser.add_argument("--runs", type=int, default=runs, help=f"measured requests per page (default {runs})")
    parser.add_argument(
        "--warmup", type=int, default=warmup, help=f"unmeasured requests per page first (default {warmup})"
    )
    parser.add_argument("--explain", action="store_true", help=explain_help)
    parser.add_argument("--verbose", action="store_true", help="print the slowest statement of every page")
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.orders < 1 or args.baseline_orders < 0:
        parser.error("--runs and --orders must be positive, --warmup and --baseline-orders not negative")
    return args


def measure_in_child(args: Any, measure: Callable[..., Any]) -> None:
    """The child's part: set Django up on the environment it was given, measure, and write
    the result where the parent reads it."""
    setup_django(dict(os.environ))
    result = measure(runs=args.runs, warmup=args.warmup, explain=args.explain)
    Path(args.child_output).write_text(json.dumps(result, default=str))
