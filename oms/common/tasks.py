from celery import shared_task

from oms.common.services import idempotency_keys_purge


@shared_task
def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
