"""Cycle counts: blind entry, a manager's approval, and orders moving stock meanwhile."""

from __future__ import annotations

import pytest

from inventory.models import CountStatus, Location, MovementKind, Product, StockLevel, StockMovement
from inventory.selectors import stock_shortages
from inventory.services import counts
from inventory.services.stock import stock_adjust
from oms.common.errors import ApplicationError, InvalidInput
from orders.enums import OrderStatus
from tests.factories import SYSTEM, make_order, stock_up

pytestmark = pytest.mark.django_db


def _level(sku: str, location: str) -> StockLevel:
    return StockLevel.objects.get(product__sku=sku, location__code=location)


@pytest.fixture
def bin_a() -> Location:
    return stock_up("TSHIRT-RED-M", 10, location="A-01-1")


def test_approving_a_count_applies_the_variance_as_a_count_movement(bin_a) -> None:
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    product = Product.objects.get(sku="TSHIRT-RED-M")
    counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=7)
    counts.count_submit(actor=SYSTEM, reference=count.reference)

    counts.count_approve(actor=SYSTEM, reference=count.reference)

    assert _level("TSHIRT-RED-M", "A-01-1").on_hand == 7
    movement = StockMovement.objects.filter(kind=MovementKind.COUNT).get()
    assert (movement.on_hand_delta, movement.reference) == (-3, count.reference)
    count.refresh_from_db()
    assert count.status == CountStatus.APPROVED


def test_units_picked_between_entry_and_approval_are_not_counted_twice(bin_a) -> None:
    # Given a count entered when 10 were on hand: 8 found (2 missing)
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    product = Product.objects.get(sku="TSHIRT-RED-M")
    counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=8)
    counts.count_submit(actor=SYSTEM, reference=count.reference)
    # And 3 leave the bin before the manager approves (a pick, recorded by the ledger)
    stock_adjust(actor=SYSTEM, product=product, location=bin_a, delta=-3, reason="correction")

    counts.count_approve(actor=SYSTEM, reference=count.reference)

    # Then only the variance (-2) is applied: 10 - 3 - 2
    assert _level("TSHIRT-RED-M", "A-01-1").on_hand == 5


def test_orders_allocating_during_a_count_do_not_disturb_it(bin_a) -> None:
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    product = Product.objects.get(sku="TSHIRT-RED-M")
    make_order(OrderStatus.PAID, stocked=False)  # holds 1 unit; it is still in the bin

    counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=10)
    counts.count_submit(actor=SYSTEM, reference=count.reference)
    counts.count_approve(actor=SYSTEM, reference=count.reference)

    level = _level("TSHIRT-RED-M", "A-01-1")
    assert (level.on_hand, level.allocated) == (10, 1)
    assert not StockMovement.objects.filter(kind=MovementKind.COUNT).exists()


def test_a_count_that_finds_fewer_than_are_allocated_releases_the_newest_allocation(bin_a) -> None:
    first = make_order(OrderStatus.PAID, stocked=False)
    product = Product.objects.get(sku="TSHIRT-RED-M")
    second = make_order(OrderStatus.PAID, stocked=False)
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=1)
    counts.count_submit(actor=SYSTEM, reference=count.reference)

    counts.count_approve(actor=SYSTEM, reference=count.reference)

    level = _level("TSHIRT-RED-M", "A-01-1")
    assert (level.on_hand, level.allocated) == (1, 1)
    assert not stock_shortages(order_number=first.number)
    assert [s.quantity_short for s in stock_shortages(order_number=second.number)] == [1]


def test_submitting_with_a_held_sku_not_entered_is_refused_and_names_it(bin_a) -> None:
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])

    with pytest.raises(ApplicationError) as err:
        counts.count_submit(actor=SYSTEM, reference=count.reference)

    assert err.value.code == "count_incomplete"
    assert err.value.extra["missing"] == [{"location": "A-01-1", "sku": "TSHIRT-RED-M"}]
    count.refresh_from_db()
    assert count.status == CountStatus.OPEN


def test_entries_are_refused_once_the_count_is_submitted(bin_a) -> None:
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    product = Product.objects.get(sku="TSHIRT-RED-M")
    counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=10)
    counts.count_submit(actor=SYSTEM, reference=count.reference)

    with pytest.raises(ApplicationError) as err:
        counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=3)

    assert err.value.code == "count_transition_not_allowed"
    assert count.entries.get().counted == 10


def test_a_bin_outside_the_count_or_a_negative_count_is_refused(bin_a) -> None:
    other = stock_up("CAP-BLACK", 2, location="B-01-1")
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    product = Product.objects.get(sku="TSHIRT-RED-M")

    with pytest.raises(InvalidInput):
        counts.count_enter(actor=SYSTEM, reference=count.reference, location=other, product=product, counted=1)
    with pytest.raises(InvalidInput):
        counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=-1)

    assert not count.entries.exists()


def test_a_rejected_count_changes_no_stock(bin_a) -> None:
    count = counts.count_create(actor=SYSTEM, locations=[bin_a])
    product = Product.objects.get(sku="TSHIRT-RED-M")
    counts.count_enter(actor=SYSTEM, reference=count.reference, location=bin_a, product=product, counted=0)
    counts.count_submit(actor=SYSTEM, reference=count.reference)

    counts.count_reject(actor=SYSTEM, reference=count.reference)

    assert _level("TSHIRT-RED-M", "A-01-1").on_hand == 10
    with pytest.raises(ApplicationError):
        counts.count_approve(actor=SYSTEM, reference=count.reference)
