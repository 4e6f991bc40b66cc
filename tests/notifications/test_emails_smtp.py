"""Customer emails through a real SMTP server (aiosmtpd on 127.0.0.1, started by the tests):
one email per milestone, never two for one cause, retried while the server is down and sent
once when it is back, failed visibly when the address is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from notifications import tasks
from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from oms.common.models import OutboxMessage, OutboxState
from orders import services
from orders.enums import OrderStatus, PaymentMethod
from orders.models import Invoice
from tests.factories import SYSTEM, make_order
from tests.notifications.conftest import Relays
from tests.notifications.smtp import SmtpServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relays")]

EMAIL_TASK = "notifications.tasks.email_customer"


def run_emails() -> list[str]:
    """Runs every pending email message once, as a worker would; returns the outcomes."""
    ids = OutboxMessage.objects.filter(task=EMAIL_TASK, state=OutboxState.PENDING).order_by("pk")
    return [tasks.email_customer(pk) for pk in ids.values_list("pk", flat=True)]


def make_due(message: OutboxMessage) -> None:
    """The retry's delay has passed (the delayed task arrives)."""
    OutboxMessage.objects.filter(pk=message.pk).update(locked_until=None)


def kinds_sent() -> list[str]:
    return sorted(Notification.objects.filter(state=NotificationState.SENT).values_list("kind", flat=True))


def test_an_order_from_placement_to_delivery_gets_one_email_per_milestone(smtp: SmtpServer) -> None:
    order = make_order(OrderStatus.EXECUTED, email="kim@example.com")

    outcomes = run_emails()

    # created, paid, shipped, executed tell the customer; picking and packing do not.
    assert sorted(outcomes) == ["done"] * 4
    assert kinds_sent() == sorted(
        [
            NotificationKind.ORDER_RECEIVED,
            NotificationKind.PAYMENT_CONFIRMED,
            NotificationKind.SHIPPED,
            NotificationKind.DELIVERED,
        ]
    )
    assert smtp.inbox.count() == 4
    assert {str(m["To"]) for m in smtp.inbox.messages} == {"kim@example.com"}
    assert all(order.number in str(m["Subject"]) for m in smtp.inbox.messages)


def test_every_email_has_text_and_html_parts_and_the_signed_status_link(smtp: SmtpServer) -> None:
    order = make_order(OrderStatus.UNHANDLED)

    run_emails()

    message = smtp.inbox.messages[0]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    notification = Notification.objects.get(order=order)
    assert str(message["Message-ID"]) == notification.message_id
    link = next(word for word in text.get_content().split() if "/track/" in word)
    assert link.startswith("http://localhost:8000/track/")
    assert link in html.get_content()


def test_the_payment_confirmation_carries_the_invoice_pdf(smtp: SmtpServer) -> None:
    order = make_order(OrderStatus.PAID)

    run_emails()

    invoice = Invoice.objects.get(order=order)
    confirmation = Notification.objects.get(order=order, kind=NotificationKind.PAYMENT_CONFIRMED)
    (paid,) = [m for m in smtp.inbox.messages if str(m["Message-ID"]) == confirmation.message_id]
    attachments = [part for part in paid.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert [part.get_filename() for part in attachments] == [f"{invoice.number}.pdf"]
    assert attachments[0].get_content().startswith(b"%PDF")


def test_a_message_run_again_after_its_email_was_sent_sends_nothing_more(smtp: SmtpServer) -> None:
    make_order(OrderStatus.PAID)
    run_emails()
    assert smtp.inbox.count() == 2

    # A worker killed after sending, before the outbox recorded it: the message comes back.
    OutboxMessage.objects.filter(task=EMAIL_TASK).update(state=OutboxState.PENDING, locked_until=None)
    outcomes = run_emails()

    assert outcomes == ["done", "done"]
    assert smtp.inbox.count() == 2
    assert Notification.objects.count() == 2


def test_the_same_milestone_reported_twice_prepares_one_email(smtp: SmtpServer) -> None:
    order = make_order(OrderStatus.UNHANDLED)
    message = OutboxMessage.objects.get(task=EMAIL_TASK)
    # The same cause written again under another message (a replayed relay): one email.
    OutboxMessage.objects.create(
        key="replayed", task=EMAIL_TASK, payload=message.payload, available_at=message.available_at
    )

    run_emails()

    assert Notification.objects.filter(order=order).count() == 1
    assert smtp.inbox.count() == 1


def test_smtp_down_is_retried_and_the_email_goes_once_when_it_is_back(smtp: SmtpServer, relays: Relays) -> None:
    order = make_order(OrderStatus.UNHANDLED)
    smtp.stop()

    assert run_emails() == ["retry"]
    message = OutboxMessage.objects.get(task=EMAIL_TASK)
    notification = Notification.objects.get(order=order)
    assert message.state == OutboxState.PENDING and message.attempts == 1
    assert notification.state == NotificationState.PENDING and notification.last_error
    assert relays.sent[-1][0] == EMAIL_TASK and relays.sent[-1][2] > 0  # the retry, delayed

    smtp.start()
    make_due(message)
    assert run_emails() == ["done"]
    make_due(message)
    assert run_emails() == []

    assert smtp.inbox.count() == 1
    notification.refresh_from_db()
    assert notification.state == NotificationState.SENT and notification.attempts == 2


def test_an_address_the_server_refuses_for_good_fails_at_once_with_the_reason(smtp: SmtpServer) -> None:
    smtp.inbox.refuse.add("nobody@example.com")
    order = make_order(OrderStatus.UNHANDLED, email="nobody@example.com")

    assert run_emails() == ["failed"]

    notification = Notification.objects.get(order=order)
    assert notification.state == NotificationState.FAILED
    assert "550" in notification.last_error and "nobody@example.com" in notification.last_error
    assert OutboxMessage.objects.get(task=EMAIL_TASK).state == OutboxState.FAILED
    assert smtp.inbox.count() == 0


@override_settings(OMS_EMAIL_MAX_ATTEMPTS=2)
def test_a_server_down_past_the_last_attempt_leaves_the_email_failed(smtp: SmtpServer) -> None:
    order = make_order(OrderStatus.UNHANDLED)
    smtp.stop()

    run_emails()
    make_due(OutboxMessage.objects.get(task=EMAIL_TASK))
    assert run_emails() == ["failed"]

    notification = Notification.objects.get(order=order)
    assert notification.state == NotificationState.FAILED and notification.attempts == 2


def test_cancellation_and_refund_each_tell_the_customer(smtp: SmtpServer) -> None:
    order = make_order(OrderStatus.PAID)
    services.order_cancel(actor=SYSTEM, number=order.number, reason="Out of stock at the supplier")
    services.refund_record(
        actor=SYSTEM, number=order.number, amount=Decimal(order.total), method=PaymentMethod.CARD, reference="re-1"
    )

    run_emails()

    assert kinds_sent() == sorted(
        [
            NotificationKind.ORDER_RECEIVED,
            NotificationKind.PAYMENT_CONFIRMED,
            NotificationKind.CANCELLED,
            NotificationKind.REFUND_ISSUED,
        ]
    )
    assert smtp.inbox.count() == 4


def test_tracking_scans_tell_the_customer_out_for_delivery_and_delays_once_each(smtp: SmtpServer) -> None:
    from tests.shipping.test_tracking import T0, event, numbers, own_body, receive, shipped

    order = shipped()
    run_emails()  # order received, payment confirmed, shipped
    already = smtp.inbox.count()
    (number,) = numbers(order)

    receive(own_body(event(number, "in_transit", T0)))
    receive(own_body(event(number, "exception", T0.replace(hour=12), description="Address unclear")))
    receive(own_body(event(number, "out_for_delivery", T0.replace(hour=13))))
    # The carrier scans it out for delivery again the same day: no second email.
    receive(own_body(event(number, "out_for_delivery", T0.replace(hour=14), location="Depot 2")))
    run_emails()

    new = sorted(Notification.objects.filter(order=order).values_list("kind", flat=True))
    assert new == sorted(
        [
            NotificationKind.ORDER_RECEIVED,
            NotificationKind.PAYMENT_CONFIRMED,
            NotificationKind.SHIPPED,
            NotificationKind.DELAYED,
            NotificationKind.OUT_FOR_DELIVERY,
        ]
    )
    assert smtp.inbox.count() == already + 2
    delayed = Notification.objects.get(order=order, kind=NotificationKind.DELAYED)
    assert "Address unclear" in delayed.body_text
