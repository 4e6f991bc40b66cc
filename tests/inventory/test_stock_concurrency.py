"""Stock under real concurrent transactions on PostgreSQL: threads, each with its own connection.

The counters must never oversell, lock order must rule out deadlocks whatever the order of an
order's lines, and after any mix of use cases the counters must still equal the ledger.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inventory.locks import lock_stock_of_products
from inventory.models import AdjustmentReason, Location, Product, Reservation, StockLevel, Warehouse
from inventory.services.reconcile import stock_reconcile
from inventory.services.stock import ReceiptLine, stock_adjust, stock_receive
from oms.common.errors import ApplicationError
from orders import services
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory
from tests.orders.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

_refs = itertools.count(1)


def bin_at(code: str, *, warehouse: str = "MAIN", pick_sequence: int = 10) -> Location:
    wh, _ = Warehouse.objects.get_or_create(code=warehouse, defaults={"name": f"Warehouse {warehouse}"})
    location, _ = Location.objects.get_or_create(code=code, defaults={"warehouse": wh, "pick_sequence": pick_sequence})
    return location


def receive(*lines: tuple[str, Location, int]) -> Any:
    return stock_receive(
        actor=SYSTEM,
        reference=f"PO-{next(_refs)}",
        lines=[ReceiptLine(Product.objects.get(sku=sku), location, quantity) for sku, location, quantity in lines],
    )


def place(*lines: tuple[str, int], allow_backorder: bool = False) -> services.OrderCreateResult:
    draft = services.OrderDraft(
        channel="web",
        external_reference=f"C-{next(_refs)}",
        currency="EUR",
        customer=services.CustomerData(email="ann@example.com", name="Ann Lee"),
        shipping_address=services.AddressData(
            name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL"
        ),
        lines=[services.LineData(sku=sku, quantity=quantity) for sku, quantity in lines],
        shipping_method="standard",
        allow_backorder=allow_backorder,
    )
    return services.order_create(actor=SYSTEM, draft=draft)


def adjust(sku: str, location: Location, **change: Any) -> StockLevel:
    return stock_adjust(actor=SYSTEM, product=Product.objects.get(sku=sku), location=location, **change)


def totals(sku: str) -> tuple[int, int]:
    rows = StockLevel.objects.filter(product__sku=sku).values_list("on_hand", "allocated")
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def unexpected(results: list[Any], allowed: set[str]) -> list[Any]:
    """Results that are neither a success nor an ApplicationError with an allowed code."""
    return [r for r in results if isinstance(r, BaseException) and getattr(r, "code", None) not in allowed]


@pytest.fixture
def catalogue() -> None:
    ShippingMethodFactory()
    ProductFactory(sku="MUG")
    ProductFactory(sku="CAP")


@pytest.mark.usefixtures("catalogue")
def test_fifty_concurrent_orders_for_ten_units_allocate_exactly_ten() -> None:
    receive(("MUG", bin_at("A-01"), 10))
    one_unit = functools.partial(place, ("MUG", 1), allow_backorder=False)

    results = run_together(*[one_unit for _ in range(50)])

    placed = [r for r in results if isinstance(r, services.OrderCreateResult)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert (len(placed), len(refused)) == (10, 40), [r for r in results if r not in placed + refused]
    assert {r.code for r in refused} == {"insufficient_stock"}
    assert totals("MUG") == (10, 10)
    assert Order.objects.count() == 10
    assert sorted(Reservation.objects.values_list("quantity", "quantity_allocated")) == [(1, 1)] * 10
    assert stock_reconcile().ok


@pytest.mark.usefixtures("catalogue")
def test_orders_taking_the_same_two_skus_in_opposite_line_order_do_not_deadlock() -> None:
    # Several stock rows per SKU in two warehouses, so each order locks four rows.
    main, west = bin_at("A-01"), bin_at("W-01", warehouse="WEST")
    receive(("MUG", main, 50), ("CAP", main, 50), ("MUG", west, 50), ("CAP", west, 50))
    calls: list[Callable[[], Any]] = [
        functools.partial(place, ("MUG", 1), ("CAP", 2)) if i % 2 else functools.partial(place, ("CAP", 2), ("MUG", 1))
        for i in range(20)
    ]

    results = run_together(*calls)

    assert all(isinstance(r, services.OrderCreateResult) for r in results), results
    assert (totals("MUG"), totals("CAP")) == ((100, 20), (100, 40))
    assert stock_reconcile().ok


@pytest.mark.usefixtures("catalogue")
def test_a_mix_of_receipts_orders_cancellations_and_adjustments_leaves_counters_equal_to_the_ledger() -> None:
    # Given stock in three bins of two warehouses, and orders to cancel, pay and expire
    a, b, w = bin_at("A-01", pick_sequence=1), bin_at("B-01", pick_sequence=2), bin_at("W-01", warehouse="WEST")
    receive(("MUG", a, 6), ("CAP", a, 4), ("MUG", b, 3), ("CAP", w, 5))
    to_cancel = [place(("MUG", 2), ("CAP", 1), allow_backorder=True).order for _ in range(4)]
    to_pay = [place(("CAP", 3), ("MUG", 2), allow_backorder=True).order for _ in range(3)]
    to_expire = [place(("MUG", 1), allow_backorder=True).order for _ in range(2)]
    Order.objects.filter(pk__in=[o.pk for o in to_expire]).update(created_at=timezone.now() - timedelta(hours=100))

    calls: list[Callable[[], Any]] = [
        *(functools.partial(services.order_cancel, actor=SYSTEM, number=o.number, reason="race") for o in to_cancel),
        *(
            functools.partial(
                services.payment_record,
                actor=SYSTEM,
                number=o.number,
                amount=o.total,
                method=PaymentMethod.CARD,
                reference=f"race-{o.pk}",
            )
            for o in to_pay
        ),
        services.orders_expire_unpaid,
        functools.partial(place, ("MUG", 3), ("CAP", 1), allow_backorder=False),
        functools.partial(place, ("CAP", 2), ("MUG", 2), allow_backorder=False),
        functools.partial(place, ("MUG", 4), allow_backorder=True),
        functools.partial(place, ("CAP", 4), ("MUG", 1), allow_backorder=True),
        functools.partial(place, ("CAP", 1), allow_backorder=False),
        functools.partial(receive, ("MUG", a, 3), ("CAP", w, 2)),
        functools.partial(receive, ("CAP", b, 4), ("MUG", w, 2)),
        functools.partial(receive, ("MUG", b, 5)),
        functools.partial(adjust, "MUG", a, delta=-4, reason=AdjustmentReason.DAMAGED),
        functools.partial(adjust, "CAP", a, on_hand=1, reason=AdjustmentReason.COUNT),
        functools.partial(adjust, "MUG", b, delta=2, reason=AdjustmentReason.FOUND),
        functools.partial(adjust, "CAP", w, delta=-3, reason=AdjustmentReason.LOST),
        functools.partial(adjust, "MUG", w, on_hand=0, reason=AdjustmentReason.COUNT),
    ]

    results = run_together(*calls)

    # Refusals a race may legitimately cause: short stock, an adjustment below zero.
    assert unexpected(results, {"insufficient_stock", "invalid"}) == []
    report = stock_reconcile()
    assert report.ok, report.drifts
    assert report.stock_levels_checked == 6
    statuses = Counter(Order.objects.filter(pk__in=[o.pk for o in to_cancel + to_expire]).values_list("status"))
    assert statuses == Counter({(OrderStatus.CANCELLED,): 6})
    assert not Reservation.objects.filter(order_number__in=[o.number for o in to_cancel + to_expire]).exists()
    assert Order.objects.filter(pk__in=[o.pk for o in to_pay], status=OrderStatus.PAID).count() == 3


@pytest.mark.usefixtures("catalogue")
def test_payments_of_backorders_racing_receipts_and_cancellations_never_deadlock() -> None:
    # Given backorders for two SKUs, some to be paid and some cancelled while stock arrives
    a, b = bin_at("A-01"), bin_at("B-01")
    receive(("MUG", a, 1), ("CAP", b, 1))
    to_pay = [place(("MUG", 2), ("CAP", 2), allow_backorder=True).order for _ in range(8)]
    to_cancel = [place(("CAP", 1), ("MUG", 1), allow_backorder=True).order for _ in range(4)]
    calls: list[Callable[[], Any]] = [
        *(
            functools.partial(
                services.payment_record,
                actor=SYSTEM,
                number=o.number,
                amount=o.total,
                method=PaymentMethod.CARD,
                reference=f"bo-{o.pk}",
            )
            for o in to_pay
        ),
        *(functools.partial(services.order_cancel, actor=SYSTEM, number=o.number, reason="race") for o in to_cancel),
        *(functools.partial(receive, ("MUG", a, 2), ("CAP", b, 2)) for _ in range(3)),
        *(functools.partial(receive, ("CAP", b, 1), ("MUG", a, 1)) for _ in range(3)),
    ]

    results = run_together(*calls)

    # Then every call succeeded (no deadlock) and the counters still equal the ledger
    assert [r for r in results if isinstance(r, Exception)] == []
    assert stock_reconcile().ok
    assert Order.objects.filter(pk__in=[o.pk for o in to_pay], status=OrderStatus.PAID).count() == 8


@pytest.mark.usefixtures("catalogue")
def test_a_lock_that_waited_also_locks_a_bin_committed_while_it_waited() -> None:
    """A receipt into a new bin inserts the bin's stock row while it holds the SKU's rows; a
    placement waiting on those rows must come back with the new row too, or it would allocate
    without the units (and the lock) of that bin."""
    old_bin, new_bin = bin_at("A-01"), bin_at("A-02")
    receive(("MUG", old_bin, 5))
    mug = Product.objects.get(sku="MUG")
    holding, waiting_started = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def receipt_into_new_bin() -> None:
        try:
            with transaction.atomic():
                lock_stock_of_products([mug.pk])
                StockLevel.objects.create(product=mug, location=new_bin, on_hand=0)
                holding.set()
                waiting_started.wait(timeout=10)
                time.sleep(0.3)  # the other transaction is now queued on the first row
        finally:
            connection.close()

    def placement() -> None:
        try:
            holding.wait(timeout=10)
            with transaction.atomic():
                waiting_started.set()
                seen.append([stock.location_id for stock in lock_stock_of_products([mug.pk])])
        finally:
            connection.close()

    threads = [threading.Thread(target=receipt_into_new_bin), threading.Thread(target=placement)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == [[old_bin.pk, new_bin.pk]]
