"""Warehouse set-ups for fulfillment tests: bins with stock, paid orders, package types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fulfillment.enums import EntryState
from fulfillment.models import (
    AccuracyEvent,
    Package,
    PackageItem,
    PackageType,
    PackingSession,
    PickList,
    PickListOrder,
    PickTask,
)
from fulfillment.selectors import pick_list_tasks
from fulfillment.services import packing, picking
from inventory.models import CycleCount, Location, StockLevel, StockMovement, Warehouse
from oms.common.actors import Actor
from orders import services
from orders.demo import order_walk_to
from orders.enums import OrderStatus
from orders.models import Order, OrderEvent
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory, make_order, make_staff, stock_up

_n = iter(range(1, 1_000_000))


def bin_(code: str, sequence: int, warehouse: str = "MAIN") -> Location:
    wh, _ = Warehouse.objects.get_or_create(code=warehouse, defaults={"name": f"Warehouse {warehouse}"})
    loc, _ = Location.objects.get_or_create(code=code, defaults={"warehouse": wh, "pick_sequence": sequence})
    return loc


def stock(sku: str, quantity: int, code: str, sequence: int, *, warehouse: str = "MAIN", **product: Any) -> Location:
    bin_(code, sequence, warehouse)
    ProductFactory(sku=sku, **product)
    return stock_up(sku, quantity, location=code, warehouse=warehouse)


def paid_order(lines: dict[str, int], *, actor: Actor = SYSTEM, status: str = OrderStatus.PAID) -> Order:
    """An order for SKUs already stocked, placed and paid through the services."""
    ShippingMethodFactory()
    draft = services.OrderDraft(
        channel="web",
        external_reference=f"F-{next(_n)}",
        currency="EUR",
        customer=services.CustomerData(email="ann@example.com", name="Ann Lee"),
        shipping_address=services.AddressData(
            name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL"
        ),
        lines=[services.LineData(sku=sku, quantity=q) for sku, q in lines.items()],
        shipping_method="standard",
        allow_backorder=True,
    )
    order = services.order_create(actor=actor, draft=draft).order
    order_walk_to(order=order, status=status, actor=actor)
    return Order.objects.get(number=order.number)


def box(code: str = "BOX-S", tare: int = 150) -> PackageType:
    return PackageType.objects.get_or_create(
        code=code,
        defaults={"name": f"Box {code}", "length_mm": 300, "width_mm": 200, "height_mm": 100, "tare_grams": tare},
    )[0]


def picker(username: str | None = None) -> Any:
    return make_staff("picker", username)


def packer(username: str | None = None) -> Any:
    return make_staff("packer", username)


def manager(username: str | None = None) -> Any:
    return make_staff("manager", username)


PRICE = Decimal("10.00")


def pick_whole_list(number: str, actor: Actor) -> None:
    """Scans every open task of a started pick list with the right SKU and quantity."""
    for task in pick_list_tasks(PickList.objects.get(number=number)):
        if task.remaining:
            picking.pick_scan(
                actor=actor, number=number, code=task.product.sku, task_id=task.pk, quantity=task.remaining
            )


def picked_order() -> Order:
    """A paid order picked from its own pick list: waiting for the packer."""
    boss = Actor.for_user(manager())
    order = make_order(OrderStatus.PAID, skus=(f"PICKED-{Order.objects.count()}",))
    picking.order_pick_start(actor=boss, number=order.number)
    entry = PickListOrder.objects.select_related("pick_list").get(order=order)
    pick_whole_list(entry.pick_list.number, boss)
    return Order.objects.get(pk=order.pk)


def listed_order() -> Order:
    """A paid order on a pick list that its picker has not started yet."""
    order = make_order(OrderStatus.PAID, skus=(f"LISTED-{Order.objects.count()}",))
    picking.pick_list_create(actor=Actor.for_user(manager()), picker=picker(), order_numbers=[order.number])
    return order


def packed_at_station(order: Order, actor: Actor | None = None) -> Order:
    """A paid order picked from its own pick list and packed at a station into one box of the
    right weight: everything short of completing its packing."""
    actor = actor or Actor.for_user(manager())
    picking.order_pick_start(actor=actor, number=order.number)
    entry = PickListOrder.objects.select_related("pick_list").get(order=order, state=EntryState.PICKING)
    pick_whole_list(entry.pick_list.number, actor)
    packing.packing_open(actor=actor, code=order.number)
    packing.package_open(actor=actor, order_number=order.number, package_type=box().code)
    for line in order.lines.all():
        packing.pack_scan(actor=actor, order_number=order.number, code=line.sku, quantity=line.quantity)
    package = Package.objects.get(order=order, sequence=1)
    packing.package_close(
        actor=actor, order_number=order.number, sequence=1, weight_grams=packing.expected_weight(package)
    )
    return Order.objects.get(pk=order.pk)


def fulfillment_state() -> dict[str, Any]:
    """Everything a fulfillment endpoint could write, to show a refusal changed nothing."""
    return {
        "pick_lists": sorted(PickList.objects.values_list("number", "status", "picker_id", "updated_at")),
        "entries": sorted(PickListOrder.objects.values_list("id", "state", "note")),
        "tasks": sorted(PickTask.objects.values_list("id", "status", "quantity", "quantity_picked", "location_id")),
        "orders": sorted(Order.objects.values_list("number", "status", "updated_at")),
        "order_events": OrderEvent.objects.count(),
        "stock": sorted(StockLevel.objects.values_list("id", "on_hand", "allocated")),
        "movements": StockMovement.objects.count(),
        "counts": CycleCount.objects.count(),
        "sessions": sorted(PackingSession.objects.values_list("id", "status", "station_id")),
        "packages": sorted(
            Package.objects.values_list("id", "status", "package_type_id", "weight_grams", "weight_override_by")
        ),
        "items": sorted(PackageItem.objects.values_list("id", "quantity")),
        "package_types": sorted(PackageType.objects.values_list("code", "name", "tare_grams", "is_active")),
        "accuracy_events": AccuracyEvent.objects.count(),
    }
