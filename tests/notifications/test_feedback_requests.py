"""Asking for feedback: once per order, a few days after delivery, only while it is delivered
and unrated; the email links to the rating form on the order-status page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from notifications import tasks
from notifications.enums import NotificationKind, NotificationState
from notifications.models import Notification
from notifications.services.feedback import feedback_requests_emit
from notifications.status_links import order_for_token
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus as S
from orders.models import Order
from orders.services import order_feedback_give
from tests.factories import make_order

pytestmark = pytest.mark.django_db

EMAIL_TASK = "notifications.tasks.email_customer"


def delivered(days_ago: float, status: str = S.EXECUTED) -> Order:
    order = make_order(S.EXECUTED)
    Order.objects.filter(pk=order.pk).update(executed_at=timezone.now() - timedelta(days=days_ago), status=status)
    return Order.objects.get(pk=order.pk)


def asked() -> list[str]:
    return sorted(
        OutboxMessage.objects.filter(task=EMAIL_TASK, payload__topic="order.feedback_requested").values_list(
            "payload__order", flat=True
        )
    )


def test_orders_delivered_three_days_ago_are_asked_once(mailoutbox: list[EmailMessage]) -> None:
    due = delivered(3.1)
    delivered(1)  # too soon
    delivered(12)  # more than a week past the day it was due: not caught up on
    delivered(4, status=S.RETURNED)  # came back: not asked
    rated = delivered(5)
    order_feedback_give(number=rated.number, rating=5)

    first, again = feedback_requests_emit(), feedback_requests_emit()

    assert (first, again, asked()) == (1, 0, [due.number])
    pending = OutboxMessage.objects.filter(
        task=EMAIL_TASK, state=OutboxState.PENDING, payload__topic="order.feedback_requested"
    )
    for pk in pending.values_list("pk", flat=True):
        tasks.email_customer(pk)
    email = Notification.objects.get(kind=NotificationKind.FEEDBACK_REQUEST)
    assert (email.order_id, email.state) == (due.pk, NotificationState.SENT)
    assert email.subject == f"How was your order {due.number}?"
    (link,) = [word for word in email.body_text.split() if "/track/" in word]
    assert link.startswith(f"{settings.OMS_SITE_URL}/track/")
    assert order_for_token(link.split("/track/")[1].removesuffix("/")) == due
    assert "Rate it from 1 (poor) to 5 (excellent)" in email.body_text
    assert [m.subject for m in mailoutbox if m.subject.startswith("How was")] == [email.subject]
    assert feedback_requests_emit() == 0  # the email exists: never asked again


def test_the_beat_asks_hourly() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["request-feedback"]

    assert (entry["task"], entry["schedule"]) == ("notifications.tasks.request_feedback", 3600)
    delivered(3.5)
    assert tasks.request_feedback() == 1
