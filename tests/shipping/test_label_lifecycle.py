"""Label failures, retries, voiding and regenerating: history is kept and a package never has
two current labels."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.models import OutboxMessage, OutboxState
from shipping.carriers.base import CarrierRejected, CarrierUnavailable
from shipping.carriers.own_fleet import OwnFleetAdapter
from shipping.enums import LabelStatus, ShipmentStatus
from shipping.models import Label, Shipment, ShipmentEvent, ShippingMethodService
from shipping.services import labels as label_services
from shipping.tasks import create_order_labels
from tests.fulfillment.helpers import manager
from tests.shipping.helpers import label_messages, packed_order

pytestmark = pytest.mark.django_db


def run_pending(order: Any) -> list[str]:
    """Runs the order's pending label messages, as a worker would."""
    return [create_order_labels(m.pk) for m in label_messages(order) if m.state == OutboxState.PENDING]


def staff() -> Actor:
    return Actor.for_user(manager())


@pytest.fixture
def carrier_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(self: Any, request: Any) -> Any:
        raise CarrierUnavailable("the carrier's API timed out")

    monkeypatch.setattr(OwnFleetAdapter, "create_label", unavailable)


@override_settings(OMS_LABEL_MAX_ATTEMPTS=3)
def test_an_unreachable_carrier_is_retried_and_the_label_waits_with_its_error(carrier_down: None) -> None:
    order = packed_order()

    assert run_pending(order) == ["retry"]

    label = Label.objects.get()
    message = label_messages(order)[0]
    assert label.status == LabelStatus.REQUESTED and label.attempts == 1
    assert label.last_error == "the carrier's API timed out"
    assert message.state == OutboxState.PENDING and message.attempts == 1


@override_settings(OMS_LABEL_MAX_ATTEMPTS=2)
def test_after_the_last_retry_the_label_is_failed_for_staff_to_see(carrier_down: None) -> None:
    order = packed_order()
    message = label_messages(order)[0]

    outcomes = [create_order_labels(message.pk), create_order_labels(message.pk)]

    label = Label.objects.get()
    assert outcomes == ["retry", "failed"]
    assert label.status == LabelStatus.FAILED and "timed out" in label.last_error
    assert ShipmentEvent.objects.filter(kind="label_failed").count() == 1


def test_a_carrier_refusal_fails_the_label_at_once_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Any, request: Any) -> Any:
        raise CarrierRejected("postal code 00-001 does not exist in PL")

    monkeypatch.setattr(OwnFleetAdapter, "create_label", refused)
    order = packed_order()

    assert run_pending(order) == ["done"]

    label = Label.objects.get()
    assert label.status == LabelStatus.FAILED and label.attempts == 1
    assert label.last_error == "postal code 00-001 does not exist in PL"


def test_a_warehouse_without_address_fails_the_label_saying_what_to_fill_in() -> None:
    order = packed_order()
    label_services.Label.objects.all().delete()
    from inventory.models import Warehouse

    Warehouse.objects.update(line1="")

    run_pending(order)

    assert "no complete address" in Label.objects.get().last_error


def test_staff_retry_after_a_failure_makes_the_label(monkeypatch: pytest.MonkeyPatch, carrier_down: None) -> None:
    order = packed_order()
    with override_settings(OMS_LABEL_MAX_ATTEMPTS=1):
        run_pending(order)
    monkeypatch.undo()  # the carrier is back

    retried = label_services.labels_retry(actor=staff(), order_number=order.number)
    outcomes = run_pending(order)

    label = Label.objects.get()
    assert retried == [label.pk] and outcomes == ["done"]
    assert label.status == LabelStatus.LIVE and label.tracking_number
    assert Shipment.objects.get().status == ShipmentStatus.LABELLED


def test_retry_is_refused_when_nothing_failed() -> None:
    order = packed_order()
    run_pending(order)
    messages = OutboxMessage.objects.count()

    with pytest.raises(Conflict) as refused:
        label_services.labels_retry(actor=staff(), order_number=order.number)

    assert refused.value.code == "label_not_failed" and OutboxMessage.objects.count() == messages


def test_an_unmapped_shipping_method_fails_the_message_and_retry_works_once_mapped() -> None:
    order = packed_order()
    link = ShippingMethodService.objects.get()
    service = link.service
    link.delete()

    assert run_pending(order) == ["failed"]
    assert "not mapped to a carrier service" in label_messages(order)[0].last_error

    ShippingMethodService.objects.create(shipping_method_id="standard", service=service)
    label_services.labels_retry(actor=staff(), order_number=order.number)
    assert run_pending(order) == ["done"]
    assert Label.objects.get().status == LabelStatus.LIVE


def test_void_and_regenerate_keeps_the_old_label_and_makes_one_new_current_label() -> None:
    order = packed_order()
    run_pending(order)
    old = Label.objects.get()

    label_services.label_void(actor=staff(), label_id=old.pk, reason="label smudged", regenerate=True)
    assert Shipment.objects.get().status == ShipmentStatus.AWAITING_LABELS
    run_pending(order)

    labels = list(Label.objects.order_by("id"))
    assert [label.status for label in labels] == [LabelStatus.VOIDED, LabelStatus.LIVE]
    assert labels[0].void_reason == "label smudged" and labels[0].voided_by
    assert labels[1].tracking_number != labels[0].tracking_number
    assert Shipment.objects.get().status == ShipmentStatus.LABELLED


def test_voiding_needs_a_reason_and_changes_nothing_without_one() -> None:
    order = packed_order()
    run_pending(order)
    label = Label.objects.get()

    with pytest.raises(InvalidInput):
        label_services.label_void(actor=staff(), label_id=label.pk, reason=" ")

    label.refresh_from_db()
    assert label.status == LabelStatus.LIVE


def test_a_parcel_handed_over_cannot_be_voided() -> None:
    order = packed_order()
    run_pending(order)
    label = Label.objects.get()
    Label.objects.filter(pk=label.pk).update(scanned_out_at=label.issued_at, scanned_out_by="dock")

    with pytest.raises(Conflict) as refused:
        label_services.label_void(actor=staff(), label_id=label.pk, reason="wrong box")

    label.refresh_from_db()
    assert refused.value.code == "label_not_live" and label.status == LabelStatus.LIVE


def test_a_voided_label_cannot_be_voided_again() -> None:
    order = packed_order()
    run_pending(order)
    label = Label.objects.get()
    label_services.label_void(actor=staff(), label_id=label.pk, reason="smudged")

    with pytest.raises(Conflict):
        label_services.label_void(actor=staff(), label_id=label.pk, reason="again")


def test_a_label_voided_while_the_carrier_worked_is_not_brought_back(monkeypatch: pytest.MonkeyPatch) -> None:
    order = packed_order()
    original = OwnFleetAdapter.create_label

    def slow_carrier(self: Any, request: Any) -> Any:
        result = original(self, request)
        # Meanwhile staff void the requested label (a new one for the package comes later).
        label = Label.objects.get(status=LabelStatus.REQUESTED)
        Label.objects.filter(pk=label.pk).update(status=LabelStatus.VOIDED)
        return result

    monkeypatch.setattr(OwnFleetAdapter, "create_label", slow_carrier)

    run_pending(order)

    assert list(Label.objects.values_list("status", flat=True)) == [LabelStatus.VOIDED]


@pytest.mark.django_db(transaction=True)
def test_two_workers_making_the_same_labels_at_once_leave_one_live_label_per_package() -> None:
    order = packed_order()
    message = label_messages(order)[0]
    label_services.labels_request(actor=Actor.system("test"), order_number=order.number)
    label_id = Label.objects.get().pk
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(label_services.label_issue(label_id).state)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(outcomes) == ["live", "skipped"]
    assert Label.objects.filter(status=LabelStatus.LIVE).count() == 1
    assert message.pk  # the message itself was not run: label_issue is what workers race on


def test_printing_labels_missing_in_the_asked_format_is_refused_and_counts_nothing() -> None:
    order = packed_order()
    run_pending(order)
    label = Label.objects.get()
    Label.objects.filter(pk=label.pk).update(zpl="")  # a carrier that made only a PDF

    with pytest.raises(Conflict) as refused:
        label_services.labels_print(actor=staff(), label_ids=[label.pk], fmt="zpl")

    label.refresh_from_db()
    assert refused.value.code == "label_format_unavailable" and label.tracking_number in refused.value.message
    assert label.print_count == 0


def test_labels_in_the_other_format_only_print_in_that_format_when_none_is_asked() -> None:
    order = packed_order()
    run_pending(order)
    label = Label.objects.get()
    Label.objects.filter(pk=label.pk).update(pdf=None)  # a ZPL-only carrier, label format PDF

    document = label_services.labels_print(actor=staff(), label_ids=[label.pk])

    label.refresh_from_db()
    assert document.content_type == "application/zpl" and document.content.startswith(b"^XA")
    assert label.print_count == 1
