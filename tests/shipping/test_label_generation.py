"""Labels are made after packing, one per package, by the carrier adapter in a worker."""

from __future__ import annotations

import pytest

from oms.common.models import OutboxState
from orders.enums import OrderStatus
from shipping import tracking_numbers
from shipping.enums import LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment
from shipping.tasks import create_order_labels
from tests.shipping.helpers import label_messages, packed_order

pytestmark = pytest.mark.django_db


def test_packing_an_order_queues_its_labels_in_the_same_transaction() -> None:
    order = packed_order()

    messages = label_messages(order)
    assert order.status == OrderStatus.PACKED
    assert [(m.state, m.payload["order"]) for m in messages] == [(OutboxState.PENDING, order.number)]
    assert not Label.objects.exists()


def test_the_task_makes_one_live_label_per_package_with_a_valid_tracking_number() -> None:
    order = packed_order()
    message = label_messages(order)[0]

    assert create_order_labels(message.pk) == "done"

    label = Label.objects.get()
    shipment = Shipment.objects.get(order=order)
    assert label.status == LabelStatus.LIVE
    assert tracking_numbers.is_valid(label.tracking_number)
    assert label.tracking_number.startswith("FL") and label.tracking_number.endswith("PL")
    assert bytes(label.pdf).startswith(b"%PDF") and "^XA" in label.zpl
    assert shipment.status == ShipmentStatus.LABELLED


def test_running_the_task_twice_makes_one_label() -> None:
    order = packed_order()
    message = label_messages(order)[0]

    create_order_labels(message.pk)
    assert create_order_labels(message.pk) == "skipped"

    assert Label.objects.filter(shipment__order=order).count() == 1
