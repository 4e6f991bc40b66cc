import pytest

from fulfillment.enums import AccuracyKind, EntryState, PickListStatus, TaskStatus
from fulfillment.models import AccuracyEvent
from fulfillment.selectors import orders_ready_to_pick, pick_list_tasks
from fulfillment.services import packing, picking
from inventory.models import CycleCount, StockLevel, StockMovement
from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order
from tests.fulfillment.helpers import box, packer, paid_order, picker, stock

pytestmark = pytest.mark.django_db


def test_batch_pick_and_pack_end_to_end():
    stock("TEE", 3, "A-01", 10, weight_grams=200, barcode="111")
    stock("MUG", 1, "B-01", 20, weight_grams=300, barcode="222")
    stock("MUG", 5, "C-01", 30)
    o1 = paid_order({"TEE": 2})
    o2 = paid_order({"MUG": 1, "TEE": 1})
    p = picker("pam")
    actor = Actor.for_user(p)
    assert list(orders_ready_to_pick()) == [o1, o2]
    pl = picking.pick_list_create(actor=actor, picker=p, max_orders=2)
    picking.pick_list_start(actor=actor, number=pl.number)
    assert Order.objects.get(pk=o1.pk).status == OrderStatus.PICKING
    tasks = pick_list_tasks(pl)
    assert [t.location.code for t in tasks] == ["A-01", "A-01", "B-01"]
    wrong = picking.pick_scan(actor=actor, number=pl.number, code="222")
    assert not wrong.ok and AccuracyEvent.objects.filter(kind=AccuracyKind.WRONG_SCAN).count() == 1
    assert picking.pick_scan(actor=actor, number=pl.number, code="111", quantity=2).ok
    assert picking.pick_scan(actor=actor, number=pl.number, code="tee").ok
    short = picking.pick_short(actor=actor, number=pl.number, task_id=tasks[2].pk, found=0)
    assert [t.location.code for t in short.new_tasks] == ["C-01"]
    assert CycleCount.objects.filter(reference=short.count_reference).exists()
    done = picking.pick_scan(actor=actor, number=pl.number, code="MUG")
    assert done.list_completed
    pl.refresh_from_db()
    assert pl.status == PickListStatus.COMPLETED
    assert set(pl.entries.values_list("state", flat=True)) == {EntryState.PICKED}
    pk = packer("pat")
    pa = Actor.for_user(pk)
    session = packing.packing_open(actor=pa, code=f"{pl.number}-2")
    assert session.order == o2
    box()
    packing.package_open(actor=pa, order_number=o2.number, package_type="BOX-S")
    assert not packing.pack_scan(actor=pa, order_number=o2.number, code="999").ok
    assert packing.pack_scan(actor=pa, order_number=o2.number, code="MUG").ok
    assert packing.pack_scan(actor=pa, order_number=o2.number, code="TEE").all_verified
    assert not packing.pack_scan(actor=pa, order_number=o2.number, code="TEE").ok
    packing.package_close(actor=pa, order_number=o2.number, sequence=1, weight_grams=650)
    order = packing.packing_complete(actor=pa, order_number=o2.number)
    assert order.status == OrderStatus.PACKED
    assert StockLevel.objects.get(product__sku="TEE").on_hand == 0
    assert StockMovement.objects.filter(kind="pick").count() == 3
    assert TaskStatus.SHORT in pl.tasks.values_list("status", flat=True)
