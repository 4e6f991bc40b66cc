"""Pick lists: creating them from the ready-to-pick queue, starting them (their orders move
to ``picking``), confirming picks by scan, short picks, aborting and cancelling.

``_pick_list_set_status`` is the only writer of ``PickList.status``. Lock order: pick list,
then orders (by id), then stock rows (``docs/architecture.md``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from fulfillment import transitions
from fulfillment.enums import (
    ACTIVE_ENTRY_STATES,
    AccuracyKind,
    EntryState,
    FulfillmentErrorCode,
    PickListStatus,
    TaskStatus,
)
from fulfillment.locks import lock_pick_list
from fulfillment.models import AccuracyEvent, PickList, PickListOrder, PickTask
from inventory.models import Allocation, CountStatus, CycleCount, Location, Product, Reservation, Warehouse
from inventory.selectors import stock_shortages
from inventory.services.counts import count_create
from inventory.services.picking import NotHeldHere, stock_pick, stock_short_pick
from oms.common.actors import Actor
from oms.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.enums import OrderStatus
from orders.locks import lock_free_orders, lock_order, lock_orders
from orders.models import Order
from orders.services import order_abort_picking, order_require_move, order_start_picking

MANAGE_PERMISSION = "fulfillment.manage_pick_lists"
PICK_PERMISSION = "fulfillment.pick"


class PickListTransitionNotAllowed(Conflict):
    code = FulfillmentErrorCode.PICK_LIST_TRANSITION_NOT_ALLOWED


# --- the one writer of PickList.status ------------------------------------------------------


def _pick_list_set_status(pick_list: PickList, to_status: str, *, reason: str = "") -> None:
    """Moves a locked pick list along ``transitions.PICK_LIST_TRANSITIONS``."""
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
    if user is not None and user.has_perm(MANAGE_PERMISSION):
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
    if not picker.is_active or not picker.has_perm(PICK_PERMISSION):
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
    if not transitions.can_move(pick_list.status, PickListStatus.PICKING):
        _pick_list_set_status(pick_list, PickListStatus.PICKING)  # raises with the reason
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


# --- picking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """A scan is answered, not raised: a refused one (``ok`` False) keeps its accuracy event."""

    ok: bool
    message: str
    task: PickTask
    code: str = ""
    list_completed: bool = False


def _open_task(pick_list: PickList, task_id: int | None) -> PickTask:
    tasks = (
        PickTask.objects.select_related("product", "location", "entry__order")
        .filter(pick_list=pick_list, status=TaskStatus.OPEN)
        .order_by("location__pick_sequence", "location__code", "entry__position", "id")
    )
    if task_id is not None:
        task = tasks.filter(pk=task_id).first()
        if task is None:
            exists = PickTask.objects.filter(pick_list=pick_list, pk=task_id).first()
            if exists is None:
                raise NotFound(f"Pick list {pick_list.number} has no task {task_id}.", code="pick_task_not_found")
            raise Conflict(
                f"Task {task_id} of pick list {pick_list.number} is already {exists.status}.",
                code=FulfillmentErrorCode.TASK_NOT_OPEN,
                extra={"task": task_id, "status": exists.status},
            )
        return task
    task = tasks.first()
    if task is None:
        raise Conflict(
            f"Pick list {pick_list.number} has nothing left to pick.", code=FulfillmentErrorCode.TASK_NOT_OPEN
        )
    return task


def _matches(product: Product, code: str) -> bool:
    code = code.strip()
    return code.lower() == product.sku.lower() or (bool(product.barcode) and code == product.barcode)


def _record(
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


@transaction.atomic
def pick_scan(*, actor: Actor, number: str, code: str, task_id: int | None = None, quantity: int = 1) -> ScanResult:
    """Confirms units of a task (the next one on the path unless ``task_id`` says which) by
    the SKU or barcode scanned: the units leave the bin through the stock ledger.

    A code that is not the task's product is refused in the result (``ok`` False) and
    recorded as a wrong scan. Raises InvalidInput (empty code, a quantity over what is
    left), Forbidden, Conflict (list not picking, task not open), NotHeldHere (the bin no
    longer holds the units for the line: report a short pick).
    """
    code = (code or "").strip()
    if not code:
        raise InvalidInput(
            "Scan the item's barcode or type its SKU.", fields={"code": ["This field may not be blank."]}
        )
    pick_list = lock_pick_list(number=number)
    _require_own_or_manager(pick_list, actor)
    _require_picking(pick_list)
    task = _open_task(pick_list, task_id)
    product = task.product
    order_number = task.entry.order.number
    if not _matches(product, code):
        scanned = Product.objects.filter(Q(sku__iexact=code) | Q(barcode=code)).first()
        what = f"{code} is {scanned.sku} ({scanned.name})" if scanned else f"{code} is not a product we know"
        _record(
            actor,
            AccuracyKind.WRONG_SCAN,
            order_number=order_number,
            pick_list=pick_list,
            sku=product.sku,
            location=task.location.code,
            expected=product.sku,
            actual=scanned.sku if scanned else code,
        )
        return ScanResult(
            ok=False,
            code=FulfillmentErrorCode.WRONG_ITEM,
            task=task,
            message=f"Wrong item: {what}. Bin {task.location.code} should give {product.sku} ({product.name}). "
            f"Put it back and scan {product.sku}.",
        )
    if not 1 <= quantity <= task.remaining:
        raise InvalidInput(
            f"{task.remaining} unit(s) of {product.sku} are left to pick here; confirm 1 to {task.remaining}.",
            fields={"quantity": [f"Must be between 1 and {task.remaining}."]},
        )
    stock_pick(actor=actor, order_number=order_number, line_id=task.line_id, location=task.location, quantity=quantity)
    task.quantity_picked += quantity
    fields = ["quantity_picked"]
    if task.remaining == 0:
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        fields += ["status", "completed_at"]
    task.save(update_fields=fields)
    completed = _complete_if_done(pick_list, actor)
    left = f"{task.remaining} more here." if task.remaining else "Done with this bin."
    return ScanResult(
        ok=True,
        task=task,
        list_completed=completed,
        message=f"{quantity} x {product.sku} into tote {task.entry.tote}. {left}"
        + (f" Pick list {pick_list.number} is complete: take the totes to packing." if completed else ""),
    )


@dataclass(frozen=True)
class ShortResult:
    task: PickTask
    count_reference: str
    new_tasks: list[PickTask]
    order_back_to_paid: bool
    message: str
    list_completed: bool = False


@transaction.atomic
def pick_short(*, actor: Actor, number: str, task_id: int, found: int) -> ShortResult:
    """The bin holds fewer units than the task asks: takes the ``found`` ones, records a
    short pick in the accuracy ledger, raises a cycle count for the bin, and re-allocates
    the missing units from other bins of the warehouse (new tasks on this list). What no
    bin can cover sends the order back to ``paid`` as short of stock, its units picked so
    far kept in its tote.

    Raises InvalidInput (``found`` not below what is left), Forbidden, Conflict.
    """
    pick_list = lock_pick_list(number=number)
    _require_own_or_manager(pick_list, actor)
    _require_picking(pick_list)
    task = _open_task(pick_list, task_id)
    if not 0 <= found < task.remaining:
        raise InvalidInput(
            f"Bin {task.location.code} should hold {task.remaining} unit(s) of {task.product.sku} for this pick; "
            f"report how many you found (0 to {task.remaining - 1}), or scan them if they are all there.",
            fields={"found": [f"Must be between 0 and {task.remaining - 1}."]},
        )
    entry = task.entry
    order_number = entry.order.number
    lock_order(number=order_number)  # before the stock rows: the order may go back to paid
    expected = task.remaining
    try:
        stock_short_pick(
            actor=actor,
            order_number=order_number,
            line_id=task.line_id,
            location=task.location,
            found=found,
            same_warehouse=True,
        )
        taken = found
    except NotHeldHere:
        # The bin's units for this line were already released (a count or adjustment found
        # them missing); nothing is left to take here.
        taken = 0
    task.quantity_picked += taken
    task.status = TaskStatus.SHORT
    task.completed_at = timezone.now()
    task.save(update_fields=["quantity_picked", "status", "completed_at"])
    count = _count_for_bin(actor, task.location, f"Short pick on {pick_list.number}: {task.product.sku}")
    _record(
        actor,
        AccuracyKind.SHORT_PICK,
        order_number=order_number,
        pick_list=pick_list,
        sku=task.product.sku,
        location=task.location.code,
        expected=str(expected),
        actual=str(found),
        note=f"cycle count {count.reference}",
    )
    new_tasks = _cover_new_allocations(pick_list, entry, task)
    reservation = Reservation.objects.get(line_id=task.line_id)
    back = reservation.quantity_short > 0
    if back:
        PickTask.objects.filter(entry=entry, status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED)
        entry.state = EntryState.SHORT
        entry.note = f"{task.product.sku}: {reservation.quantity_short} unit(s) missing after a short pick"
        entry.save(update_fields=["state", "note"])
        order_abort_picking(
            actor=actor,
            number=order_number,
            note=f"Short of stock: {task.product.sku} {reservation.quantity_short} of {reservation.quantity} "
            f"missing after a short pick in bin {task.location.code} on {pick_list.number}; waits for stock.",
        )
    completed = _complete_if_done(pick_list, actor)
    if back:
        message = (
            f"Short pick recorded; bin {task.location.code} will be counted ({count.reference}). "
            f"No other bin has {task.product.sku}: order {order_number} goes back to the queue. "
            f"Set tote {entry.tote} aside."
        )
    elif new_tasks:
        bins = ", ".join(t.location.code for t in new_tasks)
        message = (
            f"Short pick recorded; bin {task.location.code} will be counted ({count.reference}). "
            f"Pick the missing {task.product.sku} from {bins}."
        )
    else:
        message = f"Short pick recorded; bin {task.location.code} will be counted ({count.reference})."
    return ShortResult(
        task=task,
        count_reference=count.reference,
        new_tasks=new_tasks,
        order_back_to_paid=back,
        message=message,
        list_completed=completed,
    )


def _count_for_bin(actor: Actor, location: Location, note: str) -> CycleCount:
    """An open count of the bin if there is one, else a new one."""
    existing = CycleCount.objects.filter(status=CountStatus.OPEN, locations=location).order_by("id").first()
    return existing or count_create(actor=actor, locations=[location], note=note[:255])


def _cover_new_allocations(pick_list: PickList, entry: PickListOrder, task: PickTask) -> list[PickTask]:
    """New tasks for units of the line now held in bins of this warehouse that no open
    task covers (the re-allocation after a short pick)."""
    held: dict[int, int] = defaultdict(int)
    for a in Allocation.objects.filter(
        reservation__line_id=task.line_id, stock__location__warehouse_id=pick_list.warehouse_id
    ).select_related("stock"):
        held[a.stock.location_id] += a.quantity
    for t in PickTask.objects.filter(entry=entry, line_id=task.line_id, status=TaskStatus.OPEN):
        held[t.location_id] -= t.remaining
    created = PickTask.objects.bulk_create(
        [
            PickTask(
                pick_list=pick_list,
                entry=entry,
                line_id=task.line_id,
                product_id=task.product_id,
                location_id=location_id,
                quantity=units,
            )
            for location_id, units in sorted(held.items())
            if units > 0
        ]
    )
    return list(PickTask.objects.select_related("location").filter(pk__in=[t.pk for t in created]))


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
    if not transitions.can_move(pick_list.status, PickListStatus.CANCELLED):
        _pick_list_set_status(pick_list, PickListStatus.CANCELLED, reason=reason)  # raises with the reason
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
