"""Thin Celery tasks of returns."""

from celery import shared_task
from django.conf import settings

from oms.common.outbox import outbox_run
from returns.services.labels import return_label_give_up, return_label_issue


# Idempotent (a return has at most one label, made once), so acknowledged only when done.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def create_return_label(message_id: int) -> str:
    """Outbox (return approved): makes the customer's return label when the carrier takes them."""
    return outbox_run(
        message_id,
        return_label_issue,
        max_attempts=settings.OMS_LABEL_MAX_ATTEMPTS,
        on_final_failure=return_label_give_up,
    ).state
