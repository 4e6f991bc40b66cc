"""Pieces the benchmarks share: the benchmark database and its Django set-up, a Celery worker
to measure, CPU accounting, and facts about the machine."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import platform
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import requests
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def percentile_ms(latencies: list[float], q: float) -> float:
    """Nearest-rank percentile of latencies in seconds, in milliseconds (NaN when empty)."""
    if not latencies:
        return math.nan
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def database_url(base: str, name: str | None, default_name: str) -> tuple[str, str]:
    """The benchmark database URL (with ``name`` replacing the path when given) and its name."""
    parts = urlsplit(base)
    db_name = name or parts.path.lstrip("/") or default_name
    return urlunsplit(parts._replace(path=f"/{db_name}")), db_name


def droppable_database(default_url: str, name: str | None, default_name: str) -> tuple[str, str]:
    """The URL and name of a benchmark database the script drops and re-creates: from
    ``BENCH_DATABASE_URL`` (else ``default_url``) with ``name`` when given. Refuses a name
    without "bench" in it, so no other database is ever dropped."""
    url, db_name = database_url(os.environ.get("BENCH_DATABASE_URL", default_url), name, default_name)
    if "bench" not in db_name:
        raise SystemExit(f"Refusing to drop database {db_name!r}: its name must contain 'bench'.")
    return url, db_name


def dsn_for(url: str, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    params = {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": parts.username or "postgres",
        "dbname": dbname or parts.path.lstrip("/"),
    }
    if parts.password:
        params["password"] = parts.password
    return " ".join(f"{k}={v}" for k, v in params.items())


def recreate_database(url: str, name: str) -> str:
    """Drops and creates the benchmark database; returns the server's version and commit mode."""
    conn = psycopg2.connect(dsn_for(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            cur.execute("SHOW synchronous_commit")
            sync_commit = cur.fetchone()[0]
    finally:
        conn.close()
    return f"{version} (synchronous_commit={sync_commit})"


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) ticks summed over all cores since boot, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    total = sum(values[:8])
    return total - values[3] - (values[4] if len(values) > 4 else 0), total


def machine_busy_share(seconds: float = 1.0) -> float | None:
    """Share of all cores busy over ``seconds``, or None off Linux."""
    before = machine_ticks()
    time.sleep(seconds)
    return busy_share(before, machine_ticks())


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Share of all cores busy between two ``machine_ticks()`` samples, or None."""
    if not before or not after or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


# --- CPU of processes (Linux /proc; nothing or 0 elsewhere) -----------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def own_cpu() -> float:
    """CPU seconds (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def iter_processes() -> Iterator[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process that can be read."""
    if not Path("/proc/self/stat").exists():
        return
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                yield int(entry), int(stat[1]), cmdline


def process_ticks(pid: int) -> int:
    """CPU ticks (user + system) of one process so far; 0 when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def tree_ticks(root: int) -> int:
    """CPU ticks of a process and its children (a Celery worker and its prefork pool)."""
    return sum(process_ticks(pid) for pid, ppid, _ in iter_processes() if root in (pid, ppid))


def backend_ticks(db_name: str) -> dict[int, int]:
    """CPU ticks of every PostgreSQL backend connected to ``db_name``, by pid."""
    return {
        pid: process_ticks(pid)
        for pid, _, cmdline in iter_processes()
        if cmdline.startswith("postgres:") and f" {db_name} " in cmdline
    }


def db_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds the backends of ``after`` used since ``before`` (a backend new in between
    counts from 0; one gone by ``after`` is not counted)."""
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / CLOCK_TICKS


def python_speed_ms() -> float:
    """A yardstick for comparing machines: best of 5 timings of sum(range(10**6))."""
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        sum(range(10**6))
        timings.append(time.perf_counter() - began)
    return min(timings) * 1000


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def code_version() -> str:
    """The commit the code was measured at, and whether tracked files had changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown (no git)"
    if commit.returncode != 0:
        return "unknown (not a git work tree)"
    return commit.stdout.strip() + (" with uncommitted changes" if status.stdout.strip() else "")


# --- Django, migrations and a Celery worker, on the benchmark database ------------------------


def migrate(env: dict[str, str]) -> None:
    """``manage.py migrate`` with ``env`` (the benchmark database), in a subprocess."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py migrate failed:\n{done.stdout.decode()}\n{done.stderr.decode()}")


def setup_django(env: dict[str, str]) -> None:
    """Django in this process, with ``env`` (the benchmark database) and DEBUG off."""
    os.environ.update(env)
    os.environ.pop("DJANGO_DEBUG", None)  # DEBUG would keep every query in memory
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    warnings.filterwarnings("ignore", message="No directory at")  # STATIC_ROOT: irrelevant here
    django.setup()


@contextlib.contextmanager
def logged_process(
    command: list[str], env: dict[str, str], log: Path, *, ready: bytes, what: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs ``command`` with its output in ``log``; yields once the log holds ``ready``, and
    stops it on leaving (SIGTERM, then SIGKILL after 30 s)."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while ready not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def celery_worker(
    env: dict[str, str], concurrency: int, log: Path, *, node: str, queue: str | None = "celery"
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """``celery -A oms worker -c N -Q queue -n node`` with ``env`` (the benchmark's database and
    Redis), its output in ``log``; ready once it says so, stopped on leaving. ``queue`` None
    consumes every queue the settings declare, as production's worker does."""
    command = [sys.executable, "-m", "celery", "-A", "oms", "worker", "-c", str(concurrency)]
    command += ["-Q", queue] if queue else []
    command += ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", node]
    return logged_process(command, env, log, ready=b" ready.", what="The Celery worker")


def celery_beat(
    env: dict[str, str], log: Path, schedule: Path
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """``celery -A oms beat`` (its own process, as in docker-compose.yml), the schedule file at
    ``schedule``; ready once it has started."""
    command = [sys.executable, "-m", "celery", "-A", "oms", "beat", "--loglevel", "INFO", "-s", str(schedule)]
    return logged_process(command, env, log, ready=b"beat: Starting", what="Celery beat")


def order_numbers(message_ids: list[int]) -> list[str]:
    """The order numbers in the payloads of these outbox messages (Django set up)."""
    from oms.common.models import OutboxMessage

    return [
        payload["order"]
        for payload in OutboxMessage.objects.filter(pk__in=message_ids).values_list("payload", flat=True)
    ]


# --- the request an integrator sends ------------------------------------------------------------


def order_body(
    reference: str, lines: list[tuple[str, int]], *, shipping_method: str = "standard", email: str = "ann@example.com"
) -> dict[str, Any]:
    """The contract body of ``POST /api/v1/orders/``: (SKU, quantity) lines, one customer in Warsaw."""
    return {
        "channel": "web",
        "external_reference": reference,
        "currency": "EUR",
        "customer": {"email": email, "name": "Ann Lee", "phone": "+48600100200"},
        "shipping_address": {
            "name": "Ann Lee",
            "line1": "Main St 1",
            "city": "Warsaw",
            "postal_code": "00-001",
            "country": "PL",
            "phone": "+48600100200",
        },
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "shipping_method": shipping_method,
    }


# --- gunicorn with production settings --------------------------------------------------------


def manage(env: dict[str, str], *args: str) -> str:
    """``manage.py <args>`` with ``env`` in a subprocess; its output, or SystemExit on failure."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def gunicorn_options(*, workers: int, threads: int, worker_class: str) -> list[str]:
    if worker_class == "sync":
        return ["--workers", str(workers), "--worker-class", "sync"]
    return ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def gunicorn(env: dict[str, str], options: list[str], log_path: Path) -> Iterator[tuple[str, int]]:
    """Runs gunicorn in the background; yields (base URL, master pid) once /healthz answers 200.
    Always stops it, gracefully first."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"), "oms.wsgi:application", "--bind", f"127.0.0.1:{port}",
        *options, "--log-level", "warning",
        "--no-control-socket",  # one fixed path per user: another gunicorn (a test) would share it
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_tail(log_path)}")
            try:
                if requests.get(base_url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not become healthy in 30 s:\n{log_tail(log_path)}")
            time.sleep(0.2)
        yield base_url, process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# --- memory of processes (Linux /proc) ---------------------------------------------------------


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(resident set now, its peak: VmRSS, VmHWM) of a process in KiB, or None when it is gone."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if len(values) != 2:
        return None  # a zombie has no memory lines
    return values["VmRSS"], values["VmHWM"]


def proportional_kib(pid: int) -> int | None:
    """A process's proportional set size (Pss: its own pages plus its share of the pages it
    shares, such as a forked pool's) in KiB, from ``/proc/<pid>/smaps_rollup``; None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def reset_peak_memory(pid: int) -> bool:
    """Starts a process's VmHWM again from its current RSS (``/proc/<pid>/clear_refs``, Linux
    4.0+, for a process of the same user); False when it cannot."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def children(pid: int) -> list[int]:
    """The direct children of a process, by pid."""
    return sorted(child for child, ppid, _ in iter_processes() if ppid == pid)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


# --- an SMTP sink, in its own process ----------------------------------------------------------


class _CountingHandler:
    """aiosmtpd handler: accepts every message and counts it."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 Message accepted for delivery"


def _sink_main(port: int, counter: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_CountingHandler(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    """An SMTP server on 127.0.0.1 in a child process; ``count`` is what it has accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        context = multiprocessing.get_context("spawn")
        self._counter = context.Value("q", 0)
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(
            target=_sink_main, args=(self.port, self._counter, self._ready, self._stop), name="smtp-sink", daemon=True
        )

    def start(self) -> None:
        self._process.start()
        if not self._ready.wait(30):
            raise SystemExit("The SMTP sink did not start within 30 s.")

    def stop(self) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    @property
    def pid(self) -> int:
        return int(self._process.pid or 0)

    @property
    def count(self) -> int:
        return int(self._counter.value)

    def wait_for(self, total: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.count < total:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def env(self) -> dict[str, str]:
        """The settings that send Django's mail here."""
        return {
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }


# --- the stock writes of placing an order, in raw SQL (the baseline both benchmarks use) ------

SQL_LOCK = (
    "SELECT s.id, s.product_id, s.location_id, s.on_hand, s.allocated, l.pick_sequence, l.code "
    "FROM inventory_stocklevel s "
    "JOIN inventory_location l ON l.id = s.location_id "
    "JOIN inventory_warehouse w ON w.id = l.warehouse_id "
    "WHERE s.product_id IN %s AND l.is_active AND w.is_active "
    "ORDER BY s.id FOR NO KEY UPDATE OF s"
)
SQL_RESERVATIONS = (
    "INSERT INTO inventory_reservation "
    "(order_number, line_id, product_id, quantity, quantity_allocated, quantity_picked, priority_at, created_at) "
    "VALUES {} RETURNING id"
)
SQL_COUNTERS = (
    "UPDATE inventory_stocklevel s SET on_hand = s.on_hand + v.on_hand, allocated = s.allocated + v.allocated "
    "FROM (VALUES {}) AS v(id, on_hand, allocated) WHERE s.id = v.id"
)
SQL_MOVEMENTS = (
    "INSERT INTO inventory_stockmovement (product_id, location_id, kind, on_hand_delta, allocated_delta, "
    "reason, note, order_number, reference, actor_kind, actor_label, created_at) VALUES {}"
)
SQL_ALLOCATIONS = "INSERT INTO inventory_allocation (reservation_id, stock_id, quantity, created_at) VALUES {}"


def raw_allocate(cur: Any, *, number: str, lines: list[tuple[int, int, int]], actor_label: str, now: datetime) -> None:
    """What ``stock_reserve_order`` writes for (line id, product id, units) lines, by hand:
    lock the SKUs' stock rows in id order, plan the allocation, insert the reservations with
    what they were allocated, raise the counters (one statement), write the ledger and
    allocation rows. Raises RuntimeError when short."""
    product_ids = tuple(sorted({product_id for _, product_id, _ in lines}))
    cur.execute(SQL_LOCK, [product_ids])
    stocks = [list(row) for row in cur.fetchall()]
    stocks.sort(key=lambda s: (s[5], s[6]))  # pick sequence, bin code
    taken: list[tuple[int, list[Any], int]] = []  # (line index, stock row, units)
    allocated = [0] * len(lines)
    for index, (_, product_id, units) in enumerate(lines):
        need = units
        for stock in stocks:
            if stock[1] != product_id or need == 0:
                continue
            take = min(stock[3] - stock[4], need)
            if take > 0:
                stock[4] += take
                need -= take
                allocated[index] += take
                taken.append((index, stock, take))
        if need:
            raise RuntimeError(f"short of stock for product {product_id}")
    values = sql.SQL(", ").join(sql.SQL("(%s, %s, %s, %s, %s, 0, NULL, %s)") for _ in lines)
    cur.execute(
        sql.SQL(SQL_RESERVATIONS).format(values),
        [
            v
            for (line_id, pid, units), done in zip(lines, allocated, strict=True)
            for v in (number, line_id, pid, units, done, now)
        ],
    )
    reservation_ids = [row[0] for row in cur.fetchall()]
    counters: dict[int, int] = {}
    for _, stock, units in taken:
        counters[stock[0]] = counters.get(stock[0], 0) + units
    cur.execute(
        sql.SQL(SQL_COUNTERS).format(
            sql.SQL(", ").join(sql.SQL("(%s::bigint, 0::integer, %s::integer)") for _ in counters)
        ),
        [v for stock_id in sorted(counters) for v in (stock_id, counters[stock_id])],
    )
    cur.execute(
        sql.SQL(SQL_MOVEMENTS).format(
            sql.SQL(", ").join(
                sql.SQL("(%s, %s, 'allocation', 0, %s, '', '', %s, '', 'system', %s, %s)") for _ in taken
            )
        ),
        [v for _, s, units in taken for v in (s[1], s[2], units, number, actor_label, now)],
    )
    cur.execute(
        sql.SQL(SQL_ALLOCATIONS).format(sql.SQL(", ").join(sql.SQL("(%s, %s, %s, %s)") for _ in taken)),
        [v for index, s, units in taken for v in (reservation_ids[index], s[0], units, now)],
    )


def print_machine_facts(title: str) -> float | None:
    """Prints the lines every benchmark's report starts with: the machine, the Python
    yardstick, how busy the cores are before the run, the code version. Returns the busy
    share of the cores (None where it cannot be read)."""
    print(title)
    print(f"  machine     : {os.cpu_count()} cores ({cpu_model()}), {platform.system()} {platform.release()}")
    print(f"  Python      : {platform.python_version()}, sum(range(10**6)) takes {python_speed_ms():.1f} ms")
    busy = machine_busy_share()
    if busy is not None:
        print(f"  before run  : {busy * 100:.0f}% of the cores busy (1-second sample)")
        if busy > 0.1:
            print("  ! the machine is not idle: other work competes for the cores")
    print(f"  code        : {code_version()}")
    return busy


def production_env(
    *, url: str, redis_url: str, static_root: str, allowed_hosts: str = "testserver", **extra: str
) -> dict[str, str]:
    """The environment of the measured Django: production settings (``DJANGO_DEBUG`` unset)
    on the benchmark database and Redis, static files collected into ``static_root``, the
    host names it answers (Django's test client sends ``testserver``), and ``extra``."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32)),
        "DJANGO_ALLOWED_HOSTS": allowed_hosts,
        "OMS_STATIC_ROOT": static_root,
        **extra,
    }
    env.pop("DJANGO_DEBUG", None)
    return env
