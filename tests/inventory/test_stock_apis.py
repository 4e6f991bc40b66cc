"""The stock REST API: levels, setting on hand, the ledger, receipts and adjustments."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inventory.models import Location, MovementKind, ReorderRule, StockLevel, StockMovement, Warehouse
from inventory.selectors import Shortage, stock_shortages
from tests.factories import ProductFactory, make_order, order_payload, stock_up
from tests.inventory.api_helpers import bin_at, count_queries, counters, place, stock_state

pytestmark = pytest.mark.django_db

STOCK_URL = "/api/v1/stock/"
MOVEMENTS_URL = "/api/v1/stock/movements/"
RECEIPTS_URL = "/api/v1/stock/receipts/"
ADJUSTMENTS_URL = "/api/v1/stock/adjustments/"
SKU = "TSHIRT-RED-M"


def level_url(sku: str = SKU, location: str = "A-03-2") -> str:
    return f"{STOCK_URL}{sku}/{location}/"


@pytest.fixture
def shelf(db: Any) -> Location:
    """A-03-2 in MAIN holding 5 units of the contract's SKU."""
    return stock_up(SKU, 5, location="A-03-2")


def receipt_body(**line: Any) -> dict[str, Any]:
    return {"reference": "PO-123", "lines": [{"sku": SKU, "location": "A-03-2", "quantity": 5, **line}]}


# --- PUT /stock/{sku}/{location}/ -----------------------------------------------------------


def test_put_sets_the_units_on_hand_and_answers_200_with_the_level(integrator, shelf) -> None:
    # When
    response = integrator.put(level_url(), {"on_hand": 10, "reason": "correction"}, format="json")

    # Then
    assert response.status_code == 200, response.data
    assert response.data == {
        "sku": SKU,
        "location": "A-03-2",
        "warehouse": "MAIN",
        "on_hand": 10,
        "allocated": 0,
        "available": 10,
    }
    assert counters(SKU, "A-03-2") == (10, 0)


def test_put_is_recorded_as_an_adjustment_with_its_reason_and_actor(integrator, shelf) -> None:
    # When
    integrator.put(level_url(), {"on_hand": 3, "reason": "correction", "note": "recounted"}, format="json")

    # Then
    movement = StockMovement.objects.latest("id")
    assert (movement.kind, movement.on_hand_delta, movement.allocated_delta) == (MovementKind.ADJUSTMENT, -2, 0)
    assert (movement.reason, movement.note) == ("correction", "recounted")
    assert movement.actor_label == "api:shop-front"


def test_put_of_the_current_quantity_writes_nothing(integrator, shelf) -> None:
    before = stock_state()

    response = integrator.put(level_url(), {"on_hand": 5, "reason": "correction"}, format="json")

    assert response.status_code == 200
    assert response.data["on_hand"] == 5
    assert stock_state() == before


def test_put_makes_the_stock_row_of_a_sku_new_to_the_bin(integrator, shelf) -> None:
    # Given a product that has never been in the bin
    ProductFactory(sku="MUG-1")

    # When
    response = integrator.put(level_url("MUG-1"), {"on_hand": 4, "reason": "found"}, format="json")

    # Then
    assert response.status_code == 200, response.data
    assert counters("MUG-1", "A-03-2") == (4, 0)


def test_put_addresses_any_sku_and_bin_code_the_api_accepts(integrator) -> None:
    # Given a SKU and a bin code using dots, dashes and underscores
    stock_up("Box_12.v2-B", 1, location="A.03_2-x")

    # When
    response = integrator.put(level_url("Box_12.v2-B", "A.03_2-x"), {"on_hand": 2, "reason": "found"}, format="json")

    # Then
    assert response.status_code == 200, response.data
    assert counters("Box_12.v2-B", "A.03_2-x") == (2, 0)


def test_put_of_an_unknown_sku_answers_404_product_not_found(integrator, shelf) -> None:
    before = stock_state()

    response = integrator.put(level_url("NOPE-1"), {"on_hand": 10, "reason": "correction"}, format="json")

    assert response.status_code == 404
    assert response.data["code"] == "product_not_found"
    assert "NOPE-1" in response.data["message"]
    assert stock_state() == before


def test_put_to_an_unknown_location_answers_404_location_not_found(integrator, shelf) -> None:
    before = stock_state()

    response = integrator.put(level_url(location="Z-99"), {"on_hand": 10, "reason": "correction"}, format="json")

    assert response.status_code == 404
    assert response.data["code"] == "location_not_found"
    assert "Z-99" in response.data["message"]
    assert stock_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"on_hand": -1, "reason": "correction"}, "on_hand"),
        ({"on_hand": "ten", "reason": "correction"}, "on_hand"),
        ({"reason": "correction"}, "on_hand"),
        ({"on_hand": 10, "reason": "stolen"}, "reason"),
        ({"on_hand": 10, "reason": "count"}, "reason"),  # cycle counts have their own endpoint
        ({"on_hand": 10}, "reason"),
    ],
)
def test_put_with_a_bad_quantity_or_reason_answers_400_and_changes_nothing(
    integrator, shelf, body: dict[str, Any], field: str
) -> None:
    before = stock_state()

    response = integrator.put(level_url(), body, format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["fields"]) == {field}
    assert stock_state() == before


def test_put_below_what_is_allocated_releases_the_newest_allocation_and_that_order_becomes_short(
    integrator,
) -> None:
    # Given two orders of one unit each, both allocated in A-01-1 (2 on hand, 2 allocated)
    first = make_order()
    second = make_order()
    assert counters(SKU, "A-01-1") == (2, 2)

    # When on hand is set to 1
    response = integrator.put(level_url(location="A-01-1"), {"on_hand": 1, "reason": "damaged"}, format="json")

    # Then the newer order lost its unit and shows as short; the older one keeps its unit
    assert response.status_code == 200, response.data
    assert (response.data["on_hand"], response.data["allocated"], response.data["available"]) == (1, 1, 0)
    assert stock_shortages(order_number=second.number) == [Shortage(sku=SKU, quantity=1, quantity_short=1)]
    assert stock_shortages(order_number=first.number) == []
    release = StockMovement.objects.get(kind=MovementKind.RELEASE)
    assert (release.order_number, release.allocated_delta) == (second.number, -1)


def test_put_to_zero_releases_every_allocation_in_the_bin(integrator) -> None:
    first = make_order()
    second = make_order()

    response = integrator.put(level_url(location="A-01-1"), {"on_hand": 0, "reason": "lost"}, format="json")

    assert response.status_code == 200
    assert counters(SKU, "A-01-1") == (0, 0)
    assert [s.quantity_short for s in stock_shortages(order_number=first.number)] == [1]
    assert [s.quantity_short for s in stock_shortages(order_number=second.number)] == [1]


def test_put_up_serves_a_waiting_backorder(integrator) -> None:
    # Given an order waiting for 2 units of a SKU with an empty bin
    bin_at("A-03-2")
    order = place("MUG-1", 2, allow_backorder=True)
    assert [s.quantity_short for s in stock_shortages(order_number=order.number)] == [2]

    # When 2 units are found
    response = integrator.put(level_url("MUG-1"), {"on_hand": 2, "reason": "found"}, format="json")

    # Then they are held for the order
    assert response.status_code == 200
    assert (response.data["on_hand"], response.data["allocated"]) == (2, 2)
    assert stock_shortages(order_number=order.number) == []


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_a_stock_level_cannot_be_written_by_other_methods(integrator, shelf, method: str) -> None:
    before = stock_state()

    response = getattr(integrator, method)(level_url(), {"on_hand": 99, "allocated": 0}, format="json")

    assert response.status_code == 405
    assert response.data["code"] == "method_not_allowed"
    assert stock_state() == before


# --- GET /stock/ ----------------------------------------------------------------------------


def test_the_stock_list_shows_each_sku_in_each_bin(integrator) -> None:
    # Given
    stock_up("MUG-1", 3, location="A-01-1")
    stock_up("MUG-1", 4, location="N-01-1", warehouse="NORTH")
    make_order(skus=("CAP-1",))  # CAP-1: 1 received into A-01-1, 1 allocated

    # When
    response = integrator.get(STOCK_URL)

    # Then
    assert response.status_code == 200
    rows = {(r["sku"], r["location"]): r for r in response.data["results"]}
    assert rows[("MUG-1", "N-01-1")] == {
        "sku": "MUG-1",
        "location": "N-01-1",
        "warehouse": "NORTH",
        "on_hand": 4,
        "allocated": 0,
        "available": 4,
    }
    assert (rows[("CAP-1", "A-01-1")]["allocated"], rows[("CAP-1", "A-01-1")]["available"]) == (1, 0)
    assert len(rows) == 3


def test_the_stock_list_filters_by_sku_warehouse_and_location(integrator) -> None:
    stock_up("MUG-1", 3, location="A-01-1")
    stock_up("MUG-1", 4, location="N-01-1", warehouse="NORTH")
    stock_up("CAP-1", 5, location="A-01-2")

    def pairs(**params: str) -> set[tuple[str, str]]:
        response = integrator.get(STOCK_URL, params)
        assert response.status_code == 200
        return {(r["sku"], r["location"]) for r in response.data["results"]}

    assert pairs(sku="MUG-1") == {("MUG-1", "A-01-1"), ("MUG-1", "N-01-1")}
    assert pairs(warehouse="NORTH") == {("MUG-1", "N-01-1")}
    assert pairs(location="A-01-2") == {("CAP-1", "A-01-2")}
    assert pairs(sku="MUG-1", warehouse="MAIN") == {("MUG-1", "A-01-1")}


def _reorder(sku: str, warehouse: str, point: int) -> None:
    ReorderRule.objects.create(
        product=ProductFactory(sku=sku),
        warehouse=Warehouse.objects.get(code=warehouse),
        reorder_point=point,
        reorder_quantity=10,
    )


@pytest.fixture
def reorder_scene(db: Any) -> None:
    """Rows below their warehouse's reorder point: every MUG-1 row in MAIN (1 + 2 < 5 across two
    bins), and CAP-1 in MAIN (6 on hand, 4 allocated: 2 available < 5). Not below: MUG-1 in
    NORTH (no rule there), PEN-1 (10 >= 5), and TEA-1 in MAIN (no rule at all)."""
    stock_up("MUG-1", 1, location="A-01-1")
    stock_up("MUG-1", 2, location="A-01-2")
    stock_up("MUG-1", 1, location="N-01-1", warehouse="NORTH")
    stock_up("CAP-1", 6, location="A-01-1")
    stock_up("PEN-1", 10, location="A-01-1")
    stock_up("TEA-1", 1, location="A-01-1")
    _reorder("MUG-1", "MAIN", 5)
    _reorder("CAP-1", "MAIN", 5)
    _reorder("PEN-1", "MAIN", 5)
    place("CAP-1", 4)


def test_below_reorder_point_lists_the_rows_of_skus_short_in_their_warehouse(integrator, reorder_scene) -> None:
    response = integrator.get(STOCK_URL, {"below_reorder_point": "true"})

    assert response.status_code == 200
    assert {(r["sku"], r["location"]) for r in response.data["results"]} == {
        ("MUG-1", "A-01-1"),
        ("MUG-1", "A-01-2"),
        ("CAP-1", "A-01-1"),
    }


def test_below_reorder_point_false_lists_every_other_row(integrator, reorder_scene) -> None:
    response = integrator.get(STOCK_URL, {"below_reorder_point": "false"})

    assert {(r["sku"], r["location"]) for r in response.data["results"]} == {
        ("MUG-1", "N-01-1"),
        ("PEN-1", "A-01-1"),
        ("TEA-1", "A-01-1"),
    }


def test_a_malformed_filter_answers_400(integrator) -> None:
    response = integrator.get(STOCK_URL, {"below_reorder_point": "perhaps"})

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"below_reorder_point"}


def test_the_stock_list_is_paged_by_cursor(integrator) -> None:
    for i in range(5):
        stock_up(f"SKU-{i}", 1, location=f"A-{i}")

    page1 = integrator.get(STOCK_URL, {"page_size": 3})
    page2 = integrator.get(page1.data["next"])

    assert len(page1.data["results"]) == 3
    assert page2.data["next"] is None
    assert [r["sku"] for r in page1.data["results"] + page2.data["results"]] == [f"SKU-{i}" for i in range(5)]


def _many_rows(start: int, stop: int) -> None:
    for i in range(start, stop):
        sku = f"SKU-{i:02d}"
        stock_up(sku, 3, location=f"A-{i % 4}", warehouse=f"W{i % 2}")
        _reorder(sku, f"W{i % 2}", 5)


@pytest.mark.parametrize("params", [{}, {"below_reorder_point": "true"}, {"warehouse": "W1", "sku": "SKU-01"}])
def test_listing_stock_costs_the_same_queries_for_2_and_20_rows(integrator, params: dict[str, str]) -> None:
    # Given two rows (and a first request, which stamps the key's last use)
    _many_rows(0, 2)
    integrator.get(STOCK_URL, params)
    with_2 = count_queries(integrator, STOCK_URL, params)

    # When there are twenty
    _many_rows(2, 20)
    with_20 = count_queries(integrator, STOCK_URL, params)

    # Then
    assert with_20 == with_2


# --- GET /stock/movements/ ------------------------------------------------------------------


def test_the_ledger_lists_movements_newest_first(integrator, shelf) -> None:
    # Given a receipt (the fixture) and then an order's allocation
    order = place(SKU, 2)

    # When
    response = integrator.get(MOVEMENTS_URL)

    # Then
    assert response.status_code == 200
    rows = response.data["results"]
    assert [(r["kind"], r["on_hand_delta"], r["allocated_delta"]) for r in rows] == [
        ("allocation", 0, 2),
        ("receipt", 5, 0),
    ]
    assert rows[0]["order_number"] == order.number
    assert (rows[1]["sku"], rows[1]["location"], rows[1]["warehouse"]) == (SKU, "A-03-2", "MAIN")
    assert rows[1]["reference"] == "test stock"
    assert rows[0]["id"] > rows[1]["id"]


def test_the_ledger_filters_by_sku_location_kind_and_order_number(integrator) -> None:
    stock_up("MUG-1", 5, location="A-01-1")
    stock_up("CAP-1", 5, location="A-01-2")
    order = place("MUG-1", 1)

    def kinds(**params: str) -> list[tuple[str, str]]:
        response = integrator.get(MOVEMENTS_URL, params)
        assert response.status_code == 200, response.data
        return [(r["sku"], r["kind"]) for r in response.data["results"]]

    assert kinds(sku="MUG-1") == [("MUG-1", "allocation"), ("MUG-1", "receipt")]
    assert kinds(location="A-01-2") == [("CAP-1", "receipt")]
    assert kinds(kind="receipt") == [("CAP-1", "receipt"), ("MUG-1", "receipt")]
    assert kinds(order_number=order.number) == [("MUG-1", "allocation")]


def test_the_ledger_filters_by_time(integrator) -> None:
    # Given a movement from last week and one from today
    stock_up("MUG-1", 5, location="A-01-1")
    stock_up("CAP-1", 5, location="A-01-1")
    week_ago = timezone.now() - timedelta(days=7)
    StockMovement.objects.filter(product__sku="MUG-1").update(created_at=week_ago)
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    # When / Then
    after = integrator.get(MOVEMENTS_URL, {"created_after": yesterday})
    before = integrator.get(MOVEMENTS_URL, {"created_before": yesterday})
    assert [r["sku"] for r in after.data["results"]] == ["CAP-1"]
    assert [r["sku"] for r in before.data["results"]] == ["MUG-1"]


def test_an_unknown_movement_kind_answers_400(integrator) -> None:
    response = integrator.get(MOVEMENTS_URL, {"kind": "teleport"})

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"kind"}


def test_the_ledger_is_paged_by_cursor_newest_first(integrator) -> None:
    for i in range(5):
        stock_up("MUG-1", 1, location=f"A-{i}")
    ids = list(StockMovement.objects.order_by("-id").values_list("id", flat=True))

    page1 = integrator.get(MOVEMENTS_URL, {"page_size": 2})
    page2 = integrator.get(page1.data["next"])
    page3 = integrator.get(page2.data["next"])

    assert [r["id"] for r in page1.data["results"] + page2.data["results"] + page3.data["results"]] == ids
    assert page3.data["next"] is None


@pytest.mark.parametrize("params", [{}, {"sku": "SKU-01"}, {"kind": "allocation"}])
def test_listing_movements_costs_the_same_queries_for_few_and_many(integrator, params: dict[str, str]) -> None:
    for i in range(2):
        place(f"SKU-{i:02d}", 1, allow_backorder=True)
        stock_up(f"SKU-{i:02d}", 2, location=f"A-{i % 3}", warehouse=f"W{i % 2}")
    integrator.get(MOVEMENTS_URL, params)
    few = count_queries(integrator, MOVEMENTS_URL, params)

    for i in range(2, 20):
        place(f"SKU-{i:02d}", 1, allow_backorder=True)
        stock_up(f"SKU-{i:02d}", 2, location=f"A-{i % 3}", warehouse=f"W{i % 2}")
    many = count_queries(integrator, MOVEMENTS_URL, params)

    assert many == few


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_ledger_is_read_only(integrator, shelf, method: str) -> None:
    before = stock_state()

    response = getattr(integrator, method)(MOVEMENTS_URL, {"sku": SKU, "on_hand_delta": 5}, format="json")

    assert response.status_code == 405
    assert stock_state() == before


# --- POST /stock/receipts/ ------------------------------------------------------------------


def test_a_receipt_answers_201_with_the_movements_booked(integrator) -> None:
    # Given an empty bin and two products
    bin_at("A-03-2")
    ProductFactory(sku=SKU)
    ProductFactory(sku="MUG-1")
    body = {
        "reference": "PO-123",
        "lines": [
            {"sku": SKU, "location": "A-03-2", "quantity": 5},
            {"sku": "MUG-1", "location": "A-03-2", "quantity": 2},
        ],
    }

    # When
    response = integrator.post(RECEIPTS_URL, body, format="json")

    # Then
    assert response.status_code == 201, response.data
    assert response.data["reference"] == "PO-123"
    assert [
        (m["sku"], m["location"], m["warehouse"], m["kind"], m["on_hand_delta"], m["reference"])
        for m in response.data["movements"]
    ] == [
        (SKU, "A-03-2", "MAIN", "receipt", 5, "PO-123"),
        ("MUG-1", "A-03-2", "MAIN", "receipt", 2, "PO-123"),
    ]
    assert all(m["id"] for m in response.data["movements"])
    assert counters(SKU, "A-03-2") == (5, 0)
    assert counters("MUG-1", "A-03-2") == (2, 0)


def test_a_receipt_adds_to_what_the_bin_holds(integrator, shelf) -> None:
    response = integrator.post(RECEIPTS_URL, receipt_body(quantity=3), format="json")

    assert response.status_code == 201
    assert counters(SKU, "A-03-2") == (8, 0)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"sku": "NOPE-1"}, "lines.1.sku"),
        ({"location": "Z-99"}, "lines.1.location"),
        ({"quantity": 0}, "lines.1.quantity"),
        ({"quantity": -3}, "lines.1.quantity"),
        ({"quantity": "many"}, "lines.1.quantity"),
    ],
)
def test_a_receipt_with_a_bad_line_answers_400_naming_it_and_books_nothing(
    integrator, shelf, line: dict[str, Any], field: str
) -> None:
    # Given a good first line and a bad second one
    body = {
        "reference": "PO-123",
        "lines": [{"sku": SKU, "location": "A-03-2", "quantity": 5}, {**receipt_body()["lines"][0], **line}],
    }
    before = stock_state()

    # When
    response = integrator.post(RECEIPTS_URL, body, format="json")

    # Then
    assert response.status_code == 400
    assert set(response.data["fields"]) == {field}
    assert stock_state() == before


def test_a_receipt_names_every_unknown_reference_at_once(integrator, shelf) -> None:
    body = {
        "reference": "PO-123",
        "lines": [
            {"sku": "NOPE-1", "location": "A-03-2", "quantity": 1},
            {"sku": SKU, "location": "Z-99", "quantity": 1},
        ],
    }

    response = integrator.post(RECEIPTS_URL, body, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"lines.0.sku", "lines.1.location"}


def test_a_receipt_into_an_inactive_bin_answers_400_and_books_nothing(integrator, shelf) -> None:
    Location.objects.filter(code="A-03-2").update(is_active=False)
    before = stock_state()

    response = integrator.post(RECEIPTS_URL, receipt_body(), format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {"lines.0.location"}
    assert stock_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"sku": SKU, "location": "A-03-2", "quantity": 1}]}, "reference"),
        ({"reference": "PO-1", "lines": []}, "lines"),
        ({"reference": "PO-1"}, "lines"),
    ],
)
def test_a_receipt_without_reference_or_lines_answers_400(integrator, shelf, body: dict[str, Any], field: str) -> None:
    before = stock_state()

    response = integrator.post(RECEIPTS_URL, body, format="json")

    assert response.status_code == 400
    assert set(response.data["fields"]) == {field}
    assert stock_state() == before


def test_a_receipt_allocates_a_waiting_backorder_placed_through_the_api(integrator, shipping_method) -> None:
    # Given an order accepted as a backorder for 3 units of a SKU with no stock
    bin_at("A-03-2")
    ProductFactory(sku=SKU, price="29.90")
    placed = integrator.post(
        "/api/v1/orders/",
        order_payload(lines=[{"sku": SKU, "quantity": 3}], allow_backorder=True),
        format="json",
    )
    assert placed.status_code == 201, placed.data
    number = placed.data["number"]
    assert stock_shortages(order_number=number) == [Shortage(sku=SKU, quantity=3, quantity_short=3)]

    # When 5 units are received
    response = integrator.post(RECEIPTS_URL, receipt_body(quantity=5), format="json")

    # Then 3 are held for the order, which is no longer short
    assert response.status_code == 201
    assert stock_shortages(order_number=number) == []
    assert counters(SKU, "A-03-2") == (5, 3)
    allocation = StockMovement.objects.get(kind=MovementKind.ALLOCATION, order_number=number)
    assert (allocation.allocated_delta, allocation.reference) == (3, "PO-123")


def test_a_receipt_answers_with_its_own_movements_only(integrator) -> None:
    # Given a waiting backorder, which the receipt also allocates
    bin_at("A-03-2")
    place(SKU, 2, allow_backorder=True)

    # When
    response = integrator.post(RECEIPTS_URL, receipt_body(quantity=5), format="json")

    # Then the answer lists what was booked in; the allocation is in the ledger
    assert [m["kind"] for m in response.data["movements"]] == ["receipt"]
    assert StockMovement.objects.filter(kind=MovementKind.ALLOCATION).count() == 1


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_receipts_accept_only_post(integrator, method: str) -> None:
    assert getattr(integrator, method)(RECEIPTS_URL).status_code == 405


# --- POST /stock/adjustments/ ---------------------------------------------------------------


def test_an_adjustment_answers_201_with_the_level_after_it(integrator, shelf) -> None:
    # When
    response = integrator.post(
        ADJUSTMENTS_URL,
        {"sku": SKU, "location": "A-03-2", "delta": -2, "reason": "damaged", "note": ""},
        format="json",
    )

    # Then
    assert response.status_code == 201, response.data
    assert response.data == {
        "sku": SKU,
        "location": "A-03-2",
        "warehouse": "MAIN",
        "on_hand": 3,
        "allocated": 0,
        "available": 3,
    }
    movement = StockMovement.objects.latest("id")
    assert (movement.kind, movement.on_hand_delta, movement.reason) == (MovementKind.ADJUSTMENT, -2, "damaged")


@pytest.mark.parametrize("reason", ["damaged", "lost", "found", "correction"])
def test_each_manual_reason_is_accepted(integrator, shelf, reason: str) -> None:
    response = integrator.post(
        ADJUSTMENTS_URL, {"sku": SKU, "location": "A-03-2", "delta": 1, "reason": reason}, format="json"
    )

    assert response.status_code == 201, response.data
    assert StockMovement.objects.latest("id").reason == reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sku": "NOPE-1"}, "sku"),
        ({"location": "Z-99"}, "location"),
        ({"reason": "stolen"}, "reason"),
        ({"reason": "import"}, "reason"),
        ({"delta": 0}, "delta"),
        ({"delta": -6}, "delta"),  # 5 on hand
        ({"delta": "x"}, "delta"),
    ],
)
def test_a_bad_adjustment_answers_400_naming_the_field_and_changes_nothing(
    integrator, shelf, change: dict[str, Any], field: str
) -> None:
    before = stock_state()

    response = integrator.post(
        ADJUSTMENTS_URL, {"sku": SKU, "location": "A-03-2", "delta": -2, "reason": "damaged", **change}, format="json"
    )

    assert response.status_code == 400
    assert set(response.data["fields"]) == {field}
    assert stock_state() == before


def test_an_adjustment_below_what_is_allocated_releases_the_newest_allocation(integrator) -> None:
    first = make_order()
    second = make_order()

    response = integrator.post(
        ADJUSTMENTS_URL, {"sku": SKU, "location": "A-01-1", "delta": -1, "reason": "damaged"}, format="json"
    )

    assert response.status_code == 201
    assert (response.data["on_hand"], response.data["allocated"]) == (1, 1)
    assert stock_shortages(order_number=first.number) == []
    assert [s.quantity_short for s in stock_shortages(order_number=second.number)] == [1]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_adjustments_accept_only_post(integrator, method: str) -> None:
    assert getattr(integrator, method)(ADJUSTMENTS_URL).status_code == 405


# --- who may change stock -------------------------------------------------------------------


def test_a_picker_cannot_adjust_stock(staff_client, shelf) -> None:
    before = stock_state()

    put = staff_client("picker").put(level_url(), {"on_hand": 0, "reason": "lost"}, format="json")
    post = staff_client("picker").post(
        ADJUSTMENTS_URL, {"sku": SKU, "location": "A-03-2", "delta": -1, "reason": "lost"}, format="json"
    )

    assert (put.status_code, post.status_code) == (403, 403)
    assert put.data["code"] == "permission_denied"
    assert stock_state() == before


def test_a_manager_can_adjust_stock_and_is_named_in_the_ledger(staff_client, shelf) -> None:
    response = staff_client("manager").put(level_url(), {"on_hand": 7, "reason": "found"}, format="json")

    assert response.status_code == 200, response.data
    assert counters(SKU, "A-03-2") == (7, 0)
    movement = StockMovement.objects.latest("id")
    assert movement.actor_kind == "staff"


def test_anonymous_callers_cannot_touch_stock(shelf) -> None:
    from rest_framework.test import APIClient

    before = stock_state()

    response = APIClient().put(level_url(), {"on_hand": 0, "reason": "lost"}, format="json")

    assert response.status_code == 401
    assert response.data["code"] == "not_authenticated"
    assert stock_state() == before


def test_a_shipper_can_receive_but_not_adjust(staff_client, shelf) -> None:
    shipper = staff_client("shipper")

    received = shipper.post(RECEIPTS_URL, receipt_body(quantity=1), format="json")
    adjusted = shipper.post(
        ADJUSTMENTS_URL, {"sku": SKU, "location": "A-03-2", "delta": 1, "reason": "found"}, format="json"
    )

    assert (received.status_code, adjusted.status_code) == (201, 403)
    assert StockLevel.objects.get(location__code="A-03-2").on_hand == 6
