"""Reads benchmark: the orders API's list and detail and the customer's order-status page with a
million orders in PostgreSQL.

The targets at a million orders are a p95 of server time under 100 ms for the order list
(its default first page, common filters, a deep page), under 50 ms for an order's detail and
under 50 ms for the status page a customer opens from an email, and a number of queries that
does not grow with the orders. Each page is requested in this process with Django's test ``Client`` against
production settings (``DJANGO_DEBUG`` unset, PostgreSQL, Redis cache, static files collected):
the API as an API client with the integrator role (``Authorization: Bearer <key>``), the status
page anonymously through its signed link; ``--warmup`` unmeasured requests, then ``--runs``
measured ones. Server time is the ``Client.get`` call (authentication, middleware, view,
serializer or template); the queries are counted and timed with ``connection.execute_wrapper``.

The databases are those of ``bench/dashboard.py`` (made by ``manage.py seed_demo --orders N``,
kept while they hold N orders, ``--reuse`` to use one as it is): a run of either benchmark
seeds them for both. The same pages on the small database (``--baseline-orders``, 10,000 by
default) must make the same number of queries as on the big one.

Run from the project root, with the PostgreSQL and Redis the tests use::

    .venv/bin/python bench/reads.py                               # seeds 1,000,000 orders once (~6 min)
    .venv/bin/python bench/reads.py --reuse --baseline-orders 0 --explain

Figures and their reading: ``docs/performance.md`` ("Reads at a million orders").
"""

from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import asdict
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from benchlib import python_speed_ms  # bench/ is the script's own folder, first on sys.path
from pagebench import (
    Page,
    figures_of,
    jit_setting,
    measure_in_child,
    measure_page,
    parse_page_args,
    print_check,
    print_plans,
    print_table,
    run_on_databases,
)

DEFAULT_DB_NAME = "oms_bench_dashboard"  # the same databases as bench/dashboard.py: seeded once for both
DEFAULT_SMALL_DB_NAME = "oms_bench_dashboard_small"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
LIST_TARGET_MS = 100.0
DETAIL_TARGET_MS = 50.0
STATUS_PAGE_TARGET_MS = 50.0
DEEP_PAGE = 50  # the list page reached by following `next` from the first
BENCH_CLIENT = "bench-reads"  # the API client the requests authenticate as
ORDERS = "/api/v1/orders/"


# --- measuring, in a child process per database (Django is set up once per process) --------


def _api_key() -> str:
    """A fresh key for the ``bench-reads`` API client (integrator role), created when
    missing. Only a key's hash is stored, so a kept client gets a new key for this run."""
    from oms.common import roles
    from oms.common.models import ApiClient
    from oms.common.services import KEY_PREFIX_TAG, api_client_create, hash_api_key

    client = ApiClient.objects.filter(name=BENCH_CLIENT).first()
    if client is None:
        return api_client_create(name=BENCH_CLIENT, roles=[roles.INTEGRATOR]).raw_key
    raw_key = f"{KEY_PREFIX_TAG}_{client.key_prefix}_{secrets.token_urlsafe(32)}"
    ApiClient.objects.filter(pk=client.pk).update(key_hash=hash_api_key(raw_key), revoked_at=None)
    return raw_key


def _newest(status: str, *, with_scans: bool = False) -> Any:
    """The newest order in ``status`` (one with tracking scans when ``with_scans`` and there
    is one); SystemExit when the database has none."""
    from django.db.models import Exists, OuterRef

    from orders.models import Order
    from shipping.models import TrackingEvent

    orders = Order.objects.filter(status=status).order_by("-pk")
    order = None
    if with_scans:
        order = orders.filter(Exists(TrackingEvent.objects.filter(label__shipment__order=OuterRef("pk")))).first()
    order = order or orders.first()
    if order is None:
        raise SystemExit(f"The database holds no {status} order: seed it with seed_demo --orders N.")
    return order


def _deep_page_url(client: Any, first_url: str, page: int) -> str:
    """The address of list page ``page``, reached by following ``next`` (untimed)."""
    url = first_url
    for _ in range(page - 1):
        response = client.get(url)
        if response.status_code != 200 or not response.json().get("next"):
            raise SystemExit(f"The order list has fewer than {page} pages (stopped at {url}).")
        parts = urlsplit(response.json()["next"])
        url = f"{parts.path}?{parts.query}"
    return url


def _list_pages(client: Any) -> tuple[list[Page], dict[str, int], dict[str, str]]:
    """The list variants, how many orders each filter matches (counted once, untimed) and
    what was picked from the data."""
    from django.http import QueryDict
    from django.utils import timezone

    from orders.apis import OrderFilter
    from orders.enums import OrderStatus
    from orders.models import Order

    now = timezone.now()
    month_ago = (now - timedelta(days=30)).replace(microsecond=0).isoformat()
    day_ago = (now - timedelta(days=1)).replace(microsecond=0).isoformat()
    referenced = Order.objects.exclude(external_reference="").order_by("-pk").first()
    if referenced is None:
        raise SystemExit("The database holds no order with an external reference: seed it with seed_demo --orders N.")
    email = _newest(OrderStatus.SHIPPED, with_scans=True).customer_email
    variants: list[tuple[str, str, dict[str, Any]]] = [
        ("default", "first page", {}),
        ("status", "status=shipped", {"status": OrderStatus.SHIPPED}),
        ("status-small", "status=paid", {"status": OrderStatus.PAID}),
        ("status-two", "status=paid&status=picking", {"status": [OrderStatus.PAID, OrderStatus.PICKING]}),
        ("created-after", "created_after=30 days ago", {"created_after": month_ago}),
        (
            "status-created-after",
            "status=executed&created_after=30 days ago",
            {"status": OrderStatus.EXECUTED, "created_after": month_ago},
        ),
        ("email", "customer_email=<a customer's>", {"customer_email": email.upper()}),
        ("reference", "external_reference=<one order's>", {"external_reference": referenced.external_reference}),
        (
            "updated-after",
            "updated_after=1 day ago&ordering=updated_at",
            {"updated_after": day_ago, "ordering": "updated_at"},
        ),
    ]
    pages, sizes = [], {}
    for key, label, params in variants:
        query = urlencode(params, doseq=True)
        pages.append(
            Page(f"list:{key}", f"list: {label}", ORDERS + (f"?{query}" if query else ""), 200, LIST_TARGET_MS)
        )
        data = QueryDict(mutable=True)
        for name, value in params.items():
            if name != "ordering":
                data.setlist(name, value if isinstance(value, list) else [value])
        sizes[label] = OrderFilter(data, queryset=Order.objects.all()).qs.count()
    deep = _deep_page_url(client, ORDERS, DEEP_PAGE)
    pages.append(Page("list:deep", f"list: page {DEEP_PAGE} (cursor)", deep, 200, LIST_TARGET_MS))
    picked = {"customer email": email, "external reference": referenced.external_reference}
    return pages, sizes, picked


def _pages(api: Any) -> tuple[list[Page], list[Page], dict[str, int], dict[str, str]]:
    """The API pages, the customer's pages, the list filters' sizes and what was picked."""
    from notifications.status_links import status_link_path
    from orders.enums import OrderStatus

    pages, sizes, picked = _list_pages(api)
    shipped = _newest(OrderStatus.SHIPPED, with_scans=True)
    delivered = _newest(OrderStatus.EXECUTED, with_scans=True)
    packed = _newest(OrderStatus.PACKED)
    unhandled = _newest(OrderStatus.UNHANDLED)
    for key, order in (("shipped", shipped), ("executed", delivered), ("packed", packed), ("unhandled", unhandled)):
        pages.append(Page(f"detail:{key}", f"detail: {key} order", f"{ORDERS}{order.number}/", 200, DETAIL_TARGET_MS))
    customer = [
        Page(f"status:{key}", f"status page: {key} order", status_link_path(order), 200, STATUS_PAGE_TARGET_MS)
        for key, order in (("shipped", shipped), ("delivered", delivered))
    ]
    picked.update({"shipped": shipped.number, "delivered": delivered.number, "packed": packed.number,
                   "unhandled": unhandled.number})  # fmt: skip
    return pages, customer, sizes, picked


def measure_reads(*, runs: int, warmup: int, explain: bool) -> dict[str, Any]:
    from django.test import Client

    from orders.models import Order, OrderEvent
    from shipping.models import TrackingEvent

    jit = jit_setting()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {_api_key()}")
    customer = Client()
    api_pages, customer_pages, sizes, picked = _pages(api)
    results = [
        asdict(measure_page(client, page, runs=runs, warmup=warmup, target_ms=page.target_ms, explain_over=explain))
        for client, pages in ((api, api_pages), (customer, customer_pages))
        for page in pages
    ]
    counts = {
        "orders": Order.objects.count(),
        "order events": OrderEvent.objects.count(),
        "tracking events": TrackingEvent.objects.count(),
    }
    return {"jit": jit, "counts": counts, "sizes": sizes, "picked": picked, "pages": results}


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
            print(f"Rows, {name} database: " + ", ".join(f"{k} {v:,}" for k, v in data["counts"].items()))
            print(f"Orders matching each list filter, {name} database:")
            for label, size in data["sizes"].items():
                print(f"  {label}: {size:,}")
    print("Picked from the big database: " + ", ".join(f"{k} {v}" for k, v in big["picked"].items()))
    print()
    problems = print_table(pages, base, verdict_title="verdict", show_target=True)
    print()
    print(
        "server time = the Client.get call in process (authentication, middleware, view, serializer or template);"
        " p50/p95/max over the measured requests, cold = the first request of the page; verdict on p95 against the"
        " page's target; SQL ms = time inside cursor.execute (rows' transfer included)."
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
        runs=50,
        warmup=5,
        explain_help="EXPLAIN ANALYZE the slowest statement of pages over their target",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_output:
        measure_in_child(args, measure_reads)
        return 0
    run = run_on_databases(
        title="Reads benchmark",
        script=__file__,
        args=args,
        child_args=_child_args(args),
        defaults=(DEFAULT_DB_NAME, DEFAULT_SMALL_DB_NAME, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL),
        workload=f"each page {args.warmup} warm-up + {args.runs} measured GETs through Django's test Client, the API"
        f" as API client {BENCH_CLIENT} (integrator role), the status page by its signed link; production settings"
        " (DEBUG off, Redis cache, collected static files)",
    )
    problems = print_results(run.big, run.small, verbose=args.verbose)
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    pages = figures_of(run.big)
    print_check(pages, problems, small=run.small is not None)
    over = [f"{f.label} ({f.p95:.0f} ms, target {f.target_ms:.0f})" for f in pages.values() if f.p95 >= f.target_ms]
    print(f"Pages over their target at p95: {', '.join(over) if over else 'none'}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
