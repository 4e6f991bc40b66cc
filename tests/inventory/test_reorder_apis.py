"""Reorder rules and low-stock alerts over the REST API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inventory.models import LowStockAlert, ReorderRule, Reservation, StockLevel, Warehouse
from tests.factories import ProductFactory, order_payload, stock_up
from tests.inventory.api_helpers import count_queries, place, stock_state

pytestmark = pytest.mark.django_db

RULES_URL = "/api/v1/reorder-rules/"
ALERTS_URL = "/api/v1/stock/alerts/"
RECEIPTS_URL = "/api/v1/stock/receipts/"
SKU = "MUG-1"
RULE_BODY = {"sku": SKU, "warehouse": "MAIN", "reorder_point": 5, "reorder_quantity": 20}


@pytest.fixture
def mugs(db: Any) -> None:
    """7 mugs in A-01-1 (MAIN)."""
    stock_up(SKU, 7, location="A-01-1")


def rule_url(rule_id: int) -> str:
    return f"{RULES_URL}{rule_id}/"


def open_alerts() -> list[tuple[str, str]]:
    return list(LowStockAlert.objects.filter(resolved_at__isnull=True).values_list("product__sku", "warehouse__code"))


# --- reorder rules --------------------------------------------------------------------------


def test_adding_a_reorder_rule_answers_201_with_it(integrator, mugs) -> None:
    # When
    response = integrator.post(RULES_URL, RULE_BODY, format="json")

    # Then
    assert response.status_code == 201, response.data
    assert {k: response.data[k] for k in RULE_BODY} == RULE_BODY
    rule = ReorderRule.objects.get(pk=response.data["id"])
    assert (rule.product.sku, rule.warehouse.code, rule.reorder_point, rule.reorder_quantity) == (SKU, "MAIN", 5, 20)


def test_a_second_rule_for_the_same_sku_and_warehouse_answers_400_duplicate(integrator, mugs) -> None:
    # Given
    first = integrator.post(RULES_URL, RULE_BODY, format="json")
    before = stock_state()

    # When
    response = integrator.post(RULES_URL, {**RULE_BODY, "reorder_point": 9}, format="json")

    # Then
    assert response.status_code == 400
    assert response.data["code"] == "duplicate"
    assert response.data["extra"] == {"id": first.data["id"]}
    assert stock_state() == before


def test_the_same_sku_may_have_a_rule_in_each_warehouse(integrator, mugs) -> None:
    Warehouse.objects.create(code="NORTH", name="North")
    integrator.post(RULES_URL, RULE_BODY, format="json")

    response = integrator.post(RULES_URL, {**RULE_BODY, "warehouse": "NORTH"}, format="json")

    assert response.status_code == 201
    assert ReorderRule.objects.count() == 2


def test_a_rule_for_an_unknown_sku_and_warehouse_answers_400_naming_both(integrator, mugs) -> None:
    before = stock_state()

    response = integrator.post(RULES_URL, {**RULE_BODY, "sku": "NOPE-1", "warehouse": "NOPE"}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"sku", "warehouse"}
    assert stock_state() == before


@pytest.mark.parametrize(("field", "value"), [("reorder_point", -1), ("reorder_quantity", 0), ("reorder_point", "x")])
def test_a_rule_with_a_bad_number_answers_400(integrator, mugs, field: str, value: Any) -> None:
    response = integrator.post(RULES_URL, {**RULE_BODY, field: value}, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {field}
    assert not ReorderRule.objects.exists()


def test_a_rule_above_current_stock_raises_an_alert_at_once(integrator, mugs) -> None:
    response = integrator.post(RULES_URL, {**RULE_BODY, "reorder_point": 10}, format="json")

    assert response.status_code == 201
    assert open_alerts() == [(SKU, "MAIN")]
    assert LowStockAlert.objects.get().available == 7


def test_patch_changes_the_point_and_quantity(integrator, mugs) -> None:
    rule_id = integrator.post(RULES_URL, RULE_BODY, format="json").data["id"]

    response = integrator.patch(rule_url(rule_id), {"reorder_point": 3, "reorder_quantity": 50}, format="json")

    assert response.status_code == 200, response.data
    rule = ReorderRule.objects.get()
    assert (rule.reorder_point, rule.reorder_quantity) == (3, 50)


def test_patch_cannot_move_a_rule_to_another_sku(integrator, mugs) -> None:
    ProductFactory(sku="CAP-1")
    rule_id = integrator.post(RULES_URL, RULE_BODY, format="json").data["id"]

    integrator.patch(rule_url(rule_id), {"sku": "CAP-1", "warehouse": "X"}, format="json")

    assert ReorderRule.objects.get().product.sku == SKU


def test_raising_the_point_above_stock_raises_an_alert_and_lowering_it_resolves_it(integrator, mugs) -> None:
    rule_id = integrator.post(RULES_URL, RULE_BODY, format="json").data["id"]

    integrator.patch(rule_url(rule_id), {"reorder_point": 8}, format="json")
    raised = open_alerts()
    integrator.patch(rule_url(rule_id), {"reorder_point": 7}, format="json")

    assert raised == [(SKU, "MAIN")]
    assert open_alerts() == []
    assert LowStockAlert.objects.get().resolved_at is not None


def test_patch_with_a_negative_point_answers_400_and_changes_nothing(integrator, mugs) -> None:
    rule_id = integrator.post(RULES_URL, RULE_BODY, format="json").data["id"]
    before = stock_state()

    response = integrator.patch(rule_url(rule_id), {"reorder_point": -1}, format="json")

    assert response.status_code == 400
    assert stock_state() == before


def test_deleting_a_rule_resolves_its_open_alert(integrator, mugs) -> None:
    # Given a rule whose alert is open
    rule_id = integrator.post(RULES_URL, {**RULE_BODY, "reorder_point": 10}, format="json").data["id"]

    # When
    response = integrator.delete(rule_url(rule_id))

    # Then
    assert response.status_code == 204
    assert not ReorderRule.objects.exists()
    assert open_alerts() == []
    assert LowStockAlert.objects.count() == 1


def test_an_unknown_rule_answers_404(integrator) -> None:
    assert integrator.get(rule_url(999)).status_code == 404
    assert integrator.patch(rule_url(999), {"reorder_point": 1}, format="json").status_code == 404
    assert integrator.delete(rule_url(999)).status_code == 404


def test_rules_are_listed_and_filtered_by_sku_and_warehouse(integrator, mugs) -> None:
    stock_up("CAP-1", 1, location="N-01-1", warehouse="NORTH")
    integrator.post(RULES_URL, RULE_BODY, format="json")
    integrator.post(RULES_URL, {**RULE_BODY, "sku": "CAP-1", "warehouse": "NORTH"}, format="json")

    everything = integrator.get(RULES_URL)
    north = integrator.get(RULES_URL, {"warehouse": "NORTH"})
    mugs_only = integrator.get(RULES_URL, {"sku": SKU})

    assert [(r["sku"], r["warehouse"]) for r in everything.data["results"]] == [(SKU, "MAIN"), ("CAP-1", "NORTH")]
    assert [r["sku"] for r in north.data["results"]] == ["CAP-1"]
    assert [r["warehouse"] for r in mugs_only.data["results"]] == ["MAIN"]


def test_a_rule_cannot_be_replaced_with_put(integrator, mugs) -> None:
    rule_id = integrator.post(RULES_URL, RULE_BODY, format="json").data["id"]

    response = integrator.put(rule_url(rule_id), {**RULE_BODY, "reorder_point": 1}, format="json")

    assert response.status_code == 405
    assert ReorderRule.objects.get().reorder_point == 5


def test_listing_rules_costs_the_same_queries_for_2_and_20(integrator) -> None:
    def rules(start: int, stop: int) -> None:
        for i in range(start, stop):
            stock_up(f"SKU-{i:02d}", 1, location=f"A-{i % 3}", warehouse=f"W{i % 2}")
            ReorderRule.objects.create(
                product=ProductFactory(sku=f"SKU-{i:02d}"),
                warehouse=Warehouse.objects.get(code=f"W{i % 2}"),
                reorder_point=1,
                reorder_quantity=1,
            )

    rules(0, 2)
    integrator.get(RULES_URL)
    with_2 = count_queries(integrator, RULES_URL)
    rules(2, 20)
    with_20 = count_queries(integrator, RULES_URL)

    assert with_20 == with_2


# --- low-stock alerts -----------------------------------------------------------------------


def test_an_alert_is_raised_once_across_several_orders_and_resolved_by_a_receipt(integrator, mugs) -> None:
    # Given a rule at 5 for 7 mugs
    assert integrator.post(RULES_URL, RULE_BODY, format="json").status_code == 201

    # When orders take 2 (5 left: not below), 1 (4 left: below) and 1 more (3 left)
    for quantity in (2, 1, 1):
        place(SKU, quantity)

    # Then exactly one alert is open, raised when 4 were left
    alerts = integrator.get(ALERTS_URL).data["results"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["sku"], alert["warehouse"], alert["available"], alert["available_now"]) == (SKU, "MAIN", 4, 3)
    assert (alert["reorder_point"], alert["reorder_quantity"]) == (5, 20)
    assert alert["raised_at"] is not None
    assert alert["resolved_at"] is None
    assert LowStockAlert.objects.count() == 1

    # When the reorder quantity is received
    receipt = {"reference": "PO-9", "lines": [{"sku": SKU, "location": "A-01-1", "quantity": 20}]}
    assert integrator.post(RECEIPTS_URL, receipt, format="json").status_code == 201

    # Then no alert is open; with include_resolved the resolved one is shown
    assert integrator.get(ALERTS_URL).data["results"] == []
    resolved = integrator.get(ALERTS_URL, {"include_resolved": "true"}).data["results"]
    assert [(a["id"], a["available_now"]) for a in resolved] == [(alert["id"], 23)]
    assert resolved[0]["resolved_at"] is not None


def test_days_of_cover_is_available_over_the_average_daily_demand_of_30_days(integrator, mugs) -> None:
    # Given a rule at 5 and orders for 4 mugs today (3 left): 4 / 30 a day
    integrator.post(RULES_URL, RULE_BODY, format="json")
    place(SKU, 2)
    place(SKU, 2)

    # When
    alert = integrator.get(ALERTS_URL).data["results"][0]

    # Then 3 / (4 / 30) = 22.5 days
    assert alert["available_now"] == 3
    assert alert["days_of_cover"] == 22.5


def test_demand_older_than_30_days_does_not_count(integrator, mugs) -> None:
    # Given orders for 2 mugs 31 days ago and 2 today (3 left)
    integrator.post(RULES_URL, RULE_BODY, format="json")
    old = place(SKU, 2)
    Reservation.objects.filter(order_number=old.number).update(created_at=timezone.now() - timedelta(days=31))
    place(SKU, 2)

    # When
    alert = integrator.get(ALERTS_URL).data["results"][0]

    # Then 3 / (2 / 30) = 45 days
    assert alert["days_of_cover"] == 45.0


def test_days_of_cover_is_null_without_demand(integrator, mugs) -> None:
    # Given an alert raised by the rule itself, no orders
    integrator.post(RULES_URL, {**RULE_BODY, "reorder_point": 10}, format="json")

    alert = integrator.get(ALERTS_URL).data["results"][0]

    assert alert["days_of_cover"] is None


def test_demand_counts_orders_served_from_any_warehouse_but_cover_only_the_alerts_one(integrator, mugs) -> None:
    # Given 7 mugs in MAIN with a rule at 10 there (alert open), and 30 in NORTH
    stock_up(SKU, 30, location="N-01-1", warehouse="NORTH")
    integrator.post(RULES_URL, {**RULE_BODY, "reorder_point": 10}, format="json")

    # When an order for 10 is served from NORTH (orders ask for a SKU, not a warehouse)
    order = place(SKU, 10)
    assert StockLevel.objects.get(location__code="N-01-1").allocated == 10, order.number

    # Then MAIN's 7 cover 7 / (10 / 30) = 21 days
    alert = integrator.get(ALERTS_URL).data["results"][0]
    assert (alert["warehouse"], alert["available_now"], alert["days_of_cover"]) == ("MAIN", 7, 21.0)


def test_alerts_filter_by_sku_and_warehouse(integrator, mugs) -> None:
    stock_up("CAP-1", 1, location="N-01-1", warehouse="NORTH")
    integrator.post(RULES_URL, {**RULE_BODY, "reorder_point": 10}, format="json")
    integrator.post(RULES_URL, {**RULE_BODY, "sku": "CAP-1", "warehouse": "NORTH"}, format="json")

    assert [a["sku"] for a in integrator.get(ALERTS_URL, {"warehouse": "NORTH"}).data["results"]] == ["CAP-1"]
    assert [a["warehouse"] for a in integrator.get(ALERTS_URL, {"sku": SKU}).data["results"]] == ["MAIN"]


def test_a_malformed_include_resolved_answers_400(integrator) -> None:
    response = integrator.get(ALERTS_URL, {"include_resolved": "maybe"})

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"include_resolved"}


def test_listing_alerts_costs_the_same_queries_for_2_and_20(integrator) -> None:
    def alerts(start: int, stop: int) -> None:
        for i in range(start, stop):
            sku = f"SKU-{i:02d}"
            stock_up(sku, 3, location=f"A-{i % 3}", warehouse=f"W{i % 2}")
            ReorderRule.objects.create(
                product=ProductFactory(sku=sku),
                warehouse=Warehouse.objects.get(code=f"W{i % 2}"),
                reorder_point=5,
                reorder_quantity=10,
            )
            place(sku, 1)  # raises the alert, and makes demand

    alerts(0, 2)
    integrator.get(ALERTS_URL)
    with_2 = count_queries(integrator, ALERTS_URL, {"include_resolved": "true"})
    alerts(2, 20)
    assert LowStockAlert.objects.count() == 20
    with_20 = count_queries(integrator, ALERTS_URL, {"include_resolved": "true"})

    assert with_20 == with_2


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_alerts_are_read_only(integrator, method: str) -> None:
    assert getattr(integrator, method)(ALERTS_URL, {}, format="json").status_code == 405


# --- known bugs -----------------------------------------------------------------------------


def test_a_sku_stocked_only_in_another_warehouse_raises_the_alert_of_an_empty_one(integrator) -> None:
    # Given a rule at 5 in MAIN for a SKU that has stock only in NORTH
    stock_up("NEW-1", 3, location="N-01-1", warehouse="NORTH")
    Warehouse.objects.create(code="MAIN", name="Main")

    # When
    integrator.post(RULES_URL, {**RULE_BODY, "sku": "NEW-1"}, format="json")

    # Then MAIN's 0 available are below the point
    assert open_alerts() == [("NEW-1", "MAIN")]


def test_a_backorder_of_a_sku_never_stocked_raises_its_low_stock_alert(integrator, shipping_method) -> None:
    # Given a rule at 5 in MAIN for a SKU that has never had a stock row
    Warehouse.objects.create(code="MAIN", name="Main")
    ProductFactory(sku="NEW-1", price="9.90")
    assert integrator.post(RULES_URL, {**RULE_BODY, "sku": "NEW-1"}, format="json").status_code == 201

    # When an order for 2 is accepted as a backorder
    placed = integrator.post(
        "/api/v1/orders/",
        order_payload(lines=[{"sku": "NEW-1", "quantity": 2}], allow_backorder=True),
        format="json",
    )
    assert placed.status_code == 201, placed.data

    # Then the SKU is below its reorder point in MAIN (0 available < 5), as it would be if it
    # had ever had a stock row (previous test)
    assert [(a["sku"], a["warehouse"], a["available"]) for a in integrator.get(ALERTS_URL).data["results"]] == [
        ("NEW-1", "MAIN", 0)
    ]
