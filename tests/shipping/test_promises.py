"""Delivery promises stamped on paid orders, and the ready-to-pick queue sorted by them."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from fulfillment.selectors import orders_ready_to_pick
from orders.enums import OrderEventKind, OrderStatus
from orders.models import Order, OrderEvent, ShippingMethod
from shipping.models import Carrier, CarrierHoliday, CarrierService, ShippingMethodService
from shipping.services.promises import promises_stamp
from shipping.tasks import stamp_delivery_promises
from tests.fulfillment.helpers import paid_order, stock

pytestmark = pytest.mark.django_db

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def fleet(settings) -> CarrierService:
    settings.TIME_ZONE = "Europe/Warsaw"
    carrier = Carrier.objects.create(code="FLEET", name="Own fleet")
    service = CarrierService.objects.create(
        carrier=carrier,
        code="STD",
        name="Standard",
        transit_days=2,
        cutoff_time=time(15),
        pickup_weekdays=[0, 1, 2, 3, 4],
    )
    stock("TEE", 10, "A-01", 10)
    paid_order({"TEE": 1}, status=OrderStatus.UNHANDLED)  # makes the "standard" method
    ShippingMethodService.objects.create(shipping_method=ShippingMethod.objects.get(code="standard"), service=service)
    return service


def paid_at(order: Order, when: datetime) -> Order:
    Order.objects.filter(pk=order.pk).update(paid_at=when)
    return Order.objects.get(pk=order.pk)


def test_a_paid_order_gets_ship_by_and_promised_delivery_as_of_its_payment(fleet) -> None:
    friday_evening = paid_at(paid_order({"TEE": 1}), datetime(2026, 11, 27, 18, 0, tzinfo=WARSAW))
    CarrierHoliday.objects.create(carrier=fleet.carrier, date=date(2026, 12, 1), name="Closed")

    assert stamp_delivery_promises() == 1

    order = Order.objects.get(pk=friday_evening.pk)
    assert order.ship_by == date(2026, 11, 30)  # Monday
    assert order.promised_delivery == date(2026, 12, 3)  # two business days, Tuesday a holiday
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.PROMISED)
    assert event.data == {"ship_by": "2026-11-30", "promised_delivery": "2026-12-03"}


def test_a_promise_is_made_once_and_unpaid_orders_get_none(fleet) -> None:
    paid = paid_order({"TEE": 1})
    promises_stamp()

    again = promises_stamp()

    assert again == []
    assert OrderEvent.objects.filter(order=paid, kind=OrderEventKind.PROMISED).count() == 1
    assert not Order.objects.filter(status=OrderStatus.UNHANDLED, ship_by__isnull=False).exists()


def test_orders_whose_method_has_no_carrier_service_wait_without_a_promise(fleet) -> None:
    ShippingMethodService.objects.all().delete()
    paid_order({"TEE": 1})

    assert promises_stamp() == []


def test_the_queue_puts_the_earliest_ship_by_day_first(fleet) -> None:
    late_payment_early_cutoff = paid_order({"TEE": 1})
    early_payment = paid_order({"TEE": 1})
    paid_at(early_payment, datetime(2026, 11, 23, 16, 0, tzinfo=WARSAW))  # after Monday's cut-off: Tuesday
    paid_at(late_payment_early_cutoff, datetime(2026, 11, 23, 16, 30, tzinfo=WARSAW))
    Order.objects.filter(pk=late_payment_early_cutoff.pk).update(paid_at=datetime(2026, 11, 23, 9, tzinfo=WARSAW))
    no_promise_yet = paid_order({"TEE": 1})
    promises_stamp()
    Order.objects.filter(pk=no_promise_yet.pk).update(ship_by=None)

    queue = list(orders_ready_to_pick())

    assert queue == [late_payment_early_cutoff, early_payment, no_promise_yet]
    assert [o.ship_by for o in queue[:2]] == [date(2026, 11, 23), date(2026, 11, 24)]


def test_ship_today_lists_what_must_leave_today_with_time_left_and_overdue_orders_first(fleet) -> None:
    from datetime import timedelta

    from shipping.selectors import ship_today

    overdue = paid_order({"TEE": 1})
    today = paid_order({"TEE": 1})
    tomorrow = paid_order({"TEE": 1})
    Order.objects.filter(pk=overdue.pk).update(ship_by=date(2026, 11, 23))
    Order.objects.filter(pk=today.pk).update(ship_by=date(2026, 11, 24))
    Order.objects.filter(pk=tomorrow.pk).update(ship_by=date(2026, 11, 25))

    rows = ship_today(now=datetime(2026, 11, 24, 13, 30, tzinfo=WARSAW))

    assert [(r.number, r.late) for r in rows] == [(overdue.number, True), (today.number, False)]
    assert rows[1].time_left == timedelta(hours=1, minutes=30)
    assert rows[0].time_left == -timedelta(days=1, hours=-1, minutes=-30)
