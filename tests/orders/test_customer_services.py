"""What customers do themselves on their order-status page, as orders services: cancelling
before picking (stock freed, the refund due recorded, audited as the customer's) and sending
the order elsewhere in its country before it is packed (the change in the timeline and the
customer's email in the outbox); refused, nothing changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import Reservation, StockLevel, StockMovement
from notifications.email_context import customer_context
from notifications.enums import NotificationKind
from notifications.rendering import render_email
from notifications.services.emails import email_kind_and_key
from oms.common.actors import ActorKind
from oms.common.errors import Conflict, InvalidInput
from oms.common.models import OutboxMessage
from orders.enums import CustomerCancelReason, OrderErrorCode, OrderEventKind, OrderStatus, PaymentMethod
from orders.models import Address, Order, OrderEvent
from orders.services import (
    AddressData,
    order_cancel_by_customer,
    order_change_address_by_customer,
    order_start_picking,
    payment_record,
    refund_record,
)
from tests.factories import SYSTEM, make_order
from tests.orders.test_concurrency import run_together

pytestmark = pytest.mark.django_db

S = OrderStatus
EMAIL_TASK = "notifications.tasks.email_customer"
TEE = "TSHIRT-RED-M"
NEW_HOME = AddressData(name="Ann Lee", line1="Long St 12", city="Krakow", postal_code="30-001", country="PL")


def tee_stock() -> tuple[int, int]:
    """The T-shirt's units on hand and allocated, over every bin."""
    levels = StockLevel.objects.filter(product__sku=TEE)
    return sum(s.on_hand for s in levels), sum(s.allocated for s in levels)


def state(order: Order) -> dict[str, Any]:
    """Everything a customer's action could write, to show a refusal changed nothing."""
    return {
        "order": Order.objects.filter(pk=order.pk).values().get(),
        "stock": sorted(StockLevel.objects.values_list("id", "on_hand", "allocated")),
        "reservations": sorted(Reservation.objects.values_list("id", "quantity", "quantity_allocated")),
        "movements": StockMovement.objects.count(),
        "events": OrderEvent.objects.filter(order=order).count(),
        "outbox": OutboxMessage.objects.count(),
        "addresses": Address.objects.count(),
    }


# --- cancelling -----------------------------------------------------------------------------


def test_a_paid_order_cancelled_by_its_customer_frees_its_stock_and_records_the_refund_due() -> None:
    order = make_order(S.PAID)  # 29.90 + 4.99 shipping, paid in full
    assert tee_stock() == (1, 1)

    cancelled = order_cancel_by_customer(
        number=order.number, reason=CustomerCancelReason.FOUND_CHEAPER, comment="  Half the   price elsewhere "
    )

    assert cancelled.status == S.CANCELLED
    assert tee_stock() == (1, 0)
    assert not Reservation.objects.filter(order_number=order.number).exists()
    move = OrderEvent.objects.get(order=order, kind=OrderEventKind.STATUS_CHANGED, to_status=S.CANCELLED)
    assert (move.actor_kind, move.actor_label) == (ActorKind.CUSTOMER, "customer")
    assert move.note == "Cancelled by the customer: Found it cheaper. Half the price elsewhere"
    assert Order.objects.get(pk=order.pk).cancel_reason == move.note
    due = OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND_DUE)
    assert due.data == {"amount": "34.89", "currency": "EUR"}
    assert due.actor_kind == ActorKind.CUSTOMER
    assert "34.89 EUR to refund" in due.note
    assert OutboxMessage.objects.filter(task=EMAIL_TASK, payload__topic="order.cancelled").count() == 1


def test_the_refund_due_is_what_was_paid_less_what_was_refunded_already() -> None:
    order = make_order(S.PAID)
    refund_record(
        actor=SYSTEM, number=order.number, amount=Decimal("4.99"), method=PaymentMethod.CARD, reference="r-ship"
    )

    order_cancel_by_customer(number=order.number, reason=CustomerCancelReason.TAKES_TOO_LONG)

    assert OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND_DUE).data == {
        "amount": "29.90",
        "currency": "EUR",
    }


def test_an_unpaid_order_cancelled_by_its_customer_owes_nothing() -> None:
    order = make_order(S.UNHANDLED)

    order_cancel_by_customer(number=order.number, reason=CustomerCancelReason.ORDERED_BY_MISTAKE)

    assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    assert tee_stock() == (1, 0)
    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.REFUND_DUE).exists()


def test_a_part_payment_of_an_unpaid_order_is_owed_back_too() -> None:
    order = make_order(S.UNHANDLED)
    payment_record(
        actor=SYSTEM, number=order.number, amount=Decimal("10.00"), method=PaymentMethod.CARD, reference="p-part"
    )

    order_cancel_by_customer(number=order.number, reason=CustomerCancelReason.OTHER)

    assert OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND_DUE).data["amount"] == "10.00"


@pytest.mark.parametrize("status", [S.PICKING, S.PACKED, S.SHIPPED, S.EXECUTED, S.CANCELLED])
def test_once_picking_started_the_customer_cannot_cancel_and_nothing_changes(status: str) -> None:
    order = make_order(status)
    before = state(order)

    with pytest.raises(Conflict) as raised:
        order_cancel_by_customer(number=order.number, reason=CustomerCancelReason.TAKES_TOO_LONG)

    assert raised.value.code == OrderErrorCode.ORDER_NOT_CANCELLABLE
    assert raised.value.http_status == 409
    assert order.number in raised.value.message
    assert state(order) == before


def test_a_reason_that_is_not_offered_is_refused_and_nothing_changes() -> None:
    order = make_order(S.PAID)
    before = state(order)

    with pytest.raises(InvalidInput) as raised:
        order_cancel_by_customer(number=order.number, reason="because")

    assert raised.value.fields == {"reason": ["Choose one of the reasons."]}
    assert state(order) == before


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_the_start_of_picking_lets_exactly_one_through() -> None:
    # Given a paid order, when the customer cancels as the warehouse starts picking it
    order = make_order(S.PAID)

    results = run_together(
        lambda: order_cancel_by_customer(number=order.number, reason=CustomerCancelReason.TAKES_TOO_LONG),
        lambda: order_start_picking(actor=SYSTEM, number=order.number),
    )

    # Then one wins and the other is refused with 409; the stock matches the winner
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 1, results
    final = Order.objects.get(pk=order.pk).status
    assert final in (S.CANCELLED, S.PICKING)
    assert tee_stock() == ((1, 0) if final == S.CANCELLED else (1, 1))
    refund_events = OrderEvent.objects.filter(order=order, kind=OrderEventKind.REFUND_DUE).count()
    assert refund_events == (1 if final == S.CANCELLED else 0)


# --- changing the address -------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.UNHANDLED, S.PAID, S.PICKING])
def test_the_customer_sends_the_order_elsewhere_until_it_is_packed(status: str) -> None:
    order = make_order(status)
    old_shipping, billing = order.shipping_address_id, order.billing_address_id

    changed = order_change_address_by_customer(number=order.number, address=NEW_HOME)

    order.refresh_from_db()
    assert changed.status == status
    assert order.shipping_address_id not in (old_shipping, None) and order.billing_address_id == billing
    assert (order.shipping_address.line1, order.shipping_address.city) == ("Long St 12", "Krakow")
    assert Address.objects.get(pk=old_shipping).line1 == "Main St 1"  # split orders may still share it
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.EDITED)
    assert (event.actor_kind, event.actor_label) == (ActorKind.CUSTOMER, "customer")
    assert event.data["changes"] == ["Shipping address changed to: Ann Lee, Long St 12, 30-001 Krakow, PL."]
    assert event.data["before"]["shipping_address"]["line1"] == "Main St 1"
    assert event.data["after"]["shipping_address"]["line1"] == "Long St 12"


def test_the_customer_is_emailed_the_new_address_as_after_a_staff_edit() -> None:
    order = make_order(S.PAID)

    order_change_address_by_customer(number=order.number, address=NEW_HOME)

    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.EDITED)
    message = OutboxMessage.objects.get(task=EMAIL_TASK, payload__topic="order.updated")
    assert message.payload["changes"] == event.data["changes"] and message.payload["event"] == event.pk
    assert email_kind_and_key(message.payload) == (
        NotificationKind.ORDER_UPDATED,
        f"email:order_updated:{order.number}:{event.pk}",
    )
    order.refresh_from_db()
    email = render_email(
        NotificationKind.ORDER_UPDATED, customer_context(NotificationKind.ORDER_UPDATED, order, message.payload)
    )
    assert "  - Shipping address changed to: Ann Lee, Long St 12, 30-001 Krakow, PL." in email.text


@pytest.mark.parametrize("status", [S.PACKED, S.SHIPPED, S.EXECUTED, S.CANCELLED])
def test_once_packed_the_address_cannot_change_and_nothing_changes(status: str) -> None:
    order = make_order(status)
    before = state(order)

    with pytest.raises(Conflict) as raised:
        order_change_address_by_customer(number=order.number, address=NEW_HOME)

    assert raised.value.code == OrderErrorCode.ADDRESS_NOT_CHANGEABLE
    assert raised.value.http_status == 409
    assert state(order) == before


def test_another_country_is_refused_and_nothing_changes() -> None:
    order = make_order(S.PAID)
    before = state(order)
    berlin = AddressData(name="Ann Lee", line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")

    with pytest.raises(InvalidInput) as raised:
        order_change_address_by_customer(number=order.number, address=berlin)

    assert raised.value.code == OrderErrorCode.COUNTRY_NOT_CHANGEABLE
    assert "same country" in raised.value.message
    assert state(order) == before


def test_the_same_address_again_changes_nothing() -> None:
    order = make_order(S.PAID)
    before = state(order)
    same = AddressData(name="Ann Lee", line1=" Main St 1 ", city="Warsaw", postal_code="00-001", country="pl")

    with pytest.raises(InvalidInput) as raised:
        order_change_address_by_customer(number=order.number, address=same)

    assert raised.value.code == OrderErrorCode.ORDER_UNCHANGED
    assert state(order) == before
