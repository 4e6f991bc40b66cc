"""The courier hand-over: manifests per carrier and pickup day, parcels scanned out at the
dock, the order shipped once its last parcel is out, refusals that change nothing, the
cut-off flag on parcels still at the dock, and real concurrent scans."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfReader

from fulfillment.enums import EntryState
from fulfillment.models import Package, PickListOrder
from fulfillment.services import packing, picking
from oms.common.actors import Actor
from oms.common.errors import ApplicationError, Conflict, InvalidInput, NotFound
from oms.common.models import OutboxMessage
from orders.enums import OrderStatus
from orders.models import Order, OrderEvent
from shipping.documents import manifest_pdf
from shipping.enums import LabelStatus, ManifestStatus, ShipmentStatus
from shipping.models import Carrier, Label, Manifest, Shipment, ShipmentEvent
from shipping.selectors_handover import parcels_waiting_for_pickup, unscanned_after_cutoff
from shipping.services import handover
from shipping.services import labels as label_services
from shipping.tasks import create_order_labels
from tests.factories import make_staff
from tests.fulfillment.helpers import box, manager, paid_order, pick_whole_list, stock
from tests.orders.test_concurrency import run_together
from tests.shipping.helpers import dispatch_address, fleet, label_messages

pytestmark = pytest.mark.django_db

PARCEL_GRAMS = 450  # a 300 g mug in a 150 g box


# --- set-ups (shared with the API, view and browser tests) ----------------------------------


def labelled_order(boxes: int = 1, *, sku: str = "MUG") -> Order:
    """A paid order of ``boxes`` units, picked, packed one unit a box at the station, and its
    labels made by the label task: one live label per box."""
    stock(sku, 100, f"B-{sku}", 1, weight_grams=300)
    fleet()
    dispatch_address()
    actor = Actor.for_user(manager())
    order = paid_order({sku: boxes})
    picking.order_pick_start(actor=actor, number=order.number)
    entry = PickListOrder.objects.select_related("pick_list").get(order=order, state=EntryState.PICKING)
    pick_whole_list(entry.pick_list.number, actor)
    packing.packing_open(actor=actor, code=order.number)
    for sequence in range(1, boxes + 1):
        packing.package_open(actor=actor, order_number=order.number, package_type=box("BOX-S", tare=150).code)
        packing.pack_scan(actor=actor, order_number=order.number, code=sku)
        package = Package.objects.get(order=order, sequence=sequence)
        packing.package_close(
            actor=actor, order_number=order.number, sequence=sequence, weight_grams=packing.expected_weight(package)
        )
    packing.packing_complete(actor=actor, order_number=order.number)
    for message in label_messages(order):
        create_order_labels(message.pk)
    return Order.objects.get(pk=order.pk)


def tracking_numbers(order: Order) -> list[str]:
    """The order's live tracking numbers, package by package."""
    return list(
        Label.objects.filter(shipment__order=order, status=LabelStatus.LIVE)
        .order_by("package__sequence")
        .values_list("tracking_number", flat=True)
    )


def shipper(username: str | None = None) -> Any:
    return make_staff("shipper", username)


def dock(username: str | None = None) -> Actor:
    return Actor.for_user(shipper(username))


def other_carrier() -> Carrier:
    return Carrier.objects.get_or_create(code="POST", defaults={"name": "National Post", "tracking_prefix": "PO"})[0]


def handover_state() -> dict[str, Any]:
    """Everything a hand-over call could write, to show a refusal changed nothing."""
    return {
        "manifests": sorted(Manifest.objects.values_list("number", "status", "closed_at", "closed_by")),
        "labels": sorted(Label.objects.values_list("id", "status", "manifest_id", "scanned_out_at", "scanned_out_by")),
        "shipments": sorted(Shipment.objects.values_list("id", "status", "handed_over_at")),
        "shipment_events": ShipmentEvent.objects.count(),
        "orders": sorted(Order.objects.values_list("number", "status", "shipped_at")),
        "order_events": OrderEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def shop_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(settings.TIME_ZONE))


# --- opening --------------------------------------------------------------------------------


def test_a_carrier_has_one_open_manifest_per_pickup_day_numbered_from_its_id() -> None:
    fleet()
    actor = dock("dora")

    first, created = handover.manifest_open(actor=actor, carrier_code="fleet")
    again, created_again = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    tomorrow, _ = handover.manifest_open(
        actor=actor, carrier_code="FLEET", pickup_date=timezone.localdate() + timedelta(days=1)
    )

    assert created and not created_again
    assert again.pk == first.pk
    assert first.number == f"MF-{first.pk:06d}" and tomorrow.number == f"MF-{tomorrow.pk:06d}"
    assert tomorrow.pk != first.pk
    assert (first.carrier.code, first.pickup_date, first.status, first.opened_by) == (
        "FLEET",
        timezone.localdate(),
        ManifestStatus.OPEN,
        "dora",
    )
    assert Manifest.objects.count() == 2


def test_after_the_pickup_a_new_manifest_is_opened_for_the_same_day() -> None:
    order = labelled_order()
    actor = dock()
    manifest, _ = handover.manifest_open(actor=actor, carrier_code="FLEET")
    handover.parcel_scan_out(actor=actor, manifest_number=manifest.number, code=tracking_numbers(order)[0])
    handover.manifest_close(actor=actor, manifest_number=manifest.number)

    later, created = handover.manifest_open(actor=actor, carrier_code="FLEET")

    assert created and later.pk != manifest.pk and later.pickup_date == manifest.pickup_date


@pytest.mark.parametrize(
    ("carrier", "pickup_date", "field"),
    [
        ("NOPE", None, "carrier"),
        ("", None, "carrier"),
        ("FLEET", date(2000, 1, 3), "pickup_date"),
    ],
)
def test_opening_refuses_an_unknown_carrier_or_a_day_gone_by(carrier: str, pickup_date: date, field: str) -> None:
    fleet()
    Carrier.objects.create(code="GONE", name="Gone", tracking_prefix="GO", is_active=False)
    before = handover_state()

    with pytest.raises(InvalidInput) as refused:
        handover.manifest_open(actor=dock(), carrier_code=carrier, pickup_date=pickup_date)

    assert field in refused.value.fields
    assert handover_state() == before


def test_an_inactive_carrier_gets_no_manifest() -> None:
    Carrier.objects.create(code="GONE", name="Gone", tracking_prefix="GO", is_active=False)

    with pytest.raises(InvalidInput, match="No active carrier has the code GONE"):
        handover.manifest_open(actor=dock(), carrier_code="GONE")

    assert not Manifest.objects.exists()


# --- scanning out ---------------------------------------------------------------------------


def test_an_order_in_two_boxes_ships_only_when_both_parcels_are_scanned_out() -> None:
    # Given an order packed into two boxes, each with a live label, and today's manifest
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    actor = dock("dora")

    # When the first parcel is scanned out
    one = handover.parcel_scan_out(actor=actor, manifest_number=manifest.number, code=first)

    # Then it is on the manifest, and the order waits for the other one
    assert (one.scanned, one.packages, one.shipped, one.package) == (1, 2, False, 1)
    assert one.message == (
        f"Parcel {first} scanned: 1 of 2 parcels of {order.number} scanned; the order ships when all are."
    )
    label = Label.objects.get(tracking_number=first)
    assert label.manifest_id == manifest.pk and label.scanned_out_by == "dora" and label.scanned_out_at
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED

    # When the second one is
    two = handover.parcel_scan_out(actor=actor, manifest_number=manifest.number, code=second)

    # Then the shipment is handed over and the order shipped, with who and which manifest
    assert (two.scanned, two.packages, two.shipped) == (2, 2, True)
    assert two.message == f"Parcel {second} scanned: all 2 parcels of {order.number} are out, order shipped."
    order.refresh_from_db()
    shipment = Shipment.objects.get(order=order)
    assert order.status == OrderStatus.SHIPPED and order.shipped_at
    assert shipment.status == ShipmentStatus.HANDED_OVER and shipment.handed_over_at
    shipped = OrderEvent.objects.get(order=order, to_status=OrderStatus.SHIPPED)
    assert shipped.actor_label == "dora"
    assert shipped.note == f"Handed over to City Fleet on manifest {manifest.number}"
    kinds = list(shipment.events.filter(actor_label="dora").values_list("kind", "note"))
    assert kinds == [
        ("parcel_scanned_out", f"Package 1: {first} on {manifest.number}"),
        ("parcel_scanned_out", f"Package 2: {second} on {manifest.number}"),
        ("status_changed", f"Handed over to City Fleet on manifest {manifest.number}"),
    ]


def test_a_one_parcel_order_ships_at_its_scan_whatever_the_case_and_spaces_of_the_code() -> None:
    order = labelled_order()
    (number,) = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    typed = f"  {number[:4].lower()} {number[4:8]} {number[8:].lower()} "

    result = handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number.lower(), code=typed)

    assert result.shipped and result.tracking_number == number
    assert result.message == f"Parcel {number} scanned: order {order.number} shipped."
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_a_parcel_of_another_carrier_is_refused_naming_the_right_carrier() -> None:
    order = labelled_order()
    (number,) = tracking_numbers(order)
    other_carrier()
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="POST")
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=number)

    assert refused.value.code == "parcel_other_carrier"
    assert refused.value.message == (
        f"Parcel {number} goes with City Fleet (FLEET), not National Post: put it with the FLEET parcels and "
        "scan it into a FLEET manifest."
    )
    assert refused.value.extra["carrier"] == "FLEET"
    assert handover_state() == before


def test_a_parcel_scanned_twice_is_refused_naming_its_manifest() -> None:
    order = labelled_order(boxes=2)
    first, _second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock("dora"), manifest_number=manifest.number, code=first)
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)

    assert refused.value.code == "parcel_already_scanned"
    assert refused.value.extra["manifest"] == manifest.number
    assert f"Parcel {first} is already on this manifest (scanned " in refused.value.message
    assert "by dora): scan the next parcel." in refused.value.message
    assert handover_state() == before


def test_a_parcel_on_an_earlier_manifest_is_refused_naming_that_manifest() -> None:
    order = labelled_order(boxes=2)
    first, _second = tracking_numbers(order)
    earlier, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=earlier.number, code=first)
    later, _ = handover.manifest_open(
        actor=dock(), carrier_code="FLEET", pickup_date=timezone.localdate() + timedelta(days=1)
    )

    with pytest.raises(Conflict, match=f"already on manifest {earlier.number}") as refused:
        handover.parcel_scan_out(actor=dock(), manifest_number=later.number, code=first)

    assert refused.value.code == "parcel_already_scanned"


def test_a_closed_manifest_takes_no_more_parcels() -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)
    handover.manifest_close(actor=dock("carl"), manifest_number=manifest.number)
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=second)

    assert refused.value.code == "manifest_closed"
    assert f"Manifest {manifest.number} was closed at " in refused.value.message
    assert "by carl: open the next manifest for City Fleet and scan the parcel there." in refused.value.message
    assert handover_state() == before


def test_an_unknown_tracking_number_or_manifest_is_not_found() -> None:
    labelled_order()
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    before = handover_state()

    with pytest.raises(NotFound) as unknown_parcel:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code="FL000000000PL")
    with pytest.raises(NotFound) as unknown_manifest:
        handover.parcel_scan_out(actor=dock(), manifest_number="MF-999999", code="FL000000000PL")
    with pytest.raises(InvalidInput):
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code="   ")

    assert unknown_parcel.value.code == "parcel_not_found"
    assert unknown_parcel.value.message.startswith("No parcel has the tracking number FL000000000PL. Scan the")
    assert unknown_manifest.value.code == "manifest_not_found"
    assert handover_state() == before


def test_a_voided_label_is_refused_naming_the_label_that_replaced_it() -> None:
    # Given parcel 1 whose label was voided and made again
    order = labelled_order()
    (old,) = tracking_numbers(order)
    label_services.label_void(
        actor=dock(), label_id=Label.objects.get(tracking_number=old).pk, reason="smudged", regenerate=True
    )
    for message in label_messages(order):
        create_order_labels(message.pk)
    (new,) = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    before = handover_state()

    # When the old label is scanned
    with pytest.raises(Conflict) as refused:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=old)

    # Then the dock is told to use the new label, and nothing changed
    assert new != old
    assert refused.value.code == "label_not_live"
    assert refused.value.message == (
        f"Label {old} was voided (smudged) and must not leave; package 1 of {order.number} has a new label, "
        f"{new}: stick it over the old one and scan that."
    )
    assert refused.value.extra == {"tracking_number": old, "status": "voided", "replaced_by": new}
    assert handover_state() == before

    # And the new label ships the order
    assert handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=new).shipped


def test_a_voided_label_without_a_new_one_holds_the_parcel_back() -> None:
    order = labelled_order()
    (old,) = tracking_numbers(order)
    label_services.label_void(actor=dock(), label_id=Label.objects.get(tracking_number=old).pk, reason="wrong box")
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")

    with pytest.raises(Conflict) as refused:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=old)

    assert refused.value.message.endswith(
        f"no new label was asked for package 1 of {order.number}: keep the parcel back and ask for a new label."
    )
    assert refused.value.extra["replaced_by"] is None


def test_an_order_with_a_package_waiting_for_its_label_does_not_ship_when_the_others_are_out() -> None:
    # Given two boxes; the label of box 2 was voided and is not made again yet
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    label_services.label_void(
        actor=dock(), label_id=Label.objects.get(tracking_number=second).pk, reason="torn", regenerate=True
    )
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")

    result = handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)

    assert (result.scanned, result.packages, result.shipped) == (1, 2, False)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
    assert Shipment.objects.get(order=order).status == ShipmentStatus.AWAITING_LABELS

    # When the new label is made and scanned, the order ships
    for message in label_messages(order):
        create_order_labels(message.pk)
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED
    (_, replacement) = tracking_numbers(order)
    assert handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=replacement).shipped
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


# --- taking a parcel off --------------------------------------------------------------------


def test_a_parcel_scanned_by_mistake_is_taken_off_while_its_order_is_not_shipped() -> None:
    order = labelled_order(boxes=2)
    first, _second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)

    result = handover.parcel_unscan(actor=dock("dora"), manifest_number=manifest.number, code=first.lower())

    label = Label.objects.get(tracking_number=first)
    assert (label.manifest_id, label.scanned_out_at, label.scanned_out_by) == (None, None, "")
    assert result.message == (
        f"Parcel {first} taken off manifest {manifest.number}: 0 of 2 parcels of {order.number} scanned."
    )
    assert ShipmentEvent.objects.filter(kind="parcel_unscanned", actor_label="dora").count() == 1
    # and it can be scanned again
    assert handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first).scanned == 1


def test_a_parcel_of_a_shipped_order_cannot_be_taken_off() -> None:
    order = labelled_order()
    (number,) = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=number)
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.parcel_unscan(actor=dock(), manifest_number=manifest.number, code=number)

    assert refused.value.code == "parcel_handed_over"
    assert refused.value.message == (
        f"Order {order.number} is already shipped with parcel {number}: it cannot be taken off the manifest."
    )
    assert handover_state() == before


def test_only_a_parcel_on_the_manifest_can_be_taken_off_it() -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.parcel_unscan(actor=dock(), manifest_number=manifest.number, code=second)

    assert refused.value.code == "parcel_not_on_manifest"
    assert refused.value.message == f"Parcel {second} is not on manifest {manifest.number}: nothing to take off."
    assert handover_state() == before


def test_nothing_is_taken_off_a_closed_manifest() -> None:
    order = labelled_order(boxes=2)
    first, _second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)
    handover.manifest_close(actor=dock(), manifest_number=manifest.number)
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.parcel_unscan(actor=dock(), manifest_number=manifest.number, code=first)

    assert refused.value.code == "manifest_closed"
    assert handover_state() == before


# --- closing --------------------------------------------------------------------------------


def test_an_empty_manifest_cannot_be_closed() -> None:
    fleet()
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.manifest_close(actor=dock(), manifest_number=manifest.number)

    assert refused.value.code == "manifest_empty"
    assert refused.value.message == (
        f"Manifest {manifest.number} has no parcels: scan the parcels out before closing it."
    )
    assert handover_state() == before


def test_closing_records_the_pickup_on_each_shipment_and_names_orders_not_all_out() -> None:
    # Given one order fully scanned and one with only its first parcel on the manifest
    whole = labelled_order()
    split = labelled_order(boxes=2, sku="TEE")
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    for code in [*tracking_numbers(whole), tracking_numbers(split)[0]]:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=code)

    # When the manifest is closed
    closed = handover.manifest_close(actor=dock("carl"), manifest_number=manifest.number)

    # Then it is closed by carl, with its totals, and each shipment knows the pickup
    manifest.refresh_from_db()
    assert (manifest.status, manifest.closed_by) == (ManifestStatus.CLOSED, "carl") and manifest.closed_at
    assert (closed.parcels, closed.weight_grams, closed.incomplete) == (2, 2 * PARCEL_GRAMS, [split.number])
    assert closed.message == (
        f"Manifest {manifest.number} closed: 2 parcel(s), 0.90 kg, for City Fleet. Print it for the driver to sign. "
        f"Not all parcels of {split.number} were on it: scan the rest onto the next manifest."
    )
    events = ShipmentEvent.objects.filter(kind="manifest_closed").order_by("shipment__order__number")
    assert [(e.shipment.order.number, e.actor_label, e.note) for e in events] == [
        (whole.number, "carl", f"Collected by City Fleet on manifest {manifest.number}: 1 parcel(s)"),
        (split.number, "carl", f"Collected by City Fleet on manifest {manifest.number}: 1 parcel(s)"),
    ]


def test_a_closed_manifest_cannot_be_closed_again() -> None:
    order = labelled_order()
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(order)[0])
    handover.manifest_close(actor=dock(), manifest_number=manifest.number)
    before = handover_state()

    with pytest.raises(Conflict) as refused:
        handover.manifest_close(actor=dock(), manifest_number=manifest.number)

    assert refused.value.code == "manifest_closed"
    assert handover_state() == before


# --- the cut-off flag -----------------------------------------------------------------------


def test_a_parcel_is_flagged_once_the_cut_off_of_its_ship_by_day_has_passed() -> None:
    # Given a labelled parcel of an order that must leave on Monday 7 January 2030 (cut-off 15:00)
    order = labelled_order()
    Order.objects.filter(pk=order.pk).update(ship_by=date(2030, 1, 7))
    (number,) = tracking_numbers(order)

    before = parcels_waiting_for_pickup(now=shop_time(2030, 1, 7, 14, 59))
    after = parcels_waiting_for_pickup(now=shop_time(2030, 1, 7, 15, 20))

    assert [(p.tracking_number, p.order_number, p.overdue) for p in before] == [(number, order.number, False)]
    assert before[0].cutoff_at == shop_time(2030, 1, 7, 15, 0)
    assert before[0].time_left == timedelta(minutes=1) and before[0].overdue_by == timedelta(0)
    assert [(p.tracking_number, p.overdue, p.overdue_by) for p in after] == [(number, True, timedelta(minutes=20))]
    assert unscanned_after_cutoff(now=shop_time(2030, 1, 7, 14, 59)) == []
    assert [p.tracking_number for p in unscanned_after_cutoff(now=shop_time(2030, 1, 7, 15, 20))] == [number]


def test_an_order_without_ship_by_must_leave_by_the_first_cut_off_after_its_label() -> None:
    # Given a label issued on Friday 4 January 2030 at 16:00, after that day's cut-off
    order = labelled_order()
    Order.objects.filter(pk=order.pk).update(ship_by=None)
    Label.objects.filter(shipment__order=order).update(issued_at=shop_time(2030, 1, 4, 16, 0))

    # Then the Monday cut-off counts (the service collects Monday to Friday)
    (saturday,) = parcels_waiting_for_pickup(now=shop_time(2030, 1, 5, 12, 0))
    (monday,) = parcels_waiting_for_pickup(now=shop_time(2030, 1, 7, 15, 1))

    assert saturday.leave_by == date(2030, 1, 7) and not saturday.overdue
    assert monday.overdue and monday.overdue_by == timedelta(minutes=1)


def test_scanned_parcels_and_other_carriers_are_not_waiting() -> None:
    shipped = labelled_order()
    waiting = labelled_order(boxes=2, sku="TEE")
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(shipped)[0])
    handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=tracking_numbers(waiting)[0])
    now = timezone.now()

    assert [(p.order_number, p.package, p.packages) for p in parcels_waiting_for_pickup(now=now)] == [
        (waiting.number, 2, 2)
    ]
    assert parcels_waiting_for_pickup(now=now, carrier="fleet")[0].tracking_number == tracking_numbers(waiting)[1]
    assert parcels_waiting_for_pickup(now=now, carrier="POST") == []


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_docks_scanning_both_parcels_of_an_order_at_once_ship_it_once() -> None:
    order = labelled_order(boxes=2)
    first, second = tracking_numbers(order)
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    ann, bob = dock("ann"), dock("bob")

    results = run_together(
        lambda: handover.parcel_scan_out(actor=ann, manifest_number=manifest.number, code=first),
        lambda: handover.parcel_scan_out(actor=bob, manifest_number=manifest.number, code=second),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.shipped for r in results) == [False, True]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.SHIPPED).count() == 1
    assert Label.objects.filter(shipment__order=order, manifest=manifest).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_close_racing_a_scan_either_counts_the_parcel_or_refuses_it() -> None:
    outcomes: set[str] = set()
    for round_ in range(4):
        sku = f"MUG-{round_}"
        order = labelled_order(boxes=2, sku=sku)
        first, second = tracking_numbers(order)
        manifest, _ = handover.manifest_open(
            actor=dock(), carrier_code="FLEET", pickup_date=timezone.localdate() + timedelta(days=round_)
        )
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=first)

        results = run_together(
            lambda m=manifest, code=second: handover.parcel_scan_out(
                actor=Actor.system("dock"), manifest_number=m.number, code=code
            ),
            lambda m=manifest: handover.manifest_close(actor=Actor.system("dock"), manifest_number=m.number),
        )

        scan, close = results
        assert not isinstance(close, Exception), close
        on_manifest = Label.objects.filter(manifest=manifest).count()
        if isinstance(scan, ApplicationError):
            # The close came first: the scan was refused and wrote nothing.
            assert scan.code == "manifest_closed"
            assert close.parcels == on_manifest == 1
            assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED
            outcomes.add("refused")
        else:
            # The scan came first: the close counted its parcel.
            assert close.parcels == on_manifest == 2
            assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
            outcomes.add("counted")


# --- the manifest PDF -----------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@override_settings(OMS_SHOP_NAME="Łódź Mugs")
def test_the_manifest_pdf_lists_every_parcel_with_the_totals_and_lines_for_the_driver() -> None:
    # Given a manifest with both parcels of one order and the one parcel of another
    two = labelled_order(boxes=2)
    one = labelled_order(sku="TEE")
    manifest, _ = handover.manifest_open(actor=dock(), carrier_code="FLEET")
    codes = [*tracking_numbers(two), *tracking_numbers(one)]
    for code in codes:
        handover.parcel_scan_out(actor=dock(), manifest_number=manifest.number, code=code)

    # When it is printed
    content = manifest_pdf(manifest.number)
    text = pdf_text(content)
    cells = [line.strip() for line in text.splitlines()]

    # Then the paper names the shop, carrier, manifest and pickup day, each parcel and the totals
    assert content.startswith(b"%PDF")
    assert "Łódź Mugs" in text
    assert f"Courier manifest {manifest.number}" in text
    assert "City Fleet (FLEET)" in text
    assert f"Pickup date\n{manifest.pickup_date.isoformat()}" in text
    rows = [cells[cells.index(code) - 1 : cells.index(code) + 6] for code in codes]
    assert rows == [
        ["1", codes[0], two.number, "1 of 2", "Warsaw", "PL Poland", "0.45 kg"],
        ["2", codes[1], two.number, "2 of 2", "Warsaw", "PL Poland", "0.45 kg"],
        ["3", codes[2], one.number, "1 of 1", "Warsaw", "PL Poland", "0.45 kg"],
    ]
    totals = cells.index("Total weight")
    assert cells[totals - 2 : totals + 2] == ["Parcels", "3", "Total weight", "1.35 kg"]
    assert "I received the 3 parcel(s) listed above." in text
    for line in ("Driver's name", "Signature", "Date and time of pickup"):
        assert cells[cells.index(line) + 1].startswith("____")
    assert manifest_pdf(manifest.number) == content  # the same data prints the same file
