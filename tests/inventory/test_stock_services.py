"""Stock behaviour as the use cases see it: allocating orders, backorders, receipts, releases,
adjustments and reorder alerts, through ``orders.services`` and ``inventory.services.stock``."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inventory.models import (
    AdjustmentReason,
    Allocation,
    Location,
    LowStockAlert,
    MovementKind,
    Product,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.selectors import stock_shortages
from inventory.services.reconcile import stock_reconcile
from inventory.services.stock import ReceiptLine, StockShort, stock_adjust, stock_receive
from oms.common.errors import InvalidInput
from orders import services
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Address, Order, OrderEvent, OrderLine
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory

pytestmark = pytest.mark.django_db

_refs = itertools.count(1)


# --- helpers --------------------------------------------------------------------------------


def bin_at(code: str, *, warehouse: str = "MAIN", pick_sequence: int = 10) -> Location:
    wh, _ = Warehouse.objects.get_or_create(code=warehouse, defaults={"name": f"Warehouse {warehouse}"})
    location, _ = Location.objects.get_or_create(code=code, defaults={"warehouse": wh, "pick_sequence": pick_sequence})
    return location


def receive(sku: str, location: Location, quantity: int) -> None:
    stock_receive(
        actor=SYSTEM,
        reference=f"PO-{next(_refs)}",
        lines=[ReceiptLine(ProductFactory(sku=sku), location, quantity)],
    )


def place(*lines: tuple[str, int], allow_backorder: bool = False) -> Order:
    """Places an order for ``(sku, quantity)`` lines through ``orders.services.order_create``."""
    ShippingMethodFactory()
    for sku, _ in lines:
        ProductFactory(sku=sku)
    draft = services.OrderDraft(
        channel="web",
        external_reference=f"S-{next(_refs)}",
        currency="EUR",
        customer=services.CustomerData(email="ann@example.com", name="Ann Lee"),
        shipping_address=services.AddressData(
            name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL"
        ),
        lines=[services.LineData(sku=sku, quantity=quantity) for sku, quantity in lines],
        shipping_method="standard",
        allow_backorder=allow_backorder,
    )
    return services.order_create(actor=SYSTEM, draft=draft).order


def pay(order: Order) -> None:
    services.payment_record(
        actor=SYSTEM, number=order.number, amount=order.total, method=PaymentMethod.CARD, reference=f"card-{order.pk}"
    )


def held(order: Order) -> list[tuple[str, str, int]]:
    """(SKU, bin, units) held for the order, in allocation order."""
    return list(
        Allocation.objects.filter(reservation__order_number=order.number)
        .order_by("id")
        .values_list("reservation__product__sku", "stock__location__code", "quantity")
    )


def counters(sku: str) -> dict[str, tuple[int, int]]:
    """{bin: (on hand, allocated)} of a SKU."""
    return {
        code: (on_hand, allocated)
        for code, on_hand, allocated in StockLevel.objects.filter(product__sku=sku).values_list(
            "location__code", "on_hand", "allocated"
        )
    }


def short(order: Order) -> dict[str, int]:
    return {s.sku: s.quantity_short for s in stock_shortages(order_number=order.number)}


def database_state() -> dict[str, Any]:
    """Everything a refused stock or order request could have written."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "addresses": Address.objects.count(),
        "events": OrderEvent.objects.count(),
        "reservations": list(Reservation.objects.order_by("id").values_list("id", "quantity_allocated")),
        "allocations": list(Allocation.objects.order_by("id").values_list("id", "quantity")),
        "movements": StockMovement.objects.count(),
        "stock": list(StockLevel.objects.order_by("id").values_list("id", "on_hand", "allocated")),
        "alerts": list(LowStockAlert.objects.order_by("id").values_list("id", "resolved_at")),
    }


def assert_ledger_consistent() -> None:
    report = stock_reconcile()
    assert report.ok, report.drifts


# --- allocation -----------------------------------------------------------------------------


def test_an_order_is_allocated_from_the_warehouse_that_can_ship_all_of_it() -> None:
    # Given the first warehouse (lower id, earlier bin) has only the mug, the second has both
    near = bin_at("N-01", warehouse="NEAR", pick_sequence=1)
    far = bin_at("F-01", warehouse="FAR", pick_sequence=50)
    receive("MUG", near, 10)
    receive("MUG", far, 10)
    receive("CAP", far, 10)

    order = place(("MUG", 2), ("CAP", 1))

    assert held(order) == [("MUG", "F-01", 2), ("CAP", "F-01", 1)]
    assert counters("MUG") == {"N-01": (10, 0), "F-01": (10, 2)}
    assert_ledger_consistent()


def test_an_order_no_warehouse_can_ship_alone_draws_from_the_one_covering_most_lines_first() -> None:
    a = bin_at("A-01", warehouse="A", pick_sequence=1)
    b = bin_at("B-01", warehouse="B", pick_sequence=1)
    receive("MUG", a, 5)
    receive("MUG", b, 5)
    receive("CAP", b, 5)
    receive("TEE", a, 5)
    receive("HAT", b, 5)

    order = place(("MUG", 1), ("CAP", 1), ("TEE", 1), ("HAT", 1))

    assert sorted(held(order)) == [("CAP", "B-01", 1), ("HAT", "B-01", 1), ("MUG", "B-01", 1), ("TEE", "A-01", 1)]


def test_within_a_warehouse_bins_are_taken_in_pick_sequence_order() -> None:
    late = bin_at("A-99", pick_sequence=90)
    early = bin_at("Z-01", pick_sequence=5)
    middle = bin_at("M-50", pick_sequence=50)
    receive("MUG", late, 10)
    receive("MUG", early, 3)
    receive("MUG", middle, 2)

    order = place(("MUG", 7))

    assert held(order) == [("MUG", "Z-01", 3), ("MUG", "M-50", 2), ("MUG", "A-99", 2)]
    assert counters("MUG") == {"A-99": (10, 2), "Z-01": (3, 3), "M-50": (2, 2)}


def test_stock_in_an_inactive_bin_or_warehouse_is_not_allocated() -> None:
    closed_bin = bin_at("A-01", pick_sequence=1)
    closed_warehouse = bin_at("X-01", warehouse="OLD", pick_sequence=1)
    open_bin = bin_at("A-02", pick_sequence=2)
    for location in (closed_bin, closed_warehouse, open_bin):
        receive("MUG", location, 5)
    Location.objects.filter(pk=closed_bin.pk).update(is_active=False)
    Warehouse.objects.filter(code="OLD").update(is_active=False)

    order = place(("MUG", 5), allow_backorder=True)

    assert held(order) == [("MUG", "A-02", 5)]
    with pytest.raises(StockShort):
        place(("MUG", 1))


# --- short stock ----------------------------------------------------------------------------


def test_short_stock_without_backorder_is_refused_naming_each_short_line_with_what_is_available() -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 3)
    receive("CAP", shelf, 10)
    ProductFactory(sku="TEE")  # never stocked

    with pytest.raises(StockShort) as refused:
        place(("MUG", 5), ("CAP", 2), ("TEE", 1), allow_backorder=False)

    assert refused.value.http_status == 409
    assert refused.value.code == "insufficient_stock"
    assert refused.value.extra["lines"] == [
        {"sku": "MUG", "requested": 5, "available": 3},
        {"sku": "TEE", "requested": 1, "available": 0},
    ]
    assert "MUG (ordered 5, available 3)" in refused.value.message


def test_a_refused_short_order_writes_nothing() -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 3)
    receive("CAP", shelf, 10)
    place(("CAP", 1))  # something already in the tables
    before = database_state()

    with pytest.raises(StockShort):
        place(("CAP", 2), ("MUG", 5), allow_backorder=False)

    assert database_state() == before
    assert counters("MUG") == {"A-01": (3, 0)}
    assert counters("CAP") == {"A-01": (10, 1)}


def test_a_backorder_is_accepted_with_the_short_units_visible() -> None:
    receive("MUG", bin_at("A-01"), 3)

    order = place(("MUG", 5), allow_backorder=True)

    reservation = Reservation.objects.get(order_number=order.number)
    assert (reservation.quantity, reservation.quantity_allocated, reservation.quantity_short) == (5, 3, 2)
    assert short(order) == {"MUG": 2}
    assert counters("MUG") == {"A-01": (3, 3)}
    assert_ledger_consistent()


def test_picking_is_refused_until_the_order_is_fully_allocated() -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 1)
    order = place(("MUG", 3), allow_backorder=True)
    pay(order)

    with pytest.raises(services.OrderShortOfStock) as refused:
        services.order_start_picking(actor=SYSTEM, number=order.number)

    assert refused.value.code == "order_short_of_stock"
    assert refused.value.extra["lines"] == [{"sku": "MUG", "quantity": 3, "short": 2}]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    receive("MUG", shelf, 2)
    services.order_start_picking(actor=SYSTEM, number=order.number)

    order.refresh_from_db()
    assert order.status == OrderStatus.PICKING


# --- receipts serve backorders --------------------------------------------------------------


def test_a_receipt_serves_paid_backorders_by_payment_time_before_unpaid_ones() -> None:
    shelf = bin_at("A-01")
    unpaid = place(("MUG", 1), allow_backorder=True)  # the oldest, but never paid
    paid_second = place(("MUG", 1), allow_backorder=True)
    paid_first = place(("MUG", 1), allow_backorder=True)  # placed last, paid first
    pay(paid_first)
    pay(paid_second)
    waiting = (paid_first, paid_second, unpaid)

    receive("MUG", shelf, 1)
    assert [bool(short(o)) for o in waiting] == [False, True, True]
    receive("MUG", shelf, 1)
    assert [bool(short(o)) for o in waiting] == [False, False, True]
    receive("MUG", shelf, 1)
    assert [bool(short(o)) for o in waiting] == [False, False, False]
    assert counters("MUG") == {"A-01": (3, 3)}
    assert_ledger_consistent()


def test_a_receipt_larger_than_the_backorders_leaves_the_rest_available() -> None:
    shelf = bin_at("A-01")
    ProductFactory(sku="MUG")
    order = place(("MUG", 2), allow_backorder=True)

    receive("MUG", shelf, 5)

    assert short(order) == {}
    assert held(order) == [("MUG", "A-01", 2)]
    assert counters("MUG") == {"A-01": (5, 2)}
    assert_ledger_consistent()


# --- releases -------------------------------------------------------------------------------


def test_cancelling_an_order_releases_its_allocation_in_counters_and_ledger() -> None:
    receive("MUG", bin_at("A-01"), 5)
    order = place(("MUG", 2))

    services.order_cancel(actor=SYSTEM, number=order.number, reason="Customer changed their mind")

    assert counters("MUG") == {"A-01": (5, 0)}
    assert not Reservation.objects.filter(order_number=order.number).exists()
    assert list(
        StockMovement.objects.filter(order_number=order.number)
        .order_by("id")
        .values_list("kind", "on_hand_delta", "allocated_delta", "note")
    ) == [
        (MovementKind.ALLOCATION, 0, 2, ""),
        (MovementKind.RELEASE, 0, -2, "Customer changed their mind"),
    ]
    assert_ledger_consistent()


def test_units_freed_by_a_cancellation_go_to_the_waiting_backorder_before_a_later_order() -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 1)
    first = place(("MUG", 1))
    waiting = place(("MUG", 1), allow_backorder=True)
    pay(waiting)

    services.order_cancel(actor=SYSTEM, number=first.number, reason="Fraud check failed")

    # First come, first served: the paid backorder was waiting for exactly this unit.
    assert short(waiting) == {}
    assert counters("MUG") == {"A-01": (1, 1)}
    with pytest.raises(StockShort):
        place(("MUG", 1))
    assert_ledger_consistent()


def test_an_expired_unpaid_order_releases_its_allocation() -> None:
    receive("MUG", bin_at("A-01"), 5)
    order = place(("MUG", 3))
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=100))

    assert services.orders_expire_unpaid() == [order.number]

    assert counters("MUG") == {"A-01": (5, 0)}
    assert not Reservation.objects.filter(order_number=order.number).exists()
    release = StockMovement.objects.get(order_number=order.number, kind=MovementKind.RELEASE)
    assert (release.allocated_delta, release.note, release.actor_kind) == (-3, "payment not received", "system")
    assert_ledger_consistent()


# --- adjustments ----------------------------------------------------------------------------


def _three_orders_of_two(shelf: Location) -> list[Order]:
    receive("MUG", shelf, 6)
    return [place(("MUG", 2)) for _ in range(3)]


def test_adjusting_below_what_is_allocated_releases_the_newest_allocations_first() -> None:
    shelf = bin_at("A-01")
    oldest, middle, newest = _three_orders_of_two(shelf)

    stock = stock_adjust(
        actor=SYSTEM, product=Product.objects.get(sku="MUG"), location=shelf, delta=-3, reason=AdjustmentReason.DAMAGED
    )

    assert (stock.on_hand, stock.allocated) == (3, 3)
    assert [short(o) for o in (oldest, middle, newest)] == [{}, {"MUG": 1}, {"MUG": 2}]
    releases = StockMovement.objects.filter(kind=MovementKind.RELEASE).order_by("id")
    assert list(releases.values_list("order_number", "allocated_delta")) == [
        (newest.number, -2),
        (middle.number, -1),
    ]
    assert_ledger_consistent()


def test_setting_on_hand_below_what_is_allocated_releases_the_newest_allocations_first() -> None:
    shelf = bin_at("A-01")
    oldest, middle, newest = _three_orders_of_two(shelf)

    stock = stock_adjust(
        actor=SYSTEM, product=Product.objects.get(sku="MUG"), location=shelf, on_hand=1, reason=AdjustmentReason.COUNT
    )

    assert (stock.on_hand, stock.allocated) == (1, 1)
    assert [short(o) for o in (oldest, middle, newest)] == [{"MUG": 1}, {"MUG": 2}, {"MUG": 2}]
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (adjustment.on_hand_delta, adjustment.reason) == (-5, AdjustmentReason.COUNT)
    assert_ledger_consistent()


def test_adjusting_stock_up_serves_waiting_backorders() -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 1)
    order = place(("MUG", 3), allow_backorder=True)

    stock_adjust(
        actor=SYSTEM, product=Product.objects.get(sku="MUG"), location=shelf, delta=2, reason=AdjustmentReason.FOUND
    )

    assert short(order) == {}
    assert counters("MUG") == {"A-01": (3, 3)}
    assert_ledger_consistent()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"delta": -6, "reason": AdjustmentReason.LOST}, id="delta below zero"),
        pytest.param({"on_hand": -1, "reason": AdjustmentReason.COUNT}, id="negative on hand"),
        pytest.param({"delta": 1, "reason": "stolen"}, id="unknown reason"),
        pytest.param({"delta": 1, "on_hand": 3, "reason": AdjustmentReason.FOUND}, id="both delta and on hand"),
        pytest.param({"reason": AdjustmentReason.FOUND}, id="neither"),
    ],
)
def test_a_refused_adjustment_changes_nothing(change: dict[str, Any]) -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 5)
    place(("MUG", 2))
    before = database_state()

    with pytest.raises(InvalidInput):
        stock_adjust(actor=SYSTEM, product=Product.objects.get(sku="MUG"), location=shelf, **change)

    assert database_state() == before


def test_adjusting_a_bin_that_never_held_the_sku_below_zero_leaves_no_stock_row() -> None:
    shelf = bin_at("A-01")
    product = ProductFactory(sku="MUG")
    before = database_state()

    with pytest.raises(InvalidInput):
        stock_adjust(actor=SYSTEM, product=product, location=shelf, delta=-1, reason=AdjustmentReason.LOST)

    assert database_state() == before


@pytest.mark.parametrize("quantity", [0, -4])
def test_a_receipt_of_no_or_negative_units_is_refused_and_changes_nothing(quantity: int) -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 5)
    before = database_state()

    with pytest.raises(InvalidInput) as refused:
        stock_receive(
            actor=SYSTEM,
            reference="PO-bad",
            lines=[
                ReceiptLine(Product.objects.get(sku="MUG"), shelf, 2),
                ReceiptLine(Product.objects.get(sku="MUG"), shelf, quantity),
            ],
        )

    assert refused.value.fields == {"lines.1.quantity": ["Receive a positive quantity."]}
    assert database_state() == before


# --- reorder alerts -------------------------------------------------------------------------


def test_a_reorder_alert_is_raised_once_across_several_orders_and_resolved_by_a_receipt() -> None:
    shelf = bin_at("A-01")
    receive("MUG", shelf, 10)
    ReorderRule.objects.create(
        product=Product.objects.get(sku="MUG"), warehouse=shelf.warehouse, reorder_point=5, reorder_quantity=20
    )

    place(("MUG", 3))  # 7 available: above the point
    assert not LowStockAlert.objects.exists()
    place(("MUG", 3))  # 4 available: below
    place(("MUG", 2))  # 2 available: still below, no second alert
    place(("MUG", 1))

    alert = LowStockAlert.objects.get()
    assert (alert.available, alert.reorder_point, alert.reorder_quantity, alert.resolved_at) == (4, 5, 20, None)

    receive("MUG", shelf, 20)

    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert LowStockAlert.objects.count() == 1


def test_an_order_of_a_sku_without_a_reorder_rule_raises_no_alert() -> None:
    receive("MUG", bin_at("A-01"), 2)

    place(("MUG", 2))

    assert not LowStockAlert.objects.exists()
