"""Units leaving bins for orders: confirmed picks and short picks."""

from __future__ import annotations

import pytest

from inventory.models import Location, MovementKind, Reservation, StockLevel, StockMovement
from inventory.selectors import stock_shortages
from inventory.services.picking import NotHeldHere, stock_pick, stock_short_pick
from inventory.services.reconcile import stock_reconcile
from oms.common.errors import InvalidInput
from orders.enums import OrderStatus
from orders.models import Order, OrderLine
from tests.factories import SYSTEM, make_order, stock_up

pytestmark = pytest.mark.django_db


def _order_for(quantity: int, *, first: Location) -> tuple[Order, OrderLine]:
    """A paid one-unit order, allocated from ``first`` (the bin stocked before the others)."""
    assert quantity == 1, "make_order orders one unit per SKU"
    order = make_order(OrderStatus.PAID, stocked=False)
    assert Reservation.objects.get(order_number=order.number).allocations.get().stock.location == first
    return order, order.lines.get()


def _level(code: str) -> tuple[int, int]:
    level = StockLevel.objects.get(location__code=code)
    return level.on_hand, level.allocated


def test_a_confirmed_pick_takes_the_units_out_of_the_bin_through_the_ledger() -> None:
    bin_a = stock_up("TSHIRT-RED-M", 5, location="A-01-1")
    order, line = _order_for(1, first=bin_a)

    reservation = stock_pick(actor=SYSTEM, order_number=order.number, line_id=line.pk, location=bin_a, quantity=1)

    assert _level("A-01-1") == (4, 0)
    assert (reservation.quantity_allocated, reservation.quantity_picked) == (1, 1)
    pick = StockMovement.objects.get(kind=MovementKind.PICK)
    assert (pick.on_hand_delta, pick.allocated_delta, pick.order_number) == (-1, -1, order.number)
    assert not stock_shortages(order_number=order.number)
    assert stock_reconcile().ok


def test_picking_more_than_the_bin_holds_for_the_line_is_refused_and_changes_nothing() -> None:
    bin_a = stock_up("TSHIRT-RED-M", 5, location="A-01-1")
    order, line = _order_for(1, first=bin_a)
    movements = StockMovement.objects.count()

    with pytest.raises(NotHeldHere) as err:
        stock_pick(actor=SYSTEM, order_number=order.number, line_id=line.pk, location=bin_a, quantity=2)

    assert "Only 1 unit(s) are held in bin A-01-1" in err.value.message
    assert _level("A-01-1") == (5, 1)
    assert StockMovement.objects.count() == movements


def test_picking_from_a_bin_that_holds_nothing_for_the_line_is_refused() -> None:
    bin_a = stock_up("TSHIRT-RED-M", 5, location="A-01-1")
    bin_b = stock_up("TSHIRT-RED-M", 5, location="A-01-2")
    order, line = _order_for(1, first=bin_a)

    with pytest.raises(NotHeldHere):
        stock_pick(actor=SYSTEM, order_number=order.number, line_id=line.pk, location=bin_b, quantity=1)

    assert _level("A-01-2") == (5, 0)


def test_a_short_pick_moves_the_missing_units_to_another_bin() -> None:
    bin_a = stock_up("TSHIRT-RED-M", 1, location="A-01-1")
    stock_up("TSHIRT-RED-M", 3, location="A-01-2")
    order, line = _order_for(1, first=bin_a)
    assert _level("A-01-1") == (1, 1)

    result = stock_short_pick(actor=SYSTEM, order_number=order.number, line_id=line.pk, location=bin_a, found=0)

    assert (result.picked, result.still_short) == (0, 0)
    assert [(a.stock.location.code, a.quantity) for a in result.reallocated] == [("A-01-2", 1)]
    assert _level("A-01-1") == (1, 0)  # not trusted until counted, but no longer promised
    assert _level("A-01-2") == (3, 1)
    assert not stock_shortages(order_number=order.number)
    assert stock_reconcile().ok


def test_a_short_pick_with_no_other_stock_leaves_the_line_visibly_short() -> None:
    bin_a = stock_up("TSHIRT-RED-M", 1, location="A-01-1")
    order, line = _order_for(1, first=bin_a)

    result = stock_short_pick(actor=SYSTEM, order_number=order.number, line_id=line.pk, location=bin_a, found=0)

    assert result.still_short == 1 and not result.reallocated
    assert [(s.sku, s.quantity_short) for s in stock_shortages(order_number=order.number)] == [("TSHIRT-RED-M", 1)]
    assert Reservation.objects.get(line_id=line.pk).quantity_allocated == 0
    assert stock_reconcile().ok


def test_a_short_pick_that_finds_everything_is_refused() -> None:
    bin_a = stock_up("TSHIRT-RED-M", 1, location="A-01-1")
    order, line = _order_for(1, first=bin_a)

    with pytest.raises(InvalidInput):
        stock_short_pick(actor=SYSTEM, order_number=order.number, line_id=line.pk, location=bin_a, found=1)

    assert _level("A-01-1") == (1, 1)
