from typing import Any

from celery import shared_task

from oms.common.actors import Actor
from oms.common.errors import ApplicationError
from oms.common.outbox import GiveUp, outbox_run
from orders.services import orders_expire_unpaid
from orders.services.invoices import invoice_issue


@shared_task
def expire_unpaid_orders() -> int:
    """Periodic (beat): cancels orders whose payment did not arrive in time."""
    return len(orders_expire_unpaid())


def _issue(payload: dict[str, Any], attempt: int) -> None:
    try:
        invoice_issue(actor=Actor.system("invoicing"), number=payload["order"])
    except ApplicationError as exc:
        raise GiveUp(exc.message) from exc


# Idempotent (one invoice per order, however often it runs), so acknowledged only when done.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def issue_invoice(message_id: int) -> str:
    """Outbox (order paid): issues the order's invoice."""
    return outbox_run(message_id, _issue, max_attempts=5).state
