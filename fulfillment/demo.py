"""Brings an order to any status the way the warehouse would: orders that reach the
warehouse are picked from a real pick list (units leave their bins through the ledger) and
packed at the station into a weighed box. Used by ``seed_demo``."""

from __future__ import annotations

from typing import Any

from fulfillment.enums import EntryState
from fulfillment.models import PickListOrder
from fulfillment.selectors import pick_list_tasks
from fulfillment.services.packing import (
    expected_weight,
    pack_scan,
    package_close,
    package_open,
    packing_complete,
    packing_open,
)
from fulfillment.services.picking import order_pick_start, pick_scan
from oms.common.actors import Actor
from orders import services
from orders.demo import STEPS_TO
from orders.demo import order_walk_to as walk_without_warehouse
from orders.enums import OrderStatus
from orders.models import Order

_AFTER_PACKING = {
    "ship": services.order_mark_shipped,
    "execute": services.order_mark_executed,
    "return": services.order_mark_returned,
}


def pick_and_pack(*, number: str, picker: Any, packer: Any, box: str) -> Order:
    """Picks an order alone on a pick list, then packs it into one ``box``."""
    picking_actor = Actor.for_user(picker)
    order_pick_start(actor=picking_actor, number=number)
    entry = PickListOrder.objects.select_related("pick_list").get(order__number=number, state=EntryState.PICKING)
    for task in pick_list_tasks(entry.pick_list):
        pick_scan(
            actor=picking_actor,
            number=entry.pick_list.number,
            code=task.product.barcode or task.product.sku,
            task_id=task.pk,
            quantity=task.quantity,
        )
    packing_actor = Actor.for_user(packer)
    packing_open(actor=packing_actor, code=entry.tote)
    package = package_open(actor=packing_actor, order_number=number, package_type=box)
    for line in Order.objects.get(number=number).lines.all():
        pack_scan(actor=packing_actor, order_number=number, code=line.sku, quantity=line.quantity)
    package_close(
        actor=packing_actor, order_number=number, sequence=package.sequence, weight_grams=expected_weight(package)
    )
    return packing_complete(actor=packing_actor, order_number=number)


def order_walk_to(*, order: Order, status: str, actor: Actor, picker: Any, packer: Any, box: str) -> None:
    """Moves a new order to ``status``; ``picking`` leaves it started on its pick list."""
    steps = STEPS_TO[status]
    if "pick" not in steps:
        walk_without_warehouse(order=order, status=status, actor=actor)
        return
    walk_without_warehouse(order=order, status=OrderStatus.PAID, actor=actor)
    if status == OrderStatus.PICKING:
        order_pick_start(actor=Actor.for_user(picker), number=order.number)
        return
    pick_and_pack(number=order.number, picker=picker, packer=packer, box=box)
    for step in steps[steps.index("pack") + 1 :]:
        _AFTER_PACKING[step](actor=actor, number=order.number)
