"""Row locks for fulfillment. Lock order (docs/architecture.md): cycle count, pick list,
packing session's order, orders (by id), then stock rows."""

from __future__ import annotations

from fulfillment.models import PickList
from oms.common.errors import NotFound


def lock_pick_list(*, number: str) -> PickList:
    """Locks the pick list row (FOR NO KEY UPDATE); every change to a list, its entries and
    its tasks holds it, so scans, short picks, aborts and cancellations of one list queue up.
    Raises NotFound."""
    try:
        return (
            PickList.objects.select_for_update(no_key=True, of=("self",)).select_related("warehouse").get(number=number)
        )
    except PickList.DoesNotExist:
        raise NotFound(f"No pick list {number}.", code="pick_list_not_found") from None
