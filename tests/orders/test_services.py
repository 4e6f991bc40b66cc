from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from oms.common.actors import ActorKind
from oms.common.errors import ApplicationError
from orders import services, tasks
from orders.enums import OrderEventKind, OrderStatus, PaymentMethod
from orders.models import Order, OrderEvent
from tests.factories import SYSTEM, make_order

pytestmark = pytest.mark.django_db


def _age(order: Order, hours: float) -> None:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=hours))


def test_unpaid_orders_older_than_the_limit_are_cancelled_for_missing_payment() -> None:
    stale = make_order(OrderStatus.UNHANDLED)
    _age(stale, 73)

    cancelled = services.orders_expire_unpaid()

    stale.refresh_from_db()
    assert cancelled == [stale.number]
    assert stale.status == OrderStatus.CANCELLED
    assert stale.cancel_reason == "payment not received"
    event = OrderEvent.objects.filter(order=stale, kind=OrderEventKind.STATUS_CHANGED).get()
    assert (event.actor_kind, event.note) == (ActorKind.SYSTEM, "payment not received")


def test_young_unpaid_orders_and_paid_orders_are_left_alone() -> None:
    young = make_order(OrderStatus.UNHANDLED)
    _age(young, 71)
    paid = make_order(OrderStatus.PAID)
    _age(paid, 200)

    assert services.orders_expire_unpaid() == []

    young.refresh_from_db()
    paid.refresh_from_db()
    assert (young.status, paid.status) == (OrderStatus.UNHANDLED, OrderStatus.PAID)


@override_settings(OMS_UNPAID_ORDER_TTL_HOURS=1)
def test_the_expiry_limit_comes_from_settings() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    _age(order, 2)

    assert tasks.expire_unpaid_orders() == 1


def test_an_underpayment_is_recorded_but_does_not_pay_the_order() -> None:
    order = make_order(OrderStatus.UNHANDLED)

    result = services.payment_record(
        actor=SYSTEM, number=order.number, amount=Decimal("10.00"), method=PaymentMethod.CARD, reference="p1"
    )

    assert result.created
    assert result.order.status == OrderStatus.UNHANDLED
    assert result.order.amount_paid == Decimal("10.00")
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.PAYMENT_RECORDED)
    assert event.note == f"Underpaid by {order.total - Decimal('10.00')} EUR"


def test_cancelling_needs_a_reason_and_changes_nothing_without_one() -> None:
    order = make_order(OrderStatus.PAID)

    with pytest.raises(ApplicationError) as err:
        services.order_cancel(actor=SYSTEM, number=order.number, reason="  ")

    assert err.value.http_status == 400
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_refused_move_raises_409_and_writes_nothing() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    events = OrderEvent.objects.filter(order=order).count()

    with pytest.raises(services.TransitionNotAllowed) as err:
        services.order_mark_shipped(actor=SYSTEM, number=order.number)

    assert err.value.extra["allowed"] == ["cancelled", "paid"]
    assert OrderEvent.objects.filter(order=order).count() == events
    order.refresh_from_db()
    assert order.status == OrderStatus.UNHANDLED and order.shipped_at is None


def test_aborting_a_pick_keeps_the_time_the_order_was_paid() -> None:
    order = make_order(OrderStatus.PICKING)

    services.order_abort_picking(actor=SYSTEM, number=order.number)

    paid_at = order.paid_at
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.paid_at == paid_at


def test_aborting_a_pick_is_refused_for_an_order_that_is_not_being_picked() -> None:
    order = make_order(OrderStatus.UNHANDLED)

    with pytest.raises(services.TransitionNotAllowed):
        services.order_abort_picking(actor=SYSTEM, number=order.number)

    order.refresh_from_db()
    assert (order.status, order.paid_at) == (OrderStatus.UNHANDLED, None)
