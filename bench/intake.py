"""Order intake benchmark: how fast can integrators place orders, and what does the stack cost?

Places 3-line orders through the real HTTP API (``POST /api/v1/orders/`` served by gunicorn on
PostgreSQL) at 1 and at 8 concurrent clients, then makes the same database writes with raw SQL
over psycopg2 at the same concurrency, and prints throughput, p50/p95 latency, CPU spent per
order, the SQL statements one placement makes, and the ratio API/raw.

Everything happens in its own database (``oms_bench`` by default), dropped and re-created on
each run, so the figures do not depend on what else is stored. Run from the project root::

    .venv/bin/python bench/intake.py                   # 400 orders per level, ~1-2 minutes
    .venv/bin/python bench/intake.py --orders 1000 --verbose --profile 200

See ``bench/README.md`` for the options and ``docs/performance.md`` for the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import importlib
import inspect
import itertools
import json
import os
import pstats
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol

import psycopg2
import psycopg2.extensions
import requests
from psycopg2.extras import Json

ROOT = Path(__file__).resolve().parent.parent
from benchlib import (  # noqa: E402  (bench/ is the script's own folder)
    droppable_database,
    dsn_for,
    gunicorn,
    gunicorn_options,
    log_tail,
    machine_ticks,
    manage,
    order_body,
    percentile_ms,
    print_machine_facts,
    python_speed_ms,
    raw_allocate,
    recreate_database,
)

DEFAULT_DB_NAME = "oms_bench"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
ORDERS_URL_PATH = "/api/v1/orders/"

# The catalogue the benchmark orders from, and the quantity of each on every order:
# (SKU, name, price, quantity). Every order has these three lines.
PRODUCTS = (
    ("BENCH-TEE", "Bench T-shirt", Decimal("29.90"), 1),
    ("BENCH-MUG", "Bench mug", Decimal("12.00"), 2),
    ("BENCH-CAP", "Bench cap", Decimal("19.50"), 1),
)
SHIPPING_CODE = "standard"
SHIPPING_PRICE = Decimal("4.99")
CLIENT_NAME = "bench"
CENT = Decimal("0.01")


# --- the request an integrator sends --------------------------------------------------------


def placement_body(reference: str) -> dict[str, Any]:
    """The contract body of POST /api/v1/orders/ with the three lines of PRODUCTS."""
    return order_body(reference, [(sku, quantity) for sku, _, _, quantity in PRODUCTS], shipping_method=SHIPPING_CODE)


def body_fingerprint(body: dict[str, Any]) -> str:
    """The fingerprint the API stores with an Idempotency-Key (orders.apis._idempotency)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- results --------------------------------------------------------------------------------


@dataclass
class CpuUse:
    """CPU seconds spent during a measured window, by who spent them."""

    seconds: dict[str, float] = field(default_factory=dict)
    busy: float | None = None  # share of all cores busy (0..1), from /proc/stat


@dataclass
class LevelResult:
    phase: str
    clients: int
    latencies: list[float]
    errors: Counter[str]
    wall: float
    cpu: CpuUse

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of the successful requests, in milliseconds."""
        return percentile_ms(self.latencies, q)

    def cpu_ms_per_order(self, who: str) -> float | None:
        seconds = self.cpu.seconds.get(who)
        return None if seconds is None or not self.ok else seconds * 1000 / self.ok


# --- CPU accounting (Linux /proc; silently absent elsewhere) --------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int | str) -> tuple[int, int] | None:
    """(parent pid, user+system ticks) of a process, or None if it is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _proc_cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


Snapshot = tuple[dict[str, dict[int, int]], tuple[int, int] | None]


class CpuProbe:
    """CPU time spent in a window by the app server (gunicorn master and workers), the
    PostgreSQL backends serving the benchmark database, and this process; ``other`` is the
    rest of the machine's busy time (kernel network work, PostgreSQL background processes,
    anything else running). Linux only; elsewhere it reports nothing."""

    def __init__(self, db_name: str, gunicorn_pid: int | None = None) -> None:
        self.backend_marker = f" {db_name} "
        self.gunicorn_pid = gunicorn_pid
        self.available = Path("/proc/self/stat").exists()

    def _ticks_by_role(self) -> dict[str, dict[int, int]]:
        roles: dict[str, dict[int, int]] = {"app": {}, "db": {}, "client": {}}
        own = os.getpid()
        for entry in os.listdir("/proc") if self.available else []:
            if not entry.isdigit():
                continue
            pid = int(entry)
            stat = _proc_stat(pid)
            if stat is None:
                continue
            ppid, ticks = stat
            if pid == own:
                roles["client"][pid] = ticks
            elif self.gunicorn_pid is not None and self.gunicorn_pid in (pid, ppid):
                roles["app"][pid] = ticks
            elif _proc_cmdline(entry).startswith("postgres:") and self.backend_marker in _proc_cmdline(entry):
                roles["db"][pid] = ticks
        return roles

    def snapshot(self) -> Snapshot:
        return self._ticks_by_role(), machine_ticks()

    def since(self, start: Snapshot) -> CpuUse:
        if not self.available:
            return CpuUse()
        before, machine_before = start
        after, machine_after = self.snapshot()
        seconds = {}
        for role, pids in after.items():
            if role == "app" and self.gunicorn_pid is None:
                continue
            # A process that started inside the window counts in full (it started near zero).
            seconds[role] = sum(t - before[role].get(pid, 0) for pid, t in pids.items()) / CLOCK_TICKS
        busy = None
        if machine_before and machine_after and machine_after[1] > machine_before[1]:
            busy_ticks = machine_after[0] - machine_before[0]
            busy = busy_ticks / (machine_after[1] - machine_before[1])
            seconds["other"] = max(0.0, busy_ticks / CLOCK_TICKS - sum(seconds.values()))
        return CpuUse(seconds=seconds, busy=busy)


# --- load driver ----------------------------------------------------------------------------


class Worker(Protocol):
    """One client: its own HTTP session or database connection, used by one thread."""

    def place(self, reference: str) -> str | None:
        """Places one order; returns None on success or a short description of the failure."""
        ...

    def close(self) -> None: ...


def drive(workers: list[Worker], count: int, references: Callable[[], str]) -> tuple[list[float], Counter[str], float]:
    """Places ``count`` orders, the workers each in their own thread taking the next order as
    soon as they finish one. Returns latencies of successes, errors, wall-clock seconds."""
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
                reference = references()
            began = time.perf_counter()
            try:
                error = worker.place(reference)
            except Exception as exc:  # a benchmark reports every failure and keeps going
                error = f"{exc.__class__.__name__}: {exc}"
            elapsed = time.perf_counter() - began
            if error is None:
                mine.append(elapsed)
            else:
                failures[error[:160]] += 1
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


def run_level(
    *,
    phase: str,
    clients: int,
    count: int,
    warmup: int,
    make_worker: Callable[[], Worker],
    references: Callable[[], str],
    probe: CpuProbe,
) -> tuple[LevelResult, int]:
    """Warms up, then measures one concurrency level. Returns the result and the number of
    warm-up orders that succeeded (for the final database check)."""
    workers = [make_worker() for _ in range(clients)]
    try:
        warm_latencies, warm_errors, _ = drive(workers, warmup, references)
        if warm_errors:
            print(f"  warm-up errors ({phase}, {clients} clients): {dict(warm_errors)}")
        start = probe.snapshot()
        latencies, errors, wall = drive(workers, count, references)
        cpu = probe.since(start)  # before the workers close: PostgreSQL backends still alive
    finally:
        for worker in workers:
            worker.close()
    return LevelResult(phase, clients, latencies, errors, wall, cpu), len(warm_latencies)


# --- API workers ----------------------------------------------------------------------------


class ApiWorker:
    """An integrator: one keep-alive HTTP session, a new Idempotency-Key per order."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.url = base_url + ORDERS_URL_PATH
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"})

    def place(self, reference: str) -> str | None:
        payload = json.dumps(placement_body(reference))
        response = self.session.post(self.url, data=payload, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30)
        if response.status_code == 201:
            return None
        return f"HTTP {response.status_code}: {response.text[:120]}"

    def close(self) -> None:
        self.session.close()


# --- raw SQL workers ------------------------------------------------------------------------


@dataclass(frozen=True)
class RawContext:
    """What the raw writer needs to know that the API would learn from the request."""

    dsn: str
    api_client_id: int
    user_id: int
    key_prefix: str
    owner: str
    scope: str
    number_prefix: str
    actor_label: str
    outbox_tasks: tuple[str, ...]  # the tasks settings.OMS_OUTBOX_ROUTES gives "order.created"
    outbox_lease_seconds: int


# The statements of orders.services._order_create (with idempotency_claim/_complete), in order.
# Kept as a list so the output can say exactly what the baseline includes.
RAW_TRANSACTION_STEPS = [
    "BEGIN",
    "INSERT idempotency key ON CONFLICT DO NOTHING            (idempotency_claim)",
    "SELECT shipping method by code                          (_shipping_method)",
    "SELECT products WHERE sku IN (3 SKUs)                   (_build_lines)",
    "INSERT address RETURNING id                             (Address bulk_create)",
    "SELECT nextval(order id sequence)                       (_next_order_id)",
    "INSERT order                                            (order.save)",
    "INSERT 3 lines in one statement RETURNING id            (OrderLine bulk_create)",
    "INSERT order event RETURNING id                         (_record_event)",
    "INSERT the order.created outbox messages (one statement)  (outbox_emit)",
    "UPDATE idempotency key SET resource_id                  (idempotency_complete)",
    "SELECT the SKUs' stock rows ORDER BY id FOR NO KEY UPDATE (stock_reserve_order)",
    "INSERT 3 reservations as allocated; UPDATE the counters (one statement); INSERT ledger rows;"
    " INSERT allocations                                    (allocation)",
    "SELECT reorder rules of the SKUs                        (check_reorder_points)",
    "COMMIT",
]
RAW_REQUEST_EXTRA_STEPS = [
    "before: SELECT 1 (connection health check, CONN_HEALTH_CHECKS)",
    "before: SELECT API client JOIN user by key prefix (authentication)",
    "before: SELECT the user's and its groups' permissions, one query (ActionPermission)",
    "after: SELECT the pending outbox messages (outbox_relay after commit; the broker send is not made)",
]

SQL_SHIPPING = (
    "SELECT id, code, name, price, is_active FROM orders_shippingmethod "
    "WHERE code = %s AND is_active ORDER BY code LIMIT 1"
)
SQL_PRODUCTS = (
    "SELECT id, created_at, updated_at, sku, name, barcode, weight_grams, price, is_active "
    "FROM inventory_product WHERE sku IN %s ORDER BY sku"
)
SQL_CLAIM = (
    "INSERT INTO common_idempotencykey (owner, scope, key, fingerprint, resource_id, created_at) "
    "VALUES (%s, %s, %s, %s, '', %s) ON CONFLICT (owner, scope, key) DO NOTHING RETURNING id"
)
SQL_ADDRESS = (
    "INSERT INTO orders_address (name, company, line1, line2, city, region, postal_code, country, phone) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
SQL_NEXTVAL = "SELECT nextval(pg_get_serial_sequence('orders_order', 'id'))"
SQL_ORDER = (
    "INSERT INTO orders_order (id, created_at, updated_at, number, channel, external_reference, status, currency, "
    "customer_email, customer_name, customer_phone, shipping_address_id, billing_address_id, shipping_method_id, "
    "shipping_price, subtotal, total, amount_paid, amount_refunded, customer_note, cancel_reason, "
    "status_link_version) "
    "VALUES (%s, %s, %s, %s, %s, %s, 'unhandled', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, '', '', 0)"
)
SQL_LINES = "INSERT INTO orders_orderline (order_id, position, product_id, sku, name, unit_price, quantity) VALUES "
SQL_REORDER_RULES = (
    "SELECT id, product_id, warehouse_id, reorder_point FROM inventory_reorderrule WHERE product_id IN %s"
)
SQL_EVENT = (
    "INSERT INTO orders_orderevent (order_id, kind, from_status, to_status, note, data, actor_kind, actor_label, "
    "actor_user_id, actor_api_client_id, created_at) "
    "VALUES (%s, 'created', '', 'unhandled', '', %s, 'api_client', %s, %s, %s, %s) RETURNING id"
)
SQL_OUTBOX = (
    "INSERT INTO common_outboxmessage (key, task, payload, state, attempts, last_error, created_at, available_at) "
    "VALUES {} ON CONFLICT (key) DO NOTHING RETURNING id"
)
SQL_OUTBOX_PENDING = "SELECT id, task FROM common_outboxmessage WHERE id IN %s AND state = 'pending'"
SQL_COMPLETE = "UPDATE common_idempotencykey SET resource_id = %s WHERE owner = %s AND scope = %s AND key = %s"

SQL_AUTH = (
    "SELECT c.id, c.name, c.key_hash, c.revoked_at, c.last_used_at, u.id, u.is_active, u.username "
    "FROM common_apiclient c JOIN auth_user u ON u.id = c.user_id WHERE c.key_prefix = %s ORDER BY c.id LIMIT 1"
)
SQL_PERMS = (
    "SELECT FALSE, ct.app_label, p.codename FROM auth_permission p "
    "JOIN django_content_type ct ON ct.id = p.content_type_id "
    "JOIN auth_user_user_permissions up ON up.permission_id = p.id WHERE up.user_id = %s "
    "UNION ALL SELECT TRUE, ct.app_label, p.codename FROM auth_permission p "
    "JOIN django_content_type ct ON ct.id = p.content_type_id "
    "JOIN auth_group_permissions gp ON gp.permission_id = p.id "
    "JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = %s"
)


class CountingCursor(psycopg2.extensions.cursor):
    """Counts the statements it sends; each one is a round trip to the server."""

    executed = 0

    def execute(self, query: Any, vars: Any = None) -> None:
        self.executed += 1
        super().execute(query, vars)


class RawWorker:
    """The same placement written by hand: one psycopg2 connection, one transaction per order.

    With ``whole_request`` it also makes the reads the API makes around the service (health
    check, authentication, permissions, the outbox relay's read after commit), so the gap to
    the API is what Python, Django, DRF and HTTP add, not extra round trips.
    """

    round_trips: ClassVar[dict[bool, int]] = {}  # statements per order, by whole_request

    def __init__(self, context: RawContext, *, whole_request: bool) -> None:
        self.ctx = context
        self.whole_request = whole_request
        self.conn = psycopg2.connect(context.dsn, cursor_factory=CountingCursor)
        self.conn.autocommit = True  # like Django: autocommit outside, explicit transaction inside

    def place(self, reference: str) -> str | None:
        ctx = self.ctx
        body = placement_body(reference)
        key = str(uuid.uuid4())
        fingerprint = body_fingerprint(body)
        now = datetime.now(UTC)
        with self.conn.cursor() as cur:
            if self.whole_request:
                cur.execute("SELECT 1")
                cur.execute(SQL_AUTH, [ctx.key_prefix])
                cur.fetchone()
                cur.execute(SQL_PERMS, [ctx.user_id, ctx.user_id])
                cur.fetchall()
            cur.execute("BEGIN")
            try:
                _, message_ids = self._write(cur, body, reference, key, fingerprint, now)
                cur.execute("COMMIT")
            except (psycopg2.Error, RuntimeError) as exc:
                cur.execute("ROLLBACK")
                return f"{exc.__class__.__name__}: {str(exc).strip()}"
            if self.whole_request and message_ids:
                cur.execute(SQL_OUTBOX_PENDING, [tuple(message_ids)])
                cur.fetchall()
            self.round_trips[self.whole_request] = cur.executed
        return None

    def _write(
        self,
        cur: psycopg2.extensions.cursor,
        body: dict[str, Any],
        reference: str,
        key: str,
        fingerprint: str,
        now: datetime,
    ) -> tuple[str, list[int]]:
        """The transaction's statements; returns the order number and the outbox message ids."""
        ctx = self.ctx
        cur.execute(SQL_CLAIM, [ctx.owner, ctx.scope, key, fingerprint, now])
        if cur.fetchone() is None:
            raise RuntimeError(f"idempotency key {key} already used")

        cur.execute(SQL_SHIPPING, [body["shipping_method"]])
        shipping = cur.fetchone()
        if shipping is None:
            raise RuntimeError("the benchmark's shipping method is missing")
        cur.execute(SQL_PRODUCTS, [tuple(line["sku"] for line in body["lines"])])
        products = {row[3]: row for row in cur.fetchall()}
        # A used reference is refused by the unique constraint on the order insert, as in the service.

        address = body["shipping_address"]
        cur.execute(
            SQL_ADDRESS,
            [address["name"], "", address["line1"], "", address["city"], "", address["postal_code"],
             address["country"], address["phone"]],
        )  # fmt: skip
        address_id = cur.fetchone()[0]

        lines = []
        for position, line in enumerate(body["lines"]):
            product = products[line["sku"]]
            lines.append((position, product[0], line["sku"], product[4], product[7].quantize(CENT), line["quantity"]))
        subtotal = sum((price * quantity for *_, price, quantity in lines), Decimal("0.00")).quantize(CENT)
        ship_price = shipping[3].quantize(CENT)
        total = subtotal + ship_price

        cur.execute(SQL_NEXTVAL)
        order_id = cur.fetchone()[0]
        number = f"{ctx.number_prefix}{order_id:06d}"
        customer = body["customer"]
        cur.execute(
            SQL_ORDER,
            [order_id, now, now, number, body["channel"], reference, body["currency"], customer["email"],
             customer["name"], customer["phone"], address_id, address_id, shipping[1], ship_price, subtotal, total],
        )  # fmt: skip
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(lines))
        cur.execute(
            SQL_LINES + values + " RETURNING id",
            [value for line in lines for value in (order_id, *line)],
        )
        line_ids = [row[0] for row in cur.fetchall()]
        event_data = {"channel": body["channel"], "external_reference": reference, "total": str(total)}
        cur.execute(SQL_EVENT, [order_id, Json(event_data), ctx.actor_label, ctx.user_id, ctx.api_client_id, now])
        event_id = cur.fetchone()[0]
        message_ids = []
        if ctx.outbox_tasks:
            payload = {
                "order": number,
                "event": event_id,
                "occurred_at": now.isoformat(),
                "snapshot": {
                    "number": number, "status": "unhandled", "channel": body["channel"],
                    "external_reference": reference, "currency": body["currency"],
                    "customer": {"name": customer["name"], "email": customer["email"]},
                    "shipping_method": shipping[1], "subtotal": str(subtotal), "shipping_price": str(ship_price),
                    "total": str(total), "amount_paid": "0.00", "amount_refunded": "0.00",
                    "created_at": now.isoformat(), "updated_at": now.isoformat(), "ship_by": None,
                    "promised_delivery": None,
                    "lines": [
                        {"sku": sku, "name": name, "quantity": quantity, "unit_price": str(price)}
                        for _, _, sku, name, price, quantity in lines
                    ],
                },
                "topic": "order.created",
            }  # fmt: skip
            available_at = now + timedelta(seconds=ctx.outbox_lease_seconds)
            cur.execute(
                SQL_OUTBOX.format(", ".join(["(%s, %s, %s, 'pending', 0, '', %s, %s)"] * len(ctx.outbox_tasks))),
                [
                    v
                    for task in ctx.outbox_tasks
                    for v in (f"order.created:{number}>{task}", task, Json(payload), now, available_at)
                ],
            )
            message_ids = [row[0] for row in cur.fetchall()]
        cur.execute(SQL_COMPLETE, [number, ctx.owner, ctx.scope, key])
        # Last, as in the service: stock_reserve_order: lock, reserve, allocate, ledger; then the reorder-rule check.
        raw_allocate(
            cur,
            number=number,
            lines=[(line_id, line[1], line[5]) for line_id, line in zip(line_ids, lines, strict=True)],
            actor_label=ctx.actor_label,
            now=now,
        )
        cur.execute(SQL_REORDER_RULES, [tuple(sorted({line[1] for line in lines}))])
        cur.fetchall()
        return number, message_ids

    def close(self) -> None:
        self.conn.close()


# --- database and processes -----------------------------------------------------------------


def app_options(args: argparse.Namespace) -> list[str]:
    return gunicorn_options(workers=args.workers, threads=args.threads, worker_class=args.worker_class)


# --- in-process measurements (Django set up against the benchmark database) ------------------


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.pop("DJANGO_DEBUG", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    # WhiteNoise warns that STATIC_ROOT does not exist (collectstatic has not run): irrelevant here.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


def seed_catalogue() -> None:
    """The products, each with plenty of stock in its own bin, and the shipping method."""
    from inventory.models import Location, Warehouse
    from inventory.services.products import product_create
    from inventory.services.stock import ReceiptLine, stock_receive
    from oms.common.actors import Actor
    from orders.models import ShippingMethod

    warehouse = Warehouse.objects.create(code="BENCH", name="Benchmark warehouse")
    receipt = []
    for index, (sku, name, price, _) in enumerate(PRODUCTS):
        product = product_create(sku=sku, name=name, price=price)
        location = Location.objects.create(warehouse=warehouse, code=f"B-{index:02d}", pick_sequence=index)
        receipt.append(ReceiptLine(product, location, 10_000_000))
    stock_receive(actor=Actor.system("bench"), reference="BENCH-STOCK", lines=receipt)
    ShippingMethod.objects.create(code=SHIPPING_CODE, name="Standard delivery", price=SHIPPING_PRICE)


def raw_context(dsn: str, api_key: str) -> RawContext:
    from django.conf import settings

    from oms.common.models import ApiClient
    from oms.common.services import split_api_key
    from orders.services import IDEMPOTENCY_SCOPE

    prefix = split_api_key(api_key) or ""
    client = ApiClient.objects.get(key_prefix=prefix)
    return RawContext(
        dsn=dsn,
        api_client_id=client.pk,
        user_id=client.user_id,
        key_prefix=prefix,
        owner=f"client:{client.pk}",
        scope=IDEMPOTENCY_SCOPE,
        number_prefix=settings.OMS_ORDER_NUMBER_PREFIX,
        actor_label=f"api:{client.name}",
        outbox_tasks=tuple(settings.OMS_OUTBOX_ROUTES.get("order.created", ())),
        outbox_lease_seconds=settings.OMS_OUTBOX_LEASE_SECONDS,
    )


@dataclass
class QueryReport:
    first: list[str]
    steady: list[str]
    health_checks: int


def _post_in_process(client: Any, reference: str) -> Any:
    response = client.post(
        ORDERS_URL_PATH,
        data=json.dumps(placement_body(reference)),
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if response.status_code != 201:
        raise SystemExit(f"In-process POST failed with {response.status_code}: {response.content[:300]!r}")
    return response


def count_queries(api_key: str, references: Callable[[], str]) -> QueryReport:
    """One POST through Django's test client (whole middleware stack, no HTTP server) under
    CaptureQueriesContext: the first in this process, then a steady-state one."""
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    with CaptureQueriesContext(connection) as first:
        _post_in_process(client, references())

    # The CONN_HEALTH_CHECKS probe ("SELECT 1" on a reused connection) bypasses Django's
    # cursor wrapper, so CaptureQueriesContext cannot see it: count it separately. The test
    # client skips close_old_connections, which the WSGI handler runs at request_started and
    # which arms the probe, so run it here as a server would.
    health_checks = 0
    original = connection.is_usable

    def counting_is_usable() -> bool:
        nonlocal health_checks
        health_checks += 1
        return original()

    connection.is_usable = counting_is_usable  # type: ignore[method-assign]
    try:
        close_old_connections()
        with CaptureQueriesContext(connection) as steady:
            _post_in_process(client, references())
    finally:
        del connection.is_usable
    return QueryReport(
        first=[q["sql"] for q in first.captured_queries],
        steady=[q["sql"] for q in steady.captured_queries],
        health_checks=health_checks,
    )


def _bucket(filename: str, function: str) -> str:
    if filename == "~":
        if "psycopg2" in function:
            return "psycopg2 C calls (with the wait on PostgreSQL on the wall clock)"
        return "Python builtins"
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        package = path.split("/site-packages/", 1)[1].split("/")
        if package[0] == "django" and len(package) > 1:
            return f"django.{package[1].removesuffix('.py')}"
        return package[0].removesuffix(".py")
    if path.startswith(str(ROOT)) and "/.venv/" not in path:
        return "project code (" + path[len(str(ROOT)) + 1 :].split("/", 1)[0] + ")"
    return "Python standard library"


# The calls OrderViewSet.create makes, in order: (label, module, class or "", attribute).
VIEW_STEPS = [
    ("authentication (API key lookup)", "oms.common.authentication", "", "api_client_authenticate"),
    ("permission check (ActionPermission)", "oms.common.permissions", "ActionPermission", "has_permission"),
    ("early idempotency check (invalid bodies only)", "orders.apis", "", "idempotency_check"),
    ("input validation (OrderCreateInput)", "orders.apis", "", "order_create_input"),
    ("services.order_create (the transaction)", "orders.services", "", "order_create"),
    ("order_detail_data(...) (OrderDetailOutput)", "orders.apis", "", "order_detail_data"),
]


def time_steps(api_key: str, count: int, references: Callable[[], str]) -> str:
    """Wall time of each step of the view over ``count`` in-process POSTs, without a profiler:
    the steps are wrapped with timers for the duration and restored afterwards."""
    from django.test import Client

    spent: Counter[str] = Counter()

    def timed(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - began

        return wrapper

    restore: list[Callable[[], None]] = []
    for label, module_name, class_name, attribute in VIEW_STEPS:
        owner: Any = importlib.import_module(module_name)
        if class_name:
            owner = getattr(owner, class_name)
        original = inspect.getattr_static(owner, attribute)  # the function or property, maybe inherited
        if attribute in vars(owner):
            restore.append(functools.partial(setattr, owner, attribute, original))
        else:
            restore.append(functools.partial(delattr, owner, attribute))
        if isinstance(original, property) and original.fget is not None:
            setattr(owner, attribute, property(timed(label, original.fget)))
        else:
            setattr(owner, attribute, timed(label, original))
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    try:
        _post_in_process(client, references())
        spent.clear()
        began, cpu_began = time.perf_counter(), time.process_time()
        for _ in range(count):
            _post_in_process(client, references())
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    finally:
        for undo in reversed(restore):
            undo()
    lines = [
        f"Steps of one placement, in process (Django test client, {count} POSTs, no profiler): "
        f"{wall / count * 1000:.1f} ms wall and {cpu / count * 1000:.1f} ms CPU per request",
    ]
    for label, *_ in VIEW_STEPS:
        lines.append(f"  {spent[label] / count * 1000:6.2f} ms  {spent[label] / wall * 100:4.1f}%  {label}")
    rest = wall - sum(spent.values())
    lines.append(
        f"  {rest / count * 1000:6.2f} ms  {rest / wall * 100:4.1f}%  the rest: middleware, DRF dispatch, JSON"
    )
    return "\n".join(lines)


# Parts of a placement for the profile: (label, file, function); cumulative time, nested ones indented.
PROFILE_PARTS = [
    ("authentication (API key look-up)", "oms/common/authentication.py", "authenticate"),
    ("permission check", "oms/common/permissions.py", "has_permission"),
    ("early idempotency check (invalid bodies only)", "oms/common/services.py", "idempotency_check"),
    ("input validation", "orders/serializers.py", "order_create_input"),
    ("order_create: transaction, commit, relay after it", "orders/services/placement.py", "order_create"),
    ("  stock_reserve_order", "inventory/services/stock.py", "stock_reserve_order"),
    ("    lock_stock_of_products", "inventory/locks.py", "lock_stock_of_products"),
    ("  outbox_emit (the rows)", "oms/common/outbox.py", "outbox_emit"),
    ("  outbox relay (after commit)", "oms/common/outbox.py", "_send"),
    ("output serialization", "orders/serializers.py", "order_detail_data"),
]


def profile_requests(
    api_key: str, count: int, references: Callable[[], str], *, cpu: bool = False, dump: str = ""
) -> str:
    """cProfile over ``count`` in-process POSTs: own time grouped by package, then the top
    functions. cProfile slows Python calls, so read the shares, not the absolute times. With
    ``cpu`` the profiler's clock is this process's CPU time, so waiting on PostgreSQL or Redis
    does not count."""
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {api_key}")
    _post_in_process(client, references())
    profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for _ in range(count):
        _post_in_process(client, references())
    profiler.disable()
    wall = time.perf_counter() - began
    stats = pstats.Stats(profiler)
    if dump:
        stats.dump_stats(dump)
    raw_stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    buckets: Counter[str] = Counter()
    total = 0.0
    for (filename, _, function), (_, _, own, _, _) in raw_stats.items():
        buckets[_bucket(filename, function)] += own
        total += own
    lines = [
        f"cProfile ({'CPU' if cpu else 'wall'} clock) of {count} in-process POSTs (Django test client, no HTTP "
        f"server): {wall / count * 1000:.1f} ms wall per request under the profiler",
        "  own time by package:",
    ]
    for name, own in buckets.most_common(14):
        lines.append(f"    {own / total * 100:5.1f}%  {own / count * 1000:6.2f} ms/request  {name}")
    lines.append("  cumulative time of the request's parts:")
    for label, path, function in PROFILE_PARTS:
        spent = sum(
            cumulative
            for (filename, _, name), (_, _, _, cumulative, _) in raw_stats.items()
            if name == function and filename.replace("\\", "/").endswith(path)
        )
        lines.append(f"    {spent / total * 100:5.1f}%  {spent / count * 1000:6.2f} ms/request  {label}")
    top = sorted(raw_stats.items(), key=lambda item: item[1][2], reverse=True)[:15]
    lines.append("  top functions by own time:")
    for (filename, line, function), (_, calls, own, _, _) in top:
        where = filename if filename == "~" else f"{Path(filename).parent.name}/{Path(filename).name}:{line}"
        lines.append(
            f"    {own / count * 1000:6.2f} ms/request  {calls // count:5d} calls/request  {function}  {where}"
        )
    return "\n".join(lines)


def check_database(dsn: str, expected: dict[str, int]) -> list[str]:
    """Compares orders, lines and events stored under each phase's reference prefix with the
    placements that succeeded. Returns the mismatches."""
    problems = []
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            for prefix, count in expected.items():
                cur.execute(
                    "SELECT count(DISTINCT o.id), count(DISTINCT l.id), count(DISTINCT e.id), "
                    "count(DISTINCT k.id) FROM orders_order o "
                    "JOIN orders_orderline l ON l.order_id = o.id JOIN orders_orderevent e ON e.order_id = o.id "
                    "JOIN common_idempotencykey k ON k.resource_id = o.number WHERE o.external_reference LIKE %s",
                    [prefix + "%"],
                )
                orders, lines, events, keys = cur.fetchone()
                want = (count, count * len(PRODUCTS), count, count)
                if (orders, lines, events, keys) != want:
                    problems.append(
                        f"{prefix}: orders/lines/events/keys {orders}/{lines}/{events}/{keys}, expected {want}"
                    )
    finally:
        conn.close()
    return problems


# --- reporting ------------------------------------------------------------------------------


def shorten(statement: str, width: int = 150) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def fmt_cpu(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}"


def statement_shape(statement: str) -> str:
    """A statement with its literals and savepoint names blanked, to compare two requests."""
    return re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "?", statement)


def print_sql_report(report: QueryReport, raw_phases: list[str], *, verbose: bool) -> None:
    steady = report.steady
    round_trips = len(steady) + report.health_checks
    print()
    print(
        f"SQL per placement of a 3-line order (POST with Idempotency-Key, steady state): {len(steady)} statements "
        f"seen by Django (BEGIN and COMMIT included) + {report.health_checks} connection health check "
        f"('SELECT 1', invisible to CaptureQueriesContext) = {round_trips} round trips to PostgreSQL."
    )
    extra = Counter(statement_shape(s) for s in report.first) - Counter(statement_shape(s) for s in steady)
    if extra:
        print(f"The run's first request made {len(report.first)} statements; the extra ones:")
        for shape in extra.elements():
            print(f"      {shorten(shape)}")
    if verbose:
        for number, statement in enumerate(steady, 1):
            print(f"  {number:2d}. {shorten(statement)}")
    for phase in raw_phases:
        whole = phase == "raw-request"
        trips = RawWorker.round_trips.get(whole, 0)
        if not whole:
            print(f"Baseline 'raw SQL: service transaction' sends {trips} statements per order:")
            for step in RAW_TRANSACTION_STEPS:
                print(f"  - {step}")
        else:
            print(f"Baseline 'raw SQL: + the API's other reads' sends {trips} statements per order, adding:")
            for step in RAW_REQUEST_EXTRA_STEPS:
                print(f"  - {step}")
    print("Neither baseline has HTTP, JSON parsing and rendering, validation, or Django/DRF/ORM work.")


def print_results(results: list[LevelResult], labels: dict[str, str]) -> None:
    print()
    print(
        f"{'phase':<34} {'clients':>7} {'orders':>6} {'errors':>6} {'orders/s':>9} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'CPU busy':>8}   CPU ms per order:  app     db  bench  other"
    )
    for r in results:
        busy = "n/a" if r.cpu.busy is None else f"{r.cpu.busy * 100:.0f}%"
        print(
            f"{labels[r.phase]:<34} {r.clients:>7} {r.ok:>6} {sum(r.errors.values()):>6} {r.rate:>9.1f}"
            f" {r.percentile_ms(0.50):>7.2f} {r.percentile_ms(0.95):>7.2f} {busy:>8}"
            f"   {'':>16}" + " ".join(fmt_cpu(r.cpu_ms_per_order(who)) for who in ("app", "db", "client", "other"))
        )
    for r in results:
        for error, count in r.errors.most_common(5):
            print(f"  ! {labels[r.phase]}, {r.clients} clients: {count} x {error}")


def print_ratios(results: list[LevelResult], baseline: str, labels: dict[str, str]) -> None:
    by_key = {(r.phase, r.clients): r for r in results}
    print()
    print(f"API compared with the baseline '{labels[baseline]}':")
    for (phase, clients), api in sorted(by_key.items()):
        if phase != "api":
            continue
        raw = by_key.get((baseline, clients))
        if raw is None or not raw.rate or not api.rate:
            continue
        print(
            f"  {clients} client(s): API {api.rate:.1f} orders/s vs raw {raw.rate:.1f} orders/s"
            f" -> API/raw = {api.rate / raw.rate:.3f} (raw is {raw.rate / api.rate:.1f}x the API's throughput);"
            f" p50 {api.percentile_ms(0.5):.2f} ms vs {raw.percentile_ms(0.5):.2f} ms"
        )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=400, help="orders measured per level and phase (default 400)")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured orders before each level (default 40)")
    parser.add_argument("--clients", default="1,8", help="concurrency levels, comma-separated (default 1,8)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (default 2)")
    parser.add_argument(
        "--worker-class",
        choices=["gthread", "sync"],
        default="gthread",
        help="gunicorn worker class (default gthread; sync closes the connection after each request)",
    )
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_DB_NAME"),
        help="benchmark database name, dropped and re-created (default from BENCH_DATABASE_URL: oms_bench)",
    )
    parser.add_argument(
        "--no-raw-request",
        action="store_true",
        help="skip the second raw baseline (service transaction plus the reads the API makes around it)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="time the view's steps over N in-process POSTs, then cProfile N more",
    )
    parser.add_argument(
        "--profile-cpu",
        action="store_true",
        help="cProfile with this process's CPU time as its clock (waiting on PostgreSQL does not count)",
    )
    parser.add_argument(
        "--profile-dump",
        default="",
        metavar="FILE",
        help="also write the cProfile statistics to FILE (read with pstats or snakeviz)",
    )
    parser.add_argument("--verbose", action="store_true", help="list the SQL statements of one placement")
    args = parser.parse_args(argv)
    args.levels = [int(v) for v in args.clients.split(",") if v.strip()]
    if args.orders < 1 or args.warmup < 0 or not args.levels or min(args.levels) < 1:
        parser.error("--orders and --clients must be positive, --warmup not negative")
    return args


@dataclass
class Run:
    """One benchmark run: where it writes, and the bookkeeping shared by its phases."""

    args: argparse.Namespace
    url: str
    db_name: str
    env: dict[str, str]
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # Placements that succeeded, by external_reference prefix, for the final database check.
    expected: Counter[str] = field(default_factory=Counter)
    results: list[LevelResult] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return dsn_for(self.url)

    def references(self, phase: str) -> Callable[[], str]:
        prefix = f"{self.run_id}-{phase}-"
        return lambda: f"{prefix}{next(self.sequence)}"

    def measure(self, phase: str, clients: int, make_worker: Callable[[], Worker], probe: CpuProbe) -> None:
        print(f"  running {phase}, {clients} client(s)...", flush=True)
        tag = f"{phase}{clients}"
        result, warmed = run_level(
            phase=phase, clients=clients, count=self.args.orders, warmup=self.args.warmup,
            make_worker=make_worker, references=self.references(tag), probe=probe,
        )  # fmt: skip
        self.results.append(result)
        self.expected[f"{self.run_id}-{tag}-"] += warmed + result.ok


def print_header(run: Run, pg_version: str) -> None:
    args = run.args
    busy = print_machine_facts("Order intake benchmark")
    if busy is not None and busy > 0.1:
        print("  ! see the 'other' CPU column for what the other work took")
    print(f"  PostgreSQL  : {pg_version}, database {run.db_name} (dropped and re-created)")
    print(f"  app server  : gunicorn {' '.join(app_options(args))}, DEBUG off, no access log")
    print(f"  workload    : {args.orders} orders per level after {args.warmup} warm-up, levels {args.levels}; "
          "3 lines per order, Idempotency-Key on each, one requests.Session per client")  # fmt: skip


def print_footer(run: Run, profile_text: str, gunicorn_errors: list[str], log_path: Path) -> bool:
    """Prints the notes, the profile and the database check; returns True when all is well."""
    print()
    print("CPU ms per order: app = gunicorn master and workers; db = PostgreSQL backends of the benchmark database;")
    print("bench = this process (HTTP clients or psycopg2 drivers); other = the rest of the machine's busy time")
    print("(kernel network work, PostgreSQL background writers, anything else running). CPU busy = share of all")
    print(f"{os.cpu_count()} cores busy during the measured window.")
    if profile_text:
        print()
        print(profile_text)
    problems = check_database(run.dsn, dict(run.expected))
    print()
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    print("(compare with the header: a shared machine can change speed during a run).")
    if problems:
        print("Database check FAILED: " + "; ".join(problems))
    else:
        print(f"Database check: every placement stored its order, {len(PRODUCTS)} lines, event and idempotency "
              f"key ({sum(run.expected.values())} orders).")  # fmt: skip
    if gunicorn_errors:
        print(f"gunicorn logged errors, see {log_path}:")
        for line in gunicorn_errors[:5]:
            print(f"  {line}")
    return not problems and not any(r.errors for r in run.results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url, db_name = droppable_database(DEFAULT_DATABASE_URL, args.db_name, DEFAULT_DB_NAME)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32)),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("DJANGO_DEBUG", None)
    run = Run(args=args, url=url, db_name=db_name, env=env)

    # Prepare: fresh database, schema, catalogue, an API client.
    print_header(run, recreate_database(url, db_name))
    manage(env, "migrate", "--noinput")
    setup_django(env)
    seed_catalogue()
    api_key = manage(env, "create_api_client", CLIENT_NAME).strip().splitlines()[-1]
    context = raw_context(run.dsn, api_key)

    # In process: the SQL of one placement, and optionally a profile.
    in_process = run.references("qc")
    report = count_queries(api_key, in_process)
    profile_text = ""
    if args.profile:
        profile_text = time_steps(api_key, args.profile, in_process)
        profile_text += "\n\n" + profile_requests(
            api_key, args.profile, in_process, cpu=args.profile_cpu, dump=args.profile_dump
        )
    run.expected[f"{run.run_id}-qc-"] = 2 + (2 * (args.profile + 1) if args.profile else 0)
    from django.db import connections

    connections.close_all()

    # Each level: the API, then the same writes in raw SQL right after it, so that a machine
    # whose speed drifts (shared cores) affects both sides of a ratio alike. gunicorn sits idle
    # during the raw phases.
    raw_phases = ["raw-txn"] if args.no_raw_request else ["raw-txn", "raw-request"]
    log_path = Path(tempfile.gettempdir()) / f"oms-bench-gunicorn-{run.run_id}.log"
    with gunicorn(env, app_options(args), log_path) as (base_url, master_pid):
        api_probe, raw_probe = CpuProbe(db_name, master_pid), CpuProbe(db_name)
        for clients in args.levels:
            run.measure("api", clients, lambda: ApiWorker(base_url, api_key), api_probe)
            for phase in raw_phases:
                worker = functools.partial(RawWorker, context, whole_request=phase == "raw-request")
                run.measure(phase, clients, worker, raw_probe)
    gunicorn_errors = [line for line in log_tail(log_path, 200).splitlines() if "Traceback" in line or "ERROR" in line]
    if not gunicorn_errors:
        log_path.unlink(missing_ok=True)

    labels = {
        "api": f"API via HTTP (gunicorn {args.workers}x{args.threads if args.worker_class == 'gthread' else 1})",
        "raw-txn": "raw SQL: service transaction",
        "raw-request": "raw SQL: + the API's other reads",
    }
    print_sql_report(report, raw_phases, verbose=args.verbose)
    print_results(run.results, labels)
    for baseline in raw_phases:
        print_ratios(run.results, baseline, labels)
    return 0 if print_footer(run, profile_text, gunicorn_errors, log_path) else 1


if __name__ == "__main__":
    sys.exit(main())
