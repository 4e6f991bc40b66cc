"""Mixed-load benchmark: integrators, staff and customers at once, against gunicorn and a real
Celery worker and beat, at a target request rate held open-loop.

Integrators place 3-line orders (``POST /api/v1/orders/`` with an ``Idempotency-Key``) and the
carrier posts signed tracking events for parcels on their way
(``POST /api/v1/carriers/FLEET/tracking-events/``); staff, signed in as managers, read the queue
pages, order pages, the search and the home page; customers open their order-status page
(``/track/<signed token>/``). Requests arrive at a target total rate whatever the answers'
speed (Poisson or evenly spaced arrivals, each sent by a thread of a pool big enough not to
hold arrivals back), and latency counts from the moment a request was due.

It climbs ``--rates`` for ``--step-seconds`` each, stops at the first step with any error or a
p95 over ``--target-ms``, then holds the highest passing rate for ``--hold-seconds``
(``--rate R`` holds R without the climb). For every step: per request kind the count, errors
(with the first bodies), achieved rate and p50/p95/p99/max; per process (gunicorn master and
workers, the Celery worker and its pool, beat, the SMTP sink, PostgreSQL's backends) CPU and
peak memory (VmHWM, restarted at each step, and the highest RSS sampled every second); how busy
the machine was; the worker's backlog (outbox messages pending, Redis queues) at the end. When
the load stops it waits for the worker to catch up and checks that every order placed got one
"order received" email, sent to the SMTP sink (aiosmtpd, its own process).

Its own database (``oms_bench_mixed``, dropped and re-created) is seeded with
``manage.py seed_demo --orders N``. Run from the project root, with the PostgreSQL and Redis
the tests use::

    .venv/bin/python bench/mixed.py                                    # climb 5,10,20,40 then hold 10 min
    .venv/bin/python bench/mixed.py --orders 5000 --rates 5,10 --step-seconds 20 --hold-seconds 30
    .venv/bin/python bench/mixed.py --rate 20 --hold-seconds 600

Options: ``bench/README.md``; figures: ``docs/performance.md`` ("Mixed load").
"""

from __future__ import annotations

import argparse
import http.cookiejar
import itertools
import json
import os
import random
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from benchlib import (  # bench/ is the script's own folder, first on sys.path
    CLOCK_TICKS,
    Sink,
    backend_ticks,
    busy_share,
    celery_beat,
    celery_worker,
    children,
    db_seconds,
    droppable_database,
    gunicorn,
    gunicorn_options,
    log_tail,
    machine_ticks,
    manage,
    memory_kib,
    migrate,
    order_body,
    own_cpu,
    percentile_ms,
    print_machine_facts,
    process_ticks,
    production_env,
    proportional_kib,
    python_speed_ms,
    recreate_database,
    reset_peak_memory,
    setup_django,
)

DEFAULT_DB_NAME = "oms_bench_mixed"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
DEFAULT_MIX = "create=20,tracking=15,staff=35,customer=30"
KINDS = ("create", "tracking", "staff", "customer")
# What a staff request is, with its weight among staff requests.
STAFF_PAGES = {"queue": 55, "order": 25, "search": 15, "home": 5}
# The carrier's scans, with their weights: mostly "in transit", some "out for delivery" (which
# emails the customer). None delivers, so the parcels in transit stay in transit.
TRACKING_STATUSES = {"in_transit": 3, "out_for_delivery": 1}
SKUS = ("TSHIRT-RED-M", "MUG-LOGO", "CAP-BLACK")  # seed_demo's; every order takes one of each
STOCK_PER_SKU = 10_000_000  # received before the load, so no order waits for stock
CARRIER = "FLEET"
QUEUES = ("celery", "emails", "labels", "webhooks")  # CELERY_TASK_QUEUES
LATE_MS = 100.0  # a request sent this much after it was due: the load generator fell behind
API_CLIENT = "bench-mixed"
ERROR_CHARS = 2000  # of a failed answer's body, kept to print


# --- what the load needs from the database, read once before it starts ----------------------


@dataclass
class Fixtures:
    api_key: str
    webhook_secret: str
    staff_cookies: list[str]  # "sessionid=..." of each signed-in manager
    parcels: list[str]  # tracking numbers of live parcels on their way (order shipped)
    customer_tokens: list[str]  # status-page tokens of existing orders (new ones are added)
    order_numbers: list[str]  # for the staff order page (new ones are added)
    queue_urls: list[str]
    search_urls: list[tuple[str, int]]  # (url, expected status)
    home_url: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: list[str] = field(default_factory=list)  # numbers of the orders placed by the load

    def add_order(self, number: str, token: str) -> None:
        with self.lock:
            self.created.append(number)
            self.order_numbers.append(number)
            self.customer_tokens.append(token)


def receive_stock() -> None:
    """Plenty of stock for the SKUs the load orders, in the bins seed_demo put them in."""
    from inventory.models import Product, StockLevel
    from inventory.services.stock import ReceiptLine, stock_receive
    from oms.common.actors import Actor

    lines = []
    for sku in SKUS:
        product = Product.objects.get(sku=sku)
        level = StockLevel.objects.select_related("location").filter(product=product).order_by("pk").first()
        if level is None:
            raise SystemExit(f"seed_demo left no bin for {sku}.")
        lines.append(ReceiptLine(product, level.location, STOCK_PER_SKU))
    stock_receive(actor=Actor.system("mixed-load benchmark"), reference="BENCH-MIXED", lines=lines)


def staff_users(count: int) -> list[tuple[str, str]]:
    """``count`` managers (staff, in the manager group) with random passwords: (name, password)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from oms.common import roles

    managers = Group.objects.get(name=roles.MANAGER)
    users = []
    for n in range(1, count + 1):
        password = secrets.token_urlsafe(16)
        user = get_user_model().objects.create_user(f"bench-manager-{n}", password=password, is_staff=True)
        user.groups.add(managers)
        users.append((user.get_username(), password))
    return users


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Each request carries the cookie of its persona, sent by hand; none is kept between them."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def log_in(base_url: str, username: str, password: str) -> str:
    """Signs in through the staff login form (CSRF token and all); returns ``sessionid=...``."""
    with requests.Session() as session:
        form = session.get(f"{base_url}/staff/login/", timeout=30)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if form.status_code != 200 or match is None:
            raise SystemExit(f"The login page answered {form.status_code} without a CSRF token:\n{form.text[:500]}")
        answer = session.post(
            f"{base_url}/staff/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)},
            allow_redirects=False,
            timeout=30,
        )
        session_id = session.cookies.get("sessionid")
        if answer.status_code != 302 or not session_id:
            raise SystemExit(f"Logging in as {username} answered {answer.status_code}:\n{answer.text[:500]}")
        return f"sessionid={session_id}"


def read_fixtures(*, api_key: str, staff_cookies: list[str], sample: int, rng: random.Random) -> Fixtures:
    from django.db.models import Exists, OuterRef
    from django.urls import reverse
    from django.utils import timezone

    from dashboard.selectors.home import shop_today
    from dashboard.selectors.queues import STAGES, QueueFilters, queue_orders
    from inventory.models import Warehouse
    from notifications.status_links import status_link_token
    from orders.enums import OrderStatus
    from orders.models import Order
    from shipping.enums import LabelStatus
    from shipping.models import Carrier, Label

    carrier = Carrier.objects.get(code=CARRIER)
    parcels = list(
        Label.objects.filter(
            status=LabelStatus.LIVE, shipment__carrier=carrier, shipment__order__status=OrderStatus.SHIPPED
        )
        .exclude(tracking_number="")
        .values_list("tracking_number", flat=True)
    )
    if not parcels:
        raise SystemExit("The database holds no shipped parcel to track: seed it with more orders.")
    orders = list(Order.objects.only("number", "status_link_version", "customer_email").order_by("?")[:sample])
    today = shop_today(timezone.now())
    sizes = {
        slug: queue_orders(stage=stage, filters=QueueFilters(), today=today).count() for slug, stage in STAGES.items()
    }
    biggest = max(sizes, key=lambda slug: sizes[slug])
    warehouse = Warehouse.objects.order_by("pk").values_list("pk", flat=True).first()

    def queue(slug: str) -> str:
        return reverse("dashboard:queue", args=[slug])

    queue_urls = [queue(slug) for slug in STAGES] + [
        queue(biggest) + "?page=2",
        queue(biggest) + "?shipping_method=standard&channel=web&sort=-total",
        queue("to_ship_today") + f"?warehouse={warehouse}",
    ]
    search = reverse("dashboard:search")
    picked = rng.sample(orders, min(len(orders), 20))
    shipped_with_scans = Order.objects.filter(status=OrderStatus.SHIPPED).filter(
        Exists(Label.objects.filter(shipment__order=OuterRef("pk")).exclude(tracking_number=""))
    )
    search_urls = [(f"{search}?q={o.number}", 302) for o in picked]
    search_urls += [(f"{search}?q={o.customer_email.split('@', 1)[0]}", 200) for o in picked]
    search_urls += [(f"{search}?q={sku}", 200) for sku in SKUS]
    search_urls += [
        (f"{search}?q={str(number)[:-4]}", 200)
        for number in Label.objects.filter(shipment__order__in=shipped_with_scans[:10])
        .exclude(tracking_number="")
        .values_list("tracking_number", flat=True)
    ]
    return Fixtures(
        api_key=api_key,
        webhook_secret=carrier.webhook_secret,
        staff_cookies=staff_cookies,
        parcels=[str(number) for number in parcels],
        customer_tokens=[status_link_token(o) for o in orders],
        order_numbers=[o.number for o in orders],
        queue_urls=queue_urls,
        search_urls=search_urls,
        home_url=reverse("dashboard:home"),
    )


# --- the requests ----------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    latency: float  # seconds from when it was due to the answer
    lag: float  # seconds from when it was due to when it was sent
    error: str = ""  # empty on success


class Load:
    """Sends one request of a kind; every pool thread has its own keep-alive session."""

    def __init__(self, base_url: str, fixtures: Fixtures, *, timeout: float, seed: int) -> None:
        self.base_url = base_url
        self.fixtures = fixtures
        self.timeout = timeout
        self.local = threading.local()
        self.serial = itertools.count(1)
        self.run_id = secrets.token_hex(3)
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            session.cookies.set_policy(_NoCookies())
            self.local.session = session
        return session

    def _pick(self, population: list[Any]) -> Any:
        with self.rng_lock:
            return self.rng.choice(population)

    def _weighted(self, weights: dict[str, int]) -> str:
        with self.rng_lock:
            return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def send(self, kind: str, due: float) -> Outcome:
        began = time.perf_counter()
        label = kind
        try:
            if kind == "create":
                error = self._create()
            elif kind == "tracking":
                error = self._tracking()
            elif kind == "staff":
                label, error = self._staff()
            else:
                label, error = "customer status", self._customer()
        except Exception as exc:  # a benchmark reports every failure and keeps going
            error = f"{exc.__class__.__name__}: {exc}"
        return Outcome(label, time.perf_counter() - due, began - due, error)

    def _create(self) -> str:
        from notifications.status_links import status_link_token
        from orders.models import Order

        n = next(self.serial)
        body = order_body(f"mixed-{self.run_id}-{n}", [(sku, 1) for sku in SKUS], email=f"mixed{n}@example.com")
        response = self._session().post(
            f"{self.base_url}/api/v1/orders/",
            data=json.dumps(body),
            headers={
                "Authorization": f"Bearer {self.fixtures.api_key}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            timeout=self.timeout,
        )
        if response.status_code != 201:
            return f"HTTP {response.status_code}: {response.text[:ERROR_CHARS]}"
        number = response.json()["number"]
        # A new order's status link, as its "order received" email carries it (version 0).
        self.fixtures.add_order(number, status_link_token(Order(number=number, status_link_version=0)))
        return ""

    def _tracking(self) -> str:
        from shipping.services.tracking import SIGNATURE_HEADER, sign_body

        event = {
            "tracking_number": self._pick(self.fixtures.parcels),
            "status": self._weighted(TRACKING_STATUSES),
            "occurred_at": datetime.now(UTC).isoformat(),
            "event_id": f"mixed-{self.run_id}-{next(self.serial)}",
            "location": "Warsaw",
        }
        body = json.dumps({"events": [event]}).encode()
        response = self._session().post(
            f"{self.base_url}/api/v1/carriers/{CARRIER}/tracking-events/",
            data=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_body(self.fixtures.webhook_secret, body),
            },
            timeout=self.timeout,
        )
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:ERROR_CHARS]}"
        results = [r.get("result") for r in response.json().get("results", [])]
        return "" if results == ["stored"] else f"HTTP 200 but not stored: {response.text[:ERROR_CHARS]}"

    def _staff(self) -> tuple[str, str]:
        page = self._weighted(STAFF_PAGES)
        expected = 200
        if page == "queue":
            url = self._pick(self.fixtures.queue_urls)
        elif page == "order":
            url = f"/staff/orders/{self._pick(self.fixtures.order_numbers)}/"
        elif page == "search":
            url, expected = self._pick(self.fixtures.search_urls)
        else:
            url = self.fixtures.home_url
        response = self._session().get(
            self.base_url + url,
            headers={"Cookie": self._pick(self.fixtures.staff_cookies)},
            allow_redirects=False,
            timeout=self.timeout,
        )
        response.content  # noqa: B018  (read the whole body, as a browser does)
        if response.status_code != expected:
            where = response.headers.get("Location", "")
            return (
                f"staff {page}",
                f"HTTP {response.status_code} (expected {expected}) {url} {where}: {response.text[:ERROR_CHARS]}",
            )
        return f"staff {page}", ""

    def _customer(self) -> str:
        token = self._pick(self.fixtures.customer_tokens)
        response = self._session().get(f"{self.base_url}/track/{token}/", allow_redirects=False, timeout=self.timeout)
        if response.status_code != 200:
            return f"HTTP {response.status_code} /track/{token}/: {response.text[:ERROR_CHARS]}"
        return ""


# --- processes: who they are, their CPU and memory ------------------------------------------


class Processes:
    """The processes measured, found again at every sample (gunicorn may replace a worker):
    their CPU ticks at the window's start, their highest RSS sampled every second, their peak
    before the first window (start-up) and over the measured windows."""

    def __init__(self, *, gunicorn_pid: int, worker_pid: int, beat_pid: int, sink_pid: int, db_name: str) -> None:
        self.roots = {"gunicorn": gunicorn_pid, "celery": worker_pid}
        self.fixed = {beat_pid: "celery beat", sink_pid: "SMTP sink"}
        self.db_name = db_name
        self.lock = threading.Lock()
        self.peak_rss: dict[int, int] = {}  # KiB, this window
        self.labels: dict[int, str] = {}  # every process seen in the run
        self.startup_hwm: dict[int, int] = {}  # KiB, VmHWM when first seen at a window's start
        self.run_peak: dict[int, int] = {}  # KiB, highest VmHWM or sampled RSS of the windows
        self.start_ticks: dict[int, int] = {}
        self.start_db: dict[int, int] = {}
        self.start_machine: tuple[int, int] | None = None
        self.start_own = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample_forever, daemon=True, name="memory-sampler")

    def current(self) -> dict[int, str]:
        found = {self.roots["gunicorn"]: "gunicorn master", self.roots["celery"]: "celery worker (main)"}
        found.update(dict.fromkeys(children(self.roots["gunicorn"]), "gunicorn worker"))
        found.update(dict.fromkeys(children(self.roots["celery"]), "celery pool process"))
        found.update(self.fixed)
        return found

    def begin_window(self) -> None:
        """Starts a window: CPU from now, and every VmHWM restarted from the current RSS."""
        with self.lock:
            self.peak_rss = {}
            for pid, label in self.current().items():
                self.labels.setdefault(pid, label)
                memory = memory_kib(pid)
                if memory is not None and pid not in self.startup_hwm:
                    self.startup_hwm[pid] = memory[1]
                reset_peak_memory(pid)
            self.start_ticks = {pid: process_ticks(pid) for pid in self.labels}
        self.start_db = backend_ticks(self.db_name)
        self.start_machine = machine_ticks()
        self.start_own = own_cpu()

    def _sample(self) -> None:
        with self.lock:
            for pid, label in self.current().items():
                self.labels.setdefault(pid, label)
                memory = memory_kib(pid)
                if memory is not None:
                    self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), memory[0])

    def _sample_forever(self) -> None:
        while not self.stop.wait(1.0):
            self._sample()

    def end_window(self, wall: float, requests: int) -> list[str]:
        """The table of the window just ended: a line per process, then PostgreSQL, the load
        generator, the CPU each side spent per request, and the machine."""
        self._sample()
        by_side: dict[str, float] = defaultdict(float)
        lines = [f"    {'process':<22} {'pid':>7} {'CPU s':>7} {'% core':>6} {'RSS peak MiB':>13} {'VmHWM MiB':>10}"]
        with self.lock:
            for pid, label in sorted(self.labels.items(), key=lambda item: (item[1], item[0])):
                memory = memory_kib(pid)
                if memory is None and pid not in self.peak_rss:
                    continue  # gone before this window
                cpu = (process_ticks(pid) - self.start_ticks.get(pid, 0)) / CLOCK_TICKS
                by_side[label.split()[0]] += cpu
                rss = self.peak_rss.get(pid, 0)
                self.run_peak[pid] = max(self.run_peak.get(pid, 0), rss, memory[1] if memory else 0)
                hwm = f"{memory[1] / 1024:10.1f}" if memory else "      gone"
                lines.append(
                    f"    {label:<22} {pid:>7} {cpu:>7.1f} {cpu / wall * 100:>5.0f}% {rss / 1024:>13.1f} {hwm}"
                )
        db = db_seconds(self.start_db, backend_ticks(self.db_name))
        own = own_cpu() - self.start_own
        lines.append(f"    {'PostgreSQL backends':<22} {'':>7} {db:>7.1f} {db / wall * 100:>5.0f}%")
        lines.append(f"    {'load generator':<22} {os.getpid():>7} {own:>7.1f} {own / wall * 100:>5.0f}%")
        if requests:
            per = {"gunicorn": by_side["gunicorn"], "celery (worker, beat)": by_side["celery"], "PostgreSQL": db}
            lines.append(
                "    CPU ms per request: "
                + ", ".join(f"{side} {cpu * 1000 / requests:.1f}" for side, cpu in per.items())
            )
        busy = busy_share(self.start_machine, machine_ticks())
        if busy is not None:
            lines.append(f"    machine: {busy * 100:.0f}% of {os.cpu_count()} cores busy")
        return lines

    def summary(self) -> list[str]:
        """Per process: its peak before the load (start-up) and under the measured load, its RSS
        and PSS now, MiB."""
        lines = [
            f"  {'process':<22} {'pid':>7} {'start-up peak':>13} {'under load':>10} {'RSS at the end':>14}"
            f" {'PSS at the end':>14}"
        ]
        with self.lock:
            for pid, label in sorted(self.labels.items(), key=lambda item: (item[1], item[0])):
                memory, pss = memory_kib(pid), proportional_kib(pid)
                startup = f"{self.startup_hwm[pid] / 1024:13.1f}" if pid in self.startup_hwm else f"{'n/a':>13}"
                load = f"{self.run_peak[pid] / 1024:10.1f}" if pid in self.run_peak else f"{'n/a':>10}"
                now = f"{memory[0] / 1024:14.1f}" if memory else f"{'gone':>14}"
                shared = f"{pss / 1024:14.1f}" if pss is not None else f"{'n/a':>14}"
                lines.append(f"  {label:<22} {pid:>7} {startup} {load} {now} {shared}")
        return lines


def backlog(redis_url: str) -> str:
    """Outbox messages still pending (and how many of them are due), and the Redis queues."""
    import redis
    from django.utils import timezone

    from oms.common.models import OutboxMessage, OutboxState

    pending = OutboxMessage.objects.filter(state=OutboxState.PENDING)
    due = pending.filter(available_at__lte=timezone.now()).count()
    client = redis.Redis.from_url(redis_url)
    try:
        queues = ", ".join(f"{name} {client.llen(name)}" for name in QUEUES)
    finally:
        client.close()
    return f"outbox pending {pending.count()} ({due} due); Redis queues: {queues}"


# --- driving the load ------------------------------------------------------------------------


@dataclass
class Window:
    name: str
    rate: float
    seconds: float
    outcomes: list[Outcome]
    tail: float  # seconds from the last arrival to the last answer
    max_in_flight: int
    processes: list[str] = field(default_factory=list)
    backlog: str = ""

    def latencies(self, label: str | None = None) -> list[float]:
        return [o.latency for o in self.outcomes if not o.error and (label is None or o.label == label)]

    @property
    def errors(self) -> int:
        return sum(1 for o in self.outcomes if o.error)

    def p95_ms(self) -> float:
        return percentile_ms(self.latencies(), 0.95)

    def passed(self, target_ms: float) -> bool:
        return bool(self.outcomes) and not self.errors and self.p95_ms() < target_ms


def drive(load: Load, *, rate: float, seconds: float, mix: dict[str, int], poisson: bool, pool_size: int,
          seed: int) -> tuple[list[Outcome], float, int]:  # fmt: skip
    """Sends requests due at ``rate`` per second for ``seconds`` (open loop: a slow answer
    does not delay the next request), then waits for the last answers. Returns the outcomes,
    the seconds from the last arrival to the last answer, and the most requests in flight
    at once."""
    rng = random.Random(seed)
    kinds, weights = list(mix), list(mix.values())
    outcomes: list[Outcome] = []
    futures: list[Future[Outcome]] = []
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def done(future: Future[Outcome]) -> None:
        nonlocal in_flight
        with lock:
            in_flight -= 1
            outcomes.append(future.result())

    with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="load") as pool:
        start = time.perf_counter() + 0.05
        due = last = start
        while True:
            due += rng.expovariate(rate) if poisson else 1.0 / rate
            if due - start >= seconds:
                break
            last = due
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            kind = rng.choices(kinds, weights=weights)[0]
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            future = pool.submit(load.send, kind, due)
            future.add_done_callback(done)
            futures.append(future)
        for future in futures:
            future.exception()  # waits; send() itself never raises
        tail = time.perf_counter() - last
    return outcomes, tail, most


def run_window(name: str, rate: float, seconds: float, *, load: Load, processes: Processes,
               args: argparse.Namespace, redis_url: str, seed: int) -> Window:  # fmt: skip
    print(f"  {name}: {rate:g} requests/s for {seconds:g} s...", flush=True)
    processes.begin_window()
    began = time.perf_counter()
    outcomes, tail, most = drive(
        load, rate=rate, seconds=seconds, mix=args.mix, poisson=args.arrivals == "poisson",
        pool_size=args.clients, seed=seed,
    )  # fmt: skip
    window = Window(name, rate, seconds, outcomes, tail, most)
    window.processes = processes.end_window(time.perf_counter() - began, len(outcomes))
    window.backlog = backlog(redis_url)
    print_window(window, args.target_ms)
    return window


# --- printing --------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "n/a" if value != value else f"{value:.0f}"  # NaN when nothing succeeded


def print_window(window: Window, target_ms: float) -> None:
    verdict = "PASS" if window.passed(target_ms) else "FAIL"
    print()
    print(
        f"  {window.name} at {window.rate:g} requests/s ({window.seconds:g} s): {len(window.outcomes)} requests,"
        f" {window.errors} errors, p95 {_ms(window.p95_ms())} ms -> {verdict} (p95 < {target_ms:g} ms, no error)"
    )
    print(
        f"    {'kind':<16} {'count':>6} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
        f" {'max ms':>7}"
    )
    labels = sorted({o.label for o in window.outcomes})
    for label in [*labels, None]:
        chosen = [o for o in window.outcomes if label is None or o.label == label]
        latencies = window.latencies(label)
        errors = sum(1 for o in chosen if o.error)
        print(
            f"    {label or 'all':<16} {len(chosen):>6} {errors:>6} {len(chosen) / window.seconds:>7.2f}"
            f" {_ms(percentile_ms(latencies, 0.5)):>7} {_ms(percentile_ms(latencies, 0.95)):>7}"
            f" {_ms(percentile_ms(latencies, 0.99)):>7} {_ms(max(latencies) * 1000 if latencies else float('nan')):>7}"
        )
    late = sum(1 for o in window.outcomes if o.lag * 1000 > LATE_MS)
    print(
        f"    sent more than {LATE_MS:.0f} ms after due: {late} (the load generator fell behind);"
        f" most in flight at once: {window.max_in_flight}; last answer {window.tail:.1f} s after the"
        " last arrival"
    )
    shown: Counter[str] = Counter()
    for outcome in window.outcomes:
        if outcome.error and shown[outcome.label] < 3:
            shown[outcome.label] += 1
            print(f"    ! {outcome.label}: {' '.join(outcome.error.split())[:400]}")
    kinds = Counter((o.label, o.error.split(":", 1)[0]) for o in window.outcomes if o.error)
    for (label, what), count in kinds.most_common(8):
        print(f"    ! {count} x {label}: {what}")
    print("\n".join(window.processes))
    print(f"    backlog at the end: {window.backlog}")


# --- after the load: every placed order got its email ---------------------------------------


def check_emails(fixtures: Fixtures, sink: Sink, *, sink_before: int, since: datetime, timeout: float) -> list[str]:
    """Waits up to ``timeout`` seconds for every order placed by the load to have its "order
    received" email sent, then checks there is exactly one each and that the sink received
    every email sent since the load began. Returns the problems."""
    from django.db.models import Count

    from notifications.enums import NotificationKind, NotificationState
    from notifications.models import Notification
    from oms.common.models import OutboxMessage, OutboxState

    numbers = list(fixtures.created)
    received = Notification.objects.filter(order__number__in=numbers, kind=NotificationKind.ORDER_RECEIVED)
    began = time.monotonic()
    while received.filter(state=NotificationState.SENT).count() < len(numbers) and time.monotonic() - began < timeout:
        time.sleep(1)
    waited = time.monotonic() - began
    sent = received.filter(state=NotificationState.SENT).count()
    print(
        f"  'order received' emails sent for {sent} of {len(numbers)} orders placed,"
        f" {waited:.0f} s after the load stopped"
    )
    problems = []
    if sent < len(numbers):
        problems.append(
            f"{len(numbers) - sent} orders placed without their 'order received' email after {timeout:.0f} s"
        )
    twice = received.values("order_id").annotate(n=Count("id")).filter(n__gt=1).count()
    if twice:
        problems.append(f"{twice} orders got more than one 'order received' email")
    time.sleep(1)  # the last emails' SMTP conversations end
    all_sent = Notification.objects.filter(state=NotificationState.SENT, sent_at__gte=since).count()
    delivered = sink.count - sink_before
    print(f"  emails sent since the load began (all kinds): {all_sent}; the SMTP sink received {delivered}")
    if delivered < all_sent:
        problems.append(f"the SMTP sink received {delivered} emails for {all_sent} sent")
    failed = OutboxMessage.objects.filter(state=OutboxState.FAILED, created_at__gte=since)
    for task, count in failed.values_list("task").annotate(n=Count("id")):
        problems.append(f"{count} outbox messages for {task} failed")
    return problems


def drain_seed_backlog(timeout: float) -> str:
    """seed_demo wrote outbox messages with no worker running: relay them now and wait for
    the worker to finish them, so the measured windows start with an empty backlog."""
    from oms.common.models import OutboxMessage, OutboxState
    from oms.common.outbox import outbox_relay

    pending = OutboxMessage.objects.filter(state=OutboxState.PENDING)
    count = pending.count()
    began = time.monotonic()
    outbox_relay(list(pending.values_list("pk", flat=True)))
    while pending.exists() and time.monotonic() - began < timeout:
        time.sleep(1)
    left = pending.count()
    return (
        f"{count} outbox messages from seed_demo relayed; {left} still pending after {time.monotonic() - began:.0f} s"
    )


# --- main ------------------------------------------------------------------------------------


def parse_mix(text: str) -> dict[str, int]:
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in KINDS or not weight.strip().isdigit():
            raise ValueError(f"{part!r}: expected kind=weight, kinds {', '.join(KINDS)}")
        mix[name.strip()] = int(weight)
    if not any(mix.values()):
        raise ValueError("every weight is 0")
    return {name: weight for name, weight in mix.items() if weight}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=50_000, help="orders seed_demo loads (default 50,000)")
    parser.add_argument(
        "--rates", default="5,10,20,40", help="the climb: total requests/s per step (default 5,10,20,40)"
    )
    parser.add_argument("--rate", type=float, help="hold this rate, without the climb")
    parser.add_argument("--step-seconds", type=float, default=60, help="length of each step (default 60)")
    parser.add_argument(
        "--hold-seconds", type=float, default=600, help="the hold at the rate found (default 600; 0 skips)"
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=10, help="unmeasured load at the first rate (default 10)"
    )
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"weights of the request kinds (default {DEFAULT_MIX})")
    parser.add_argument("--arrivals", choices=["poisson", "fixed"], default="poisson", help="(default poisson)")
    parser.add_argument("--target-ms", type=float, default=250, help="a step passes with p95 under this (default 250)")
    parser.add_argument("--clients", type=int, default=200, help="threads sending requests, at most (default 200)")
    parser.add_argument(
        "--timeout", type=float, default=30, help="seconds before a request counts as failed (default 30)"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (default 2)")
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread", help="(default gthread)")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="Celery pool processes (default 2)")
    parser.add_argument("--staff-users", type=int, default=3, help="managers signed in, one session each (default 3)")
    parser.add_argument(
        "--sample", type=int, default=5000, help="existing orders customers and staff open (default 5000)"
    )
    parser.add_argument("--drain-seconds", type=float, default=300, help="wait for the emails afterwards (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of arrivals and choices (default 1)")
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_MIXED_DB_NAME"),
        help=f"benchmark database, dropped and re-created (default from BENCH_DATABASE_URL: {DEFAULT_DB_NAME})",
    )
    args = parser.parse_args(argv)
    try:
        args.mix = parse_mix(args.mix)
        args.steps = [] if args.rate else [float(v) for v in args.rates.split(",") if v.strip()]
    except ValueError as exc:
        parser.error(f"--mix / --rates: {exc}")
    if args.rate is not None and (args.rate <= 0 or args.hold_seconds <= 0):
        parser.error("--rate needs a positive rate and --hold-seconds")
    if not args.rate and (not args.steps or min(args.steps) <= 0 or args.step_seconds <= 0):
        parser.error("--rates must be positive numbers and --step-seconds positive")
    if min(args.orders, args.clients, args.workers, args.threads, args.celery_concurrency, args.staff_users) < 1:
        parser.error("--orders, --clients, --workers, --threads, --celery-concurrency, --staff-users must be positive")
    if args.hold_seconds < 0 or args.warmup_seconds < 0 or args.drain_seconds < 0:
        parser.error("--hold-seconds, --warmup-seconds and --drain-seconds cannot be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url, db_name = droppable_database(DEFAULT_DATABASE_URL, args.db_name, DEFAULT_DB_NAME)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    sink = Sink()
    sink.start()
    try:
        with tempfile.TemporaryDirectory(prefix="oms-bench-mixed-") as folder:
            env = production_env(
                url=url,
                redis_url=redis_url,
                static_root=str(Path(folder) / "static"),
                allowed_hosts="127.0.0.1",
                OMS_VAR_DIR=folder,  # beat's schedule, media (invoices, labels)
                **sink.env(),
            )
            return run(args, env, url=url, db_name=db_name, redis_url=redis_url, sink=sink, folder=Path(folder))
    finally:
        sink.stop()


def run(args: argparse.Namespace, env: dict[str, str], *, url: str, db_name: str, redis_url: str, sink: Sink,
        folder: Path) -> int:  # fmt: skip
    print_machine_facts("Mixed-load benchmark")
    print(f"  PostgreSQL  : {recreate_database(url, db_name)}, database {db_name} (dropped and re-created)")
    migrate(env)
    began = time.monotonic()
    manage(env, "seed_demo", "--orders", str(args.orders), "--credentials-file", str(folder / "credentials.txt"))
    print(f"  seed        : seed_demo --orders {args.orders:,} took {time.monotonic() - began:.0f} s")
    manage(env, "collectstatic", "--noinput")
    api_key = manage(env, "create_api_client", API_CLIENT).strip().splitlines()[-1]
    setup_django(env)
    receive_stock()
    users = staff_users(args.staff_users)
    options = gunicorn_options(workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    mix = ", ".join(f"{kind} {weight / sum(args.mix.values()) * 100:.0f}%" for kind, weight in args.mix.items())
    print(f"  app server  : gunicorn {' '.join(options)}, DEBUG off, no access log")
    print(f"  worker      : celery -A oms worker -c {args.celery_concurrency} (every queue) and celery -A oms beat")
    print(f"  SMTP sink   : aiosmtpd on 127.0.0.1:{sink.port}, its own process")
    print(f"  mix         : {mix}; staff pages {STAFF_PAGES}; tracking statuses {TRACKING_STATUSES}")
    plan = f"hold {args.rate:g}/s" if args.rate else f"climb {args.steps} ({args.step_seconds:g} s each)"
    print(
        f"  load        : {args.arrivals} arrivals, up to {args.clients} threads; {plan}, then hold"
        f" {args.hold_seconds:g} s; p95 target {args.target_ms:g} ms; {args.warmup_seconds:g} s warm-up first"
    )

    from django.db import connections

    connections.close_all()
    logs = {name: folder / f"{name}.log" for name in ("gunicorn", "worker", "beat")}
    windows: list[Window] = []
    problems: list[str] = []
    with (
        gunicorn(env, options, logs["gunicorn"]) as (base_url, gunicorn_pid),
        celery_worker(env, args.celery_concurrency, logs["worker"], node="bench-mixed@%h", queue=None) as worker,
        celery_beat(env, logs["beat"], folder / "celerybeat-schedule") as beat,
    ):
        print(f"  backlog     : {drain_seed_backlog(timeout=args.drain_seconds)}")
        cookies = [log_in(base_url, name, password) for name, password in users]
        fixtures = read_fixtures(
            api_key=api_key, staff_cookies=cookies, sample=args.sample, rng=random.Random(args.seed)
        )
        print(
            f"  fixtures    : {len(fixtures.parcels)} parcels in transit, {len(fixtures.customer_tokens)} orders for"
            f" status pages and order pages, {len(fixtures.queue_urls)} queue pages,"
            f" {len(fixtures.search_urls)} searches,"
            f" {len(cookies)} staff sessions"
        )
        processes = Processes(
            gunicorn_pid=gunicorn_pid, worker_pid=worker.pid, beat_pid=beat.pid, sink_pid=sink.pid, db_name=db_name
        )
        processes.thread.start()
        load = Load(base_url, fixtures, timeout=args.timeout, seed=args.seed)
        since = datetime.now(UTC)
        sink_before = sink.count
        seeds = itertools.count(args.seed * 1000)
        first = args.rate or args.steps[0]
        if args.warmup_seconds:
            print(f"  warm-up: {first:g} requests/s for {args.warmup_seconds:g} s (not measured)", flush=True)
            outcomes, _, _ = drive(
                load, rate=first, seconds=args.warmup_seconds, mix=args.mix, poisson=args.arrivals == "poisson",
                pool_size=args.clients, seed=next(seeds),
            )  # fmt: skip
            warm_errors = [o for o in outcomes if o.error]
            for outcome in warm_errors[:3]:
                print(f"    ! warm-up {outcome.label}: {' '.join(outcome.error.split())[:400]}")
            if warm_errors:
                problems.append(f"{len(warm_errors)} warm-up requests failed")
        hold_rate = args.rate
        for rate in args.steps:
            window = run_window(f"step {rate:g}/s", rate, args.step_seconds, load=load, processes=processes, args=args,
                                redis_url=redis_url, seed=next(seeds))  # fmt: skip
            windows.append(window)
            if not window.passed(args.target_ms):
                print(f"  step {rate:g}/s failed: the climb stops here.")
                break
            hold_rate = rate
        if hold_rate and args.hold_seconds:
            windows.append(run_window("hold", hold_rate, args.hold_seconds, load=load, processes=processes, args=args,
                                      redis_url=redis_url, seed=next(seeds)))  # fmt: skip
        print()
        print(f"After the load ({len(fixtures.created)} orders placed):")
        problems += check_emails(fixtures, sink, sink_before=sink_before, since=since, timeout=args.drain_seconds)
        print(f"  backlog: {backlog(redis_url)}")
        memory = processes.summary()
        processes.stop.set()
    for name, path in logs.items():
        errors = [line for line in log_tail(path, 5000).splitlines() if "Traceback" in line or " ERROR" in line]
        if errors:
            problems.append(f"the {name} log has {len(errors)} error lines, such as: {errors[0][:300]}")

    print()
    print(
        "Memory per process, MiB: start-up peak = VmHWM before the first measured window (start, warm-up);"
        " under load = the highest VmHWM of the measured windows (restarted at each) or RSS sampled every second;"
        " PSS counts the pages a process shares with others (a forked pool, libraries) in proportion."
    )
    print("\n".join(memory))
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    passed = [w.rate for w in windows if w.name.startswith("step") and w.passed(args.target_ms)]
    hold = next((w for w in windows if w.name == "hold"), None)
    if args.steps:
        print(f"Highest rate of the climb with p95 < {args.target_ms:g} ms and no error: "
              + (f"{max(passed):g} requests/s" if passed else "none"))  # fmt: skip
        if not passed:
            problems.append("no step of the climb passed")
    if hold is not None:
        print(
            f"Hold at {hold.rate:g} requests/s for {hold.seconds:g} s: {len(hold.outcomes)} requests,"
            f" {hold.errors} errors,"
            f" p95 {_ms(hold.p95_ms())} ms -> {'PASS' if hold.passed(args.target_ms) else 'FAIL'}"
        )
        if not hold.passed(args.target_ms):
            problems.append(f"the hold at {hold.rate:g} requests/s missed p95 < {args.target_ms:g} ms or had errors")
    failed_requests = sum(w.errors for w in windows)
    if failed_requests:
        problems.append(f"{failed_requests} requests failed")
    for problem in problems:
        print(f"  ! {problem}")
    if not problems:
        print("Check: no request failed, every order placed got one 'order received' email, the sink got every email.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
