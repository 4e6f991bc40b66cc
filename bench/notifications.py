"""Notifications benchmark: how many customer status emails a real Celery worker delivers per
second to a mail server, against a plain send loop measured in the same run.

Each email is the "shipped" email of an order, sent by the path production uses: an outbox
message for ``notifications.tasks.email_customer`` carrying the ``order.shipped`` payload the
order service writes (``orders.services.lifecycle``), whose handler loads the order, renders
the text and HTML parts from the templates (lines, carrier, tracking link, signed status
link), stores the ``Notification`` and sends it over SMTP. Orders, lines, events, packages,
shipments, live labels and the messages are made in bulk through the ORM before timing.

The mail server is an SMTP sink (aiosmtpd on 127.0.0.1) in its own process, counting what it
accepts, so the sender and the sink do not share one interpreter. Phases, one after the other,
each on its own fresh orders, in its own database (``oms_bench_notifications`` by default,
dropped and re-created on each run):

(a) the baseline: a send loop in this process, no database and no rendering: one rendered
    "shipped" email sent N times with Django's SMTP backend, a new connection per email as
    ``notification_deliver`` makes it; also the same loop on one reused connection;
(b) the task body in this process: ``email_customer(message_id)`` for each message in turn;
(c) a real worker, ``celery -A oms worker -c N`` on Redis: the messages are relayed with
    ``outbox_relay`` and the clock runs from the relay until the sink holds every email.

Run from the project root, with the PostgreSQL and Redis the tests use::

    .venv/bin/python bench/notifications.py                 # 2,000 emails per phase, ~2 minutes
    .venv/bin/python bench/notifications.py --emails 5000 --celery 2,8

Figures and their reading: ``docs/performance.md`` ("Notifications").
"""

from __future__ import annotations

import argparse
import itertools
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
    Sink,
    backend_ticks,
    busy_share,
    celery_worker,
    db_seconds,
    droppable_database,
    machine_ticks,
    migrate,
    order_numbers,
    own_cpu,
    print_machine_facts,
    process_ticks,
    python_speed_ms,
    recreate_database,
    setup_django,
    tree_ticks,
)

DEFAULT_DB_NAME = "oms_bench_notifications"
DEFAULT_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
EMAIL_TASK = "notifications.tasks.email_customer"
QUEUE = "emails"  # where CELERY_TASK_ROUTES sends email_customer


# --- CPU accounting over a measured window (Linux /proc; n/a elsewhere) ----------------------


@dataclass
class Meter:
    """CPU seconds of the senders, the database and the sink, and how busy the machine was,
    over one measured window."""

    db_name: str
    sink_pid: int
    worker_pid: int | None = None
    senders: float | None = None
    db: float | None = None
    sink: float | None = None
    busy: float | None = None
    sessions: int | None = None  # PostgreSQL connections opened in the window
    _start: dict[str, Any] = field(default_factory=dict)
    _end_backends: int = 0

    def __enter__(self) -> Meter:
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        self.senders = (
            (end["worker"] - self._start["worker"]) / CLOCK_TICKS
            if self.worker_pid
            else end["own"] - self._start["own"]
        )
        self._end_backends = len(end["db"])
        self.db = db_seconds(self._start["db"], end["db"])
        self.sink = (end["sink"] - self._start["sink"]) / CLOCK_TICKS
        self.busy = busy_share(self._start["machine"], end["machine"])

    def count_sessions(self) -> None:
        """Reads how many connections the window opened (PostgreSQL 14+ counts them at their
        end, so call it once the senders are idle). Backends that lived for one task each
        exited before the last sample, so their CPU cannot be read: ``db`` is then None."""
        sessions = _sessions(self.db_name)
        if sessions is None or self._start["sessions"] is None:
            return
        self.sessions = sessions - self._start["sessions"]
        if self.sessions > self._end_backends + 2:
            self.db = None

    def _sample(self) -> dict[str, Any]:
        return {
            "own": own_cpu(),
            "worker": tree_ticks(self.worker_pid) if self.worker_pid else 0,
            "db": backend_ticks(self.db_name),
            "sink": process_ticks(self.sink_pid),
            "machine": machine_ticks(),
            "sessions": _sessions(self.db_name),
        }


def _sessions(db_name: str) -> int | None:
    """Connections ever opened to ``db_name`` (statistics since the last reset)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [db_name])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


# --- results ---------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    emails: int  # emails the sink received in the measured window
    wall: float
    concurrency: int = 1
    outcomes: Counter[str] = field(default_factory=Counter)
    meter: Meter | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.emails / self.wall if self.wall > 0 else 0.0

    def connections(self) -> str:
        sessions = self.meter.sessions if self.meter else None
        return "n/a" if sessions is None or not self.emails else f"{sessions / self.emails:.2f}"

    def cpu_ms(self, attribute: str) -> str:
        seconds = getattr(self.meter, attribute, None) if self.meter else None
        return "n/a" if seconds is None or not self.emails else f"{seconds * 1000 / self.emails:.2f}"


# --- set-up ----------------------------------------------------------------------------------


@dataclass
class Fixtures:
    product_ids: list[int]
    carrier_id: int
    service_id: int
    station_id: int
    package_type_id: int
    packer_id: int


def seed() -> Fixtures:
    """Two products, the standard shipping method carried by an own-fleet service with a
    tracking page, a warehouse with a packing station, a box and a packer."""
    from django.contrib.auth import get_user_model

    from fulfillment.models import PackageType, PackingStation
    from inventory.models import Product, Warehouse
    from orders.models import ShippingMethod
    from shipping.models import Carrier, CarrierService, ShippingMethodService

    products = [
        Product.objects.create(sku="MUG-ENAMEL", name="Enamel mug", price=Decimal("14.00"), weight_grams=300),
        Product.objects.create(sku="TEA-GREEN-100", name="Green tea, 100 g", price=Decimal("9.50"), weight_grams=120),
    ]
    ShippingMethod.objects.create(code="standard", name="Standard", price=Decimal("4.99"))
    carrier = Carrier.objects.create(
        code="FLEET",
        name="City Fleet",
        tracking_prefix="FL",
        tracking_url_template="https://track.example/{tracking_number}",
    )
    service = CarrierService.objects.create(
        carrier=carrier, code="STD", name="Standard parcel", transit_days=2, pickup_weekdays=[0, 1, 2, 3, 4]
    )
    ShippingMethodService.objects.create(shipping_method_id="standard", service=service)
    warehouse = Warehouse.objects.create(code="MAIN", name="Main warehouse")
    station = PackingStation.objects.create(code="PACK-1", name="Packing 1", warehouse=warehouse)
    box = PackageType.objects.create(
        code="BOX-S", name="Box S", length_mm=300, width_mm=200, height_mm=100, tare_grams=150
    )
    packer = get_user_model().objects.create_user("bench-packer", password=secrets.token_urlsafe(12))
    return Fixtures([p.pk for p in products], carrier.pk, service.pk, station.pk, box.pk, packer.pk)


_serials = itertools.count(1)


def prepare(fixtures: Fixtures, count: int, run_id: str) -> list[int]:
    """``count`` shipped orders (two lines, one packed box with a live label, handed to the
    carrier), each with its status event and the ``email_customer`` message the order service
    writes for ``order.shipped``. Returns the message ids; the messages are not relayed."""
    from django.db import transaction
    from django.utils import timezone

    from fulfillment.enums import PackageStatus, PackingStatus
    from fulfillment.models import Package, PackingSession
    from inventory.models import Product
    from oms.common.actors import ActorKind
    from oms.common.models import OutboxMessage
    from orders.enums import OrderEventKind, OrderStatus
    from orders.models import Address, Order, OrderEvent, OrderLine
    from orders.snapshots import order_snapshot
    from shipping.enums import LabelStatus, ShipmentStatus
    from shipping.models import Label, Shipment

    now = timezone.now()
    today = timezone.localdate()
    products = list(Product.objects.filter(pk__in=fixtures.product_ids).order_by("pk"))
    serials = [next(_serials) for _ in range(count)]
    with transaction.atomic():
        addresses = Address.objects.bulk_create(
            [
                Address(name=f"Customer {n}", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL")
                for n in serials
            ]
        )
        orders = Order.objects.bulk_create(
            [
                Order(
                    number=f"NB{run_id}-{n:06d}",
                    channel="web",
                    status=OrderStatus.SHIPPED,
                    currency="EUR",
                    customer_email=f"customer{n}@example.com",
                    customer_name=f"Customer {n}",
                    shipping_address=address,
                    billing_address=address,
                    shipping_method_id="standard",
                    shipping_price=Decimal("4.99"),
                    subtotal=Decimal("37.50"),
                    total=Decimal("42.49"),
                    amount_paid=Decimal("42.49"),
                    paid_at=now,
                    picking_at=now,
                    packed_at=now,
                    shipped_at=now,
                    ship_by=today,
                    promised_delivery=today + timedelta(days=2),
                )
                for n, address in zip(serials, addresses, strict=True)
            ]
        )
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    position=position,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    unit_price=product.price,
                    quantity=quantity,
                )
                for order in orders
                for position, (product, quantity) in enumerate(zip(products, (2, 1), strict=True), start=1)
            ]
        )
        events = OrderEvent.objects.bulk_create(
            [
                OrderEvent(
                    order=order,
                    kind=OrderEventKind.STATUS_CHANGED,
                    from_status=OrderStatus.PACKED,
                    to_status=OrderStatus.SHIPPED,
                    actor_kind=ActorKind.SYSTEM,
                    actor_label="bench",
                )
                for order in orders
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
        packages = Package.objects.bulk_create(
            [
                Package(
                    order=order,
                    session=session,
                    sequence=1,
                    package_type_id=fixtures.package_type_id,
                    status=PackageStatus.CLOSED,
                    weight_grams=870,
                    expected_weight_grams=870,
                    closed_at=now,
                )
                for order, session in zip(orders, sessions, strict=True)
            ]
        )
        shipments = Shipment.objects.bulk_create(
            [
                Shipment(
                    order=order,
                    service_id=fixtures.service_id,
                    carrier_id=fixtures.carrier_id,
                    status=ShipmentStatus.HANDED_OVER,
                    handed_over_at=now,
                )
                for order in orders
            ]
        )
        Label.objects.bulk_create(
            [
                Label(
                    shipment=shipment,
                    package=package,
                    status=LabelStatus.LIVE,
                    tracking_number=f"FL{run_id.upper()}{n:09d}PL",
                    issued_at=now,
                    zpl="^XA^XZ",
                )
                for n, shipment, package in zip(serials, shipments, packages, strict=True)
            ]
        )
        messages = OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    key=f"order.shipped:{order.number}:{event.pk}>{EMAIL_TASK}",
                    task=EMAIL_TASK,
                    payload={
                        "order": order.number,
                        "from": OrderStatus.PACKED,
                        "to": OrderStatus.SHIPPED,
                        "event": event.pk,
                        "occurred_at": event.created_at.isoformat(),
                        "snapshot": order_snapshot(order),
                        "topic": "order.shipped",
                    },
                    available_at=now + timedelta(hours=1),  # not due for the sweep while measured
                )
                for order, event in zip(orders, events, strict=True)
            ]
        )
    return [m.pk for m in messages]


# --- (a) the baseline: a plain send loop -----------------------------------------------------


def measure_send_loop(fixtures: Fixtures, run: Run, *, reuse_connection: bool) -> Phase:
    """One "shipped" email rendered once, then sent ``--baseline`` times in turn, each to its
    own address with its own Message-ID: the SMTP cost alone, as a floor for (b) and (c)."""
    from email.utils import make_msgid

    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives, get_connection

    from notifications.email_context import customer_context
    from notifications.enums import NotificationKind
    from notifications.rendering import render_email
    from orders.models import Order

    (message_id,) = prepare(fixtures, 1, run.run_id)
    number = order_numbers([message_id])[0]
    order = Order.objects.select_related("shipping_address").get(number=number)
    rendered = render_email(NotificationKind.SHIPPED, customer_context(NotificationKind.SHIPPED, order, {}))
    count, sink = run.args.baseline, run.sink
    emails = []
    for n in range(count):
        email = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[f"baseline{n}@example.com"],
            headers={"Message-ID": make_msgid(idstring="oms", domain="localhost")},
        )
        email.attach_alternative(rendered.html, "text/html")
        emails.append(email)
    expected = sink.count + count
    with Meter(run.db_name, sink.pid) as meter:
        began = time.perf_counter()
        if reuse_connection:
            connection = get_connection()
            connection.open()
            try:
                for email in emails:
                    email.connection = connection
                    email.send()
            finally:
                connection.close()
        else:
            for email in emails:
                email.send()  # a new SMTP connection each, as notification_deliver sends
        sink.wait_for(expected, timeout=60)
        wall = time.perf_counter() - began
    meter.count_sessions()
    return Phase(
        "(a) send loop, 1 connection" if reuse_connection else "(a) send loop",
        count - (expected - sink.count),
        wall,
        meter=meter,
        note="one rendered email, no database" + ("; one SMTP connection for all" if reuse_connection else ""),
    )


# --- (b) the task body in this process -------------------------------------------------------


def measure_task_body(fixtures: Fixtures, run: Run) -> Phase:
    from notifications.tasks import email_customer

    warm = prepare(fixtures, run.args.warmup, run.run_id)
    for message_id in warm:  # templates compiled, connections open
        email_customer(message_id)
    work = prepare(fixtures, run.args.emails, run.run_id)
    run.measured.extend(work)
    sink = run.sink
    expected = sink.count + len(work)
    outcomes: Counter[str] = Counter()
    with Meter(run.db_name, sink.pid) as meter:
        began = time.perf_counter()
        for message_id in work:
            outcomes[email_customer(message_id)] += 1
        sink.wait_for(expected, timeout=60)
        wall = time.perf_counter() - began
    meter.count_sessions()
    return Phase(
        "(b) task body", len(work) - (expected - sink.count), wall, outcomes=outcomes, meter=meter, note="in process"
    )


# --- (c) a real Celery worker ----------------------------------------------------------------


def measure_celery(fixtures: Fixtures, run: Run, concurrency: int) -> Phase:
    from celery import current_app
    from django.db import connections

    from oms.common.models import OutboxState
    from oms.common.outbox import outbox_relay

    warm = prepare(fixtures, run.args.warmup * concurrency, run.run_id)
    work = prepare(fixtures, run.args.emails, run.run_id)
    run.measured.extend(work)
    with current_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)
    sink = run.sink
    log = Path(tempfile.gettempdir()) / f"oms-bench-notifications-worker-{run.run_id}-{concurrency}.log"
    with celery_worker(
        run.worker_env, concurrency, log, node=f"bench-notifications-{concurrency}@%h", queue=QUEUE
    ) as worker:
        # Warm-up: every pool process imports the project, compiles the templates, connects.
        expected = sink.count + len(warm)
        outbox_relay(warm)
        if not sink.wait_for(expected, timeout=120):
            raise SystemExit(f"The Celery worker sent no email in 2 minutes; its log:\n{log.read_text()[-3000:]}")
        expected = sink.count + len(work)
        with Meter(run.db_name, sink.pid, worker.pid) as meter:
            began = time.perf_counter()
            outbox_relay(work)
            sink.wait_for(expected, timeout=600)
            wall = time.perf_counter() - began
        # The last outcomes are recorded just after the last email left.
        deadline = time.monotonic() + 30
        states = _states(work)
        while states.get(OutboxState.PENDING) and time.monotonic() < deadline:
            time.sleep(0.1)
            states = _states(work)
        time.sleep(1)  # the pool's last connections close and are counted
        meter.count_sessions()
    log.unlink(missing_ok=True)
    connections.close_all()
    return Phase(
        f"(c) Celery worker -c {concurrency}",
        len(work) - (expected - sink.count),
        wall,
        concurrency=concurrency,
        outcomes=states,
        meter=meter,
        note="relay -> last email at the sink",
    )


def _states(message_ids: list[int]) -> Counter[str]:
    from django.db.models import Count

    from oms.common.models import OutboxMessage

    rows = OutboxMessage.objects.filter(pk__in=message_ids).values_list("state").annotate(n=Count("id"))
    return Counter({str(state): n for state, n in rows})


# --- main ------------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    worker_env: dict[str, str]
    db_name: str
    sink: Sink
    run_id: str = field(default_factory=lambda: secrets.token_hex(2))
    measured: list[int] = field(default_factory=list)


def check_database(run: Run, sent_by_loops: int) -> list[str]:
    """Every measured order has exactly one "shipped" notification, sent, with its message
    done; the sink received exactly the emails sent, none twice."""
    from notifications.enums import NotificationKind, NotificationState
    from notifications.models import Notification
    from oms.common.models import OutboxMessage

    numbers = order_numbers(run.measured)
    problems = []
    shipped = Notification.objects.filter(order__number__in=numbers, kind=NotificationKind.SHIPPED)
    if shipped.count() != len(numbers):
        problems.append(f"{shipped.count()} shipped notifications for {len(numbers)} measured orders")
    unsent = shipped.exclude(state=NotificationState.SENT).count()
    if unsent:
        problems.append(f"{unsent} measured notifications not sent")
    not_done = OutboxMessage.objects.filter(pk__in=run.measured).exclude(state="done").count()
    if not_done:
        problems.append(f"{not_done} measured email messages not done")
    sent = Notification.objects.filter(state=NotificationState.SENT).count()
    if run.sink.count != sent + sent_by_loops:
        problems.append(f"the sink received {run.sink.count} emails for {sent + sent_by_loops} sent")
    return problems


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2000, help="emails measured in (b) and (c) (default 2000)")
    parser.add_argument("--baseline", type=int, default=2000, help="emails sent by each loop in (a) (default 2000)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured emails per process first (default 20)")
    parser.add_argument(
        "--celery", default="2", help="worker concurrencies for (c), comma-separated; empty skips (default 2)"
    )
    parser.add_argument("--no-task-body", action="store_true", help="skip (b)")
    parser.add_argument(
        "--db-name",
        default=os.environ.get("BENCH_NOTIFICATIONS_DB_NAME"),
        help="benchmark database, dropped and re-created (default from BENCH_DATABASE_URL: oms_bench_notifications)",
    )
    args = parser.parse_args(argv)
    args.celery_levels = [int(v) for v in args.celery.split(",") if v.strip()]
    if args.emails < 1 or args.baseline < 1 or args.warmup < 1 or min(args.celery_levels, default=1) < 1:
        parser.error("--emails, --baseline, --warmup and --celery must be positive")
    return args


def print_results(phases: list[Phase]) -> None:
    base = phases[0].rate
    print()
    print(
        f"{'phase':<26} {'emails':>6} {'wall s':>7} {'emails/s':>9} {'vs (a)':>7} {'CPU busy':>8}"
        f"  CPU ms/email: senders     db   sink  db conn/email  note"
    )
    for p in phases:
        busy = "n/a" if p.meter is None or p.meter.busy is None else f"{p.meter.busy * 100:.0f}%"
        print(
            f"{p.name:<26} {p.emails:>6} {p.wall:>7.2f} {p.rate:>9.1f} {p.rate / base if base else 0:>7.2f} {busy:>8}"
            f"  {'':>13}{p.cpu_ms('senders'):>7} {p.cpu_ms('db'):>6} {p.cpu_ms('sink'):>6}"
            f"  {p.connections():>13}  {p.note}"
        )
        other = {k: v for k, v in p.outcomes.items() if k != "done"}
        if other:
            print(f"  ! {p.name}: outcomes other than done: {other}")
    print()
    print("vs (a) = emails/s divided by the plain send loop's (a new SMTP connection per email, as the task")
    print("sends). CPU ms/email: senders = this process in (a) and (b), the worker and its pool in (c);")
    print("db = PostgreSQL backends of the benchmark database (n/a when they lived one task each and were")
    print("gone before the last sample); sink = the SMTP sink's process. db conn/email = PostgreSQL")
    print(f"connections opened per email. CPU busy = share of all {os.cpu_count()} cores busy during the")
    print("window (the sink and PostgreSQL share them).")
    for p in phases:
        if p.name.startswith("(c)"):
            print(
                f"{p.emails} status emails through `celery -A oms worker -c {p.concurrency}` in {p.wall:.2f} s:"
                f" {p.rate:.1f} emails/s, against {base:.1f} emails/s for the plain send loop (a)"
                f" ({p.rate / base if base else 0:.2f}x)."
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url, db_name = droppable_database(DEFAULT_DATABASE_URL, args.db_name, DEFAULT_DB_NAME)
    sink = Sink()
    sink.start()
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
            "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32)),
            **sink.env(),
        }
        env.pop("DJANGO_DEBUG", None)
        run = Run(args=args, worker_env=env, db_name=db_name, sink=sink)
        return _run(run, url)
    finally:
        sink.stop()


def _run(run: Run, url: str) -> int:
    args = run.args
    print_machine_facts("Notifications benchmark")
    print(f"  PostgreSQL  : {recreate_database(url, run.db_name)}, database {run.db_name} (dropped and re-created)")
    print(f"  SMTP sink   : aiosmtpd on 127.0.0.1:{run.sink.port}, in its own process, counting what it accepts")
    print(
        f"  workload    : the customer's 'shipped' email (text + HTML: 2 lines, carrier, tracking and status"
        f" links), one per order, through email_customer; {args.emails} emails per phase after {args.warmup}"
        f" warm-up per process; baseline loops {args.baseline}; Celery {args.celery_levels or 'skipped'}"
    )
    migrate(run.worker_env)
    setup_django(run.worker_env)
    fixtures = seed()

    phases = [
        measure_send_loop(fixtures, run, reuse_connection=False),
        measure_send_loop(fixtures, run, reuse_connection=True),
    ]
    sent_by_loops = sum(p.emails for p in phases)
    if not args.no_task_body:
        phases.append(measure_task_body(fixtures, run))
    for concurrency in args.celery_levels:
        phases.append(measure_celery(fixtures, run, concurrency))

    print_results(phases)
    print(f"Python yardstick after the run: sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    problems = check_database(run, sent_by_loops)
    if problems:
        print("Database check FAILED: " + "; ".join(problems))
    else:
        print(
            f"Database check: {len(run.measured)} measured orders, each with one 'shipped' notification, sent;"
            f" every message done; the sink received {run.sink.count} emails, exactly those sent."
        )
    from django.db import connections

    connections.close_all()
    complete = all(p.emails == (args.baseline if p.name.startswith("(a)") else args.emails) for p in phases)
    return 0 if not problems and complete and all(set(p.outcomes) <= {"done"} for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
