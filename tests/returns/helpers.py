"""Delivered orders to return, and the state a refused return must leave untouched."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from orders.enums import OrderStatus
from orders.models import Order, OrderEvent, Refund
from returns.models import Return, ReturnEvent, ReturnInspection, ReturnLine
from tests.fulfillment.helpers import paid_order, stock


def delivered_order(lines: dict[str, int] | None = None, *, days_ago: int = 2) -> Order:
    """An order paid, shipped and delivered ``days_ago`` days ago, for SKUs stocked in bin
    A-01 (MUG) and A-02 (TEE)."""
    lines = lines or {"MUG": 2, "TEE": 1}
    for n, sku in enumerate(sorted(lines), 1):
        stock(sku, 10, f"A-0{n}", n * 10, price="20.00")
    order = paid_order(lines, status=OrderStatus.EXECUTED)
    Order.objects.filter(pk=order.pk).update(executed_at=timezone.now() - timedelta(days=days_ago))
    return Order.objects.get(pk=order.pk)


def returns_state() -> dict[str, Any]:
    """Everything a return service may write, to prove a refused call wrote nothing."""
    return {
        "returns": list(Return.objects.values("number", "status", "decision_note", "refund_id").order_by("id")),
        "lines": list(ReturnLine.objects.values("quantity", "quantity_received").order_by("id")),
        "inspections": ReturnInspection.objects.count(),
        "events": ReturnEvent.objects.count(),
        "order_events": OrderEvent.objects.count(),
        "orders": list(Order.objects.values("status", "amount_refunded").order_by("id")),
        "refunds": Refund.objects.count(),
        "stock": list(StockLevel.objects.values("on_hand", "allocated").order_by("id")),
        "movements": StockMovement.objects.count(),
    }
