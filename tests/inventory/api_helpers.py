"""Shared by the inventory API tests: bins made directly, and a snapshot of everything the
stock endpoints could write, to show that a refused request changed nothing."""

from __future__ import annotations

import itertools
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.models import (
    Allocation,
    Location,
    LowStockAlert,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from orders import services
from orders.models import Order
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory

_refs = itertools.count(1)


def bin_at(code: str, *, warehouse: str = "MAIN", pick_sequence: int = 10) -> Location:
    wh, _ = Warehouse.objects.get_or_create(code=warehouse, defaults={"name": f"Warehouse {warehouse}"})
    location, _ = Location.objects.get_or_create(code=code, defaults={"warehouse": wh, "pick_sequence": pick_sequence})
    return location


def stock_state() -> dict[str, Any]:
    """Counters, ledger, reservations, allocations, rules and alerts as stored."""
    return {
        "levels": sorted(StockLevel.objects.values_list("product__sku", "location__code", "on_hand", "allocated")),
        "ledger": StockMovement.objects.count(),
        "reservations": sorted(Reservation.objects.values_list("order_number", "line_id", "quantity_allocated")),
        "allocations": sorted(Allocation.objects.values_list("reservation_id", "stock_id", "quantity")),
        "rules": sorted(ReorderRule.objects.values_list("id", "product_id", "warehouse_id", "reorder_point")),
        "alerts": sorted(LowStockAlert.objects.values_list("id", "resolved_at")),
    }


def counters(sku: str, location: str) -> tuple[int, int]:
    level = StockLevel.objects.get(product__sku=sku, location__code=location)
    return level.on_hand, level.allocated


def count_queries(client: APIClient, url: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.data
    return len(ctx.captured_queries)


def place(sku: str, quantity: int, *, allow_backorder: bool = False) -> Order:
    """Places an order for one line through ``orders.services.order_create`` (allocation
    happens there)."""
    ShippingMethodFactory()
    ProductFactory(sku=sku)
    draft = services.OrderDraft(
        channel="web",
        external_reference=f"API-{next(_refs)}",
        currency="EUR",
        customer=services.CustomerData(email="ann@example.com", name="Ann Lee"),
        shipping_address=services.AddressData(
            name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL"
        ),
        lines=[services.LineData(sku=sku, quantity=quantity)],
        shipping_method="standard",
        allow_backorder=allow_backorder,
    )
    return services.order_create(actor=SYSTEM, draft=draft).order
