"""Inbound tracking: events stored once, raw and normalised, in any order; what they mean for
the shipment and the order; EasyPost's payload; shipments gone quiet."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from fulfillment.enums import EntryState
from fulfillment.models import Package, PickListOrder
from fulfillment.services import packing, picking
from oms.common.actors import Actor
from orders.enums import OrderStatus
from orders.models import Order
from orders.services import order_mark_shipped
from shipping.enums import LabelStatus, ShipmentStatus
from shipping.enums import TrackingStatus as T
from shipping.models import Carrier, Label, Shipment, ShipmentEvent, TrackingEvent
from shipping.services.labels import label_void
from shipping.services.shipments import _shipment_set_status, lock_shipment
from shipping.services.tracking import TrackingReceipt, shipments_flag_stale, tracking_receive
from shipping.tasks import create_order_labels, flag_stale_shipments
from shipping.tracking_payloads import easypost_status
from tests.fulfillment.helpers import box, manager, paid_order, pick_whole_list, stock
from tests.shipping.helpers import dispatch_address, fleet, label_messages, packed_order

pytestmark = pytest.mark.django_db

SECRET = "s3cret-fleet"  # the webhook secret of tests.shipping.helpers.fleet()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# --- set-ups --------------------------------------------------------------------------------


def packed_in_two_boxes() -> Order:
    """A paid order picked and packed into two weighed boxes, one unit in each."""
    stock("MUG", 100, "B-MUG", 1, weight_grams=300)
    stock("TEE", 100, "B-TEE", 2, weight_grams=200)
    fleet()
    dispatch_address()
    actor = Actor.for_user(manager())
    order = paid_order({"MUG": 1, "TEE": 1})
    picking.order_pick_start(actor=actor, number=order.number)
    entry = PickListOrder.objects.select_related("pick_list").get(order=order, state=EntryState.PICKING)
    pick_whole_list(entry.pick_list.number, actor)
    packing.packing_open(actor=actor, code=order.number)
    for sequence, sku in enumerate(("MUG", "TEE"), start=1):
        packing.package_open(actor=actor, order_number=order.number, package_type=box().code)
        packing.pack_scan(actor=actor, order_number=order.number, code=sku)
        weight = packing.expected_weight(Package.objects.get(order=order, sequence=sequence))
        packing.package_close(actor=actor, order_number=order.number, sequence=sequence, weight_grams=weight)
    packing.packing_complete(actor=actor, order_number=order.number)
    return Order.objects.get(pk=order.pk)


def labelled(order: Order | None = None) -> Order:
    """A packed order whose labels the worker made: its shipment is labelled."""
    order = order or packed_order()
    for message in label_messages(order):
        create_order_labels(message.pk)
    assert Shipment.objects.get(order=order).status == ShipmentStatus.LABELLED
    return order


def hand_over(order: Order) -> Order:
    """What the dock scan-out does: the order shipped, then its shipment handed over."""
    actor = Actor.system("test: dock scan-out")
    with transaction.atomic():
        order_mark_shipped(actor=actor, number=order.number)
        shipment = lock_shipment(Shipment.objects.get(order=order).pk)
        _shipment_set_status(shipment, ShipmentStatus.HANDED_OVER, actor=actor)
    return Order.objects.get(pk=order.pk)


def shipped(order: Order | None = None) -> Order:
    return hand_over(labelled(order))


def numbers(order: Order) -> list[str]:
    """The tracking numbers of the order's live labels, package by package."""
    return [
        str(n)
        for n in Label.objects.filter(shipment__order=order, status=LabelStatus.LIVE)
        .order_by("package__sequence")
        .values_list("tracking_number", flat=True)
    ]


def event(number: str, status: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"tracking_number": number, "status": status, "occurred_at": at.isoformat(), **extra}


def own_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-OMS-Signature": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def receive(body: bytes, carrier: str = "FLEET") -> TrackingReceipt:
    return tracking_receive(carrier_code=carrier, body=body, headers=signed(body))


def results(receipt: TrackingReceipt) -> list[tuple[str, str]]:
    return [(r.tracking_number, r.result) for r in receipt.results]


def shipment_of(order: Order) -> Shipment:
    return Shipment.objects.get(order=order)


def easypost_body(code: str, *details: dict[str, Any], description: str = "tracker.updated") -> bytes:
    """An EasyPost Event as EasyPost posts it (trimmed of fields nothing reads)."""
    return json.dumps(
        {
            "id": "evt_5f0e1d2c3b4a",
            "object": "Event",
            "mode": "production",
            "description": description,
            "previous_attributes": {"status": "pre_transit"},
            "result": {
                "id": "trk_8a71c0ffee",
                "object": "Tracker",
                "mode": "production",
                "tracking_code": code,
                "status": details[-1]["status"] if details else "unknown",
                "carrier": "UPS",
                "tracking_details": list(details),
            },
        }
    ).encode()


def detail(status: str, at: str, message: str, status_detail: str = "", **location: Any) -> dict[str, Any]:
    return {
        "object": "TrackingDetail",
        "message": message,
        "description": "",
        "status": status,
        "status_detail": status_detail,
        "datetime": at,
        "source": "UPS",
        "tracking_location": {"object": "TrackingLocation", "city": None, "state": None, "country": None, "zip": None}
        | location,
    }


# --- storing events -------------------------------------------------------------------------


def test_an_event_is_stored_raw_and_normalised_and_the_parcel_and_shipment_show_it() -> None:
    # Given a shipped order
    order = shipped()
    [number] = numbers(order)
    raw = event(number, "in_transit", T0, event_id="scan-1", description="Sorted in Poznań", location="Poznań")

    # When the carrier reports it in transit
    receipt = receive(own_body(raw))

    # Then
    assert results(receipt) == [(number, "stored")]
    stored = TrackingEvent.objects.get()
    assert (stored.status, stored.carrier_status, stored.description, stored.location, stored.source) == (
        T.IN_TRANSIT, "in_transit", "Sorted in Poznań", "Poznań", "own",
    )  # fmt: skip
    assert stored.occurred_at == T0 and stored.raw == raw and stored.dedup_key == "own:scan-1"
    label, shipment = Label.objects.get(), shipment_of(order)
    assert (label.tracking_status, label.last_event_at) == (T.IN_TRANSIT, T0)
    assert (shipment.tracking_status, shipment.last_event_at) == (T.IN_TRANSIT, T0)
    assert shipment.status == ShipmentStatus.HANDED_OVER


def test_an_event_delivered_twice_is_stored_once_and_answered_duplicate() -> None:
    order = shipped()
    [number] = numbers(order)
    body = own_body(event(number, "in_transit", T0, event_id="scan-1"))
    receive(body)

    again = receive(body)

    assert results(again) == [(number, "duplicate")]
    assert TrackingEvent.objects.count() == 1


def test_events_without_an_id_are_told_apart_by_status_and_time() -> None:
    order = shipped()
    [number] = numbers(order)

    receipt = receive(
        own_body(
            event(number, "in_transit", T0),
            event(number, "in_transit", T0),
            event(number, "in_transit", T0 + timedelta(hours=3)),
        )
    )

    assert [r.result for r in receipt.results] == ["stored", "duplicate", "stored"]
    assert TrackingEvent.objects.count() == 2


def test_an_older_event_arriving_late_is_stored_but_the_parcel_keeps_the_latest() -> None:
    # Given a parcel reported delivered
    order = shipped()
    [number] = numbers(order)
    delivered_at = T0 + timedelta(days=1)
    receive(own_body(event(number, "delivered", delivered_at)))

    # When an in-transit scan from before arrives late
    receipt = receive(own_body(event(number, "in_transit", T0)))

    # Then it is stored, and nothing moves back
    assert results(receipt) == [(number, "stored")]
    assert TrackingEvent.objects.count() == 2
    label, shipment = Label.objects.get(), shipment_of(order)
    assert (label.tracking_status, label.last_event_at) == (T.DELIVERED, delivered_at)
    assert (shipment.tracking_status, shipment.last_event_at) == (T.DELIVERED, delivered_at)
    assert shipment.status == ShipmentStatus.DELIVERED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


def test_within_one_call_the_event_that_happened_last_wins_whatever_its_place() -> None:
    order = shipped()
    [number] = numbers(order)

    receive(own_body(event(number, "out_for_delivery", T0 + timedelta(hours=5)), event(number, "in_transit", T0)))

    assert shipment_of(order).tracking_status == T.OUT_FOR_DELIVERY


def test_an_unknown_tracking_number_is_answered_for_that_event_and_the_others_are_stored() -> None:
    order = shipped()
    [number] = numbers(order)

    receipt = receive(own_body(event("FL999999995PL", "in_transit", T0), event(number, "in_transit", T0)))

    assert results(receipt) == [("FL999999995PL", "unknown_tracking_number"), (number, "stored")]
    assert list(TrackingEvent.objects.values_list("label__tracking_number", flat=True)) == [number]


def test_a_parcel_of_another_carrier_is_unknown_to_this_one() -> None:
    # Given a parcel of FLEET, and another carrier with its own secret
    order = shipped()
    [number] = numbers(order)
    Carrier.objects.create(code="OTHER", name="Other", tracking_prefix="OT", webhook_secret=SECRET)

    # When the other carrier reports FLEET's parcel
    receipt = receive(own_body(event(number, "delivered", T0)), carrier="OTHER")

    # Then nothing is recorded
    assert results(receipt) == [(number, "unknown_tracking_number")]
    assert not TrackingEvent.objects.exists()
    assert shipment_of(order).status == ShipmentStatus.HANDED_OVER


def test_an_event_for_a_voided_label_stays_with_that_label() -> None:
    # Given a labelled order whose label was voided
    order = labelled()
    label = Label.objects.get(shipment__order=order)
    label_void(actor=Actor.for_user(manager()), label_id=label.pk, reason="printer jam")

    # When the carrier reports the voided number in transit
    receipt = receive(own_body(event(str(label.tracking_number), "in_transit", T0)))

    # Then it is stored on that label, and the shipment and order do not move
    assert [r.result for r in receipt.results] == ["stored"]
    assert Label.objects.get(pk=label.pk).tracking_status == T.IN_TRANSIT
    shipment = shipment_of(order)
    assert (shipment.status, shipment.tracking_status, shipment.last_event_at) == (
        ShipmentStatus.AWAITING_LABELS, "", None,
    )  # fmt: skip
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED


# --- effects on the shipment and the order ---------------------------------------------------


def test_every_parcel_delivered_delivers_the_shipment_and_executes_the_order() -> None:
    # Given a shipped order
    order = shipped()
    [number] = numbers(order)
    delivered_at = T0 + timedelta(days=1)

    # When its parcel is delivered
    receive(own_body(event(number, "delivered", delivered_at)))

    # Then
    shipment = shipment_of(order)
    assert shipment.status == ShipmentStatus.DELIVERED and shipment.delivered_at == delivered_at
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.EXECUTED
    assert order.events.filter(to_status=OrderStatus.EXECUTED, actor_label="carrier FLEET: tracking webhook").exists()
    assert ShipmentEvent.objects.filter(
        shipment=shipment, kind="status_changed", to_status=ShipmentStatus.DELIVERED
    ).exists()


def test_one_of_two_parcels_delivered_leaves_the_order_shipped() -> None:
    # Given a shipped order in two parcels
    order = shipped(packed_in_two_boxes())
    first, second = numbers(order)

    # When only the first is delivered
    receive(own_body(event(first, "delivered", T0), event(second, "out_for_delivery", T0)))

    # Then
    assert shipment_of(order).status == ShipmentStatus.HANDED_OVER
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED

    # And when the second follows, the order is executed
    receive(own_body(event(second, "delivered", T0 + timedelta(hours=2))))
    assert shipment_of(order).status == ShipmentStatus.DELIVERED
    assert shipment_of(order).delivered_at == T0 + timedelta(hours=2)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


def test_a_parcel_returned_to_sender_returns_the_shipment_and_the_order() -> None:
    order = shipped()
    [number] = numbers(order)

    receive(own_body(event(number, "returned_to_sender", T0, description="Refused by the recipient")))

    shipment = shipment_of(order)
    assert shipment.status == ShipmentStatus.RETURNED and shipment.tracking_status == T.RETURNED_TO_SENDER
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.RETURNED and order.returned_at is not None
    assert ShipmentEvent.objects.filter(shipment=shipment, to_status=ShipmentStatus.RETURNED).exists()


def test_a_first_carrier_scan_hands_over_a_shipment_whose_scan_out_was_missed() -> None:
    # Given a labelled order never scanned out at the dock
    order = labelled()
    [number] = numbers(order)

    # When the carrier reports the parcel in transit
    receive(own_body(event(number, "in_transit", T0)))

    # Then the carrier has it: handed over, and the order shipped
    shipment = shipment_of(order)
    assert shipment.status == ShipmentStatus.HANDED_OVER and shipment.handed_over_at == T0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    note = ShipmentEvent.objects.get(shipment=shipment, to_status=ShipmentStatus.HANDED_OVER).note
    assert note.startswith("Carrier scan: in transit")


def test_a_delivery_reported_before_any_scan_out_ships_then_executes_the_order() -> None:
    order = labelled()
    [number] = numbers(order)

    receive(own_body(event(number, "delivered", T0)))

    assert shipment_of(order).status == ShipmentStatus.DELIVERED
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.EXECUTED
    assert list(order.events.filter(kind="status_changed").values_list("to_status", flat=True))[-2:] == [
        OrderStatus.SHIPPED, OrderStatus.EXECUTED,
    ]  # fmt: skip


def test_label_created_is_no_proof_of_hand_over() -> None:
    order = labelled()
    [number] = numbers(order)

    receive(own_body(event(number, "label_created", T0)))

    assert TrackingEvent.objects.count() == 1
    assert shipment_of(order).status == ShipmentStatus.LABELLED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PACKED


# --- EasyPost -------------------------------------------------------------------------------


def easypost_order() -> tuple[Order, str]:
    """A shipped order whose parcel EasyPost tracks under the carrier's own number."""
    order = shipped()
    [number] = numbers(order)
    return order, number


def test_an_easypost_tracker_event_stores_each_detail_normalised() -> None:
    # Given
    order, number = easypost_order()
    body = easypost_body(
        number,
        detail("pre_transit", "2026-03-02T09:12:00Z", "Shipping label created", "label_created"),
        detail(
            "in_transit", "2026-03-03T04:40:00Z", "Arrived at facility", "arrived_at_facility",
            city="Poznań", zip="61-001", country="PL",
        ),
    )  # fmt: skip

    # When
    receipt = receive(body)

    # Then
    assert receipt.source == "easypost"
    assert [r.result for r in receipt.results] == ["stored", "stored"]
    rows = list(
        TrackingEvent.objects.order_by("occurred_at").values_list(
            "status", "carrier_status", "description", "location", "occurred_at", "source"
        )
    )
    created, arrived = datetime(2026, 3, 2, 9, 12, tzinfo=UTC), datetime(2026, 3, 3, 4, 40, tzinfo=UTC)
    source = "easypost"
    assert rows == [
        (T.LABEL_CREATED, "pre_transit/label_created", "Shipping label created", "", created, source),
        (T.IN_TRANSIT, "in_transit/arrived_at_facility", "Arrived at facility", "61-001 Poznań, PL", arrived, source),
    ]
    raw = TrackingEvent.objects.get(status=T.IN_TRANSIT).raw
    assert raw["event"] == "evt_5f0e1d2c3b4a" and raw["detail"]["message"] == "Arrived at facility"
    assert shipment_of(order).tracking_status == T.IN_TRANSIT


def test_easypost_sends_the_whole_history_each_time_and_only_new_details_are_stored() -> None:
    order, number = easypost_order()
    first = detail("in_transit", "2026-03-03T04:40:00Z", "Arrived at facility", "arrived_at_facility")
    receive(easypost_body(number, first))

    receipt = receive(easypost_body(number, first, detail("delivered", "2026-03-04T11:02:00Z", "Delivered")))

    assert [r.result for r in receipt.results] == ["duplicate", "stored"]
    assert TrackingEvent.objects.count() == 2
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


@pytest.mark.parametrize(
    ("status", "status_detail", "canonical"),
    [
        ("pre_transit", "", T.LABEL_CREATED),
        ("pre_transit", "address_correction", T.LABEL_CREATED),
        ("in_transit", "arrived_at_facility", T.IN_TRANSIT),
        ("in_transit", "delivery_exception", T.ATTEMPTED_DELIVERY),
        ("out_for_delivery", "delivery_exception", T.ATTEMPTED_DELIVERY),
        ("out_for_delivery", "", T.OUT_FOR_DELIVERY),
        ("in_transit", "weather_delay", T.DELAYED),
        ("in_transit", "lost", T.EXCEPTION),
        ("in_transit", "arrived_at_pickup_location", T.AVAILABLE_FOR_PICKUP),
        ("available_for_pickup", "", T.AVAILABLE_FOR_PICKUP),
        ("delivered", "arrived_at_destination", T.DELIVERED),
        ("return_to_sender", "return", T.RETURNED_TO_SENDER),
        ("failure", "", T.EXCEPTION),
        ("error", "", T.EXCEPTION),
        ("cancelled", "", T.EXCEPTION),
        ("unknown", "", T.IN_TRANSIT),
        ("unknown", "held", T.DELAYED),
        ("a_status_added_later", "", T.IN_TRANSIT),
    ],
)
def test_easypost_statuses_map_onto_the_canonical_vocabulary(status: str, status_detail: str, canonical: str) -> None:
    assert easypost_status(status, status_detail) == canonical


def test_an_easypost_event_about_something_else_than_a_tracker_is_ignored() -> None:
    shipped()
    body = json.dumps({"object": "Event", "description": "batch.updated", "result": {"object": "Batch"}}).encode()

    receipt = receive(body)

    assert receipt.results == [] and receipt.ignored
    assert not TrackingEvent.objects.exists()


# --- shipments gone quiet -------------------------------------------------------------------


@override_settings(OMS_TRACKING_STALE_DAYS=5)
def test_a_handed_over_shipment_without_events_for_too_long_is_flagged_stale() -> None:
    # Given a shipment whose last event is six days old, and one with an event from yesterday
    quiet, busy = shipped(), shipped(packed_order(sku="TEE"))
    receive(own_body(event(numbers(quiet)[0], "in_transit", T0)))
    receive(own_body(event(numbers(busy)[0], "in_transit", T0 + timedelta(days=5))))
    now = T0 + timedelta(days=6)

    # When the check runs
    flagged = shipments_flag_stale(now=now)

    # Then only the quiet one is flagged, once
    assert flagged == [quiet.number]
    assert shipment_of(quiet).stale_since == now and shipment_of(busy).stale_since is None
    assert ShipmentEvent.objects.filter(shipment=shipment_of(quiet), kind="stale").count() == 1
    assert shipments_flag_stale(now=now + timedelta(hours=1)) == []


@override_settings(OMS_TRACKING_STALE_DAYS=5)
def test_a_shipment_with_no_event_at_all_counts_from_its_hand_over() -> None:
    order = shipped()
    handed_over_at = shipment_of(order).handed_over_at
    assert handed_over_at is not None

    assert shipments_flag_stale(now=handed_over_at + timedelta(days=4)) == []
    assert shipments_flag_stale(now=handed_over_at + timedelta(days=5, minutes=1)) == [order.number]


@override_settings(OMS_TRACKING_STALE_DAYS=5)
def test_delivered_and_labelled_shipments_are_never_stale() -> None:
    delivered, waiting = shipped(), labelled(packed_order(sku="TEE"))
    receive(own_body(event(numbers(delivered)[0], "delivered", T0)))

    assert shipments_flag_stale(now=T0 + timedelta(days=60)) == []
    assert shipment_of(waiting).stale_since is None


@override_settings(OMS_TRACKING_STALE_DAYS=5)
def test_the_next_event_clears_the_stale_flag() -> None:
    # Given a stale shipment
    order = shipped()
    [number] = numbers(order)
    receive(own_body(event(number, "in_transit", T0)))
    shipments_flag_stale(now=T0 + timedelta(days=6))

    # When the carrier reports again
    receive(own_body(event(number, "delayed", T0 + timedelta(days=6, hours=2), description="Held at customs")))

    # Then
    shipment = shipment_of(order)
    assert shipment.stale_since is None and shipment.tracking_status == T.DELAYED
    assert ShipmentEvent.objects.filter(shipment=shipment, kind="stale_cleared").count() == 1


def test_the_periodic_task_flags_and_counts(settings: Any) -> None:
    settings.OMS_TRACKING_STALE_DAYS = 0  # any hand-over before now is already too long ago
    shipped()

    assert flag_stale_shipments() == 1


def test_the_stale_check_runs_every_hour(settings: Any) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["flag-stale-shipments"] == {
        "task": "shipping.tasks.flag_stale_shipments",
        "schedule": 3600,
    }
