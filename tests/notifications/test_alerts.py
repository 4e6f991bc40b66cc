"""Staff alerts through a real SMTP server (aiosmtpd on 127.0.0.1, started by the tests): low
stock reaches the managers, a failed label the shippers, the daily digest of late orders the
managers; each once, however often its message runs, and only to the role that acts on it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from inventory.models import Location, Product, Warehouse
from inventory.services.reorder_rules import reorder_rule_create
from inventory.services.stock import stock_adjust
from notifications import tasks
from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from notifications.services.alerts import late_orders_digest
from oms.common import roles
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus
from orders.models import Order
from shipping.carriers.base import CarrierRejected
from shipping.carriers.own_fleet import OwnFleetAdapter
from shipping.enums import LabelStatus
from shipping.models import Label
from shipping.services.labels import labels_retry
from shipping.tasks import create_order_labels
from tests.factories import SYSTEM, make_order, make_staff, stock_up
from tests.notifications.smtp import SmtpServer
from tests.shipping.helpers import label_messages, packed_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

ALERT_TASK = "notifications.tasks.alert_staff"
SEND_TASK = "notifications.tasks.send_notification"
SKU = "MUG-1"


def staff(role: str, email: str, *, active: bool = True) -> Any:
    user = make_staff(role, username=email.split("@")[0])
    user.email = email
    user.is_active = active
    user.save(update_fields=["email", "is_active"])
    return user


@pytest.fixture
def crew() -> None:
    """Two managers, a shipper and a picker with addresses; a manager without an address and
    a manager who left (inactive), who hear of nothing."""
    staff(roles.MANAGER, "maria@shop.example")
    staff(roles.MANAGER, "marek@shop.example")
    staff(roles.SHIPPER, "sam@shop.example")
    staff(roles.PICKER, "pia@shop.example")
    make_staff(roles.MANAGER, username="no-address")
    staff(roles.MANAGER, "gone@shop.example", active=False)


MANAGERS = {"maria@shop.example", "marek@shop.example"}


def run(task: str) -> list[str]:
    """Runs every pending message of ``task`` once, as a worker would; returns the outcomes."""
    handler = {ALERT_TASK: tasks.alert_staff, SEND_TASK: tasks.send_notification}[task]
    ids = OutboxMessage.objects.filter(task=task, state=OutboxState.PENDING).order_by("pk")
    return [handler(pk) for pk in ids.values_list("pk", flat=True)]


def replay(task: str) -> None:
    """A worker killed after sending, before the outbox recorded it: the messages come back."""
    OutboxMessage.objects.filter(task=task).update(state=OutboxState.PENDING, locked_until=None)


def addressees(message: EmailMessage) -> set[str]:
    return {address.addr_spec for address in message["To"].addresses}


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# --- low stock --------------------------------------------------------------------------------


def mugs_below_reorder_point() -> None:
    """7 mugs in MAIN with a reorder point of 5; 4 found damaged: 3 left, the alert is raised
    by the stock service."""
    location = stock_up(SKU, 7)
    Product.objects.filter(sku=SKU).update(name="Enamel mug")
    product = Product.objects.get(sku=SKU)
    reorder_rule_create(
        product=product, warehouse=Warehouse.objects.get(code="MAIN"), reorder_point=5, reorder_quantity=20
    )
    stock_adjust(actor=SYSTEM, product=product, location=location, delta=-4, reason="damaged")


def test_low_stock_reaches_the_managers_and_no_one_else(smtp: SmtpServer, crew: None) -> None:
    mugs_below_reorder_point()

    assert run(ALERT_TASK) == ["done"]

    (message,) = smtp.inbox.messages
    assert addressees(message) == MANAGERS
    assert SKU in str(message["Subject"])
    body = text_of(message)
    assert "Enamel mug" in body and "MAIN" in body
    assert f"http://localhost:8000/admin/inventory/stocklevel/?q={SKU}" in body
    notification = Notification.objects.get()
    assert (notification.kind, notification.state) == (NotificationKind.STAFF_LOW_STOCK, NotificationState.SENT)


def test_the_low_stock_alert_carries_the_figures_of_the_moment_it_was_raised(smtp: SmtpServer, crew: None) -> None:
    mugs_below_reorder_point()

    run(ALERT_TASK)

    body = " ".join(text_of(smtp.inbox.messages[0]).split())
    assert "3 available, reorder point 5" in body
    assert "reorder: 20" in body


def test_an_alert_run_again_after_it_was_sent_sends_nothing_more(smtp: SmtpServer, crew: None) -> None:
    mugs_below_reorder_point()
    run(ALERT_TASK)

    replay(ALERT_TASK)
    outcomes = run(ALERT_TASK)

    assert outcomes == ["done"]
    assert smtp.inbox.count() == 1
    assert Notification.objects.count() == 1


def test_low_stock_back_above_the_point_before_the_alert_runs_sends_nothing(smtp: SmtpServer, crew: None) -> None:
    mugs_below_reorder_point()
    stock_adjust(
        actor=SYSTEM,
        product=Product.objects.get(sku=SKU),
        location=Location.objects.get(code="A-01-1"),
        delta=10,
        reason="found",
    )

    assert run(ALERT_TASK) == ["done"]

    assert smtp.inbox.count() == 0
    assert not Notification.objects.exists()


def test_a_role_with_no_one_to_tell_sends_nothing_and_the_message_is_done(
    smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    staff(roles.PICKER, "pia@shop.example")
    make_staff(roles.MANAGER, username="no-address")
    mugs_below_reorder_point()

    assert run(ALERT_TASK) == ["done"]

    assert smtp.inbox.count() == 0
    assert not Notification.objects.exists()
    assert OutboxMessage.objects.get(task=ALERT_TASK).state == OutboxState.DONE
    assert "has no active member with an email address" in caplog.text


# --- label failed -----------------------------------------------------------------------------


@pytest.fixture
def carrier_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Any, request: Any) -> Any:
        raise CarrierRejected("postal code 00-001 does not exist in PL")

    monkeypatch.setattr(OwnFleetAdapter, "create_label", refused)


def failed_label_order() -> Order:
    """A packed order whose label the carrier refused (the label task ran)."""
    order = packed_order()
    for message in label_messages(order):
        create_order_labels(message.pk)
    assert Label.objects.get(shipment__order=order).status == LabelStatus.FAILED
    return order


def test_a_failed_label_reaches_the_shippers_and_no_one_else(
    smtp: SmtpServer, crew: None, carrier_refuses: None
) -> None:
    order = failed_label_order()

    assert run(ALERT_TASK) == ["done"]

    (message,) = smtp.inbox.messages
    assert addressees(message) == {"sam@shop.example"}
    assert order.number in str(message["Subject"])
    body = text_of(message)
    assert "postal code 00-001 does not exist in PL" in body
    assert "http://localhost:8000/staff/labels/" in body
    notification = Notification.objects.get(kind=NotificationKind.STAFF_LABEL_FAILED)
    assert notification.order_id == order.pk and notification.state == NotificationState.SENT


def test_a_label_retried_before_the_alert_runs_sends_nothing(
    smtp: SmtpServer, crew: None, carrier_refuses: None
) -> None:
    order = failed_label_order()
    Label.objects.filter(shipment__order=order).update(status=LabelStatus.REQUESTED)  # staff pressed Retry

    assert run(ALERT_TASK) == ["done"]

    assert smtp.inbox.count() == 0
    assert not Notification.objects.filter(kind=NotificationKind.STAFF_LABEL_FAILED).exists()


def test_a_label_that_fails_again_after_a_retry_alerts_the_shippers_again(
    smtp: SmtpServer, crew: None, carrier_refuses: None
) -> None:
    order = failed_label_order()
    assert run(ALERT_TASK) == ["done"]

    labels_retry(actor=SYSTEM, order_number=order.number)  # staff pressed Retry; it fails again
    for message in label_messages(order):
        create_order_labels(message.pk)

    assert run(ALERT_TASK) == ["done"]
    assert smtp.inbox.count() == 2
    assert Notification.objects.filter(kind=NotificationKind.STAFF_LABEL_FAILED).count() == 2


def test_a_failed_label_with_no_shipper_to_tell_sends_nothing(smtp: SmtpServer, carrier_refuses: None) -> None:
    staff(roles.MANAGER, "maria@shop.example")
    failed_label_order()

    assert run(ALERT_TASK) == ["done"]

    assert smtp.inbox.count() == 0
    assert not Notification.objects.filter(kind=NotificationKind.STAFF_LABEL_FAILED).exists()


def test_an_alert_the_mail_server_refuses_for_good_is_failed_with_the_reason(
    smtp: SmtpServer, crew: None, carrier_refuses: None
) -> None:
    smtp.inbox.refuse.add("sam@shop.example")
    failed_label_order()

    assert run(ALERT_TASK) == ["failed"]

    notification = Notification.objects.get(kind=NotificationKind.STAFF_LABEL_FAILED)
    assert notification.state == NotificationState.FAILED
    assert "550" in notification.last_error and "sam@shop.example" in notification.last_error
    assert smtp.inbox.count() == 0


# --- the late-orders digest -------------------------------------------------------------------

TODAY = date(2025, 3, 12)


def order_due(status: str, *, ship_by: date | None = None, promised: date | None = None) -> Order:
    order = make_order(status)
    Order.objects.filter(pk=order.pk).update(ship_by=ship_by, promised_delivery=promised)
    return Order.objects.get(pk=order.pk)


def test_the_digest_lists_the_late_orders_only_most_late_first(smtp: SmtpServer, crew: None) -> None:
    one_day = order_due(OrderStatus.SHIPPED, ship_by=TODAY - timedelta(days=4), promised=TODAY - timedelta(days=1))
    three_days = order_due(OrderStatus.PAID, ship_by=TODAY - timedelta(days=3))
    on_time = [
        order_due(OrderStatus.PAID, ship_by=TODAY),
        order_due(OrderStatus.SHIPPED, ship_by=TODAY - timedelta(days=2), promised=TODAY),
        order_due(OrderStatus.EXECUTED, ship_by=TODAY - timedelta(days=9), promised=TODAY - timedelta(days=5)),
        order_due(OrderStatus.CANCELLED, ship_by=TODAY - timedelta(days=9)),
        order_due(OrderStatus.PAID),  # no ship-by day known
    ]

    assert late_orders_digest(TODAY) == 2
    assert run(SEND_TASK) == ["done"]

    (message,) = smtp.inbox.messages
    assert addressees(message) == MANAGERS
    body = text_of(message)
    assert body.index(three_days.number) < body.index(one_day.number)
    assert not [o.number for o in on_time if o.number in body]
    assert f"http://localhost:8000/admin/orders/order/{three_days.pk}/change/" in body
    notification = Notification.objects.get(kind=NotificationKind.STAFF_LATE_ORDERS)
    assert notification.key == "digest:late_orders:2025-03-12"


def test_the_digest_run_twice_the_same_day_goes_once(smtp: SmtpServer, crew: None) -> None:
    order_due(OrderStatus.PICKING, ship_by=TODAY - timedelta(days=1))
    late_orders_digest(TODAY)
    run(SEND_TASK)

    again = late_orders_digest(TODAY)
    run(SEND_TASK)

    assert again == 0
    assert smtp.inbox.count() == 1
    assert Notification.objects.filter(kind=NotificationKind.STAFF_LATE_ORDERS).count() == 1


def test_the_digest_goes_again_the_next_day(smtp: SmtpServer, crew: None) -> None:
    order_due(OrderStatus.PACKED, ship_by=TODAY - timedelta(days=1))
    late_orders_digest(TODAY)

    assert late_orders_digest(TODAY + timedelta(days=1)) == 1
    run(SEND_TASK)

    assert smtp.inbox.count() == 2


def test_a_day_with_nothing_late_sends_no_digest(smtp: SmtpServer, crew: None) -> None:
    order_due(OrderStatus.PAID, ship_by=TODAY)

    assert late_orders_digest(TODAY) == 0

    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.filter(task=SEND_TASK).exists()
    assert smtp.inbox.count() == 0


def test_the_digest_with_no_manager_to_tell_prepares_nothing(smtp: SmtpServer) -> None:
    staff(roles.SHIPPER, "sam@shop.example")
    order_due(OrderStatus.PAID, ship_by=TODAY - timedelta(days=1))

    assert late_orders_digest(TODAY) == 0

    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.filter(task=SEND_TASK).exists()


def test_the_digest_day_is_the_shops_day(crew: None) -> None:
    # 25 hours apart: the two shops are never on the same day, and UTC's day is one of them
    # at most.
    order_due(OrderStatus.PAID, ship_by=date(2020, 1, 1))
    days = set()
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with override_settings(TIME_ZONE=zone):
            late_orders_digest()
            days.add(datetime.now(ZoneInfo(zone)).date().isoformat())

    keys = set(Notification.objects.values_list("key", flat=True))
    assert keys == {f"digest:late_orders:{day}" for day in days}
    assert len(keys) == 2


def test_the_digest_reads_its_orders_in_a_fixed_number_of_queries(
    crew: None, django_assert_max_num_queries: Any
) -> None:
    for days in range(1, 13):
        order_due(OrderStatus.PAID, ship_by=TODAY - timedelta(days=days))

    with django_assert_max_num_queries(12):
        assert late_orders_digest(TODAY) == 12
