"""Real concurrent transactions on PostgreSQL for pick lists and packing: threads, each
with its own connection, released at the same instant."""

from __future__ import annotations

import pytest

from fulfillment.enums import ACTIVE_ENTRY_STATES, EntryState, PickListStatus
from fulfillment.models import PackingSession, PickList, PickListOrder
from fulfillment.services import packing, picking
from inventory.models import Allocation, StockLevel, StockMovement
from oms.common.actors import Actor
from oms.common.errors import ApplicationError
from orders import services
from orders.enums import OrderStatus
from orders.models import Order
from tests.factories import SYSTEM
from tests.fulfillment.helpers import paid_order, picker, stock
from tests.orders.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_pickers_cannot_take_the_same_order() -> None:
    stock("TEE", 5, "A-01", 10)
    order = paid_order({"TEE": 1})
    ann, bob = picker("ann"), picker("bob")

    results = run_together(
        lambda: picking.pick_list_create(actor=Actor.for_user(ann), picker=ann, order_numbers=[order.number]),
        lambda: picking.pick_list_create(actor=Actor.for_user(bob), picker=bob, order_numbers=[order.number]),
    )

    made = [r for r in results if isinstance(r, PickList)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "order_on_pick_list"
    assert made[0].picker.username in refused[0].message
    assert PickListOrder.objects.filter(order=order, state__in=ACTIVE_ENTRY_STATES).count() == 1
    assert PickList.objects.count() == 1


def test_two_pickers_taking_the_next_batch_at_once_get_different_orders() -> None:
    stock("TEE", 20, "A-01", 10)
    orders = [paid_order({"TEE": 1}) for _ in range(4)]
    ann, bob = picker("ann"), picker("bob")

    results = run_together(
        lambda: picking.pick_list_create(actor=Actor.for_user(ann), picker=ann, max_orders=2),
        lambda: picking.pick_list_create(actor=Actor.for_user(bob), picker=bob, max_orders=2),
    )

    assert all(isinstance(r, PickList) for r in results), results
    taken = list(PickListOrder.objects.values_list("order_id", flat=True))
    assert len(taken) == len(set(taken)) == 4
    assert set(taken) == {o.pk for o in orders}


def test_a_cancellation_racing_a_pick_start_leaves_one_consistent_outcome() -> None:
    outcomes = set()
    for round_ in range(6):
        sku = f"TEE-{round_}"
        stock(sku, 1, f"A-{round_:02d}", 10)
        order = paid_order({sku: 1})
        pam = picker(f"pam{round_}")
        pick_list = picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[order.number])

        results = run_together(
            lambda pl=pick_list, p=pam: picking.pick_list_start(actor=Actor.for_user(p), number=pl.number),
            lambda o=order: services.order_cancel(actor=SYSTEM, number=o.number, reason="customer called"),
        )

        order.refresh_from_db()
        pick_list.refresh_from_db()
        entry = PickListOrder.objects.get(order=order)
        stock_row = StockLevel.objects.get(product__sku=sku)
        if order.status == OrderStatus.PICKING:
            # The start won: the cancellation was refused and nothing of it was written.
            assert isinstance(results[1], ApplicationError) and results[1].code == "transition_not_allowed"
            assert pick_list.status == PickListStatus.PICKING and entry.state == EntryState.PICKING
            assert pick_list.tasks.count() == 1 and stock_row.allocated == 1
            assert order.cancelled_at is None
        else:
            # The cancellation won: the start dropped the order and, with nothing left, the list.
            assert order.status == OrderStatus.CANCELLED
            assert isinstance(results[1], Order)
            assert entry.state == EntryState.REMOVED and pick_list.status == PickListStatus.CANCELLED
            assert pick_list.tasks.count() == 0 and stock_row.allocated == 0
            assert not Allocation.objects.filter(reservation__order_number=order.number).exists()
        outcomes.add(order.status)
    assert outcomes <= {OrderStatus.PICKING, OrderStatus.CANCELLED}


def test_the_same_scan_sent_twice_at_once_picks_the_unit_once() -> None:
    stock("TEE", 1, "A-01", 10)
    order = paid_order({"TEE": 1})
    pam = picker("pam")
    actor = Actor.for_user(pam)
    pick_list = picking.pick_list_create(actor=actor, picker=pam, order_numbers=[order.number])
    picking.pick_list_start(actor=actor, number=pick_list.number)
    task = pick_list.tasks.get()

    results = run_together(
        lambda: picking.pick_scan(actor=actor, number=pick_list.number, code="TEE", task_id=task.pk),
        lambda: picking.pick_scan(actor=actor, number=pick_list.number, code="TEE", task_id=task.pk),
    )

    assert sum(isinstance(r, picking.ScanResult) and r.ok for r in results) == 1, results
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert refused and refused[0].code == "pick_list_transition_not_allowed"  # the list completed
    assert StockMovement.objects.filter(kind="pick", order_number=order.number).count() == 1
    assert StockLevel.objects.get(product__sku="TEE").on_hand == 0


def test_two_packers_opening_one_order_at_once_share_one_packing_session() -> None:
    stock("TEE", 1, "A-01", 10)
    order = paid_order({"TEE": 1})
    pam = picker("pam")
    actor = Actor.for_user(pam)
    pick_list = picking.pick_list_create(actor=actor, picker=pam, order_numbers=[order.number])
    picking.pick_list_start(actor=actor, number=pick_list.number)
    picking.pick_scan(actor=actor, number=pick_list.number, code="TEE")
    from tests.fulfillment.helpers import packer

    pat, pia = packer("pat"), packer("pia")

    results = run_together(
        lambda: packing.packing_open(actor=Actor.for_user(pat), code=order.number),
        lambda: packing.packing_open(actor=Actor.for_user(pia), code=f"{pick_list.number}-1"),
    )

    assert all(isinstance(r, PackingSession) for r in results), results
    assert results[0].pk == results[1].pk
    assert PackingSession.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING
