"""Warehouse set-ups for fulfillment tests: bins with stock, paid orders, package types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fulfillment.models import PackageType
from inventory.models import Location, Warehouse
from oms.common.actors import Actor
from orders import services
from orders.demo import order_walk_to
from orders.enums import OrderStatus
from orders.models import Order
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory, make_staff, stock_up

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
