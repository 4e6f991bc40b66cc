from celery import shared_task

from orders.services import orders_expire_unpaid


@shared_task
def expire_unpaid_orders() -> int:
    """Periodic (beat): cancels orders whose payment did not arrive in time."""
    return len(orders_expire_unpaid())
