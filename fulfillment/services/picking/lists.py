"""Making pick lists (named orders or the next batch from the queue), starting, assigning
and cancelling them, and the one-order order actions ``start-picking`` / ``abort-picking``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from fulfillment.enums import (
    PICK,
    EntryState,
    FulfillmentErrorCode,
    PickListStatus,
    TaskStatus,
)
from fulfillment.locks import lock_pick_list
from fulfillment.models import PickList, PickListOrder, PickTask
from fulfillment.services.picking.state import (
    PickListTransitionNotAllowed,
    _active_entries,
    _complete_if_done,
    _held_warehouses,
    _not_ready_reason,
    _pick_list_set_status,
    _require_move,
    _require_own_or_manager,
)
from inventory.models import Allocation, Warehouse
from oms.common.actors import Actor
from oms.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.enums import OrderStatus
from orders.locks import lock_free_orders, lock_orders
from orders.models import Order
from orders.services import order_abort_picking, order_require_move, order_start_picking

# --- creating ------------------------------------------------------------------------------


def _batch_limit(max_orders: int | None) -> int:
    limit = settings.OMS_PICK_BATCH_SIZE
    if max_orders is None:
        return limit
    if not 1 <= max_orders <= limit:
        raise InvalidInput(
            f"A pick list takes 1 to {limit} orders.", fields={"max_orders": [f"Must be between 1 and {limit}."]}
        )
    return max_orders


def _require_picker(picker: User) -> None:
    if not picker.is_active or not picker.has_perm(PICK):
        raise InvalidInput(
            f"{picker.get_username()} cannot pick: give the pick list to a user with the picker role.",
            fields={"picker": [f"{picker.get_username()} does not have the picker role."]},
        )


@transaction.atomic
def pick_list_create(
    *,
    actor: Actor,
    picker: User,
    order_numbers: list[str] | None = None,
    warehouse: Warehouse | None = None,
    max_orders: int | None = None,
) -> PickList:
    """Puts orders on a new pick list assigned to ``picker``: the named orders (all or
    nothing), or else the oldest ones of the ready-to-pick queue of one warehouse.

    The orders stay ``paid`` until the list starts, but no other list can take them.
    Raises InvalidInput (too many orders, a picker without the role), NotFound (an unknown
    order), Conflict ``order_on_pick_list`` / ``order_not_ready_to_pick`` (``extra.orders``
    names each order and why), ``orders_in_several_warehouses``, ``nothing_to_pick``.
    """
    _require_picker(picker)
    if order_numbers:
        limit = _batch_limit(len(order_numbers) if max_orders is None else max_orders)
        numbers = list(dict.fromkeys(n.strip() for n in order_numbers))
        if len(numbers) > limit:
            raise InvalidInput(
                f"A pick list takes at most {limit} orders; {len(numbers)} were given.",
                fields={"orders": [f"At most {limit} orders."]},
            )
        orders = _lock_named_orders(numbers)
        warehouse = _common_warehouse(orders, warehouse)
    else:
        limit = _batch_limit(max_orders)
        orders, warehouse = _take_from_queue(warehouse, limit)
    pick_list = PickList.objects.create(
        number=f"pending-{uuid.uuid4().hex[:24]}",
        warehouse=warehouse,
        picker=picker,
        created_by=actor.label,
    )
    pick_list.number = f"PL-{pick_list.pk:06d}"
    pick_list.save(update_fields=["number"])
    entries = PickListOrder.objects.bulk_create(
        [
            PickListOrder(pick_list=pick_list, order=order, position=i, tote=f"{pick_list.number}-{i}")
            for i, order in enumerate(orders, start=1)
        ]
    )
    _build_tasks(pick_list, entries)
    return pick_list


def _lock_named_orders(numbers: list[str]) -> list[Order]:
    locked = lock_orders(numbers=numbers)
    by_number = {o.number: o for o in locked}
    missing = [n for n in numbers if n not in by_number]
    if missing:
        raise NotFound(f"No order with number {', '.join(missing)}.", code="order_not_found")
    if len(numbers) == 1:
        # One order: the same answers as moving the order itself (transition_not_allowed,
        # order_short_of_stock), unless another list holds it.
        order = by_number[numbers[0]]
        entry = _active_entries([order]).get(order.pk)
        if entry is None:
            order_require_move(order, OrderStatus.PICKING)
    entries = _active_entries(locked)
    problems = [(o, reason) for o in locked if (reason := _not_ready_reason(o, entries.get(o.pk)))]
    if problems:
        code = (
            FulfillmentErrorCode.ORDER_ON_PICK_LIST
            if all(r[0] == FulfillmentErrorCode.ORDER_ON_PICK_LIST for _o, r in problems)
            else FulfillmentErrorCode.ORDER_NOT_READY
        )
        raise Conflict(
            "These orders cannot go on a pick list: "
            + "; ".join(r[1] for _o, r in problems)
            + ". Nothing was created.",
            code=code,
            extra={"orders": [{"number": o.number, "code": r[0], "reason": r[1]} for o, r in problems]},
        )
    return [by_number[n] for n in numbers]


def _common_warehouse(orders: list[Order], warehouse: Warehouse | None) -> Warehouse:
    held = _held_warehouses([o.number for o in orders])
    split = {n: whs for n, whs in held.items() if len(whs) > 1}
    if split:
        names = dict(Warehouse.objects.filter(pk__in=set().union(*split.values())).values_list("pk", "code"))
        raise Conflict(
            "; ".join(
                f"Order {n} holds stock in {' and '.join(sorted(names[w] for w in whs))}" for n, whs in split.items()
            )
            + ". Pick it in one warehouse: move the stock or split the order.",
            code=FulfillmentErrorCode.SEVERAL_WAREHOUSES,
            extra={"orders": sorted(split)},
        )
    used = set().union(*held.values()) if held else set()
    if warehouse is not None:
        used.add(warehouse.pk)
    if len(used) > 1:
        names = dict(Warehouse.objects.filter(pk__in=used).values_list("pk", "code"))
        raise Conflict(
            "These orders are held in different warehouses ("
            + ", ".join(f"{o.number}: {names[next(iter(held[o.number]))]}" for o in orders if held.get(o.number))
            + "). Make one pick list per warehouse.",
            code=FulfillmentErrorCode.SEVERAL_WAREHOUSES,
            extra={"orders": [o.number for o in orders]},
        )
    if not used:
        raise InvalidInput(
            "Nothing of these orders is left in a bin; name the warehouse.",
            fields={"warehouse": ["Required when the orders hold no stock in bins."]},
        )
    return warehouse or Warehouse.objects.get(pk=next(iter(used)))


def _take_from_queue(warehouse: Warehouse | None, limit: int) -> tuple[list[Order], Warehouse]:
    """The oldest ready orders, skipping rows another picker is taking right now."""
    from fulfillment.selectors import orders_ready_to_pick

    if warehouse is None:
        first = orders_ready_to_pick().first()
        if first is None:
            raise Conflict("No order is ready to pick.", code=FulfillmentErrorCode.NOTHING_TO_PICK)
        whs = _held_warehouses([first.number]).get(first.number) or set()
        warehouse = Warehouse.objects.get(pk=min(whs)) if whs else None
        if warehouse is None:
            raise Conflict("No order is ready to pick.", code=FulfillmentErrorCode.NOTHING_TO_PICK)
    candidates = list(orders_ready_to_pick(warehouse=warehouse).values_list("pk", flat=True)[: limit * 5])
    ready: list[Order] = []
    tried: set[int] = set()
    while len(ready) < limit:
        batch = lock_free_orders(ids=candidates, exclude=tried, limit=limit - len(ready))
        if not batch:
            break
        tried.update(o.pk for o in batch)
        entries = _active_entries(batch)
        held = _held_warehouses([o.number for o in batch])
        ready += [
            o for o in batch if _not_ready_reason(o, entries.get(o.pk)) is None and held.get(o.number) == {warehouse.pk}
        ]
    if not ready:
        raise Conflict(
            f"No order is ready to pick in warehouse {warehouse.code}.",
            code=FulfillmentErrorCode.NOTHING_TO_PICK,
            extra={"warehouse": warehouse.code},
        )
    return ready, warehouse


def _build_tasks(pick_list: PickList, entries: list[PickListOrder]) -> list[PickTask]:
    """One task per order line and bin, from what is held for the orders in the list's
    warehouse right now."""
    PickTask.objects.filter(entry__in=entries, status=TaskStatus.OPEN, quantity_picked=0).delete()
    by_number = {e.order.number: e for e in entries}
    allocations = Allocation.objects.select_related("reservation", "stock").filter(
        reservation__order_number__in=by_number, stock__location__warehouse_id=pick_list.warehouse_id
    )
    return PickTask.objects.bulk_create(
        [
            PickTask(
                pick_list=pick_list,
                entry=by_number[a.reservation.order_number],
                line_id=a.reservation.line_id,
                product_id=a.reservation.product_id,
                location_id=a.stock.location_id,
                quantity=a.quantity,
            )
            for a in allocations.order_by("id")
        ]
    )


# --- starting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DroppedOrder:
    number: str
    reason: str


@dataclass(frozen=True)
class StartResult:
    pick_list: PickList
    dropped: list[DroppedOrder] = field(default_factory=list)


@transaction.atomic
def pick_list_start(*, actor: Actor, number: str, note: str = "") -> StartResult:
    """Starts an assigned pick list: its orders move to ``picking`` and the tasks are laid
    out again from what is held for them now.

    An order that was cancelled, split or lost stock since the list was made is dropped from
    it (``dropped`` says why); when none is left, the list is cancelled. Raises Forbidden
    (someone else's list), PickListTransitionNotAllowed.
    """
    pick_list = lock_pick_list(number=number)
    _require_own_or_manager(pick_list, actor)
    _require_move(pick_list, PickListStatus.PICKING)
    entries = list(pick_list.entries.select_related("order").filter(state=EntryState.QUEUED))
    orders = {o.pk: o for o in lock_orders(numbers=[e.order.number for e in entries])}
    held = _held_warehouses([e.order.number for e in entries])
    kept: list[PickListOrder] = []
    dropped: list[DroppedOrder] = []
    for entry in entries:
        order = orders[entry.order_id]
        entry.order = order
        reason = _not_ready_reason(order, None)
        if reason is None and held.get(order.number, {pick_list.warehouse_id}) != {pick_list.warehouse_id}:
            reason = ("", f"{order.number} now holds stock outside warehouse {pick_list.warehouse.code}")
        if reason is not None:
            entry.state = EntryState.REMOVED
            entry.note = f"Dropped when the list started: {reason[1]}."[:255]
            dropped.append(DroppedOrder(order.number, reason[1]))
        else:
            order_start_picking(
                actor=actor, number=order.number, note=f"pick list {pick_list.number}" + (f": {note}" if note else "")
            )
            entry.state = EntryState.PICKING
            kept.append(entry)
    PickListOrder.objects.bulk_update(entries, ["state", "note"])
    PickTask.objects.filter(entry__in=[e for e in entries if e.state == EntryState.REMOVED]).delete()
    if not kept:
        _pick_list_set_status(
            pick_list,
            PickListStatus.CANCELLED,
            reason="no order left to pick: " + "; ".join(d.reason for d in dropped),
        )
        return StartResult(pick_list, dropped)
    _build_tasks(pick_list, kept)
    _pick_list_set_status(pick_list, PickListStatus.PICKING)
    _complete_if_done(pick_list, actor)
    return StartResult(pick_list, dropped)


# --- assigning, cancelling, aborting one order -------------------------------------------------


@transaction.atomic
def pick_list_assign(*, actor: Actor, number: str, picker: User) -> PickList:
    """Gives an assigned (not started) list to another picker. Raises InvalidInput (no picker
    role), PickListTransitionNotAllowed (already started or closed)."""
    _require_picker(picker)
    pick_list = lock_pick_list(number=number)
    if pick_list.status != PickListStatus.ASSIGNED:
        raise PickListTransitionNotAllowed(
            f"Pick list {pick_list.number} is {pick_list.status}; only a list not yet started can be reassigned.",
            extra={"number": pick_list.number, "status": pick_list.status},
        )
    pick_list.picker = picker
    pick_list.save(update_fields=["picker", "updated_at"])
    return pick_list


@transaction.atomic
def pick_list_cancel(*, actor: Actor, number: str, reason: str) -> PickList:
    """Cancels a list that is assigned or being picked. Its orders in ``picking`` go back to
    ``paid`` (units already picked stay counted as picked, in their totes); orders already
    picked and waiting for packing stay as they are.

    Raises InvalidInput (no reason), Forbidden, PickListTransitionNotAllowed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the pick list is cancelled.", fields={"reason": ["This field may not be blank."]})
    pick_list = lock_pick_list(number=number)
    _require_own_or_manager(pick_list, actor)
    _require_move(pick_list, PickListStatus.CANCELLED)
    entries = list(pick_list.entries.select_related("order").filter(state__in=[EntryState.QUEUED, EntryState.PICKING]))
    lock_orders(numbers=[e.order.number for e in entries])
    for entry in entries:
        if entry.state == EntryState.PICKING:
            order_abort_picking(
                actor=actor, number=entry.order.number, note=f"pick list {pick_list.number} cancelled: {reason}"
            )
        entry.state = EntryState.REMOVED
        entry.note = f"List cancelled: {reason}"[:255]
    PickListOrder.objects.bulk_update(entries, ["state", "note"])
    pick_list.tasks.filter(status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED)
    _pick_list_set_status(pick_list, PickListStatus.CANCELLED, reason=reason)
    return pick_list


def _user(actor: Actor) -> User:
    user = get_user_model().objects.filter(pk=actor.user_id).first() if actor.user_id else None
    if user is None:
        raise Forbidden("Only a signed-in user or an API client can pick.")
    return user


@transaction.atomic
def order_pick_start(*, actor: Actor, number: str, note: str = "") -> Order:
    """Starts picking one order at once: a one-order pick list assigned to the caller,
    started (``POST /orders/{number}/start-picking/``).

    Raises what moving the order to picking raises (TransitionNotAllowed, OrderShortOfStock),
    Conflict ``order_on_pick_list`` and the errors of ``pick_list_create``.
    """
    pick_list = pick_list_create(actor=actor, picker=_user(actor), order_numbers=[number])
    result = pick_list_start(actor=actor, number=pick_list.number, note=note)
    if result.dropped:  # cannot happen under the order lock, but say so rather than pretend
        raise Conflict(result.dropped[0].reason, code=FulfillmentErrorCode.ORDER_NOT_READY)
    return Order.objects.get(number=number)


@transaction.atomic
def order_pick_abort(*, actor: Actor, number: str, note: str = "") -> Order:
    """Takes one order in ``picking`` off its pick list and back to ``paid``
    (``POST /orders/{number}/abort-picking/``). Units already picked stay counted as picked,
    in the order's tote. Raises TransitionNotAllowed when the order is not picking.
    """
    entry = (
        PickListOrder.objects.select_related("pick_list")
        .filter(order__number=number, state__in=[EntryState.PICKING, EntryState.PICKED])
        .first()
    )
    if entry is None:
        return order_abort_picking(actor=actor, number=number, note=note)
    pick_list = lock_pick_list(number=entry.pick_list.number)
    entry = PickListOrder.objects.get(pk=entry.pk)
    if entry.state not in (EntryState.PICKING, EntryState.PICKED):  # changed while we waited for the lock
        return order_abort_picking(actor=actor, number=number, note=note)
    order_abort_picking(actor=actor, number=number, note=note or f"taken off pick list {pick_list.number}")
    PickTask.objects.filter(entry=entry, status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED)
    entry.state = EntryState.REMOVED
    entry.note = (note or "picking aborted")[:255]
    entry.save(update_fields=["state", "note"])
    _complete_if_done(pick_list, actor)
    return Order.objects.get(number=number)
