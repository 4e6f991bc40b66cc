"""Return labels: asked for on approval when the order's carrier takes them, made once by the
worker from the customer's address to the order's warehouse, retried with the same number
while the carrier does not answer, failed with the carrier's reason when it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from oms.common.actors import Actor
from oms.common.outbox import TryLater
from orders.models import Order
from orders.services import order_mark_executed
from returns.enums import ReturnEventKind, ReturnLabelStatus
from returns.models import Return, ReturnEvent, ReturnLabel
from returns.services import ReturnLineData, return_approve, return_request
from returns.services.labels import return_label_give_up, return_label_issue
from shipping.carriers.base import CarrierUnavailable
from shipping.carriers.own_fleet import OwnFleetAdapter
from shipping.models import Carrier
from tests.factories import SYSTEM
from tests.shipping.test_tracking import hand_over, labelled, packed_in_two_boxes

pytestmark = pytest.mark.django_db


def delivered_by_fleet(*, return_labels: bool = True) -> Order:
    order = hand_over(labelled(packed_in_two_boxes()))
    order_mark_executed(actor=SYSTEM, number=order.number)
    Carrier.objects.filter(code="FLEET").update(return_labels=return_labels)
    return Order.objects.get(pk=order.pk)


def approved(order: Order) -> Return:
    ret = return_request(actor=Actor.customer(), order_number=order.number, lines=[ReturnLineData("MUG", 1, "damaged")])
    return return_approve(actor=SYSTEM, number=ret.number)


def payload(ret: Return) -> dict[str, Any]:
    return {"return": ret.number, "order": ret.order.number, "topic": "return.approved"}


def test_approving_asks_for_a_label_the_worker_makes_from_the_customer_to_the_warehouse() -> None:
    order = delivered_by_fleet()
    ret = approved(order)
    assert ReturnLabel.objects.get(ret=ret).status == ReturnLabelStatus.REQUESTED

    return_label_issue(payload(ret), 1)

    label = ReturnLabel.objects.get(ret=ret)
    assert label.status == ReturnLabelStatus.LIVE and label.issued_at is not None
    assert label.tracking_number and label.tracking_number.startswith("FL")
    assert label.pdf is not None and bytes(label.pdf).startswith(b"%PDF")
    event = ReturnEvent.objects.get(ret=ret, kind=ReturnEventKind.LABEL_CREATED)
    assert event.note == f"Return label {label.tracking_number}"


def test_the_worker_running_twice_makes_one_label() -> None:
    ret = approved(delivered_by_fleet())
    return_label_issue(payload(ret), 1)
    first = ReturnLabel.objects.get(ret=ret).tracking_number

    return_label_issue(payload(ret), 2)

    assert ReturnLabel.objects.get(ret=ret).tracking_number == first
    assert ReturnEvent.objects.filter(ret=ret, kind=ReturnEventKind.LABEL_CREATED).count() == 1


def test_no_label_when_the_carrier_takes_no_return_labels() -> None:
    ret = approved(delivered_by_fleet(return_labels=False))

    return_label_issue(payload(ret), 1)

    assert not ReturnLabel.objects.filter(ret=ret).exists()


def test_a_carrier_that_does_not_answer_is_tried_again_with_the_same_number(monkeypatch: pytest.MonkeyPatch) -> None:
    ret = approved(delivered_by_fleet())
    real = OwnFleetAdapter.create_label
    calls: list[str] = []

    def down(self: OwnFleetAdapter, request: Any) -> Any:
        calls.append(request.tracking_number)
        raise CarrierUnavailable("timeout")

    monkeypatch.setattr(OwnFleetAdapter, "create_label", down)
    with pytest.raises(TryLater):
        return_label_issue(payload(ret), 1)
    label = ReturnLabel.objects.get(ret=ret)
    assert (label.status, label.attempts, label.last_error) == (ReturnLabelStatus.REQUESTED, 1, "timeout")

    monkeypatch.setattr(OwnFleetAdapter, "create_label", real)
    return_label_issue(payload(ret), 2)

    assert ReturnLabel.objects.get(ret=ret).tracking_number == calls[0]


def test_a_carrier_refusal_fails_the_label_with_its_reason_on_the_return() -> None:
    order = delivered_by_fleet()
    Carrier.objects.filter(code="FLEET").update(tracking_prefix="")  # the fleet cannot number parcels
    ret = approved(order)

    return_label_issue(payload(ret), 1)

    label = ReturnLabel.objects.get(ret=ret)
    assert label.status == ReturnLabelStatus.FAILED
    assert "has no tracking prefix" in label.last_error
    assert ReturnEvent.objects.get(ret=ret, kind=ReturnEventKind.LABEL_FAILED).note == label.last_error


def test_a_carrier_silent_through_every_attempt_fails_the_label() -> None:
    ret = approved(delivered_by_fleet())

    return_label_give_up(payload(ret), "timeout")

    label = ReturnLabel.objects.get(ret=ret)
    assert label.status == ReturnLabelStatus.FAILED and "did not answer" in label.last_error


def test_the_api_shows_the_label_and_serves_its_pdf_once_made(integrator: APIClient) -> None:
    ret = approved(delivered_by_fleet())
    url = f"/api/v1/returns/{ret.number}/"

    waiting = integrator.get(url).json()["label"]
    not_ready = integrator.get(f"{url}label/")
    return_label_issue(payload(ret), 1)
    ready = integrator.get(url).json()["label"]
    pdf = integrator.get(f"{url}label/")

    assert (waiting["status"], waiting["carrier"], waiting["tracking_number"]) == ("requested", "FLEET", None)
    assert not_ready.status_code == 404 and not_ready.json()["code"] == "return_label_not_ready"
    number = ReturnLabel.objects.get(ret=ret).tracking_number
    assert (ready["status"], ready["tracking_number"]) == ("live", number)
    assert ready["tracking_url"] == f"https://track.example/{number}"
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{ret.number}-label.pdf"'
    assert pdf.content.startswith(b"%PDF")


def test_a_return_without_a_label_says_so(integrator: APIClient) -> None:
    ret = approved(delivered_by_fleet(return_labels=False))

    assert integrator.get(f"/api/v1/returns/{ret.number}/").json()["label"] is None
    assert integrator.get(f"/api/v1/returns/{ret.number}/label/").status_code == 404


def test_the_approval_email_points_to_the_label_when_one_is_made() -> None:
    from notifications.email_context import customer_context
    from notifications.enums import NotificationKind
    from notifications.rendering import render_email

    with_label = approved(delivered_by_fleet())
    order = with_label.order

    rendered = render_email(
        NotificationKind.RETURN_APPROVED,
        customer_context(NotificationKind.RETURN_APPROVED, order, {"return": with_label.number}),
    )
    ReturnLabel.objects.filter(ret=with_label).update(status=ReturnLabelStatus.FAILED)
    without = render_email(
        NotificationKind.RETURN_APPROVED,
        customer_context(NotificationKind.RETURN_APPROVED, order, {"return": with_label.number}),
    )

    assert "prepaid return label" in rendered.text and "prepaid return label" in rendered.html
    assert "prepaid return label" not in without.text


def test_the_staff_return_page_shows_the_label_and_links_its_pdf() -> None:
    from django.test import Client

    from tests.factories import make_staff

    ret = approved(delivered_by_fleet())
    client = Client()
    client.force_login(make_staff("support"))

    waiting = client.get(f"/staff/returns/{ret.number}/").content.decode()
    return_label_issue(payload(ret), 1)
    ready = client.get(f"/staff/returns/{ret.number}/").content.decode()

    assert "<strong>Return label</strong> (City Fleet):" in waiting and "being made" in waiting
    number = ReturnLabel.objects.get(ret=ret).tracking_number
    assert f'<a href="/api/v1/returns/{ret.number}/label/">{number} (PDF)</a>' in ready
    assert client.get(f"/api/v1/returns/{ret.number}/label/").content.startswith(b"%PDF")
