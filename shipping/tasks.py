from celery import shared_task
from django.conf import settings

from oms.common.outbox import outbox_run
from shipping.services.labels import labels_create_for_order, labels_fail_remaining
from shipping.services.promises import promises_stamp
from shipping.services.tracking import shipments_flag_stale


@shared_task
def stamp_delivery_promises() -> int:
    """Periodic (beat): gives newly paid orders their ship-by day and promised delivery."""
    return len(promises_stamp())


@shared_task
def flag_stale_shipments() -> int:
    """Periodic (beat, hourly): flags handed-over shipments with no tracking event for
    OMS_TRACKING_STALE_DAYS; returns how many were flagged now."""
    return len(shipments_flag_stale())


# Idempotent (a label is made once per package whatever runs twice), so it is acknowledged
# only when done: a worker killed mid-label leaves the message to be delivered again.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def create_order_labels(message_id: int) -> str:
    """Outbox (order packed, staff retry): makes the order's labels, one per package."""
    return outbox_run(
        message_id,
        labels_create_for_order,
        max_attempts=settings.OMS_LABEL_MAX_ATTEMPTS,
        on_final_failure=labels_fail_remaining,
    ).state
