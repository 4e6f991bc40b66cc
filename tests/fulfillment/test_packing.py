"""Packing services: opening by order or tote, boxes, scans, weights and overrides, completing."""

from __future__ import annotations

import pytest

from fulfillment.enums import AccuracyKind, EntryState, PackageStatus, PackingStatus
from fulfillment.models import AccuracyEvent, Package, PackageItem, PackingSession, PickListOrder
from fulfillment.services import packing, picking
from fulfillment.services.packing import Override
from oms.common.actors import Actor
from oms.common.errors import ApplicationError
from orders.enums import OrderStatus
from orders.models import Order, OrderEvent
from tests.fulfillment.helpers import box, manager, packer, paid_order, picker, stock

pytestmark = pytest.mark.django_db


def picked(lines: dict[str, int]) -> tuple[Order, str]:
    """A paid order picked in full; returns it with its tote."""
    order = paid_order(lines)
    pam = picker()
    actor = Actor.for_user(pam)
    pick_list = picking.pick_list_create(actor=actor, picker=pam, order_numbers=[order.number])
    picking.pick_list_start(actor=actor, number=pick_list.number)
    for task in pick_list.tasks.all():
        picking.pick_scan(actor=actor, number=pick_list.number, code=task.product.sku, task_id=task.pk,
                          quantity=task.quantity)  # fmt: skip
    return Order.objects.get(pk=order.pk), f"{pick_list.number}-1"


@pytest.fixture
def tee_and_mug() -> None:
    stock("TEE", 10, "A-01", 10, weight_grams=200, barcode="111")
    stock("MUG", 10, "B-01", 20, weight_grams=350, barcode="222")
    box("BOX-S", tare=150)
    box("BOX-M", tare=300)


def test_an_order_opens_by_its_tote_or_its_number_and_resumes(tee_and_mug) -> None:
    order, tote = picked({"TEE": 1})
    pat = Actor.for_user(packer("pat"))

    by_tote = packing.packing_open(actor=pat, code=tote.lower())
    by_number = packing.packing_open(actor=pat, code=order.number)

    assert by_tote.pk == by_number.pk and by_tote.order == order


def test_an_order_still_being_picked_cannot_be_packed(tee_and_mug) -> None:
    order = paid_order({"TEE": 2})
    pam = picker()
    pick_list = picking.pick_list_create(actor=Actor.for_user(pam), picker=pam, order_numbers=[order.number])
    picking.pick_list_start(actor=Actor.for_user(pam), number=pick_list.number)
    picking.pick_scan(actor=Actor.for_user(pam), number=pick_list.number, code="TEE")

    with pytest.raises(ApplicationError) as refused:
        packing.packing_open(actor=Actor.for_user(packer()), code=order.number)

    assert refused.value.code == "order_not_picked" and "1 of 2" in refused.value.message
    assert not PackingSession.objects.exists()


def test_an_unknown_code_says_what_to_scan(tee_and_mug) -> None:
    with pytest.raises(ApplicationError) as refused:
        packing.packing_open(actor=Actor.for_user(packer()), code="NOPE-1")

    assert refused.value.code == "nothing_to_pack" and refused.value.http_status == 404


def test_units_not_in_the_order_or_one_too_many_are_refused_and_recorded(tee_and_mug) -> None:
    order, tote = picked({"TEE": 1})
    pat = Actor.for_user(packer("pat"))
    packing.packing_open(actor=pat, code=tote)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-S")

    stranger = packing.pack_scan(actor=pat, order_number=order.number, code="222")
    ok = packing.pack_scan(actor=pat, order_number=order.number, code="111")
    extra = packing.pack_scan(actor=pat, order_number=order.number, code="TEE")

    assert (stranger.ok, stranger.code) == (False, "not_in_order") and "MUG" in stranger.message
    assert ok.ok and ok.all_verified
    assert (extra.ok, extra.code) == (False, "too_many_units")
    kinds = list(AccuracyEvent.objects.order_by("id").values_list("kind", "sku", "actor_label"))
    assert kinds == [(AccuracyKind.WRONG_PACK_SCAN, "MUG", "pat"), (AccuracyKind.OVER_PACK, "TEE", "pat")]
    assert PackageItem.objects.get().quantity == 1


def test_a_unit_scanned_before_choosing_a_box_is_not_counted(tee_and_mug) -> None:
    order, tote = picked({"TEE": 1})
    pat = Actor.for_user(packer())
    packing.packing_open(actor=pat, code=tote)

    result = packing.pack_scan(actor=pat, order_number=order.number, code="TEE")

    assert (result.ok, result.code) == (False, "no_open_package")
    assert not PackageItem.objects.exists() and not AccuracyEvent.objects.exists()


def test_a_weight_within_tolerance_closes_the_box(tee_and_mug) -> None:
    order, tote = picked({"TEE": 2})
    pat = Actor.for_user(packer())
    packing.packing_open(actor=pat, code=tote)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-S")
    packing.pack_scan(actor=pat, order_number=order.number, code="TEE", quantity=2)

    package = packing.package_close(actor=pat, order_number=order.number, sequence=1, weight_grams=580)

    assert (package.status, package.weight_grams, package.expected_weight_grams) == (PackageStatus.CLOSED, 580, 550)
    assert not package.weight_override_by


def test_a_weight_outside_tolerance_needs_a_supervisor_and_changes_nothing_without_one(tee_and_mug) -> None:
    order, tote = picked({"TEE": 2})
    pat = Actor.for_user(packer())
    packing.packing_open(actor=pat, code=tote)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-S")
    packing.pack_scan(actor=pat, order_number=order.number, code="TEE", quantity=2)

    with pytest.raises(ApplicationError) as refused:
        packing.package_close(actor=pat, order_number=order.number, sequence=1, weight_grams=900)
    with pytest.raises(ApplicationError) as not_a_supervisor:
        packing.package_close(
            actor=pat, order_number=order.number, sequence=1, weight_grams=900,
            override=Override(supervisor=packer("pia"), reason="heavy"),
        )  # fmt: skip

    assert refused.value.code == "weight_out_of_tolerance"
    assert refused.value.extra == {"package": 1, "weight_grams": 900, "expected_grams": 550, "tolerance_grams": 55}
    assert not_a_supervisor.value.code == "override_not_allowed"
    assert Package.objects.get().status == PackageStatus.OPEN
    assert not AccuracyEvent.objects.exists()


def test_a_supervisor_override_is_recorded_on_the_package_and_in_the_ledger(tee_and_mug) -> None:
    order, tote = picked({"TEE": 2})
    pat = Actor.for_user(packer("pat"))
    meg = manager("meg")
    packing.packing_open(actor=pat, code=tote)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-S")
    packing.pack_scan(actor=pat, order_number=order.number, code="TEE", quantity=2)

    package = packing.package_close(
        actor=pat, order_number=order.number, sequence=1, weight_grams=900,
        override=Override(supervisor=meg, reason="gift wrapping added"),
    )  # fmt: skip

    assert package.status == PackageStatus.CLOSED and package.weight_override_by == "meg"
    event = AccuracyEvent.objects.get()
    assert (event.kind, event.supervisor, event.actor_label, event.actual, event.note) == (
        AccuracyKind.WEIGHT_OVERRIDE, meg, "pat", "900 g", "gift wrapping added",
    )  # fmt: skip


def test_packing_completes_only_when_every_unit_is_verified_and_every_box_weighed(tee_and_mug) -> None:
    order, tote = picked({"TEE": 1, "MUG": 1})
    pat = Actor.for_user(packer())
    packing.packing_open(actor=pat, code=tote)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-S")
    packing.pack_scan(actor=pat, order_number=order.number, code="TEE")

    with pytest.raises(ApplicationError) as missing:
        packing.packing_complete(actor=pat, order_number=order.number)
    with pytest.raises(ApplicationError) as second_box_early:
        packing.package_open(actor=pat, order_number=order.number, package_type="BOX-M")
    packing.package_close(actor=pat, order_number=order.number, sequence=1, weight_grams=350)
    packing.package_open(actor=pat, order_number=order.number, package_type="BOX-M")
    packing.pack_scan(actor=pat, order_number=order.number, code="MUG")
    with pytest.raises(ApplicationError) as unweighed:
        packing.packing_complete(actor=pat, order_number=order.number)

    assert missing.value.code == "packing_incomplete" and "MUG 0 of 1" in missing.value.message
    assert second_box_early.value.code == "package_not_open"
    assert unweighed.value.code == "packing_incomplete" and "2" in unweighed.value.message
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING

    packing.package_close(actor=pat, order_number=order.number, sequence=2, weight_grams=650)
    packed = packing.packing_complete(actor=pat, order_number=order.number)

    assert packed.status == OrderStatus.PACKED and packed.packed_at
    assert "2 package(s)" in OrderEvent.objects.get(order=order, to_status=OrderStatus.PACKED).note
    assert PickListOrder.objects.get(order=order).state == EntryState.PACKED
    assert PackingSession.objects.get().status == PackingStatus.COMPLETED
    assert list(Package.objects.values_list("sequence", "package_type__code", "weight_grams")) == [
        (1, "BOX-S", 350), (2, "BOX-M", 650),
    ]  # fmt: skip


def test_the_bare_pack_action_refuses_an_order_not_packed_at_a_station(tee_and_mug) -> None:
    order, _tote = picked({"TEE": 1})

    with pytest.raises(ApplicationError) as refused:
        packing.packing_complete(actor=Actor.for_user(packer()), order_number=order.number)

    assert refused.value.code == "packing_incomplete"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING


def test_the_bare_pack_action_on_a_paid_order_says_the_move_is_not_allowed(tee_and_mug) -> None:
    order = paid_order({"TEE": 1})

    with pytest.raises(ApplicationError) as refused:
        packing.packing_complete(actor=Actor.for_user(packer()), order_number=order.number)

    assert refused.value.code == "transition_not_allowed"
