"""At the bins: confirming picks by scan and reporting short bins."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fulfillment.enums import (
    AccuracyKind,
    EntryState,
    FulfillmentErrorCode,
    TaskStatus,
)
from fulfillment.locks import lock_pick_list
from fulfillment.models import PickList, PickListOrder, PickTask
from fulfillment.services.picking.state import (
    _complete_if_done,
    _require_own_or_manager,
    _require_picking,
    record_accuracy,
)
from inventory.models import Allocation, CountStatus, CycleCount, Location, Reservation
from inventory.selectors import product_by_scan, scan_matches
from inventory.services.counts import count_create
from inventory.services.picking import NotHeldHere, stock_pick, stock_short_pick
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput, NotFound
from orders.locks import lock_order
from orders.services import order_abort_picking

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
    if not scan_matches(product, code):
        scanned = product_by_scan(code)
        what = f"{code} is {scanned.sku} ({scanned.name})" if scanned else f"{code} is not a product we know"
        record_accuracy(
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
    record_accuracy(
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
