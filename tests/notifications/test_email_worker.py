"""A real Celery worker on the real Redis sends the customer's emails to a real SMTP server,
and keeps an email for a mail server that is down until it is back, then sends it once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from orders.enums import OrderStatus
from tests.celery_worker import celery_worker, wait_for, worker_output
from tests.factories import make_order
from tests.notifications.smtp import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def worker_env(server: SmtpServer) -> dict[str, str]:
    return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(server.port), "OMS_OUTBOX_RETRY_BASE_SECONDS": "1"}


@pytest.mark.django_db(transaction=True)
def test_a_paid_order_gets_its_two_emails_from_a_real_worker(smtp: SmtpServer) -> None:
    with celery_worker(worker_env(smtp)) as worker:
        order = make_order(OrderStatus.PAID, email="lee@example.com")  # committed: relayed after commit

        if not smtp.inbox.wait_for(2, timeout=60):
            pytest.fail(f"{smtp.inbox.count()} of 2 emails within 60 s. Worker output:\n{worker_output(worker)}")

    assert sorted(Notification.objects.filter(order=order).values_list("kind", "state")) == sorted(
        [
            (NotificationKind.ORDER_RECEIVED, NotificationState.SENT),
            (NotificationKind.PAYMENT_CONFIRMED, NotificationState.SENT),
        ]
    )
    assert {str(m["To"]) for m in smtp.inbox.messages} == {"lee@example.com"}


@pytest.mark.django_db(transaction=True)
def test_an_email_waits_for_the_mail_server_and_goes_once_when_it_is_back(smtp: SmtpServer) -> None:
    smtp.stop()
    with celery_worker(worker_env(smtp)) as worker:
        order = make_order(OrderStatus.UNHANDLED)
        tried = wait_for(lambda: Notification.objects.filter(order=order, attempts__gte=1).exists(), timeout=60)
        assert tried, worker_output(worker)
        assert Notification.objects.get(order=order).state == NotificationState.PENDING

        smtp.start()
        if not smtp.inbox.wait_for(1, timeout=60):
            pytest.fail(f"No email within 60 s of the server's return. Worker output:\n{worker_output(worker)}")
        time.sleep(3)  # a doubled delivery would arrive in this time

    assert smtp.inbox.count() == 1
    assert Notification.objects.get(order=order).state == NotificationState.SENT
