"""Row locks of returns. Lock order (docs/architecture.md): the order, then its returns."""

from __future__ import annotations

from oms.common.errors import NotFound
from orders.locks import lock_order
from returns.enums import ReturnErrorCode
from returns.models import Return, ReturnLabel


def lock_return(*, number: str) -> Return:
    """The return, locked for the rest of the transaction (FOR NO KEY UPDATE), with its
    order read along. Raises NotFound when there is none."""
    try:
        return Return.objects.select_for_update(no_key=True).select_related("order").get(number=number)
    except Return.DoesNotExist:
        raise NotFound(f"No return with number {number}.", code=ReturnErrorCode.RETURN_NOT_FOUND) from None


def lock_return_with_order(*, number: str) -> Return:
    """Locks the return's order, then the return: the lock order every return service
    keeps (an order's returns all change under its row). Raises NotFound."""
    order_number = Return.objects.filter(number=number).values_list("order__number", flat=True).first()
    if order_number is not None:
        lock_order(number=order_number)
    return lock_return(number=number)


def lock_return_label(label_id: int) -> ReturnLabel:
    """A return label, locked (FOR NO KEY UPDATE) while a worker records what the carrier
    answered; alone, after no other lock."""
    return ReturnLabel.objects.select_for_update(no_key=True).select_related("ret__order").get(pk=label_id)
