"""A real ``celery -A oms worker`` for the tests, on this test process's queue and database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from oms.celery import app

ROOT = Path(__file__).resolve().parents[1]


def suite_database_url() -> str:
    """The URL of the database this test process runs on, for the processes a test starts."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(extra_env: dict[str, str] | None = None, concurrency: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)  # nothing left by earlier tests
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings_test",
        "DATABASE_URL": suite_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "OMS_TEST_QUEUE": queue,
        **(extra_env or {}),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "oms", "worker", "-Q", queue, "-c", str(concurrency),
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def worker_output(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=20)[0].decode(errors="replace")[-3000:]
