"""Stock counters, reservations and the ledger. Every change of ``on_hand`` or ``allocated``
is written here, together with its ``StockMovement`` row, after ``lock_stock_of_products``.

Callers run these inside their own transaction where the change belongs to a larger use
case (placing an order allocates inside the order's transaction); each function is also
atomic on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F

from inventory.locks import lock_stock_of_products
from inventory.models import (
    AdjustmentReason,
    Allocation,
    Location,
    MovementKind,
    Product,
    Reservation,
    StockLevel,
    StockMovement,
)
from inventory.services import alerts
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput
from oms.common.inserts import insert_rows


class StockShort(Conflict):
    """Some lines cannot be covered by available stock; ``extra["lines"]`` says which."""

    code = "insufficient_stock"


@dataclass(frozen=True)
class DemandLine:
    """One order line asking for stock."""

    line_id: int
    product_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReceiptLine:
    product: Product
    location: Location
    quantity: int


class _Ledger:
    """Collects counter changes and ledger rows, then writes them in a few statements."""

    def __init__(self, actor: Actor, *, order_number: str = "", reference: str = "") -> None:
        self.actor = actor
        self.order_number = order_number
        self.reference = reference
        self.rows: list[StockMovement] = []
        self.deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # stock id -> [on_hand, allocated]

    def move(
        self,
        stock: StockLevel,
        kind: str,
        *,
        on_hand: int = 0,
        allocated: int = 0,
        reason: str = "",
        note: str = "",
        order_number: str | None = None,
    ) -> None:
        stock.on_hand += on_hand
        stock.allocated += allocated
        self.deltas[stock.pk][0] += on_hand
        self.deltas[stock.pk][1] += allocated
        self.rows.append(
            StockMovement(
                product_id=stock.product_id,
                location_id=stock.location_id,
                kind=kind,
                on_hand_delta=on_hand,
                allocated_delta=allocated,
                reason=reason,
                note=note[:255],
                order_number=self.order_number if order_number is None else order_number,
                reference=self.reference,
                actor_kind=self.actor.kind,
                actor_label=self.actor.label,
            )
        )

    def flush(self) -> None:
        changes = [
            (pk, on_hand, allocated) for pk, (on_hand, allocated) in sorted(self.deltas.items()) if on_hand or allocated
        ]
        _add_to_counters(changes)
        insert_rows(self.rows)
        self.deltas.clear()
        self.rows = []


def _add_to_counters(changes: list[tuple[int, int, int]]) -> None:
    """Adds (stock id, on hand, allocated) deltas to the counters. The database adds to the
    value it holds, and its constraints have the last word (allocated <= on_hand, both >= 0).
    The rows are locked already (``lock_stock_of_products``), so on PostgreSQL one
    ``UPDATE ... FROM (VALUES ...)`` changes them all without taking a lock out of order."""
    if not changes:
        return
    if connection.vendor != "postgresql" or len(changes) == 1:
        for stock_id, on_hand, allocated in changes:
            StockLevel.objects.filter(pk=stock_id).update(
                on_hand=F("on_hand") + on_hand, allocated=F("allocated") + allocated
            )
        return
    values = ", ".join(["(%s::bigint, %s::integer, %s::integer)"] * len(changes))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {StockLevel._meta.db_table} AS s "  # noqa: S608  (table name from the model, values bound)
            "SET on_hand = s.on_hand + d.on_hand, allocated = s.allocated + d.allocated "
            f"FROM (VALUES {values}) AS d (id, on_hand, allocated) WHERE s.id = d.id",
            [value for change in changes for value in change],
        )


def _usable(stocks: Iterable[StockLevel]) -> list[StockLevel]:
    """Stock rows that may be allocated from: active bins in active warehouses, in pick order."""
    return sorted(
        (s for s in stocks if s.location.is_active and s.location.warehouse.is_active),
        key=lambda s: (s.location.pick_sequence, s.location.code),
    )


def _warehouse_order(needs: dict[int, int], stocks: list[StockLevel]) -> list[int]:
    """Warehouses to draw from: first those that can ship every line alone, then those that
    can cover the most lines, then by id."""
    available: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for s in stocks:
        available[s.location.warehouse_id][s.product_id] += s.available
    covered = {
        wh: sum(1 for product, need in needs.items() if per_product[product] >= need)
        for wh, per_product in available.items()
    }
    return sorted(covered, key=lambda wh: (-covered[wh], wh))


def _allocate(
    reservations: list[Reservation], stocks: list[StockLevel], ledger: _Ledger, *, by_order: bool
) -> list[Allocation]:
    """Allocates what it can to each reservation, in list order, from the locked ``stocks``.

    ``by_order`` ranks warehouses for the reservations as one shipment (placing an order);
    otherwise bins are taken in pick order wherever they are (serving backorders).
    """
    usable = _usable(stocks)
    if by_order:
        needs: dict[int, int] = defaultdict(int)
        for r in reservations:
            needs[r.product_id] += r.quantity_short
        rank = {wh: i for i, wh in enumerate(_warehouse_order(needs, usable))}
        usable.sort(key=lambda s: rank.get(s.location.warehouse_id, len(rank)))
    by_product: dict[int, list[StockLevel]] = defaultdict(list)
    for s in usable:
        by_product[s.product_id].append(s)

    allocations: dict[tuple[int, int], Allocation] = {}
    for r in reservations:
        for stock in by_product[r.product_id]:
            if r.quantity_short == 0:
                break
            take = min(stock.available, r.quantity_short)
            if take <= 0:
                continue
            ledger.move(stock, MovementKind.ALLOCATION, allocated=take, order_number=r.order_number)
            r.quantity_allocated += take
            key = (id(r), stock.pk)  # the reservation may not be saved yet
            if key in allocations:
                allocations[key].quantity += take
            else:
                allocations[key] = Allocation(reservation=r, stock=stock, quantity=take)
    return list(allocations.values())


def _save_allocations(allocations: list[Allocation]) -> None:
    if not allocations:
        return
    existing = {
        (a.reservation_id, a.stock_id): a
        for a in Allocation.objects.filter(
            reservation_id__in={a.reservation.pk for a in allocations}, stock_id__in={a.stock.pk for a in allocations}
        )
    }
    new = []
    for a in allocations:
        old = existing.get((a.reservation.pk, a.stock.pk))
        if old is None:
            new.append(a)
        else:
            Allocation.objects.filter(pk=old.pk).update(quantity=F("quantity") + a.quantity)
    insert_rows(new)


def stock_reserve_order(
    *,
    actor: Actor,
    order_number: str,
    lines: list[DemandLine],
    allow_backorder: bool,
    priority_at: datetime | None = None,
) -> list[Reservation]:
    """Reserves stock for a new order's lines and allocates every line at once: one
    warehouse that can ship the whole order if there is one, bins in pick order.

    With ``allow_backorder`` False, raises StockShort naming every short line with what is
    available; nothing is written then. With True, what cannot be allocated waits as a
    backorder until stock is received.
    """
    # Atomic without a savepoint of its own: the allocation is planned in memory before
    # anything is written, so a short order raises (below, outside the block) having written
    # nothing, and a failing statement would abort the caller's transaction in any case.
    with transaction.atomic(savepoint=False):
        stocks = lock_stock_of_products(line.product_id for line in lines)
        available_before = {line.product_id: _available(_usable(stocks), line.product_id) for line in lines}
        reservations = [
            Reservation(
                order_number=order_number,
                line_id=line.line_id,
                product_id=line.product_id,
                quantity=line.quantity,
                priority_at=priority_at,
            )
            for line in lines
        ]
        ledger = _Ledger(actor, order_number=order_number)
        allocations = _allocate(reservations, stocks, ledger, by_order=True)
        short = [line for line, r in zip(lines, reservations, strict=True) if r.quantity_short]
        if not short or allow_backorder:
            # Saved with what they were allocated; the allocations are new, as the reservations are.
            insert_rows(reservations)
            ledger.flush()
            insert_rows(allocations)
            alerts.check_reorder_points([line.product_id for line in lines], stocks)
            return reservations
    raise StockShort(
        "Not enough stock for: "
        + "; ".join(
            f"{line.sku} (ordered {line.quantity}, available {available_before[line.product_id]})" for line in short
        )
        + ". Order less, or send allow_backorder true to accept the order and wait for stock.",
        extra={
            "lines": [
                {"sku": line.sku, "requested": line.quantity, "available": available_before[line.product_id]}
                for line in short
            ]
        },
    )


def _available(stocks: list[StockLevel], product_id: int) -> int:
    return sum(s.available for s in stocks if s.product_id == product_id)


@transaction.atomic
def stock_release_order(*, actor: Actor, order_number: str, reason: str, serve_waiting: bool = True) -> int:
    """Releases everything held for an order and removes its demand (cancelled or expired
    orders); units already picked for it go back to their bins. Returns the number of units
    released from allocations.

    The freed units go to orders waiting for them, unless ``serve_waiting`` is False: an order
    being edited releases its units only to reserve them again in the same transaction."""
    reservations = list(Reservation.objects.filter(order_number=order_number))
    if not reservations:
        return 0
    stocks = lock_stock_of_products(r.product_id for r in reservations)
    by_id = {s.pk: s for s in stocks}
    ledger = _Ledger(actor, order_number=order_number)
    released = 0
    for allocation in Allocation.objects.filter(reservation__order_number=order_number).order_by("id"):
        ledger.move(by_id[allocation.stock_id], MovementKind.RELEASE, allocated=-allocation.quantity, note=reason)
        released += allocation.quantity
    _put_back_picked(order_number, [r for r in reservations if r.quantity_picked], by_id, ledger)
    ledger.flush()
    Reservation.objects.filter(order_number=order_number).delete()  # allocations cascade
    if serve_waiting:  # the freed units go to orders waiting for them, by payment time
        _allocate_waiting(stocks, _Ledger(actor))
    alerts.check_reorder_points({r.product_id for r in reservations}, stocks)
    return released


def _put_back_picked(
    order_number: str, picked: list[Reservation], stocks: dict[int, StockLevel], ledger: _Ledger
) -> None:
    """Units already picked for an order that is dropped go back to the bins they came from
    (newest picks first), as a ``return`` movement: the tote is emptied back onto the shelf."""
    if not picked:
        return
    by_location = {(s.product_id, s.location_id): s for s in stocks.values()}
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for product_id, location_id, delta in (
        StockMovement.objects.filter(
            order_number=order_number,
            product_id__in=[r.product_id for r in picked],
            kind__in=[MovementKind.PICK, MovementKind.RETURN],
        )
        .order_by("-id")
        .values_list("product_id", "location_id", "on_hand_delta")
    ):
        taken[(product_id, location_id)] -= delta
    for reservation in picked:
        units = reservation.quantity_picked
        for (product_id, location_id), count in taken.items():
            if product_id != reservation.product_id or count <= 0 or units == 0:
                continue
            back = min(units, count)
            ledger.move(
                by_location[(product_id, location_id)],
                MovementKind.RETURN,
                on_hand=back,
                note="put back from the tote: the order was dropped after picking",
            )
            units -= back


@transaction.atomic
def reservations_prioritize(*, order_number: str, paid_at: datetime) -> None:
    """Backorders are served by payment time: stamp it on the order's reservations.

    Takes the stock locks of the order's SKUs first, like every writer of reservations, so a
    payment cannot deadlock with a receipt or cancellation serving the same reservations.
    """
    product_ids = set(
        Reservation.objects.filter(order_number=order_number, priority_at__isnull=True).values_list(
            "product_id", flat=True
        )
    )
    if not product_ids:
        return
    lock_stock_of_products(product_ids)
    Reservation.objects.filter(order_number=order_number, priority_at__isnull=True).update(priority_at=paid_at)


def _ensure_stock_rows(pairs: Iterable[tuple[int, int]]) -> None:
    StockLevel.objects.bulk_create(
        [StockLevel(product_id=p, location_id=loc) for p, loc in set(pairs)], ignore_conflicts=True
    )


@transaction.atomic
def stock_serve_waiting(*, actor: Actor, product_ids: Iterable[int]) -> None:
    """Gives free units of the products to the reservations waiting for them (paid first, by
    payment time): what ``stock_release_order(serve_waiting=False)`` left for its caller to
    do once it has reserved what it needs."""
    stocks = lock_stock_of_products(product_ids)
    if stocks:
        _allocate_waiting(stocks, _Ledger(actor))


def _allocate_waiting(stocks: list[StockLevel], ledger: _Ledger) -> None:
    """Serves waiting reservations of the locked stocks' products: paid first by payment
    time, then unpaid by age."""
    product_ids = {s.product_id for s in stocks}
    waiting = list(
        Reservation.objects.filter(product_id__in=product_ids, quantity_allocated__lt=F("quantity")).order_by(
            F("priority_at").asc(nulls_last=True), "id"
        )
    )
    if not waiting:
        return
    allocations = _allocate(waiting, stocks, ledger, by_order=False)
    ledger.flush()
    _save_allocations(allocations)
    Reservation.objects.bulk_update(waiting, ["quantity_allocated"])


@transaction.atomic
def stock_receive(*, actor: Actor, reference: str, lines: list[ReceiptLine]) -> list[StockMovement]:
    """Books an inbound receipt into bins, then allocates waiting backorders first come,
    first served by payment time, in the same transaction.

    Raises InvalidInput for a non-positive quantity or an inactive bin.
    """
    return _book_into_bins(actor=actor, reference=reference, lines=lines, kind=MovementKind.RECEIPT)


@transaction.atomic
def stock_restock_return(
    *, actor: Actor, order_number: str, reference: str, lines: list[ReceiptLine]
) -> list[StockMovement]:
    """Puts units a customer sent back (order ``order_number``, return ``reference``) into
    bins as ``return`` movements of the ledger, then serves waiting backorders like a
    receipt. Raises InvalidInput for a non-positive quantity or an inactive bin."""
    return _book_into_bins(
        actor=actor, reference=reference, lines=lines, kind=MovementKind.RETURN, order_number=order_number
    )


def _book_into_bins(
    *, actor: Actor, reference: str, lines: list[ReceiptLine], kind: str, order_number: str = ""
) -> list[StockMovement]:
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        if line.quantity <= 0:
            errors[f"lines.{i}.quantity"] = ["Receive a positive quantity."]
        if not line.location.is_active:
            errors[f"lines.{i}.location"] = [f"Location {line.location.code} is not active."]
    if errors:
        raise InvalidInput("The receipt has lines that cannot be booked.", fields=errors)
    _ensure_stock_rows((line.product.pk, line.location.pk) for line in lines)
    stocks = lock_stock_of_products(line.product.pk for line in lines)
    index = {(s.product_id, s.location_id): s for s in stocks}
    ledger = _Ledger(actor, reference=reference, order_number=order_number)
    for line in lines:
        ledger.move(index[(line.product.pk, line.location.pk)], kind, on_hand=line.quantity)
    receipt_rows = list(ledger.rows)
    ledger.flush()
    _allocate_waiting(stocks, ledger)
    alerts.check_reorder_points({line.product.pk for line in lines}, stocks)
    return receipt_rows


def _release_newest(stock: StockLevel, units: int, ledger: _Ledger, note: str) -> None:
    """Takes ``units`` of allocation off a bin, newest allocations first; their orders become
    short of stock (visibly) and wait for the next receipt."""
    for allocation in (
        Allocation.objects.select_related("reservation").filter(stock_id=stock.pk).order_by("-created_at", "-id")
    ):
        if units <= 0:
            break
        take = min(allocation.quantity, units)
        units -= take
        ledger.move(
            stock,
            MovementKind.RELEASE,
            allocated=-take,
            note=note,
            order_number=allocation.reservation.order_number,
        )
        Reservation.objects.filter(pk=allocation.reservation_id).update(
            quantity_allocated=F("quantity_allocated") - take
        )
        if take == allocation.quantity:
            allocation.delete()
        else:
            Allocation.objects.filter(pk=allocation.pk).update(quantity=F("quantity") - take)


@transaction.atomic
def stock_adjust(
    *,
    actor: Actor,
    product: Product,
    location: Location,
    delta: int | None = None,
    on_hand: int | None = None,
    reason: str,
    note: str = "",
    kind: str = MovementKind.ADJUSTMENT,
    reference: str = "",
) -> StockLevel:
    """Changes on hand by ``delta``, or sets it to ``on_hand``, recorded with a reason.

    Taking on hand below what is allocated releases the newest allocations in that bin
    first, so the invariants hold and the orders concerned show as short of stock.
    Raises InvalidInput for an unknown reason, a result below zero, or both/neither of
    ``delta`` and ``on_hand``.
    """
    if (delta is None) == (on_hand is None):
        raise InvalidInput("Give either a change or a new quantity.", fields={"on_hand": ["Give exactly one."]})
    if reason not in AdjustmentReason.values:
        raise InvalidInput(
            f"Unknown reason {reason!r}; use one of: {', '.join(AdjustmentReason.values)}.",
            fields={"reason": [f"Use one of: {', '.join(AdjustmentReason.values)}."]},
        )
    _ensure_stock_rows([(product.pk, location.pk)])
    stocks = lock_stock_of_products([product.pk])
    stock = next(s for s in stocks if s.location_id == location.pk)
    change = delta if delta is not None else int(on_hand or 0) - stock.on_hand
    target = stock.on_hand + change
    if target < 0:
        raise InvalidInput(
            f"{product.sku} at {location.code} has {stock.on_hand} on hand; it cannot go down by {-change}.",
            fields={"on_hand" if on_hand is not None else "delta": ["The result would be below zero."]},
        )
    ledger = _Ledger(actor, reference=reference)
    if target < stock.allocated:
        _release_newest(stock, stock.allocated - target, ledger, note=f"stock {reason}: released to keep counts true")
    if change:
        ledger.move(stock, kind, on_hand=change, reason=reason, note=note)
    ledger.flush()
    if change > 0:
        _allocate_waiting(stocks, ledger)
    alerts.check_reorder_points([product.pk], stocks)
    stock.refresh_from_db()
    return stock


@dataclass(frozen=True)
class SplitPart:
    """Allocated units of one order line that move to a new order line."""

    line_id: int
    new_line_id: int
    quantity: int


@transaction.atomic
def reservations_split(*, from_order: str, to_order: str, parts: list[SplitPart]) -> None:
    """Moves allocated units of an order's lines to the lines of a new order (an order split).

    Counters do not change: the same units stay held in the same bins, for the new order.
    A line moved whole keeps its reservation; a partly allocated line leaves its short
    units waiting under the old order. Raises InvalidInput when a part asks for more than
    is allocated.
    """
    reservations = {r.line_id: r for r in Reservation.objects.filter(order_number=from_order)}
    lock_stock_of_products(r.product_id for r in reservations.values())
    for part in parts:
        reservation = reservations.get(part.line_id)
        if reservation is None or part.quantity != reservation.quantity_allocated or part.quantity <= 0:
            raise InvalidInput(
                "Only the allocated units of a line can be split off.",
                fields={"lines": [f"Line {part.line_id} has no {part.quantity} allocated units to move."]},
            )
        if reservation.quantity == part.quantity:
            Reservation.objects.filter(pk=reservation.pk).update(order_number=to_order, line_id=part.new_line_id)
            continue
        moved = Reservation.objects.create(
            order_number=to_order,
            line_id=part.new_line_id,
            product_id=reservation.product_id,
            quantity=part.quantity,
            quantity_allocated=part.quantity,
            priority_at=reservation.priority_at,
        )
        Allocation.objects.filter(reservation=reservation).update(reservation=moved)
        Reservation.objects.filter(pk=reservation.pk).update(
            quantity=F("quantity") - part.quantity, quantity_allocated=0
        )
