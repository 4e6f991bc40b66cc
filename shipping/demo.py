"""Brings a demo order to any status the way the shop would: through the warehouse (picking,
packing), then labels made by the carrier adapter, parcels scanned out on the carrier's
manifest, and tracking events arriving by the signed webhook. Used by ``seed_demo``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.utils import timezone

from fulfillment.demo import order_walk_to as walk_through_the_warehouse
from oms.common.actors import Actor
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus
from orders.models import Order
from shipping.models import Label
from shipping.services.handover import manifest_open, parcel_scan_out
from shipping.services.labels import LABELS_TASK
from shipping.services.tracking import SIGNATURE_HEADER, sign_body, tracking_receive
from shipping.tasks import create_order_labels

_CARRIER_HAS_IT = (OrderStatus.SHIPPED, OrderStatus.EXECUTED, OrderStatus.RETURNED)
# What the carrier reports for orders in each status, oldest first.
_TRACKING: dict[str, list[str]] = {
    OrderStatus.SHIPPED: ["in_transit"],
    OrderStatus.EXECUTED: ["in_transit", "out_for_delivery", "delivered"],
    OrderStatus.RETURNED: ["in_transit", "attempted_delivery", "returned_to_sender"],
}


def make_labels(order_number: str) -> None:
    """Runs the order's pending label work now, as a worker would."""
    for pk in OutboxMessage.objects.filter(
        task=LABELS_TASK, payload__order=order_number, state=OutboxState.PENDING
    ).values_list("pk", flat=True):
        create_order_labels(pk)


def order_walk_to(*, order: Order, status: str, actor: Actor, picker: Any, packer: Any, shipper: Any, box: str) -> None:
    """Moves a new order to ``status``. Orders past packing get labels; those the carrier has
    are scanned out at the dock and followed by tracking events."""
    if status not in (OrderStatus.PACKED, *_CARRIER_HAS_IT):
        walk_through_the_warehouse(order=order, status=status, actor=actor, picker=picker, packer=packer, box=box)
        return
    walk_through_the_warehouse(
        order=order, status=OrderStatus.PACKED, actor=actor, picker=picker, packer=packer, box=box
    )
    make_labels(order.number)
    if status == OrderStatus.PACKED:
        return
    dock = Actor.for_user(shipper)
    labels = list(Label.objects.filter(shipment__order=order, status="live").select_related("shipment__carrier"))
    for label in labels:
        manifest, _new = manifest_open(actor=dock, carrier_code=label.shipment.carrier.code)
        parcel_scan_out(actor=dock, manifest_number=manifest.number, code=label.tracking_number or "")
    start = timezone.now()
    for label in labels:
        carrier = label.shipment.carrier
        events = [
            {
                "tracking_number": label.tracking_number,
                "status": kind,
                "occurred_at": (start + timedelta(minutes=step)).isoformat(),
                "event_id": f"demo-{label.tracking_number}-{step}",
                "location": "Warsaw depot",
            }
            for step, kind in enumerate(_TRACKING[status])
        ]
        body = json.dumps({"events": events}).encode()
        tracking_receive(
            carrier_code=carrier.code, body=body, headers={SIGNATURE_HEADER: sign_body(carrier.webhook_secret, body)}
        )
