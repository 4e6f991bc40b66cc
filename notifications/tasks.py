"""Thin Celery tasks: each takes an outbox message id and runs its handler under the
outbox's lease, retry and failure rules (oms/common/outbox.py).

Every handler is idempotent (an email already sent is not sent again, a delivery already
made is not made again), so the tasks are acknowledged only when done: a worker killed
mid-task leaves the message to be delivered again.
"""

from celery import shared_task
from django.conf import settings

from notifications.services.alerts import alert_for_event, alert_for_event_failed, late_orders_digest
from notifications.services.emails import (
    email_for_event,
    email_for_event_failed,
    notification_send_failed,
    notification_send_handler,
)
from notifications.services.feedback import feedback_requests_emit
from notifications.services.webhooks import webhook_deliver, webhook_delivery_dead, webhook_publish
from oms.common.outbox import outbox_run


@shared_task(acks_late=True, reject_on_worker_lost=True)
def email_customer(message_id: int) -> str:
    """Outbox (order and tracking events): the customer's email for the milestone, if any."""
    return outbox_run(
        message_id,
        email_for_event,
        max_attempts=settings.OMS_EMAIL_MAX_ATTEMPTS,
        on_final_failure=email_for_event_failed,
    ).state


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_notification(message_id: int) -> str:
    """Outbox (resends, staff alerts): sends a prepared notification."""
    return outbox_run(
        message_id,
        notification_send_handler,
        max_attempts=settings.OMS_EMAIL_MAX_ATTEMPTS,
        on_final_failure=notification_send_failed,
    ).state


@shared_task(acks_late=True, reject_on_worker_lost=True)
def alert_staff(message_id: int) -> str:
    """Outbox (low stock, label failed): alerts the role that acts on it."""
    return outbox_run(
        message_id,
        alert_for_event,
        max_attempts=settings.OMS_EMAIL_MAX_ATTEMPTS,
        on_final_failure=alert_for_event_failed,
    ).state


@shared_task
def request_feedback() -> int:
    """Periodic (beat, hourly): asks the customers of orders delivered
    OMS_FEEDBACK_DELAY_DAYS ago to rate them; returns how many were asked now."""
    return feedback_requests_emit()


@shared_task
def send_late_orders_digest() -> int:
    """Periodic (beat, daily): the late-orders digest; returns how many orders it lists."""
    return late_orders_digest()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def publish_webhook_event(message_id: int) -> str:
    """Outbox (every integrator event): snapshots the event and queues one delivery per
    subscription that wants it."""
    return outbox_run(message_id, webhook_publish, max_attempts=5).state


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(message_id: int) -> str:
    """Outbox: one webhook delivery, retried with backoff for OMS_WEBHOOK_RETRY_HOURS."""
    return outbox_run(
        message_id,
        webhook_deliver,
        max_attempts=settings.OMS_WEBHOOK_MAX_ATTEMPTS_CAP,
        on_final_failure=webhook_delivery_dead,
    ).state
