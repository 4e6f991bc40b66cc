"""The moving parts of the fault drills, each a real process the drill can stop, kill and start
again: a private Redis server, a private PostgreSQL cluster, the web application under
gunicorn with production settings, and Celery workers with beat.

Private servers, because the drills stop and restart them while other tests run against the
suite's own PostgreSQL and Redis in parallel.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Protocol

import requests

from tests.notifications.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_VERSIONS = Path("/usr/lib/postgresql")
PG_BIN = (
    PG_VERSIONS / max(os.listdir(PG_VERSIONS), key=int, default="15") / "bin" if PG_VERSIONS.exists() else PG_VERSIONS
)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout:.0f} s.\n{log()}")


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class RedisServer:
    """``redis-server`` on a port of its own, keeping nothing on disk (as the suite's)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(self.answers, 10, "redis-server did not answer")

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


class PostgresCluster:
    """A PostgreSQL cluster of its own (initdb into a temporary folder, owned by the
    ``postgres`` user when the drill runs as root), holding a copy of one database of the
    suite's server, and restartable like a production server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="oms-drill-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.as_root = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)  # noqa: S603

    def init(self) -> None:
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "--no-sync", "-A", "trust", "-U", "postgres", "-D", str(self.data))

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def copy_database(self, source_url: str, name: str) -> str:
        """Creates ``name`` here as a copy of the database at ``source_url``; returns its URL."""
        url = f"postgres://postgres@127.0.0.1:{self.port}/{name}"
        subprocess.run(  # noqa: S603
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        dump = subprocess.run(  # noqa: S603
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        subprocess.run(  # noqa: S603
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", url],
            input=dump.stdout, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return url

    def destroy(self) -> None:
        with suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


DRILL_SECRET_KEY = "drill-secret-key-" + "x" * 40


def app_environment(*, database_url: str, redis_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The production settings (``oms.settings``, DEBUG off) pointed at the drill's servers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "OMS_", "PYTEST_", "EMAIL_")) and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="oms.settings",
        DJANGO_SECRET_KEY=DRILL_SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        OMS_VAR_DIR=str(var_dir),
        OMS_MEDIA_ROOT=str(var_dir / "media"),
        OMS_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Process:
    """A command in its own process group, its output in a file the drill shows on failure."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], var_dir: Path) -> None:
        self.command = command
        self.env = env
        self.log_path = var_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and every pool child at once."""
        _stop(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


class WebServer(Process):
    def __init__(self, env: dict[str, str], var_dir: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "gunicorn", "oms.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--worker-class", "gthread", "--threads", "2", "--timeout", "60",
            "--no-control-socket",  # one fixed path per user: two servers at once would share it
        ]  # fmt: skip
        super().__init__("web", command, env, var_dir)

    def start(self) -> None:
        super().start()

        def listening() -> bool:
            try:
                requests.get(f"{self.url}/healthz", timeout=10)
            except (requests.ConnectionError, requests.Timeout):
                return False
            return True

        wait_until(listening, 60, "gunicorn did not answer", self.output)


class Worker(Process):
    """``celery -A oms worker`` consuming every queue, with beat in the same process when
    asked (as ``make run`` starts it)."""

    def __init__(self, env: dict[str, str], var_dir: Path, *, concurrency: int = 2, beat: bool = True) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "oms", "worker", "-c", str(concurrency), "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if beat:
            command += ["--beat", "--schedule", str(var_dir / "celerybeat-schedule")]
        super().__init__("worker", command, env, var_dir)


class Stoppable(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


@contextmanager
def running(*parts: Stoppable) -> Iterator[None]:
    """Starts the parts in order; stops every one that started, in reverse, whatever happens."""
    with ExitStack() as stack:
        for part in parts:
            stack.callback(part.stop)
            part.start()
        yield
