"""What every pick list use case shares: the one writer of ``PickList.status``, who may work
on a list, what an order holds, the accuracy ledger, and completing a list."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from fulfillment import transitions
from fulfillment.enums import (
    ACTIVE_ENTRY_STATES,
    MANAGE,
    EntryState,
    FulfillmentErrorCode,
    PickListStatus,
    TaskStatus,
)
from fulfillment.models import AccuracyEvent, PickList, PickListOrder
from inventory.models import Allocation, Reservation
from inventory.selectors import stock_shortages
from oms.common.actors import Actor
from oms.common.errors import Conflict, Forbidden
from orders.enums import OrderStatus
from orders.models import Order
from orders.services import order_abort_picking


class PickListTransitionNotAllowed(Conflict):
    code = FulfillmentErrorCode.PICK_LIST_TRANSITION_NOT_ALLOWED


# --- the one writer of PickList.status ------------------------------------------------------


def _require_move(pick_list: PickList, to_status: str) -> None:
    """Raises PickListTransitionNotAllowed unless the table allows the move; writes nothing."""
    if not transitions.can_move(pick_list.status, to_status):
        hints: dict[str, str] = {
            PickListStatus.ASSIGNED: "start it first",
            PickListStatus.COMPLETED: "it is completed",
            PickListStatus.CANCELLED: "it is cancelled",
        }
        hint = hints.get(pick_list.status, "")
        raise PickListTransitionNotAllowed(
            f"Pick list {pick_list.number} is {pick_list.status} and cannot become {to_status}"
            + (f": {hint}." if hint else "."),
            extra={"number": pick_list.number, "status": pick_list.status, "requested": to_status},
        )


def _pick_list_set_status(pick_list: PickList, to_status: str, *, reason: str = "") -> None:
    """Moves a locked pick list along ``transitions.PICK_LIST_TRANSITIONS``."""
    _require_move(pick_list, to_status)
    now = timezone.now()
    pick_list.status = to_status
    fields = ["status", "updated_at"]
    stamps: dict[str, str] = {
        PickListStatus.PICKING: "started_at",
        PickListStatus.COMPLETED: "completed_at",
        PickListStatus.CANCELLED: "cancelled_at",
    }
    stamp = stamps.get(to_status)
    if stamp:
        setattr(pick_list, stamp, now)
        fields.append(stamp)
    if to_status == PickListStatus.CANCELLED:
        pick_list.cancel_reason = reason[:255]
        fields.append("cancel_reason")
    pick_list.save(update_fields=fields)


def _require_picking(pick_list: PickList) -> None:
    if pick_list.status != PickListStatus.PICKING:
        raise PickListTransitionNotAllowed(
            f"Pick list {pick_list.number} is {pick_list.status}; picks are confirmed only while it is picking"
            + (": start it first." if pick_list.status == PickListStatus.ASSIGNED else "."),
            extra={"number": pick_list.number, "status": pick_list.status},
        )


def _require_own_or_manager(pick_list: PickList, actor: Actor) -> None:
    if actor.user_id is not None and actor.user_id == pick_list.picker_id:
        return
    user = get_user_model().objects.filter(pk=actor.user_id).first() if actor.user_id else None
    if user is not None and user.has_perm(MANAGE):
        return
    raise Forbidden(
        f"Pick list {pick_list.number} is assigned to {pick_list.picker.get_username()}; "
        "only they or a manager can work on it.",
        code=FulfillmentErrorCode.NOT_YOUR_PICK_LIST,
        extra={"number": pick_list.number, "picker": pick_list.picker.get_username()},
    )


# --- reading what an order holds ------------------------------------------------------------


def _held_warehouses(numbers: list[str]) -> dict[str, set[int]]:
    """The warehouses where each order still has units held in bins."""
    held: dict[str, set[int]] = defaultdict(set)
    for number, warehouse_id in Allocation.objects.filter(reservation__order_number__in=numbers).values_list(
        "reservation__order_number", "stock__location__warehouse_id"
    ):
        held[number].add(warehouse_id)
    return held


def _active_entries(orders: list[Order]) -> dict[int, PickListOrder]:
    return {
        e.order_id: e
        for e in PickListOrder.objects.select_related("pick_list__picker").filter(
            order__in=orders, state__in=ACTIVE_ENTRY_STATES
        )
    }


def _not_ready_reason(order: Order, entry: PickListOrder | None) -> tuple[str, str] | None:
    """Why a locked order cannot go on a pick list now: (code, sentence), or None."""
    if entry is not None:
        pl = entry.pick_list
        return (
            FulfillmentErrorCode.ORDER_ON_PICK_LIST,
            f"{order.number} is already on pick list {pl.number} ({pl.picker.get_username()})",
        )
    if order.status != OrderStatus.PAID:
        return FulfillmentErrorCode.ORDER_NOT_READY, f"{order.number} is {order.status}, not paid"
    shortages = stock_shortages(order_number=order.number)
    if shortages:
        short = ", ".join(f"{s.sku} {s.quantity_short} of {s.quantity}" for s in shortages)
        return FulfillmentErrorCode.ORDER_NOT_READY, f"{order.number} is short of stock ({short})"
    return None


def record_accuracy(
    actor: Actor,
    kind: str,
    *,
    order_number: str,
    pick_list: PickList | None = None,
    sku: str = "",
    location: str = "",
    expected: str = "",
    actual: str = "",
    note: str = "",
    supervisor_id: int | None = None,
    package_id: int | None = None,
) -> AccuracyEvent:
    return AccuracyEvent.objects.create(
        kind=kind,
        order_number=order_number,
        pick_list=pick_list,
        package_id=package_id,
        sku=sku,
        location=location,
        expected=expected[:100],
        actual=actual[:100],
        note=note[:255],
        actor_label=actor.label,
        user_id=actor.user_id,
        supervisor_id=supervisor_id,
    )


def _complete_if_done(pick_list: PickList, actor: Actor) -> bool:
    """Completes a picking list with no open task: fully picked orders wait for packing; an
    order missing units (stock released under it) goes back to paid."""
    if pick_list.status != PickListStatus.PICKING:
        return False
    if pick_list.tasks.filter(status=TaskStatus.OPEN).exists():
        return False
    entries = list(pick_list.entries.select_related("order").filter(state=EntryState.PICKING))
    unpicked = set(
        Reservation.objects.filter(
            order_number__in=[e.order.number for e in entries], quantity_picked__lt=F("quantity")
        ).values_list("order_number", flat=True)
    )
    for entry in entries:
        if entry.order.number in unpicked:
            entry.state = EntryState.SHORT
            entry.note = "units missing when the list was completed"
            order_abort_picking(
                actor=actor,
                number=entry.order.number,
                note=f"Short of stock: units missing when pick list {pick_list.number} was completed; waits for stock.",
            )
        else:
            entry.state = EntryState.PICKED
    PickListOrder.objects.bulk_update(entries, ["state", "note"])
    if not pick_list.entries.exclude(state=EntryState.REMOVED).exists():
        _pick_list_set_status(pick_list, PickListStatus.CANCELLED, reason="every order was removed")
    else:
        _pick_list_set_status(pick_list, PickListStatus.COMPLETED)
    return True
