"""Every event integrators and customers hear of is written into the outbox with the change
that causes it, carrying when it happened and a snapshot of what was true then."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Product, Warehouse
from inventory.services.reorder_rules import reorder_rule_create
from oms.common.errors import Conflict
from oms.common.models import OutboxMessage
from orders import services
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Order, Refund
from tests.factories import SYSTEM, make_order, stock_up

pytestmark = pytest.mark.django_db

WEBHOOKS = "notifications.tasks.publish_webhook_event"
EMAIL = "notifications.tasks.email_customer"


def events(topic: str, task: str = WEBHOOKS) -> list[dict]:
    return [m.payload for m in OutboxMessage.objects.filter(task=task, payload__topic=topic).order_by("pk")]


def test_placing_an_order_emits_order_created_with_its_lines() -> None:
    order = make_order(skus=("MUG", "TEE"))

    (payload,) = events("order.created")

    assert payload["order"] == order.number
    assert payload["occurred_at"]
    assert payload["snapshot"]["status"] == OrderStatus.UNHANDLED
    assert [line["sku"] for line in payload["snapshot"]["lines"]] == ["MUG", "TEE"]


def test_a_status_change_snapshots_the_order_as_it_was_then() -> None:
    order = make_order(OrderStatus.PICKING)

    paid, picking = events("order.paid"), events("order.picking")

    assert paid[0]["snapshot"]["status"] == OrderStatus.PAID and paid[0]["from"] == OrderStatus.UNHANDLED
    assert picking[0]["snapshot"]["status"] == OrderStatus.PICKING
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PICKING


def test_a_payment_emits_payment_received_with_the_payment() -> None:
    order = make_order(OrderStatus.PAID)

    (payload,) = events("payment.received")

    assert payload["snapshot"]["payment"]["amount"] == str(order.total)
    assert payload["snapshot"]["payment"]["method"] == PaymentMethod.CARD
    assert payload["snapshot"]["order"]["amount_paid"] == str(order.total)


def test_a_refund_is_recorded_and_emitted_once_per_reference() -> None:
    order = make_order(OrderStatus.PAID)

    first = services.refund_record(
        actor=SYSTEM, number=order.number, amount=Decimal("5"), method=PaymentMethod.CARD, reference="rf-1"
    )
    again = services.refund_record(
        actor=SYSTEM, number=order.number, amount=Decimal("5"), method=PaymentMethod.CARD, reference="rf-1"
    )

    assert first.created and not again.created and again.refund.pk == first.refund.pk
    assert Order.objects.get(pk=order.pk).amount_refunded == Decimal("5.00")
    (payload,) = events("refund.issued", EMAIL)
    assert payload["snapshot"]["refund"]["amount"] == "5.00"


def test_a_refund_above_what_was_paid_is_refused_and_changes_nothing() -> None:
    order = make_order(OrderStatus.PAID)
    services.refund_record(
        actor=SYSTEM, number=order.number, amount=Decimal("20"), method=PaymentMethod.CARD, reference="rf-1"
    )

    with pytest.raises(Conflict) as refused:
        services.refund_record(
            actor=SYSTEM, number=order.number, amount=order.total, method=PaymentMethod.CARD, reference="rf-2"
        )

    assert refused.value.code == "refund_exceeds_payments"
    assert refused.value.extra["refundable"] == str(order.total - Decimal("20.00"))
    assert Refund.objects.count() == 1
    assert Order.objects.get(pk=order.pk).amount_refunded == Decimal("20.00")
    assert len(events("refund.issued", EMAIL)) == 1


def test_a_refund_reference_of_another_order_is_refused() -> None:
    one, other = make_order(OrderStatus.PAID), make_order(OrderStatus.PAID, skus=("MUG",))
    services.refund_record(
        actor=SYSTEM, number=one.number, amount=Decimal("1"), method=PaymentMethod.CARD, reference="rf-1"
    )

    with pytest.raises(Conflict) as refused:
        services.refund_record(
            actor=SYSTEM, number=other.number, amount=Decimal("1"), method=PaymentMethod.CARD, reference="rf-1"
        )

    assert refused.value.code == "refund_reference_in_use"
    assert not Refund.objects.filter(order=other).exists()


def test_stock_falling_below_the_reorder_point_emits_stock_low_once() -> None:
    stock_up("MUG", 5)
    product, warehouse = Product.objects.get(sku="MUG"), Warehouse.objects.get(code="MAIN")

    reorder_rule_create(product=product, warehouse=warehouse, reorder_point=10, reorder_quantity=50)
    make_order(skus=("MUG",))  # one more unit reserved: still low, no second alert

    (payload,) = events("stock.low")
    assert payload["snapshot"] == {
        "sku": "MUG",
        "warehouse": "MAIN",
        "available": 5,
        "reorder_point": 10,
        "reorder_quantity": 50,
    }
    assert OutboxMessage.objects.filter(task="notifications.tasks.alert_staff", payload__topic="stock.low").count() == 1
