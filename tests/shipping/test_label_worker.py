"""A real Celery worker on the real Redis makes the labels of an order once it is packed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from shipping import tracking_numbers
from shipping.enums import LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment
from tests.celery_worker import celery_worker, wait_for, worker_output
from tests.shipping.helpers import packed_order


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    with celery_worker() as process:
        yield process


@pytest.mark.django_db(transaction=True)
def test_labels_appear_after_packing_made_by_a_real_worker(worker: subprocess.Popen[bytes]) -> None:
    order = packed_order()  # committed: the outbox message is relayed to Redis after commit

    appeared = wait_for(lambda: Label.objects.filter(shipment__order=order, status=LabelStatus.LIVE).exists())

    if not appeared:
        pytest.fail(f"No label within 60 s. Worker output:\n{worker_output(worker)}")
    label = Label.objects.get(shipment__order=order)
    assert tracking_numbers.is_valid(label.tracking_number)
    assert bytes(label.pdf).startswith(b"%PDF")
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED
