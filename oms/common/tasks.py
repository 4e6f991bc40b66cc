from celery import shared_task

from oms.common.outbox import outbox_sweep
from oms.common.services import idempotency_keys_purge


@shared_task
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()


@shared_task
def sweep_outbox() -> int:
    """Periodic (beat): relays outbox messages that are due and still pending."""
    return outbox_sweep()
