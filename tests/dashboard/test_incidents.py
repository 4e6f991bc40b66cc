"""The exception inbox: the sync opens one incident per problem found in the other apps'
data (built through their services), never twice, and closes those whose problem cleared,
saying why; staff take, release and resolve them under the rules of their role; the page
lists them oldest first with a constant number of queries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.enums import DashboardErrorCode, IncidentKind
from dashboard.models import Incident
from dashboard.selectors.incidents import age_label
from dashboard.services.incidents import (
    LOOKBACK_DAYS,
    incident_release,
    incident_resolve,
    incident_take,
    incidents_sync,
)
from dashboard.tasks import sync_incidents
from fulfillment.enums import AccuracyKind
from fulfillment.models import AccuracyEvent
from fulfillment.services.picking.state import record_accuracy
from oms.common import outbox, roles
from oms.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order
from orders.services import order_cancel, order_set_promise, payment_record, refund_record
from shipping.carriers.base import CarrierRejected
from shipping.carriers.own_fleet import OwnFleetAdapter
from shipping.enums import LabelStatus
from shipping.models import Label, Shipment
from shipping.services.labels import labels_retry
from shipping.services.tracking import shipments_flag_stale
from shipping.tasks import create_order_labels
from tests.factories import SYSTEM, make_order, make_staff, stock_up
from tests.shipping.helpers import label_messages, packed_order
from tests.shipping.test_tracking import event, numbers, own_body, receive, shipped

pytestmark = pytest.mark.django_db

_refs = itertools.count(1)


class Relays:
    """Stands in for the broker (as in tests/notifications/conftest.py): records what the
    outbox hands over and delivers nothing; the tests run the label task themselves."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[Any], float | None]] = []

    def send_task(self, name: str, args: list[Any], countdown: float | None = None) -> None:
        self.sent.append((name, args, countdown))


@pytest.fixture(autouse=True)
def relays(monkeypatch: pytest.MonkeyPatch) -> Relays:
    fake = Relays()
    monkeypatch.setattr(outbox, "current_app", fake)
    return fake


# --- problems, made through the services ----------------------------------------------------


def underpaid() -> Order:
    """An order the customer paid 10.00 of (a partial bank transfer)."""
    order = make_order(OrderStatus.UNHANDLED, skus=(f"PAY-{next(_refs)}",))
    payment_record(
        actor=SYSTEM, number=order.number, amount=Decimal("10.00"), method=PaymentMethod.BANK_TRANSFER,
        reference=f"part-{next(_refs)}",
    )  # fmt: skip
    return Order.objects.get(pk=order.pk)


def backordered() -> Order:
    """A paid order for a SKU with no stock at all."""
    return make_order(OrderStatus.PAID, skus=(f"BACK-{next(_refs)}",), stocked=False, allow_backorder=True)


def short_picked() -> tuple[Order, AccuracyEvent]:
    order = make_order(OrderStatus.PAID, skus=(f"PICK-{next(_refs)}",))
    accuracy = record_accuracy(
        SYSTEM, AccuracyKind.SHORT_PICK, order_number=order.number, sku="PICK-1", location="B-07",
        expected="2", actual="1", note="cycle count CC-1",
    )  # fmt: skip
    return order, accuracy


def weight_overridden(supervisor: Any) -> Order:
    order = make_order(OrderStatus.PAID, skus=(f"HEAVY-{next(_refs)}",))
    record_accuracy(
        SYSTEM, AccuracyKind.WEIGHT_OVERRIDE, order_number=order.number, expected="500 g ± 50 g",
        actual="620 g", note="Extra padding for glass", supervisor_id=supervisor.pk,
    )  # fmt: skip
    return order


def failed_label(monkeypatch: pytest.MonkeyPatch, sku: str = "LBL") -> Order:
    """A packed order whose label the carrier refused (the label task ran)."""

    def refused(self: Any, request: Any) -> Any:
        raise CarrierRejected("postal code 00-001 does not exist in PL")

    order = packed_order(sku=sku)
    with monkeypatch.context() as patch:
        patch.setattr(OwnFleetAdapter, "create_label", refused)
        for message in label_messages(order):
            create_order_labels(message.pk)
    assert Label.objects.get(shipment__order=order).status == LabelStatus.FAILED
    return order


def retried(order: Order) -> None:
    """Staff pressed Retry and the label task ran again (the carrier accepts now)."""
    labels_retry(actor=SYSTEM, order_number=order.number)
    for message in label_messages(order):
        create_order_labels(message.pk)


def stale_shipment() -> Order:
    """A handed-over parcel with no tracking news for longer than allowed."""
    order = shipped(packed_order(sku=f"STALE-{next(_refs)}"))
    with override_settings(OMS_TRACKING_STALE_DAYS=0):
        assert shipments_flag_stale(now=timezone.now()) == [order.number]
    return order


def tracking_exception() -> Order:
    """A handed-over parcel the carrier could not deliver: the address was not found."""
    order = shipped(packed_order(sku=f"TRK-{next(_refs)}"))
    [number] = numbers(order)
    now = timezone.now()
    receive(own_body(event(number, "in_transit", now - timedelta(hours=5))))
    receive(own_body(event(number, "exception", now - timedelta(hours=2), description="Address not found")))
    return order


def late() -> Order:
    """A paid order that should have left two days ago."""
    order = make_order(OrderStatus.PAID, skus=(f"LATE-{next(_refs)}",))
    today = timezone.localdate()
    order_set_promise(
        actor=SYSTEM,
        number=order.number,
        ship_by=today - timedelta(days=2),
        promised_delivery=today + timedelta(days=1),
    )
    return Order.objects.get(pk=order.pk)


def cancelled_after_payment() -> Order:
    order = make_order(OrderStatus.PAID)
    order_cancel(actor=SYSTEM, number=order.number, reason="Customer changed their mind")
    return Order.objects.get(pk=order.pk)


def refunded_in_full(order: Order, reference: str) -> None:
    refund_record(
        actor=SYSTEM, number=order.number, amount=order.amount_paid - order.amount_refunded,
        method=PaymentMethod.CARD, reference=reference,
    )  # fmt: skip


@dataclass
class World:
    underpaid: Order
    backordered: Order
    short_picked: Order
    weight_overridden: Order
    failed_label: Order
    tracking_exception: Order
    stale: Order
    late: Order
    refund_due: Order

    def orders(self) -> dict[str, Order]:
        return {
            IncidentKind.PAYMENT_MISMATCH: self.underpaid,
            IncidentKind.STOCK_SHORTAGE: self.backordered,
            IncidentKind.SHORT_PICK: self.short_picked,
            IncidentKind.WEIGHT_OVERRIDE: self.weight_overridden,
            IncidentKind.LABEL_FAILED: self.failed_label,
            IncidentKind.TRACKING_EXCEPTION: self.tracking_exception,
            IncidentKind.STALE_SHIPMENT: self.stale,
            IncidentKind.LATE_ORDER: self.late,
            IncidentKind.REFUND_DUE: self.refund_due,
        }


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    """One problem of each kind, each on its own order. The stale shipment is flagged before
    the other parcels exist, so it is the only one."""
    stale = stale_shipment()
    return World(
        underpaid=underpaid(),
        backordered=backordered(),
        short_picked=short_picked()[0],
        weight_overridden=weight_overridden(make_staff(roles.MANAGER, "svetlana")),
        failed_label=failed_label(monkeypatch),
        tracking_exception=tracking_exception(),
        stale=stale,
        late=late(),
        refund_due=cancelled_after_payment(),
    )


def open_incident(kind: str) -> Incident:
    return Incident.objects.get(kind=kind, resolved_at__isnull=True)


# --- the sync -------------------------------------------------------------------------------


def test_the_sync_opens_one_incident_per_problem_on_its_order(world: World) -> None:
    opened = incidents_sync()

    assert opened == 9
    incidents = {i.kind: i for i in Incident.objects.all()}
    assert set(incidents) == set(IncidentKind.values)
    for kind, order in world.orders().items():
        incident = incidents[kind]
        assert incident.order_id == order.pk, kind
        assert incident.resolved_at is None and incident.owner_id is None
        assert incident.raised_at <= timezone.now()


def test_each_incident_says_what_is_wrong_with_the_figures(world: World) -> None:
    incidents_sync()

    payment = open_incident(IncidentKind.PAYMENT_MISMATCH)
    short = world.underpaid.total - Decimal("10.00")
    assert payment.summary.startswith(f"Underpaid by {short:.2f} EUR: 10.00 EUR received of {world.underpaid.total}")
    assert payment.key == f"payment_mismatch:{world.underpaid.pk}:{world.underpaid.total}:10.00"
    assert payment.detail["amount_paid"] == "10.00"
    stock = open_incident(IncidentKind.STOCK_SHORTAGE)
    assert stock.summary.startswith(f"Waiting for stock: {stock.detail['lines'][0]['sku']} 1 of 1 missing")
    assert stock.raised_at == world.backordered.paid_at
    assert "Short pick of PICK-1 in bin B-07: 1 found of 2 expected" in open_incident(IncidentKind.SHORT_PICK).summary
    override = open_incident(IncidentKind.WEIGHT_OVERRIDE)
    assert "620 g against 500 g ± 50 g" in override.summary and "svetlana" in override.summary
    label = open_incident(IncidentKind.LABEL_FAILED)
    assert "postal code 00-001 does not exist in PL" in label.summary
    assert label.key == f"label_failed:{label.detail['label']}:{label.detail['failure']}"
    tracking = open_incident(IncidentKind.TRACKING_EXCEPTION)
    assert tracking.summary.startswith("Exception, says FLEET: Address not found")
    assert tracking.raised_at == Shipment.objects.get(order=world.tracking_exception).last_event_at
    stale = open_incident(IncidentKind.STALE_SHIPMENT)
    assert stale.raised_at == Shipment.objects.get(order=world.stale).stale_since
    lateness = open_incident(IncidentKind.LATE_ORDER)
    assert lateness.summary.startswith("Not handed to the carrier by its ship-by day")
    assert lateness.detail == {"order": world.late.number, "due": "ship_by", "day": world.late.ship_by.isoformat()}
    due = open_incident(IncidentKind.REFUND_DUE)
    assert due.summary.startswith(f"Cancelled with {world.refund_due.amount_paid} EUR of the payment not refunded")
    assert due.raised_at >= world.refund_due.cancelled_at


def test_a_second_sync_opens_nothing_again(world: World) -> None:
    incidents_sync()
    before = list(Incident.objects.order_by("pk").values_list("pk", "key", "resolved_at"))

    assert incidents_sync() == 0
    assert sync_incidents() == 0  # the beat task runs the same sync

    assert list(Incident.objects.order_by("pk").values_list("pk", "key", "resolved_at")) == before


def test_problems_that_cleared_close_their_incidents_saying_why(world: World) -> None:
    incidents_sync()

    # The customer pays the rest, stock arrives, the label is made on a retry, the parcel is
    # delivered, the stale one moves again, the late order is cancelled.
    payment_record(
        actor=SYSTEM, number=world.underpaid.number, amount=world.underpaid.total - Decimal("10.00"),
        method=PaymentMethod.BANK_TRANSFER, reference="rest-1",
    )  # fmt: skip
    stock_up(open_incident(IncidentKind.STOCK_SHORTAGE).detail["lines"][0]["sku"], 5)
    retried(world.failed_label)
    [tracked] = numbers(world.tracking_exception)
    receive(own_body(event(tracked, "delivered", timezone.now() - timedelta(minutes=5))))
    [quiet] = numbers(world.stale)
    receive(own_body(event(quiet, "in_transit", timezone.now() - timedelta(minutes=1))))
    order_cancel(actor=SYSTEM, number=world.late.number, reason="Customer gave up waiting")
    refunded_in_full(Order.objects.get(pk=world.late.pk), "re-late")
    refunded_in_full(world.refund_due, "re-due")

    assert incidents_sync(now=timezone.now()) == 0

    resolutions = dict(Incident.objects.filter(resolved_at__isnull=False).values_list("kind", "resolution"))
    assert resolutions == {
        IncidentKind.PAYMENT_MISMATCH: f"Cleared: the payments now match the total ({world.underpaid.total} EUR).",
        IncidentKind.STOCK_SHORTAGE: "Cleared: every line has its stock now.",
        IncidentKind.LABEL_FAILED: "Cleared: the label was made on a retry.",
        IncidentKind.TRACKING_EXCEPTION: "Cleared: tracking now says delivered.",
        IncidentKind.STALE_SHIPMENT: "Cleared: tracking resumed (in transit).",
        IncidentKind.LATE_ORDER: "Cleared: the order was cancelled.",
        IncidentKind.REFUND_DUE: f"Cleared: {world.refund_due.amount_paid} EUR refunded, all that was paid.",
    }
    assert not Incident.objects.filter(resolved_at__isnull=False).exclude(resolved_by=None).exists()
    # Short picks and weight overrides are for staff to resolve.
    assert set(Incident.objects.filter(resolved_at__isnull=True).values_list("kind", flat=True)) == {
        IncidentKind.SHORT_PICK,
        IncidentKind.WEIGHT_OVERRIDE,
    }


def test_a_label_failing_again_after_a_retry_is_a_new_incident(monkeypatch: pytest.MonkeyPatch) -> None:
    order = failed_label(monkeypatch)
    incidents_sync()
    first = open_incident(IncidentKind.LABEL_FAILED)

    with monkeypatch.context() as patch:
        patch.setattr(
            OwnFleetAdapter, "create_label", lambda self, request: (_ for _ in ()).throw(CarrierRejected("no street"))
        )
        labels_retry(actor=SYSTEM, order_number=order.number)
        for message in label_messages(order):
            create_order_labels(message.pk)

    assert incidents_sync() == 1
    first.refresh_from_db()
    assert first.resolution == "Cleared: it failed again; a new incident shows the latest error."
    second = open_incident(IncidentKind.LABEL_FAILED)
    assert second.pk != first.pk and "no street" in second.summary


def test_new_amounts_are_a_new_payment_incident() -> None:
    order = underpaid()
    incidents_sync()
    first = open_incident(IncidentKind.PAYMENT_MISMATCH)

    payment_record(
        actor=SYSTEM, number=order.number, amount=Decimal("5.00"), method=PaymentMethod.CARD, reference="more-1"
    )

    assert incidents_sync() == 1
    first.refresh_from_db()
    assert first.resolution.startswith("Cleared: the amounts changed")
    assert open_incident(IncidentKind.PAYMENT_MISMATCH).detail["amount_paid"] == "15.00"


def test_a_problem_staff_resolved_is_not_opened_again_while_it_goes_on() -> None:
    late()
    incidents_sync()
    incident = open_incident(IncidentKind.LATE_ORDER)
    incident_resolve(user=make_staff(roles.SUPPORT), incident_id=incident.pk, note="Customer agreed to wait")

    assert incidents_sync() == 0

    incident.refresh_from_db()
    assert incident.resolution == "Customer agreed to wait"
    assert Incident.objects.count() == 1


def test_an_incident_staff_resolved_keeps_their_note_when_the_problem_clears() -> None:
    order = late()
    incidents_sync()
    incident = open_incident(IncidentKind.LATE_ORDER)
    incident_resolve(user=make_staff(roles.SUPPORT), incident_id=incident.pk, note="Shipped by courier")
    order_cancel(actor=SYSTEM, number=order.number, reason="Duplicate")

    incidents_sync()

    incident.refresh_from_db()
    assert incident.resolution == "Shipped by courier" and incident.resolved_by is not None


def test_accuracy_events_older_than_the_lookback_are_not_brought_in() -> None:
    _, old = short_picked()
    short_picked()
    AccuracyEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=LOOKBACK_DAYS, hours=1))

    assert incidents_sync() == 1
    assert open_incident(IncidentKind.SHORT_PICK).detail["event"] != old.pk


def test_a_shipped_order_is_late_once_its_promised_day_passed() -> None:
    order = shipped(packed_order(sku="SLOW"))
    today = timezone.localdate()
    order_set_promise(
        actor=SYSTEM,
        number=order.number,
        ship_by=today - timedelta(days=5),
        promised_delivery=today - timedelta(days=1),
    )

    assert incidents_sync() == 1

    incident = open_incident(IncidentKind.LATE_ORDER)
    assert incident.detail["due"] == "delivery"
    assert incident.summary.startswith("Not delivered by the day promised to the customer")


def sync_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        incidents_sync()
    return len(queries)


def test_the_sync_costs_the_same_queries_for_one_problem_or_many() -> None:
    # Given one problem of the kinds that grow with the number of orders
    underpaid(), backordered(), short_picked(), late()
    one = sync_queries()

    # When ten more of each appear
    for _ in range(10):
        underpaid(), backordered(), short_picked(), late()
    many = sync_queries()

    # Then the sync asks the database as often
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 44
    assert many == one


def test_the_sync_asks_the_database_a_few_times_a_kind(world: World, django_assert_max_num_queries: Any) -> None:
    # Every kind present: at most ten queries each (savepoints included) to open its incident
    with django_assert_max_num_queries(10 * len(IncidentKind.values)):
        incidents_sync()
    # and to close the ones that cleared
    order_cancel(actor=SYSTEM, number=world.late.number, reason="Duplicate")
    order_cancel(actor=SYSTEM, number=world.underpaid.number, reason="Duplicate")
    with django_assert_max_num_queries(10 * len(IncidentKind.values)):
        incidents_sync()
    assert Incident.objects.filter(resolved_at__isnull=False).count() == 2


# --- take, release, resolve -----------------------------------------------------------------


@pytest.fixture
def incident() -> Incident:
    late()
    incidents_sync()
    return open_incident(IncidentKind.LATE_ORDER)


def state(incident: Incident) -> tuple[Any, ...]:
    return tuple(
        Incident.objects.filter(pk=incident.pk).values_list(
            "owner", "taken_at", "resolved_at", "resolved_by", "resolution"
        )[0]
    )


def test_taking_an_incident_makes_the_user_its_owner(incident: Incident) -> None:
    sam = make_staff(roles.SUPPORT, "sam")

    taken = incident_take(user=sam, incident_id=incident.pk)

    assert taken.owner == sam and taken.taken_at is not None
    assert incident_take(user=sam, incident_id=incident.pk).taken_at == taken.taken_at  # again: nothing changes


def test_an_incident_someone_took_is_refused_naming_them_and_unchanged(incident: Incident) -> None:
    incident_take(user=make_staff(roles.SUPPORT, "sam"), incident_id=incident.pk)
    before = state(incident)

    with pytest.raises(Conflict) as refused:
        incident_take(user=make_staff(roles.SHIPPER, "shay"), incident_id=incident.pk)

    assert refused.value.code == DashboardErrorCode.INCIDENT_TAKEN
    assert "sam has taken this incident" in refused.value.message
    assert state(incident) == before


def test_taking_over_moves_the_incident_to_the_new_owner(incident: Incident) -> None:
    incident_take(user=make_staff(roles.SUPPORT, "sam"), incident_id=incident.pk)
    shay = make_staff(roles.SHIPPER, "shay")

    assert incident_take(user=shay, incident_id=incident.pk, take_over=True).owner == shay


def test_only_the_owner_releases_an_incident(incident: Incident) -> None:
    sam = make_staff(roles.SUPPORT, "sam")
    incident_take(user=sam, incident_id=incident.pk)
    before = state(incident)

    with pytest.raises(Conflict) as refused:
        incident_release(user=make_staff(roles.MANAGER), incident_id=incident.pk)
    assert refused.value.code == DashboardErrorCode.INCIDENT_TAKEN
    assert state(incident) == before

    released = incident_release(user=sam, incident_id=incident.pk)
    assert released.owner is None and released.taken_at is None


def test_resolving_records_who_and_the_note(incident: Incident) -> None:
    sam = make_staff(roles.SUPPORT, "sam")

    resolved = incident_resolve(user=sam, incident_id=incident.pk, note="  Called the customer; ships Monday ")

    assert resolved.resolved_by == sam and resolved.owner == sam
    assert resolved.resolution == "Called the customer; ships Monday" and resolved.resolved_at is not None


def test_resolving_without_a_note_is_refused_and_changes_nothing(incident: Incident) -> None:
    before = state(incident)

    with pytest.raises(InvalidInput) as refused:
        incident_resolve(user=make_staff(roles.SUPPORT), incident_id=incident.pk, note="   ")

    assert refused.value.fields == {"note": ["This field may not be blank."]}
    assert state(incident) == before


def test_an_incident_resolved_already_is_refused_and_keeps_its_resolution(incident: Incident) -> None:
    incident_resolve(user=make_staff(roles.SUPPORT, "sam"), incident_id=incident.pk, note="Done")
    before = state(incident)
    other = make_staff(roles.MANAGER)

    for attempt in (
        lambda: incident_resolve(user=other, incident_id=incident.pk, note="Me too"),
        lambda: incident_take(user=other, incident_id=incident.pk),
        lambda: incident_release(user=other, incident_id=incident.pk),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == DashboardErrorCode.INCIDENT_RESOLVED
        assert "by sam: Done" in refused.value.message
    assert state(incident) == before


def test_someone_elses_incident_is_not_resolved_without_taking_it_over(incident: Incident) -> None:
    incident_take(user=make_staff(roles.SUPPORT, "sam"), incident_id=incident.pk)
    before = state(incident)

    with pytest.raises(Conflict) as refused:
        incident_resolve(user=make_staff(roles.MANAGER), incident_id=incident.pk, note="Fixed")

    assert refused.value.code == DashboardErrorCode.INCIDENT_TAKEN
    assert state(incident) == before


def test_a_role_that_only_views_incidents_cannot_work_them(incident: Incident) -> None:
    before = state(incident)
    pia = make_staff(roles.PICKER, "pia")

    with pytest.raises(Forbidden):
        incident_take(user=pia, incident_id=incident.pk)
    with pytest.raises(Forbidden):
        incident_resolve(user=pia, incident_id=incident.pk, note="Looked at it")

    assert state(incident) == before


def test_an_unknown_incident_is_not_found() -> None:
    with pytest.raises(NotFound) as refused:
        incident_take(user=make_staff(roles.SUPPORT), incident_id=987654)
    assert refused.value.code == DashboardErrorCode.INCIDENT_NOT_FOUND


# --- the page -------------------------------------------------------------------------------

INBOX = "/staff/exceptions/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def said(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_the_inbox_has_its_address_and_name() -> None:
    assert reverse("dashboard:incidents") == INBOX


def test_the_inbox_lists_open_incidents_oldest_first_with_age_owner_and_links(incident: Incident) -> None:
    older = late()
    incidents_sync()
    sam = make_staff(roles.SUPPORT, "sam")
    incident_take(user=sam, incident_id=incident.pk)
    newest = Incident.objects.exclude(pk=incident.pk).get()
    Incident.objects.filter(pk=newest.pk).update(raised_at=timezone.now() - timedelta(days=3, hours=1))

    response = client_for(make_staff(roles.MANAGER)).get(INBOX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f'id="incident-{newest.pk}"') < html.index(f'id="incident-{incident.pk}"')
    assert ">3 d<" in html and "sam" in html and "Nobody yet" in html
    assert f'href="/staff/orders/{older.number}/"' in html
    assert "Take over" in html and "What was done" in html


def test_a_failed_label_links_to_its_labels_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    order = failed_label(monkeypatch)
    incidents_sync()

    html = client_for(make_staff(roles.SHIPPER)).get(INBOX).content.decode()

    assert f'<a href="{reverse("shipping:labels-order", args=[order.number])}">Retry the label</a>' in html


def test_the_inbox_filters_by_kind_owner_and_order_number(incident: Incident) -> None:
    other = underpaid()
    incidents_sync()
    sam = make_staff(roles.SUPPORT, "sam")
    incident_take(user=sam, incident_id=incident.pk)
    client = client_for(sam)
    payment = open_incident(IncidentKind.PAYMENT_MISMATCH)

    def listed(query: str) -> set[int]:
        rows = client.get(f"{INBOX}?{query}").context["rows"]
        return {row.incident.pk for row in rows}

    assert listed("kind=payment_mismatch") == {payment.pk}
    assert listed("owner=mine") == {incident.pk}
    assert listed("owner=unowned") == {payment.pk}
    assert listed(f"q={other.number.lower()}") == {payment.pk}
    assert listed("") == {payment.pk, incident.pk}


def test_the_resolved_tab_shows_who_resolved_what_and_how(incident: Incident) -> None:
    other = underpaid()
    incidents_sync()
    incident_resolve(user=make_staff(roles.SUPPORT, "sam"), incident_id=incident.pk, note="Sent by express")
    order_cancel(actor=SYSTEM, number=other.number, reason="Customer cancelled")
    incidents_sync()

    html = client_for(make_staff(roles.PICKER)).get(f"{INBOX}?tab=resolved").content.decode()

    assert "Sent by express" in html and "<strong>sam</strong>" in html
    assert "Cleared by itself" in html and "Cleared: the order was cancelled." in html


def test_a_picker_sees_the_inbox_without_actions_and_is_refused_taking(incident: Incident) -> None:
    client = client_for(make_staff(roles.PICKER))
    before = state(incident)

    page = client.get(INBOX)
    refused = client.post(reverse("dashboard:incident-take", args=[incident.pk]))
    refused_resolve = client.post(reverse("dashboard:incident-resolve", args=[incident.pk]), {"note": "x"})

    assert page.status_code == 200 and f'id="incident-{incident.pk}"' in page.content.decode()
    assert "What was done" not in page.content.decode()
    assert refused.status_code == 403 and refused_resolve.status_code == 403
    assert state(incident) == before


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in() -> None:
    response = Client().get(INBOX)
    assert response.status_code == 302 and "login" in response["Location"]


def test_take_and_resolve_from_the_page_go_back_to_the_same_filters(incident: Incident) -> None:
    sam = make_staff(roles.SUPPORT, "sam")
    client = client_for(sam)
    back = "kind=late_order&owner=&evil=1"

    taken = client.post(reverse("dashboard:incident-take", args=[incident.pk]), {"back": back})
    resolved = client.post(
        reverse("dashboard:incident-resolve", args=[incident.pk]), {"back": back, "note": "Shipped today"}
    )

    assert taken.status_code == 302 and taken["Location"] == f"{INBOX}?kind=late_order"
    assert said(taken) == [("success", f"The late order on order {incident.order.number} is yours now.")]
    assert resolved["Location"] == f"{INBOX}?kind=late_order"
    assert state(incident)[3] == sam.pk and state(incident)[4] == "Shipped today"


def test_a_refusal_on_the_page_is_a_sentence_and_changes_nothing(incident: Incident) -> None:
    incident_take(user=make_staff(roles.SUPPORT, "sam"), incident_id=incident.pk)
    before = state(incident)
    client = client_for(make_staff(roles.SHIPPER))

    response = client.post(reverse("dashboard:incident-resolve", args=[incident.pk]), {"note": ""})

    assert response.status_code == 302
    assert said(response) == [
        ("error", "Say what was done (refunded, re-sent, called the carrier...), then resolve it.")
    ]
    assert state(incident) == before


@pytest.fixture
def hundred_incidents() -> Iterator[None]:
    """100 open and 100 resolved incidents over ten orders, owned by three people."""
    orders = [make_order(OrderStatus.PAID, skus=(f"Q-{n}",)) for n in range(10)]
    owners = [make_staff(roles.SUPPORT, f"owner{n}") for n in range(3)]
    now = timezone.now()
    Incident.objects.bulk_create(
        Incident(
            key=f"late_order:{orders[n % 10].pk}:test:{n}",
            kind=IncidentKind.values[n % len(IncidentKind.values)],
            order=orders[n % 10],
            summary=f"Problem {n}",
            raised_at=now - timedelta(hours=n),
            owner=owners[n % 3] if n % 4 else None,
            taken_at=now if n % 4 else None,
            resolved_at=now if n >= 100 else None,
            resolved_by=owners[n % 3] if n >= 100 and n % 2 else None,
            resolution="Cleared: test" if n >= 100 else "",
        )
        for n in range(200)
    )
    yield


@pytest.mark.usefixtures("hundred_incidents")
@pytest.mark.parametrize("query", ["", "?tab=resolved", "?owner=mine&kind=late_order", "?q=X"])
def test_the_inbox_costs_a_few_queries_for_a_page_of_fifty(django_assert_max_num_queries: Any, query: str) -> None:
    client = client_for(make_staff(roles.MANAGER))

    with django_assert_max_num_queries(8):
        response = client.get(INBOX + query)

    assert response.status_code == 200


@pytest.mark.usefixtures("hundred_incidents")
def test_the_inbox_pages_fifty_at_a_time() -> None:
    client = client_for(make_staff(roles.MANAGER))

    first, second = client.get(INBOX), client.get(f"{INBOX}?page=2")

    assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 50
    assert first.context["rows"][0].incident.summary == "Problem 99"  # the oldest first
    assert second.context["rows"][-1].incident.summary == "Problem 0"


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(10, "1 min"), (59 * 60, "59 min"), (3 * 3600, "3 h"), (47 * 3600, "47 h"), (2 * 86400, "2 d"), (-5, "1 min")],
)
def test_the_age_reads_at_a_glance(seconds: int, label: str) -> None:
    now = timezone.now()
    assert age_label(now - timedelta(seconds=seconds), now) == label
