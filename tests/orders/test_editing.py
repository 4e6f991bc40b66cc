"""Changing an order before picking: stock reserved again, totals recomputed, the change in
the timeline and the customer's email in the outbox; refused, nothing changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory.models import Allocation, Reservation, StockLevel, StockMovement
from notifications.email_context import customer_context
from notifications.enums import NotificationKind
from notifications.rendering import render_email
from notifications.services.emails import email_kind_and_key
from oms.common.errors import Conflict, InvalidInput
from oms.common.models import OutboxMessage
from orders.enums import OrderErrorCode, OrderEventKind, OrderStatus, PaymentMethod
from orders.models import Address, Order, OrderEvent, OrderLine
from orders.services import AddressData, LineData, order_edit, payment_record
from tests.factories import SYSTEM, ProductFactory, ShippingMethodFactory, make_order, stock_up

pytestmark = pytest.mark.django_db

EMAIL_TASK = "notifications.tasks.email_customer"
TEE, MUG, CAP = "TSHIRT-RED-M", "MUG-350", "CAP-BLACK"


def paid_order() -> Order:
    """A paid order of one T-shirt (29.90) and one mug (29.90), shipping 4.99; more stock of
    both in the bin, and caps (12.00) in another."""
    order = make_order(OrderStatus.PAID, skus=(TEE, MUG))
    stock_up(TEE, 10)
    ProductFactory(sku=CAP, name="Black cap", price=Decimal("12.00"))
    stock_up(CAP, 10, location="A-02-1")
    return order


def lines_of(order: Order) -> list[tuple[str, int, Decimal]]:
    return list(OrderLine.objects.filter(order=order).order_by("position").values_list("sku", "quantity", "unit_price"))


def held(order: Order) -> dict[str, tuple[int, int]]:
    """Per SKU: units the order's reservations need and have allocated."""
    return {
        r.product.sku: (r.quantity, r.quantity_allocated)
        for r in Reservation.objects.select_related("product").filter(order_number=order.number)
    }


def state(order: Order) -> dict[str, Any]:
    """Everything an edit could write, to show a refusal changed nothing."""
    return {
        "order": Order.objects.filter(pk=order.pk).values().get(),
        "lines": lines_of(order),
        "reservations": sorted(
            Reservation.objects.values_list("id", "order_number", "line_id", "quantity", "quantity_allocated")
        ),
        "allocations": sorted(Allocation.objects.values_list("id", "reservation_id", "stock_id", "quantity")),
        "stock": sorted(StockLevel.objects.values_list("id", "on_hand", "allocated")),
        "movements": StockMovement.objects.count(),
        "events": OrderEvent.objects.filter(order=order).count(),
        "outbox": OutboxMessage.objects.count(),
        "addresses": Address.objects.count(),
    }


def test_changed_quantities_reserve_stock_again_recompute_totals_and_tell_the_customer() -> None:
    order = paid_order()

    edited = order_edit(
        actor=SYSTEM,
        number=order.number,
        lines=[LineData(TEE, 3), LineData(MUG, 0), LineData(CAP, 2)],
        note="Customer phoned",
    )

    assert lines_of(order) == [(TEE, 3, Decimal("29.90")), (CAP, 2, Decimal("12.00"))]
    assert (edited.subtotal, edited.shipping_price, edited.total) == (
        Decimal("113.70"),
        Decimal("4.99"),
        Decimal("118.69"),
    )
    assert Order.objects.values_list("subtotal", "total").get(pk=order.pk) == (Decimal("113.70"), Decimal("118.69"))
    assert held(order) == {TEE: (3, 3), CAP: (2, 2)}
    assert edited.status == OrderStatus.PAID  # paid 64.79 of 118.69: it stays as it is
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.EDITED)
    assert event.actor_label == SYSTEM.label
    assert event.data["changes"][0].endswith(f"({TEE}): quantity changed from 1 to 3.")
    assert any(f"({MUG}) removed." in c for c in event.data["changes"])
    assert any(f"({CAP}) added: 2 at 12.00 EUR each." in c for c in event.data["changes"])
    assert "Total changed from 64.79 EUR to 118.69 EUR." in event.data["changes"]
    assert [line["sku"] for line in event.data["before"]["lines"]] == [TEE, MUG]
    assert [(line["sku"], line["quantity"]) for line in event.data["after"]["lines"]] == [(TEE, 3), (CAP, 2)]
    assert event.data["before"]["totals"]["total"] == "64.79" and event.data["after"]["totals"]["total"] == "118.69"
    assert "Customer phoned" in event.note and "53.90 EUR more is due" in event.note
    message = OutboxMessage.objects.get(task=EMAIL_TASK, payload__topic="order.updated")
    assert message.key == f"order.updated:{order.number}:{event.pk}>{EMAIL_TASK}"
    assert message.payload["changes"] == event.data["changes"]
    assert message.payload["event"] == event.pk
    assert [line["sku"] for line in message.payload["snapshot"]["lines"]] == [TEE, CAP]
    assert email_kind_and_key(message.payload) == (
        NotificationKind.ORDER_UPDATED,
        f"email:order_updated:{order.number}:{event.pk}",
    )


def test_lowering_a_quantity_frees_the_units_for_other_orders() -> None:
    order = paid_order()
    order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 3), LineData(MUG, 1)])
    before = StockLevel.objects.get(product__sku=TEE).allocated

    order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 1), LineData(MUG, 1)])

    assert StockLevel.objects.get(product__sku=TEE).allocated == before - 2
    assert held(order) == {TEE: (1, 1), MUG: (1, 1)}


def test_an_edit_keeps_the_units_it_still_needs_when_another_order_waits_for_them() -> None:
    order = paid_order()  # holds the only mug
    waiting = make_order(OrderStatus.PAID, skus=(MUG,), stocked=False, allow_backorder=True)
    assert held(waiting) == {MUG: (1, 0)}

    order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 2), LineData(MUG, 1)])

    assert held(order) == {TEE: (2, 2), MUG: (1, 1)}
    assert held(waiting) == {MUG: (1, 0)}


def test_a_line_an_edit_removes_goes_to_the_order_waiting_for_it() -> None:
    order = paid_order()
    waiting = make_order(OrderStatus.PAID, skus=(MUG,), stocked=False, allow_backorder=True)

    order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 1)])

    assert held(order) == {TEE: (1, 1)}
    assert held(waiting) == {MUG: (1, 1)}


def test_a_new_address_is_a_new_row_and_the_billing_address_stays() -> None:
    order = paid_order()
    old_shipping, billing = order.shipping_address_id, order.billing_address_id
    new = AddressData(name="Ann Lee", line1="Long St 12", city="Krakow", postal_code="30-001", country="pl")

    edited = order_edit(actor=SYSTEM, number=order.number, address=new)

    order.refresh_from_db()
    assert order.shipping_address_id != old_shipping and order.billing_address_id == billing
    assert (order.shipping_address.line1, order.shipping_address.city, str(order.shipping_address.country)) == (
        "Long St 12",
        "Krakow",
        "PL",
    )
    assert edited.total == Decimal("64.79") and held(order) == {TEE: (1, 1), MUG: (1, 1)}
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.EDITED)
    assert event.data["changes"] == ["Shipping address changed to: Ann Lee, Long St 12, 30-001 Krakow, PL."]
    assert event.data["after"]["shipping_address"]["city"] == "Krakow"


def test_a_new_shipping_method_charges_its_price() -> None:
    order = paid_order()
    ShippingMethodFactory(code="express", name="Express", price=Decimal("14.99"))

    edited = order_edit(actor=SYSTEM, number=order.number, shipping_method="express")

    assert (edited.shipping_method_id, edited.shipping_price, edited.total) == (
        "express",
        Decimal("14.99"),
        Decimal("74.79"),
    )
    changes = OrderEvent.objects.get(order=order, kind=OrderEventKind.EDITED).data["changes"]
    assert changes[0] == "Shipping method changed from Standard delivery to Express (shipping 14.99 EUR)."


def test_an_unpaid_order_whose_payments_now_cover_it_becomes_paid() -> None:
    order = make_order(OrderStatus.UNHANDLED, skus=(TEE, MUG))
    payment_record(
        actor=SYSTEM, number=order.number, amount=Decimal("40.00"), method=PaymentMethod.CARD, reference="p1"
    )

    edited = order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 1)])

    assert (edited.total, edited.status) == (Decimal("34.89"), OrderStatus.PAID)
    kinds = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("kind", "to_status"))
    assert kinds[-2:] == [(OrderEventKind.EDITED, ""), (OrderEventKind.STATUS_CHANGED, OrderStatus.PAID)]


@pytest.mark.parametrize("status", [OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.CANCELLED])
def test_an_order_past_paid_cannot_be_changed_and_nothing_changes(status: str) -> None:
    order = make_order(status, skus=(TEE,))
    stock_up(TEE, 10)
    before = state(order)

    with pytest.raises(Conflict) as raised:
        order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 2)])

    assert raised.value.code == OrderErrorCode.ORDER_NOT_EDITABLE
    assert "only before picking starts" in raised.value.message
    assert state(order) == before


def test_an_unknown_sku_is_refused_and_nothing_changes() -> None:
    order = paid_order()
    before = state(order)

    with pytest.raises(InvalidInput) as raised:
        order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 2), LineData("NOPE-1", 1)])

    assert raised.value.code == OrderErrorCode.UNKNOWN_SKU
    assert raised.value.message == "There is no product with SKU NOPE-1; check the SKU."
    assert raised.value.fields == {"lines.1.sku": [raised.value.message]}
    assert state(order) == before


def test_an_unknown_shipping_method_is_refused_and_nothing_changes() -> None:
    order = paid_order()
    before = state(order)

    with pytest.raises(InvalidInput) as raised:
        order_edit(actor=SYSTEM, number=order.number, shipping_method="teleport", lines=[LineData(TEE, 2)])

    assert raised.value.code == OrderErrorCode.UNKNOWN_SHIPPING_METHOD
    assert state(order) == before


def test_more_than_the_stock_is_refused_and_nothing_changes() -> None:
    order = paid_order()
    before = state(order)

    with pytest.raises(Conflict) as raised:
        order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 50), LineData(MUG, 1)])

    assert raised.value.code == "insufficient_stock"
    assert raised.value.message == (
        "Not enough stock for TSHIRT-RED-M (wanted 50, 11 free). Lower the quantity or wait for stock; "
        "the order was not changed."
    )
    assert state(order) == before


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([LineData(TEE, 0), LineData(MUG, 0)], "An order needs at least one item"),
        ([LineData(TEE, 1), LineData(TEE, 2)], "is on the order twice"),
        ([LineData(TEE, -1), LineData(MUG, 1)], "cannot be below 0"),
    ],
)
def test_impossible_lines_are_refused_and_nothing_changes(lines: list[LineData], message: str) -> None:
    order = paid_order()
    before = state(order)

    with pytest.raises(InvalidInput) as raised:
        order_edit(actor=SYSTEM, number=order.number, lines=lines)

    assert message in raised.value.message
    assert state(order) == before


def test_an_edit_that_changes_nothing_is_refused_and_records_nothing() -> None:
    order = paid_order()
    before = state(order)
    same = AddressData(name="Ann Lee", line1="Main St 1", city="Warsaw", postal_code="00-001", country="PL")

    with pytest.raises(InvalidInput) as raised:
        order_edit(
            actor=SYSTEM,
            number=order.number,
            address=same,
            lines=[LineData(TEE, 1), LineData(MUG, 1)],
            shipping_method="standard",
        )

    assert raised.value.code == OrderErrorCode.ORDER_UNCHANGED
    assert state(order) == before


def test_the_customer_email_lists_the_changes_and_the_new_totals() -> None:
    order = paid_order()
    order_edit(actor=SYSTEM, number=order.number, lines=[LineData(TEE, 2), LineData(MUG, 1)])
    payload = OutboxMessage.objects.get(task=EMAIL_TASK, payload__topic="order.updated").payload
    order.refresh_from_db()

    email = render_email(
        NotificationKind.ORDER_UPDATED, customer_context(NotificationKind.ORDER_UPDATED, order, payload)
    )

    assert email.subject == f"Your order {order.number} has been changed"
    change = next(c for c in payload["changes"] if "quantity changed from 1 to 2" in c)
    assert f"  - {change}" in email.text
    assert f'<li style="margin:0 0 4px 0;">{change}</li>' in email.html
    assert "29,90" in email.text or "29.90" in email.text
    assert "is still to be paid" in email.text and "is still to be paid" in email.html
    assert "/track/" in email.text and "\n\n\n" not in email.text
