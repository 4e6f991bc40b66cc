"""A real Celery worker on the real Redis makes the labels of an order once it is packed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from oms.celery import app
from shipping import tracking_numbers
from shipping.enums import LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment
from tests.shipping.helpers import packed_order

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A oms worker`` on this test process's queue and test database."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)  # nothing left by earlier tests
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "oms", "worker", "-Q", queue, "-c", "1", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_labels_appear_after_packing_made_by_a_real_worker(worker: subprocess.Popen[bytes]) -> None:
    order = packed_order()  # committed: the outbox message is relayed to Redis after commit

    appeared = wait_for(lambda: Label.objects.filter(shipment__order=order, status=LabelStatus.LIVE).exists())

    if not appeared:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0].decode(errors="replace")
        pytest.fail(f"No label within 60 s. Worker output:\n{output[-3000:]}")
    label = Label.objects.get(shipment__order=order)
    assert tracking_numbers.is_valid(label.tracking_number)
    assert bytes(label.pdf).startswith(b"%PDF")
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED
