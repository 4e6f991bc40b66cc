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
import sys
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from benchlib import python_speed_ms  # bench/ is the script's own folder, first on sys.path
from pagebench import (
    Page,
    figures_of,
    jit_setting,
    measure_in_child,
    measure_page,
    metered,
    parse_page_args,
    print_check,
    print_plans,
    print_table,
    run_on_databases,
)

DEFAULT_DB_NAME = "oms_bench_dashboard"
DEFAULT_SMALL_DB_NAME = "oms_bench_dashboard_small"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_MS = 300.0
BENCH_USER = "bench-manager"


# --- measuring, in a child process per database (Django is set up once per process) --------


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


def measure_pages(*, runs: int, warmup: int, explain: bool) -> dict[str, Any]:
    from django.test import Client

    from dashboard.services.incidents import incidents_sync

    jit = jit_setting()
    syncs = []
    for _ in range(2):  # the first may open many incidents; the second is the minute-by-minute cost
        with metered() as meter:
            began = time.perf_counter()
            opened = incidents_sync()
            syncs.append({"ms": (time.perf_counter() - began) * 1000, "opened": opened, "queries": meter.count,
                          "sql_ms": meter.seconds * 1000})  # fmt: skip
    from dashboard.services.kpi_rollup import kpi_refresh

    rollups = []
    # The first rebuilds every day (as after a first start or kpi_rebuild); the second is what
    # the beat does every minute: the days whose orders changed in the last minutes, and today.
    for rebuild_all in (True, False):
        with metered() as meter:
            began = time.perf_counter()
            refreshed = kpi_refresh(rebuild_all=rebuild_all)
            rollups.append({"ms": (time.perf_counter() - began) * 1000, "all": rebuild_all,
                            "days": refreshed.days, "rows": refreshed.rows, "queries": meter.count,
                            "sql_ms": meter.seconds * 1000})  # fmt: skip
    pages, sizes, picked = _pages()
    client = Client()
    client.force_login(_bench_user())
    results = [
        asdict(measure_page(client, page, runs=runs, warmup=warmup, target_ms=TARGET_MS, explain_over=explain))
        for page in pages
    ]
    return {"jit": jit, "syncs": syncs, "rollups": rollups, "sizes": sizes, "picked": picked, "pages": results}


def _child_args(args: argparse.Namespace) -> list[str]:
    return ["--runs", str(args.runs), "--warmup", str(args.warmup), *(["--explain"] if args.explain else [])]


# --- printing --------------------------------------------------------------------------------


def print_results(big: dict[str, Any], small: dict[str, Any] | None, *, verbose: bool) -> list[str]:
    """Prints the table and returns the problems found (errors, differing query counts)."""
    pages = figures_of(big)
    base = figures_of(small) if small else {}
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
    problems = print_table(pages, base, verdict_title=f"vs {TARGET_MS:.0f} ms")
    print()
    print(
        f"server time = the Client.get call in process (middleware, view, template, streamed body); p50/p95/max over"
        f" the measured requests, cold = the first request of the page; verdict on p95 against {TARGET_MS:.0f} ms;"
        " SQL ms = time inside cursor.execute (rows' transfer included)."
    )
    print_plans(pages, verbose=verbose)
    return problems


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return parse_page_args(
        __doc__.split("\n\n")[0],
        argv,
        db_name=DEFAULT_DB_NAME,
        small_db_name=DEFAULT_SMALL_DB_NAME,
        runs=20,
        warmup=3,
        explain_help="EXPLAIN ANALYZE the slowest statement of pages over 300 ms",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output:
        measure_in_child(args, measure_pages)
        return 0
    run = run_on_databases(
        title="Dashboard benchmark",
        script=__file__,
        args=args,
        child_args=_child_args(args),
        defaults=(DEFAULT_DB_NAME, DEFAULT_SMALL_DB_NAME, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL),
        workload=f"each page {args.warmup} warm-up + {args.runs} measured GETs through Django's test Client"
        f" as {BENCH_USER} (manager role), production settings (DEBUG off, Redis cache, collected static files)",
    )
    big, small = run.big, run.small
    problems = print_results(big, small, verbose=args.verbose)
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    pages = figures_of(big)
    over = [f.label for f in pages.values() if f.p95 >= TARGET_MS]
    print_check(pages, problems, small=small is not None)
    print(f"Pages over {TARGET_MS:.0f} ms at p95: {', '.join(over) if over else 'none'}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
