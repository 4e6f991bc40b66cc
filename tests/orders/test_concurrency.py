"""Real concurrent transactions on PostgreSQL: threads, each with its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from oms.common.errors import ApplicationError
from orders import services
from orders.enums import OrderEventKind, OrderStatus, PaymentMethod
from orders.models import Order, OrderEvent, Payment
from tests.factories import (
    SYSTEM,
    ProductFactory,
    ShippingMethodFactory,
    make_api_client,
    make_order,
    order_payload,
    stock_up,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Runs the calls in threads released at the same instant; returns results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def status_events(number: str) -> list[tuple[str, str]]:
    return list(
        OrderEvent.objects.filter(order__number=number, kind=OrderEventKind.STATUS_CHANGED)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status")
    )


def test_ten_concurrent_retries_of_one_idempotency_key_make_one_order() -> None:
    ShippingMethodFactory()
    ProductFactory(sku="TSHIRT-RED-M", price=Decimal("29.90"))
    stock_up("TSHIRT-RED-M", 10)
    key = make_api_client("webshop").raw_key
    body = order_payload()

    def post() -> Any:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")

    responses = run_together(*[post for _ in range(10)])

    assert [r.status_code for r in responses] == [201] * 10
    assert {r.json()["number"] for r in responses} == {Order.objects.get().number}
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed") == "true") == 9
    assert OrderEvent.objects.filter(kind=OrderEventKind.CREATED).count() == 1


@pytest.mark.parametrize(
    ("start", "first", "second"),
    [
        (OrderStatus.PAID, "start_picking", "cancel"),
        (OrderStatus.PICKING, "pack", "abort_picking"),
    ],
)
def test_two_conflicting_moves_at_once_leave_exactly_one_winner(start: str, first: str, second: str) -> None:
    order = make_order(start)
    before = status_events(order.number)
    moves = {
        "start_picking": lambda: services.order_start_picking(actor=SYSTEM, number=order.number),
        "cancel": lambda: services.order_cancel(actor=SYSTEM, number=order.number, reason="race"),
        "pack": lambda: services.order_mark_packed(actor=SYSTEM, number=order.number),
        "abort_picking": lambda: services.order_abort_picking(actor=SYSTEM, number=order.number),
    }

    results = run_together(moves[first], moves[second])

    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if isinstance(r, ApplicationError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].code == "transition_not_allowed"
    order.refresh_from_db()
    assert order.status == winners[0].status
    after = status_events(order.number)
    assert after[: len(before)] == before
    assert after[len(before) :] == [(start, order.status)]


def test_pay_and_cancel_at_once_never_leave_a_payment_on_a_cancelled_unpaid_order() -> None:
    order = make_order(OrderStatus.UNHANDLED)

    results = run_together(
        lambda: services.payment_record(
            actor=SYSTEM, number=order.number, amount=order.total, method=PaymentMethod.CARD, reference="race-1"
        ),
        lambda: services.order_cancel(actor=SYSTEM, number=order.number, reason="race"),
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED  # cancel wins outright, or follows the payment
    trail = status_events(order.number)
    if isinstance(results[0], ApplicationError):  # cancel came first: the payment was refused
        assert results[0].code == "order_not_payable"
        assert not Payment.objects.filter(order=order).exists()
        assert trail == [(OrderStatus.UNHANDLED, OrderStatus.CANCELLED)]
    else:  # payment came first, then the paid order was cancelled
        assert order.amount_paid == order.total
        assert trail == [(OrderStatus.UNHANDLED, OrderStatus.PAID), (OrderStatus.PAID, OrderStatus.CANCELLED)]


def test_concurrent_partial_payments_add_up_and_pay_the_order_once() -> None:
    order = make_order(OrderStatus.UNHANDLED)
    half = (order.total / 2).quantize(Decimal("0.01"))
    rest = order.total - half

    results = run_together(
        lambda: services.payment_record(
            actor=SYSTEM, number=order.number, amount=half, method=PaymentMethod.CARD, reference="half-1"
        ),
        lambda: services.payment_record(
            actor=SYSTEM, number=order.number, amount=rest, method=PaymentMethod.CARD, reference="half-2"
        ),
    )

    assert all(isinstance(r, services.PaymentResult) and r.created for r in results), results
    order.refresh_from_db()
    assert order.amount_paid == order.total
    assert order.status == OrderStatus.PAID
    assert status_events(order.number) == [(OrderStatus.UNHANDLED, OrderStatus.PAID)]


def test_the_same_payment_reference_sent_twice_at_once_is_recorded_once() -> None:
    order = make_order(OrderStatus.UNHANDLED)

    def pay() -> Any:
        return services.payment_record(
            actor=SYSTEM, number=order.number, amount=order.total, method=PaymentMethod.CARD, reference="dup-1"
        )

    results = run_together(pay, pay)

    assert sorted(r.created for r in results) == [False, True]
    assert Payment.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.amount_paid == order.total
