"""Pick list services: the queue, creating, starting, scanning, short picks, cancelling."""

from __future__ import annotations

import pytest

from fulfillment import transitions
from fulfillment.enums import AccuracyKind, EntryState, PickListStatus, TaskStatus
from fulfillment.models import AccuracyEvent, PickList, PickListOrder, PickTask
from fulfillment.selectors import orders_ready_to_pick, pick_list_tasks
from fulfillment.services import picking
from inventory.models import CycleCount, Reservation, StockLevel, StockMovement
from inventory.services.stock import stock_adjust
from oms.common.actors import Actor
from oms.common.errors import ApplicationError
from orders import services
from orders.enums import OrderStatus
from orders.models import Order, OrderEvent
from tests.factories import SYSTEM, make_staff
from tests.fulfillment.helpers import manager, paid_order, picker, stock

pytestmark = pytest.mark.django_db


def started(pam, *orders: Order) -> PickList:
    actor = Actor.for_user(pam)
    pick_list = picking.pick_list_create(actor=actor, picker=pam, order_numbers=[o.number for o in orders])
    picking.pick_list_start(actor=actor, number=pick_list.number)
    pick_list.refresh_from_db()
    return pick_list


def test_every_pick_list_status_is_reachable_and_closed_ones_have_no_exits() -> None:
    reachable = {PickListStatus.ASSIGNED}
    frontier = [PickListStatus.ASSIGNED]
    while frontier:
        for nxt in transitions.PICK_LIST_TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(PickListStatus.values)
    assert {PickListStatus.COMPLETED, PickListStatus.CANCELLED} == transitions.TERMINAL


def test_the_queue_holds_paid_fully_allocated_orders_oldest_payment_first() -> None:
    stock("TEE", 2, "A-01", 10)
    first = paid_order({"TEE": 1})
    second = paid_order({"TEE": 1})
    short = paid_order({"TEE": 1})  # nothing left: waits for stock
    unpaid = paid_order({"TEE": 1}, status=OrderStatus.UNHANDLED)

    queue = list(orders_ready_to_pick())

    assert queue == [first, second]
    assert short not in queue and unpaid not in queue


def test_a_pick_list_lays_out_the_path_by_bin_sequence_with_a_tote_per_order() -> None:
    stock("MUG", 5, "C-01", 30)
    stock("TEE", 5, "A-01", 10)
    stock("CAP", 5, "B-01", 20)
    one = paid_order({"MUG": 1, "TEE": 2})
    two = paid_order({"CAP": 1, "TEE": 1})
    pam = picker("pam")

    pick_list = picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[one.number, two.number])

    path = [(t.location.code, t.product.sku, t.quantity, t.entry.tote) for t in pick_list_tasks(pick_list)]
    assert path == [
        ("A-01", "TEE", 2, f"{pick_list.number}-1"),
        ("A-01", "TEE", 1, f"{pick_list.number}-2"),
        ("B-01", "CAP", 1, f"{pick_list.number}-2"),
        ("C-01", "MUG", 1, f"{pick_list.number}-1"),
    ]
    assert Order.objects.get(pk=one.pk).status == OrderStatus.PAID  # until the list starts
    assert not list(orders_ready_to_pick())


def test_an_order_that_is_not_ready_refuses_the_whole_list_and_nothing_is_made() -> None:
    stock("TEE", 1, "A-01", 10)
    ready = paid_order({"TEE": 1})
    unpaid = paid_order({"TEE": 1}, status=OrderStatus.UNHANDLED)
    pam = picker("pam")

    with pytest.raises(ApplicationError) as refused:
        picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[ready.number, unpaid.number])

    assert refused.value.code == "order_not_ready_to_pick"
    assert unpaid.number in refused.value.message
    assert [o["number"] for o in refused.value.extra["orders"]] == [unpaid.number]
    assert not PickList.objects.exists() and not PickTask.objects.exists()


def test_a_batch_is_limited_to_the_configured_size(settings) -> None:
    settings.OMS_PICK_BATCH_SIZE = 2
    stock("TEE", 5, "A-01", 10)
    orders = [paid_order({"TEE": 1}) for _ in range(3)]
    pam = picker("pam")

    with pytest.raises(ApplicationError) as refused:
        picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[o.number for o in orders])
    batch = picking.pick_list_create(actor=Actor.for_user(pam), picker=pam)

    assert refused.value.code == "invalid"
    assert list(batch.entries.values_list("order_id", flat=True)) == [orders[0].pk, orders[1].pk]


def test_orders_held_in_different_warehouses_need_one_list_each() -> None:
    stock("TEE", 1, "A-01", 10, warehouse="MAIN")
    main = paid_order({"TEE": 1})
    stock("TEE", 1, "X-01", 10, warehouse="EAST")
    east = paid_order({"TEE": 1})
    pam = picker("pam")

    with pytest.raises(ApplicationError) as refused:
        picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[main.number, east.number])

    assert refused.value.code == "orders_in_several_warehouses"
    assert "MAIN" in refused.value.message and "EAST" in refused.value.message


def test_a_user_without_the_picker_role_cannot_be_given_a_list() -> None:
    stock("TEE", 1, "A-01", 10)
    order = paid_order({"TEE": 1})
    pat = make_staff("packer", "pat")

    with pytest.raises(ApplicationError) as refused:
        picking.pick_list_create(actor=SYSTEM, picker=pat, order_numbers=[order.number])

    assert refused.value.code == "invalid" and "pat" in refused.value.message


def test_starting_moves_the_orders_to_picking_with_the_list_in_their_timeline() -> None:
    stock("TEE", 2, "A-01", 10)
    order = paid_order({"TEE": 2})
    pam = picker("pam")

    pick_list = started(pam, order)

    assert pick_list.status == PickListStatus.PICKING and pick_list.started_at
    event = OrderEvent.objects.filter(order=order, to_status=OrderStatus.PICKING).get()
    assert pick_list.number in event.note and event.actor_label == "pam"


def test_only_the_assigned_picker_or_a_manager_works_on_a_list() -> None:
    stock("TEE", 2, "A-01", 10)
    order = paid_order({"TEE": 2})
    pam, bob, meg = picker("pam"), picker("bob"), manager("meg")
    pick_list = picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[order.number])

    with pytest.raises(ApplicationError) as refused:
        picking.pick_list_start(actor=Actor.for_user(bob), number=pick_list.number)
    picking.pick_list_start(actor=Actor.for_user(meg), number=pick_list.number)

    assert refused.value.code == "not_your_pick_list" and refused.value.http_status == 403
    assert PickList.objects.get(pk=pick_list.pk).status == PickListStatus.PICKING


def test_a_wrong_item_is_refused_with_what_was_expected_and_recorded() -> None:
    stock("TEE", 2, "A-01", 10, name="T-shirt red M", barcode="5901234123457")
    stock("MUG", 2, "B-01", 20, barcode="5901234123501")
    order = paid_order({"TEE": 1})
    pam = picker("pam")
    pick_list = started(pam, order)

    result = picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="5901234123501")

    assert not result.ok and result.code == "wrong_item"
    assert "MUG" in result.message and "A-01" in result.message and "TEE" in result.message
    event = AccuracyEvent.objects.get()
    assert (event.kind, event.sku, event.location, event.actual, event.user_id) == (
        AccuracyKind.WRONG_SCAN, "TEE", "A-01", "MUG", pam.pk,
    )  # fmt: skip
    assert not StockMovement.objects.filter(kind="pick").exists()
    assert PickTask.objects.get().quantity_picked == 0


def test_a_scan_by_barcode_or_sku_takes_the_units_out_of_the_bin_through_the_ledger() -> None:
    stock("TEE", 5, "A-01", 10, barcode="5901234123457")
    order = paid_order({"TEE": 3})
    pam = picker("pam")
    pick_list = started(pam, order)

    first = picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="5901234123457", quantity=2)
    last = picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="tee")

    assert first.ok and not first.list_completed and last.list_completed
    level = StockLevel.objects.get(product__sku="TEE")
    assert (level.on_hand, level.allocated) == (2, 0)
    picks = list(StockMovement.objects.filter(kind="pick").values_list("on_hand_delta", "order_number"))
    assert picks == [(-2, order.number), (-1, order.number)]
    assert Reservation.objects.get(order_number=order.number).quantity_picked == 3
    pick_list.refresh_from_db()
    assert pick_list.status == PickListStatus.COMPLETED
    assert PickListOrder.objects.get().state == EntryState.PICKED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING  # waits for packing


def test_confirming_more_units_than_the_task_needs_is_refused() -> None:
    stock("TEE", 5, "A-01", 10)
    order = paid_order({"TEE": 1})
    pam = picker("pam")
    pick_list = started(pam, order)

    with pytest.raises(ApplicationError) as refused:
        picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="TEE", quantity=2)

    assert refused.value.code == "invalid"
    assert StockLevel.objects.get().on_hand == 5


def test_a_short_pick_is_re_allocated_from_another_bin_of_the_warehouse() -> None:
    stock("TEE", 2, "A-01", 10)
    stock("TEE", 5, "B-01", 20)
    order = paid_order({"TEE": 2})
    pam = picker("pam")
    pick_list = started(pam, order)
    task = pick_list.tasks.get()

    result = picking.pick_short(actor=Actor.for_user(pam), number=pick_list.number, task_id=task.pk, found=1)

    assert not result.order_back_to_paid
    assert [(t.location.code, t.quantity) for t in result.new_tasks] == [("B-01", 1)]
    assert "B-01" in result.message
    event = AccuracyEvent.objects.get(kind=AccuracyKind.SHORT_PICK)
    assert (event.location, event.sku, event.expected, event.actual) == ("A-01", "TEE", "2", "1")
    count = CycleCount.objects.get(reference=result.count_reference)
    assert list(count.locations.values_list("code", flat=True)) == ["A-01"]
    a01 = StockLevel.objects.get(location__code="A-01")
    assert (a01.on_hand, a01.allocated) == (1, 0)  # one unit taken; the bin is counted before it is trusted
    picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="TEE")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING
    assert PickList.objects.get(pk=pick_list.pk).status == PickListStatus.COMPLETED


def test_a_short_pick_no_bin_can_cover_sends_the_order_back_to_paid_visibly() -> None:
    stock("TEE", 1, "A-01", 10)
    stock("CAP", 1, "B-01", 20)
    order = paid_order({"TEE": 1, "CAP": 1})
    pam = picker("pam")
    pick_list = started(pam, order)
    tee = pick_list.tasks.get(product__sku="TEE")

    result = picking.pick_short(actor=Actor.for_user(pam), number=pick_list.number, task_id=tee.pk, found=0)

    assert result.order_back_to_paid and result.list_completed
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    event = OrderEvent.objects.filter(order=order, from_status=OrderStatus.PICKING).get()
    assert "Short of stock" in event.note and "TEE" in event.note
    entry = PickListOrder.objects.get(order=order)
    assert entry.state == EntryState.SHORT
    assert pick_list.tasks.get(product__sku="CAP").status == TaskStatus.CANCELLED
    assert order not in orders_ready_to_pick()  # it waits for stock
    assert CycleCount.objects.filter(locations__code="A-01").count() == 1


def test_a_second_short_pick_in_the_same_bin_reuses_its_open_count() -> None:
    stock("TEE", 2, "A-01", 10)
    one, two = paid_order({"TEE": 1}), paid_order({"TEE": 1})
    pam = picker("pam")
    pick_list = started(pam, one, two)
    first, second = pick_list_tasks(pick_list)

    a = picking.pick_short(actor=Actor.for_user(pam), number=pick_list.number, task_id=first.pk, found=0)
    b = picking.pick_short(actor=Actor.for_user(pam), number=pick_list.number, task_id=second.pk, found=0)

    assert a.count_reference == b.count_reference
    assert AccuracyEvent.objects.filter(kind=AccuracyKind.SHORT_PICK).count() == 2


def test_a_short_pick_after_the_units_were_released_by_an_adjustment_still_closes_the_task() -> None:
    stock("TEE", 1, "A-01", 10)
    order = paid_order({"TEE": 1})
    pam = picker("pam")
    pick_list = started(pam, order)
    stock_adjust(
        actor=SYSTEM, product=StockLevel.objects.get().product, location=StockLevel.objects.get().location,
        delta=-1, reason="damaged", note="dropped",
    )  # fmt: skip
    task = pick_list.tasks.get()

    result = picking.pick_short(actor=Actor.for_user(pam), number=pick_list.number, task_id=task.pk, found=0)

    assert result.order_back_to_paid
    assert PickTask.objects.get(pk=task.pk).status == TaskStatus.SHORT


def test_cancelling_a_list_being_picked_puts_its_orders_back_to_paid_keeping_picked_units() -> None:
    stock("TEE", 2, "A-01", 10)
    stock("CAP", 2, "B-01", 20)
    order = paid_order({"TEE": 1, "CAP": 1})
    pam = picker("pam")
    pick_list = started(pam, order)
    picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="TEE")

    picking.pick_list_cancel(actor=Actor.for_user(pam), number=pick_list.number, reason="shift ended")

    pick_list.refresh_from_db()
    assert pick_list.status == PickListStatus.CANCELLED and pick_list.cancel_reason == "shift ended"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert PickListOrder.objects.get().state == EntryState.REMOVED
    assert Reservation.objects.get(product__sku="TEE").quantity_picked == 1
    # Back in the queue; a new list picks only what is still in the bins.
    again = started(pam, order)
    assert [(t.product.sku, t.quantity) for t in again.tasks.all()] == [("CAP", 1)]


def test_the_bare_start_picking_action_makes_a_one_order_list_for_the_caller() -> None:
    stock("TEE", 1, "A-01", 10)
    order = paid_order({"TEE": 1})
    pam = picker("pam")

    moved = picking.order_pick_start(actor=Actor.for_user(pam), number=order.number, note="rack 4")

    assert moved.status == OrderStatus.PICKING
    pick_list = PickList.objects.get()
    assert pick_list.picker == pam and pick_list.status == PickListStatus.PICKING
    assert "rack 4" in OrderEvent.objects.get(order=order, to_status=OrderStatus.PICKING).note


def test_the_bare_start_picking_keeps_the_order_errors() -> None:
    stock("TEE", 1, "A-01", 10)
    paid = paid_order({"TEE": 1})
    unpaid = paid_order({"TEE": 1}, status=OrderStatus.UNHANDLED)
    pam = picker("pam")
    services.order_cancel(actor=SYSTEM, number=paid.number, reason="test")

    with pytest.raises(ApplicationError) as cancelled:
        picking.order_pick_start(actor=Actor.for_user(pam), number=paid.number)
    with pytest.raises(ApplicationError) as short:
        picking.order_pick_start(actor=Actor.for_user(pam), number=unpaid.number)

    assert cancelled.value.code == "transition_not_allowed"
    assert short.value.code == "transition_not_allowed"
    assert not PickList.objects.exists()


def test_aborting_one_order_takes_it_off_its_list_and_back_to_paid() -> None:
    stock("TEE", 2, "A-01", 10)
    one, two = paid_order({"TEE": 1}), paid_order({"TEE": 1})
    pam = picker("pam")
    pick_list = started(pam, one, two)

    picking.order_pick_abort(actor=Actor.for_user(pam), number=one.number, note="customer called")

    assert Order.objects.get(pk=one.pk).status == OrderStatus.PAID
    assert PickListOrder.objects.get(order=one).state == EntryState.REMOVED
    assert pick_list.tasks.filter(entry__order=one, status=TaskStatus.CANCELLED).count() == 1
    assert PickList.objects.get(pk=pick_list.pk).status == PickListStatus.PICKING


def test_an_order_cancelled_after_some_units_were_picked_puts_them_back_in_their_bin() -> None:
    stock("TEE", 2, "A-01", 10)
    stock("CAP", 1, "B-01", 20)
    order = paid_order({"TEE": 2, "CAP": 1})
    waiting = paid_order({"TEE": 1})  # nothing left for it until the units come back
    pam = picker("pam")
    pick_list = started(pam, order)
    picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="TEE", quantity=2)
    picking.pick_list_cancel(actor=Actor.for_user(pam), number=pick_list.number, reason="customer called")

    services.order_cancel(actor=SYSTEM, number=order.number, reason="customer called")

    tee = StockLevel.objects.get(product__sku="TEE")
    assert (tee.on_hand, tee.allocated) == (2, 1)  # back on the shelf, one unit now for the waiting order
    back = StockMovement.objects.get(kind="return", order_number=order.number)
    assert (back.location.code, back.on_hand_delta) == ("A-01", 2)
    assert not Reservation.objects.filter(order_number=order.number).exists()
    assert Reservation.objects.get(order_number=waiting.number).quantity_allocated == 1
