"""Return services: asking within the window for what can still be returned, deciding,
receiving (the order becomes returned when everything shipped came back), inspecting each
unit into a bin through the ledger or to scrap, refunding; every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from inventory.models import MovementKind, StockLevel, StockMovement
from inventory.services.reconcile import stock_reconcile
from oms.common.actors import Actor, ActorKind
from oms.common.errors import Conflict, InvalidInput, NotFound
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order, OrderEvent
from returns import transitions
from returns.enums import InspectionOutcome, ReturnEventKind, ReturnStatus
from returns.models import Return, ReturnEvent, ReturnInspection
from returns.services import (
    NothingLeftToInspect,
    RefundData,
    ReturnLineData,
    ReturnNotAllowed,
    ReturnTransitionNotAllowed,
    ReturnWindowClosed,
    return_approve,
    return_cancel,
    return_inspect,
    return_receive,
    return_refund,
    return_refund_due,
    return_reject,
    return_request,
    return_window_closes,
    returnable_quantities,
)
from tests.factories import SYSTEM, make_order
from tests.fulfillment.helpers import bin_
from tests.returns.helpers import delivered_order, returns_state

pytestmark = pytest.mark.django_db

CUSTOMER = Actor.customer()
R = ReturnStatus


def ask(order: Order, *lines: tuple[str, int, str], comment: str = "", **kw: object) -> Return:
    return return_request(
        actor=CUSTOMER,
        order_number=order.number,
        lines=[ReturnLineData(sku, quantity, reason) for sku, quantity, reason in lines],
        comment=comment,
        **kw,  # type: ignore[arg-type]
    )


def received(order: Order, *lines: tuple[str, int, str]) -> Return:
    ret = ask(order, *lines)
    return_approve(actor=SYSTEM, number=ret.number)
    return return_receive(actor=SYSTEM, number=ret.number)


def on_hand(code: str, sku: str) -> int:
    return StockLevel.objects.get(location__code=code, product__sku=sku).on_hand


# --- the table ------------------------------------------------------------------------------


def test_every_status_is_reachable_and_the_closed_ones_have_no_exit() -> None:
    reached, todo = {transitions.INITIAL}, [transitions.INITIAL]
    while todo:
        for nxt in transitions.allowed_from(todo.pop()):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)

    assert reached == set(R.values)
    assert {R.REFUNDED, R.REJECTED, R.CANCELLED} == transitions.TERMINAL
    assert set(R.values) - {R.REJECTED, R.CANCELLED} == transitions.LIVE


# --- asking ---------------------------------------------------------------------------------


def test_a_customer_asks_back_units_of_a_delivered_order_and_gets_an_rma_number() -> None:
    order = delivered_order()

    ret = ask(order, ("MUG", 1, "damaged"), ("TEE", 1, "too_small"), comment="  The handle was broken. ")

    ret.refresh_from_db()
    assert ret.number == f"RMA-{ret.pk:06d}"
    assert (ret.status, ret.comment, ret.requested_by_kind) == (R.REQUESTED, "The handle was broken.", "customer")
    assert sorted(ret.lines.values_list("order_line__sku", "quantity", "reason")) == [
        ("MUG", 1, "damaged"),
        ("TEE", 1, "too_small"),
    ]
    event = ReturnEvent.objects.get(ret=ret)
    assert (event.kind, event.to_status, event.actor_kind) == (ReturnEventKind.STATUS_CHANGED, R.REQUESTED, "customer")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CANCELLED])
def test_an_order_not_delivered_cannot_be_returned(status: str) -> None:
    order = make_order(status)
    before = returns_state()

    with pytest.raises(ReturnNotAllowed, match="once the order has been delivered") as error:
        ask(order, ("TSHIRT-RED-M", 1, "damaged"))

    assert error.value.http_status == 409 and error.value.code == "return_not_allowed"
    assert returns_state() == before


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_after_the_window_only_staff_allowed_to_may_ask() -> None:
    order = delivered_order(days_ago=15)
    before = returns_state()

    with pytest.raises(ReturnWindowClosed, match="14-day return window") as error:
        ask(order, ("MUG", 1, "damaged"))
    assert error.value.code == "return_window_closed"
    assert returns_state() == before

    assert ask(order, ("MUG", 1, "damaged"), allow_late=True).status == R.REQUESTED


@override_settings(OMS_RETURN_WINDOW_DAYS=14)
def test_the_last_day_of_the_window_still_counts() -> None:
    assert ask(delivered_order(days_ago=14), ("MUG", 1, "damaged")).status == R.REQUESTED


@pytest.mark.parametrize(
    ("lines", "comment", "field", "message"),
    [
        ([], "", "lines", "Choose at least one item"),
        ([("SOCKS", 1, "damaged")], "", "lines.0.sku", "has no item SOCKS"),
        ([("MUG", 3, "damaged")], "", "lines.0.quantity", "Only 2 of 2 MUG"),
        ([("MUG", 0, "damaged")], "", "lines.0.quantity", "at least one unit"),
        ([("MUG", 1, "damaged"), ("MUG", 1, "damaged")], "", "lines.1.sku", "listed twice"),
        ([("MUG", 1, "bored")], "", "lines.0.reason", "Choose a reason"),
        ([("MUG", 1, "other")], " ", "comment", "Tell us the reason"),
    ],
)
def test_a_wrong_request_names_what_to_fix_and_writes_nothing(
    lines: list[tuple[str, int, str]], comment: str, field: str, message: str
) -> None:
    order = delivered_order()
    before = returns_state()

    with pytest.raises(InvalidInput) as error:
        ask(order, *lines, comment=comment)

    assert message in error.value.fields[field][0]
    assert returns_state() == before


def test_units_on_a_live_return_cannot_be_asked_for_twice_but_those_of_a_rejected_one_can() -> None:
    order = delivered_order()
    first = ask(order, ("MUG", 1, "damaged"))
    ask(order, ("MUG", 1, "too_large"))

    with pytest.raises(InvalidInput) as error:
        ask(order, ("MUG", 1, "damaged"))
    assert error.value.fields["lines.0.quantity"] == [
        "Only 0 of 2 MUG can still be returned (the rest is on another return)."
    ]

    return_reject(actor=SYSTEM, number=first.number, reason="Used")
    assert returnable_quantities(order)[order.lines.get(sku="MUG").pk] == 1
    assert ask(order, ("MUG", 1, "damaged")).status == R.REQUESTED


# --- deciding -------------------------------------------------------------------------------


def test_approving_rejecting_and_cancelling_are_audited_with_who_and_why() -> None:
    order = delivered_order()
    approved, rejected, cancelled = (ask(order, (sku, 1, "damaged")) for sku in ("MUG", "TEE", "MUG"))

    return_approve(actor=SYSTEM, number=approved.number, note="ok")
    return_reject(actor=SYSTEM, number=rejected.number, reason="  Bought in a store ")
    return_cancel(actor=CUSTOMER, number=cancelled.number, reason="Kept it after all")

    rows = {r.number: r for r in Return.objects.all()}
    assert rows[approved.number].status == R.APPROVED and rows[approved.number].approved_at is not None
    assert (rows[rejected.number].status, rows[rejected.number].decision_note) == (R.REJECTED, "Bought in a store")
    assert (rows[cancelled.number].status, rows[cancelled.number].decision_note) == (R.CANCELLED, "Kept it after all")
    last = ReturnEvent.objects.filter(ret__number=cancelled.number).last()
    assert last is not None and (last.from_status, last.to_status, last.actor_kind) == (
        R.REQUESTED,
        R.CANCELLED,
        ActorKind.CUSTOMER,
    )


@pytest.mark.parametrize("action", ["reject", "cancel", "receive", "approve"])
def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(action: str) -> None:
    order = delivered_order()
    ret = received(order, ("MUG", 1, "damaged"))
    before = returns_state()
    calls = {
        "reject": lambda: return_reject(actor=SYSTEM, number=ret.number, reason="no"),
        "cancel": lambda: return_cancel(actor=SYSTEM, number=ret.number, reason="no"),
        "receive": lambda: return_receive(actor=SYSTEM, number=ret.number),
        "approve": lambda: return_approve(actor=SYSTEM, number=ret.number),
    }

    with pytest.raises(ReturnTransitionNotAllowed, match="is received and cannot become") as error:
        calls[action]()

    assert error.value.http_status == 409
    assert returns_state() == before


def test_rejecting_needs_a_reason_and_an_unknown_return_is_not_found() -> None:
    ret = ask(delivered_order(), ("MUG", 1, "damaged"))

    with pytest.raises(InvalidInput):
        return_reject(actor=SYSTEM, number=ret.number, reason="  ")
    with pytest.raises(NotFound) as error:
        return_approve(actor=SYSTEM, number="RMA-999999")
    assert error.value.code == "return_not_found"


# --- receiving ------------------------------------------------------------------------------


def test_a_partial_return_leaves_the_order_delivered() -> None:
    order = delivered_order()

    ret = received(order, ("MUG", 1, "damaged"))

    assert ret.status == R.RECEIVED and ret.received_at is not None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


def test_the_order_is_returned_once_every_unit_shipped_came_back_over_its_returns() -> None:
    order = delivered_order()
    received(order, ("MUG", 1, "damaged"))

    received(order, ("MUG", 1, "too_large"), ("TEE", 1, "damaged"))

    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    event = OrderEvent.objects.filter(order=order, to_status=OrderStatus.RETURNED).get()
    assert event.note == "Arrived damaged; Too large"


def test_fewer_units_may_arrive_than_were_asked_for_but_not_more_or_none() -> None:
    order = delivered_order()
    ret = ask(order, ("MUG", 2, "damaged"), ("TEE", 1, "damaged"))
    return_approve(actor=SYSTEM, number=ret.number)
    before = returns_state()

    for counts, field in (({"MUG": 3}, "received.MUG"), ({"SOCKS": 1}, "received.SOCKS"), ({"MUG": 0}, "received")):
        with pytest.raises(InvalidInput) as error:
            return_receive(actor=SYSTEM, number=ret.number, received=counts)
        assert field in error.value.fields
    assert returns_state() == before

    return_receive(actor=SYSTEM, number=ret.number, received={"MUG": 1})
    assert sorted(ret.lines.values_list("order_line__sku", "quantity_received")) == [("MUG", 1), ("TEE", 0)]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXECUTED


# --- inspecting -----------------------------------------------------------------------------


def test_a_restocked_unit_goes_back_into_its_bin_through_the_ledger() -> None:
    order = delivered_order()
    ret = received(order, ("MUG", 2, "damaged"))
    shelf = bin_("R-01", 90)
    movements = StockMovement.objects.count()

    return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome=InspectionOutcome.RESTOCK, location=shelf)

    assert on_hand("R-01", "MUG") == 1
    movement = StockMovement.objects.order_by("-id").first()
    assert StockMovement.objects.count() == movements + 1
    assert movement is not None
    assert (movement.kind, movement.on_hand_delta, movement.order_number, movement.reference) == (
        MovementKind.RETURN,
        1,
        order.number,
        ret.number,
    )
    assert Return.objects.get(pk=ret.pk).status == R.RECEIVED  # one unit left to inspect
    assert stock_reconcile().ok


def test_once_every_received_unit_is_inspected_the_return_is_inspected() -> None:
    ret = received(delivered_order(), ("MUG", 2, "damaged"), ("TEE", 1, "too_small"))
    shelf = bin_("R-01", 90)

    return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome="restock", location=shelf, quantity=1)
    return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome="scrap", note="Cracked glaze")
    return_inspect(actor=SYSTEM, number=ret.number, sku="TEE", outcome="restock", location=shelf)

    ret.refresh_from_db()
    assert ret.status == R.INSPECTED and ret.inspected_at is not None
    assert sorted(ReturnInspection.objects.values_list("line__order_line__sku", "outcome", "note")) == [
        ("MUG", "restock", ""),
        ("MUG", "scrap", "Cracked glaze"),
        ("TEE", "restock", ""),
    ]
    assert (on_hand("R-01", "MUG"), on_hand("R-01", "TEE")) == (1, 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sku": "MUG", "outcome": "restock"}, "location"),
        ({"sku": "MUG", "outcome": "scrap", "note": " "}, "note"),
        ({"sku": "MUG", "outcome": "burn"}, "outcome"),
        ({"sku": "SOCKS", "outcome": "scrap", "note": "x"}, "sku"),
    ],
)
def test_an_inspection_without_what_it_needs_is_refused(kwargs: dict[str, str], field: str) -> None:
    ret = received(delivered_order(), ("MUG", 1, "damaged"))
    before = returns_state()

    with pytest.raises(InvalidInput) as error:
        return_inspect(actor=SYSTEM, number=ret.number, **kwargs)  # type: ignore[arg-type]

    assert field in error.value.fields
    assert returns_state() == before


def test_no_more_units_can_be_inspected_than_arrived_and_none_before_they_arrive() -> None:
    order = delivered_order()
    ret = ask(order, ("MUG", 2, "damaged"))
    return_approve(actor=SYSTEM, number=ret.number)
    with pytest.raises(ReturnTransitionNotAllowed):
        return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome="scrap", note="x")
    return_receive(actor=SYSTEM, number=ret.number, received={"MUG": 1})
    before = returns_state()

    with pytest.raises(NothingLeftToInspect, match="1 received unit"):
        return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome="scrap", note="x", quantity=2)

    assert returns_state() == before


# --- refunding ------------------------------------------------------------------------------


def inspected(order: Order) -> Return:
    ret = received(order, ("MUG", 2, "damaged"))
    return_inspect(actor=SYSTEM, number=ret.number, sku="MUG", outcome="scrap", note="Broken", quantity=2)
    return Return.objects.get(pk=ret.pk)


def test_an_inspected_return_is_refunded_and_closed() -> None:
    order = delivered_order()
    ret = inspected(order)
    due = return_refund_due(ret)

    return_refund(actor=SYSTEM, number=ret.number, refund=RefundData(due, PaymentMethod.CARD, "re_123"), note="Sorry")

    ret.refresh_from_db()
    assert due == Decimal("40.00")
    assert ret.status == R.REFUNDED and ret.refund is not None
    assert (ret.refund.amount, ret.refund.reference, ret.refund.reason) == (
        due,
        "re_123",
        f"Return {ret.number}: Sorry",
    )
    assert Order.objects.get(pk=order.pk).amount_refunded == due


def test_a_refund_before_inspection_or_beyond_what_was_paid_changes_nothing() -> None:
    order = delivered_order()
    early = received(order, ("TEE", 1, "damaged"))
    ret = inspected(order)
    before = returns_state()

    with pytest.raises(ReturnTransitionNotAllowed):
        return_refund(actor=SYSTEM, number=early.number, refund=RefundData(Decimal("1"), "card", "re_1"))
    with pytest.raises(Conflict) as error:
        return_refund(actor=SYSTEM, number=ret.number, refund=RefundData(order.total + 1, "card", "re_2"))

    assert error.value.code == "refund_exceeds_payments"
    assert returns_state() == before


def test_a_refund_reference_already_used_for_this_order_is_refused() -> None:
    order = delivered_order()
    ret = inspected(order)
    other = received(order, ("TEE", 1, "damaged"))
    return_inspect(actor=SYSTEM, number=other.number, sku="TEE", outcome="scrap", note="Torn")
    return_refund(actor=SYSTEM, number=ret.number, refund=RefundData(Decimal("40"), "card", "re_9"))
    before = returns_state()

    with pytest.raises(Conflict, match="already recorded"):
        return_refund(actor=SYSTEM, number=other.number, refund=RefundData(Decimal("20"), "card", "re_9"))

    assert returns_state() == before


def test_the_window_closes_the_configured_days_after_delivery() -> None:
    order = delivered_order(days_ago=0)

    closes = return_window_closes(order)

    assert order.executed_at is not None
    assert closes == timezone.localdate(order.executed_at) + timedelta(days=30)


@pytest.mark.parametrize(
    ("role", "perms"),
    [
        ("support", {"view_return", "add_return", "handle_return", "receive_return"}),
        ("manager", {"view_return", "add_return", "handle_return", "receive_return", "request_late_return"}),
        ("shipper", {"view_return", "receive_return"}),
        ("integrator", {"view_return", "add_return"}),
        ("picker", set()),
        ("packer", set()),
    ],
)
def test_each_role_gets_the_return_permissions_of_its_work(role: str, perms: set[str]) -> None:
    from django.contrib.auth.models import Group

    granted = set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="returns")
        .values_list("codename", flat=True)
    )

    assert granted == perms
