from celery import shared_task

from shipping.services.promises import promises_stamp


@shared_task
def stamp_delivery_promises() -> int:
    """Periodic (beat): gives newly paid orders their ship-by day and promised delivery."""
    return len(promises_stamp())
