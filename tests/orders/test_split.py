"""Splitting off the in-stock lines of a paid order that waits for stock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Allocation, Reservation, StockLevel
from inventory.selectors import stock_shortages
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, OrderLine
from tests.factories import ProductFactory, ShippingMethodFactory, make_order, order_payload, stock_up

pytestmark = pytest.mark.django_db


def _paid_order_with_three_lines(integrator) -> Order:
    for sku in ("TSHIRT-RED-M", "CAP-BLACK", "MUG-LOGO"):
        ProductFactory(sku=sku, price=Decimal("10.00"))
    stock_up("TSHIRT-RED-M", 1, location="A-01-1")
    stock_up("CAP-BLACK", 1, location="A-01-2")
    ShippingMethodFactory(code="standard", price=Decimal("5.00"))
    body = order_payload(
        lines=[
            {"sku": "TSHIRT-RED-M", "quantity": 1},
            {"sku": "CAP-BLACK", "quantity": 3},
            {"sku": "MUG-LOGO", "quantity": 1},
        ],
        allow_backorder=True,
    )
    number = integrator.post("/api/v1/orders/", body, format="json").data["number"]
    integrator.post(
        f"/api/v1/orders/{number}/payments/",
        {"amount": "55.00", "method": "card", "reference": f"pay-{number}"},
        format="json",
    )
    return Order.objects.get(number=number)


def test_a_split_moves_the_in_stock_units_to_a_new_paid_order(integrator) -> None:
    order = _paid_order_with_three_lines(integrator)
    assert order.status == OrderStatus.PAID and order.total == Decimal("55.00")

    response = integrator.post(f"/api/v1/orders/{order.number}/split/", {}, format="json")

    assert response.status_code == 201, response.data
    new = response.data
    assert new["status"] == "paid" and new["split_from"] == order.number
    assert [(line["sku"], line["quantity"], line["quantity_short"]) for line in new["lines"]] == [
        ("TSHIRT-RED-M", 1, 0),
        ("CAP-BLACK", 1, 0),
    ]
    assert new["fully_allocated"] is True
    assert (new["total"], new["amount_paid"]) == ("20.00", "20.00")
    original = integrator.get(f"/api/v1/orders/{order.number}/").data
    assert [(line["sku"], line["quantity"], line["quantity_allocated"]) for line in original["lines"]] == [
        ("CAP-BLACK", 2, 0),
        ("MUG-LOGO", 1, 0),
    ]
    assert original["split_orders"] == [new["number"]]
    assert (original["total"], original["amount_paid"]) == ("35.00", "35.00")
    assert original["events"][-1]["kind"] == OrderEventKind.SPLIT


def test_a_split_keeps_the_stock_counters_and_moves_the_allocations(integrator) -> None:
    order = _paid_order_with_three_lines(integrator)
    counters = list(StockLevel.objects.order_by("pk").values_list("on_hand", "allocated"))

    new_number = integrator.post(f"/api/v1/orders/{order.number}/split/", {}, format="json").data["number"]

    assert list(StockLevel.objects.order_by("pk").values_list("on_hand", "allocated")) == counters
    assert not stock_shortages(order_number=new_number)
    assert [(s.sku, s.quantity_short) for s in stock_shortages(order_number=order.number)] == [
        ("CAP-BLACK", 2),
        ("MUG-LOGO", 1),
    ]
    assert not Allocation.objects.filter(reservation__order_number=order.number).exists()
    assert Allocation.objects.filter(reservation__order_number=new_number).count() == 2


def test_the_new_order_can_be_picked_while_the_original_cannot(integrator) -> None:
    order = _paid_order_with_three_lines(integrator)
    new_number = integrator.post(f"/api/v1/orders/{order.number}/split/", {}, format="json").data["number"]

    picked = integrator.post(f"/api/v1/orders/{new_number}/start-picking/", {}, format="json")
    refused = integrator.post(f"/api/v1/orders/{order.number}/start-picking/", {}, format="json")

    assert picked.status_code == 200
    assert refused.status_code == 409 and refused.data["code"] == "order_short_of_stock"


def test_an_order_with_nothing_in_stock_cannot_be_split_and_nothing_changes(integrator) -> None:
    ProductFactory(sku="MUG-LOGO", price=Decimal("10.00"))
    order = make_order(OrderStatus.PAID, skus=("MUG-LOGO",), stocked=False, allow_backorder=True)
    before = (Order.objects.count(), OrderLine.objects.count(), Reservation.objects.count(), OrderEvent.objects.count())

    response = integrator.post(f"/api/v1/orders/{order.number}/split/", {}, format="json")

    assert response.status_code == 409 and response.data["code"] == "nothing_to_split"
    after = (Order.objects.count(), OrderLine.objects.count(), Reservation.objects.count(), OrderEvent.objects.count())
    assert after == before


def test_an_unpaid_order_cannot_be_split(integrator) -> None:
    ProductFactory(sku="MUG-LOGO", price=Decimal("10.00"))
    order = make_order(OrderStatus.UNHANDLED, skus=("TSHIRT-RED-M", "MUG-LOGO"), allow_backorder=True)

    response = integrator.post(f"/api/v1/orders/{order.number}/split/", {}, format="json")

    assert response.status_code == 409 and response.data["code"] == "transition_not_allowed"
    assert Order.objects.count() == 1
