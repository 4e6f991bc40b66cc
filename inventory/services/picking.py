"""Units leaving bins for orders: confirmed picks and short picks, through the ledger and
under the same stock locks as every other stock change (``inventory.services.stock``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from inventory.locks import lock_stock_of_products
from inventory.models import Allocation, Location, MovementKind, Reservation, StockLevel
from inventory.services import alerts
from inventory.services.stock import _allocate, _Ledger, _save_allocations
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput


class NotHeldHere(Conflict):
    code = "not_held_in_bin"


def _held_in_bin(order_number: str, line_id: int, location: Location) -> tuple[Reservation, Allocation]:
    reservation = Reservation.objects.filter(order_number=order_number, line_id=line_id).first()
    allocation = (
        Allocation.objects.select_related("stock").filter(reservation=reservation, stock__location=location).first()
        if reservation
        else None
    )
    if reservation is None or allocation is None:
        raise NotHeldHere(
            f"Nothing is held in bin {location.code} for this line of order {order_number}.",
            extra={"order_number": order_number, "line_id": line_id, "location": location.code},
        )
    return reservation, allocation


def _take_picked(
    ledger: _Ledger, stock: StockLevel, reservation: Reservation, allocation: Allocation, units: int
) -> None:
    """Units leave the bin: on hand and allocated both drop, the allocation shrinks and the
    reservation counts them as picked."""
    ledger.move(stock, MovementKind.PICK, on_hand=-units, allocated=-units, order_number=reservation.order_number)
    reservation.quantity_picked += units
    allocation.quantity -= units


@transaction.atomic
def stock_pick(*, actor: Actor, order_number: str, line_id: int, location: Location, quantity: int) -> Reservation:
    """Records units of an order line taken out of a bin (a confirmed pick).

    Raises InvalidInput for a non-positive quantity, NotHeldHere (409) when the bin holds
    fewer units for the line than that.
    """
    if quantity <= 0:
        raise InvalidInput("Pick at least one unit.", fields={"quantity": ["Must be 1 or more."]})
    reservation, allocation = _held_in_bin(order_number, line_id, location)
    stocks = lock_stock_of_products([reservation.product_id])
    reservation, allocation = _held_in_bin(order_number, line_id, location)  # re-read under the lock
    if allocation.quantity < quantity:
        raise NotHeldHere(
            f"Only {allocation.quantity} unit(s) are held in bin {location.code} for this line; "
            f"{quantity} cannot be picked there.",
            extra={"held": allocation.quantity, "requested": quantity, "location": location.code},
        )
    stock = next(s for s in stocks if s.pk == allocation.stock_id)
    ledger = _Ledger(actor, order_number=order_number)
    _take_picked(ledger, stock, reservation, allocation, quantity)
    ledger.flush()
    _save_picked(reservation, allocation)
    return reservation


def _save_picked(reservation: Reservation, allocation: Allocation) -> None:
    Reservation.objects.filter(pk=reservation.pk).update(
        quantity_picked=reservation.quantity_picked, quantity_allocated=reservation.quantity_allocated
    )
    if allocation.quantity:
        Allocation.objects.filter(pk=allocation.pk).update(quantity=allocation.quantity)
    else:
        Allocation.objects.filter(pk=allocation.pk).delete()


@dataclass(frozen=True)
class ShortPickResult:
    picked: int  # units found and taken from the bin
    reallocated: list[Allocation]  # where the missing units are held now (other bins)
    still_short: int  # units nothing could cover: the line waits for stock


@transaction.atomic
def stock_short_pick(
    *, actor: Actor, order_number: str, line_id: int, location: Location, found: int, same_warehouse: bool = False
) -> ShortPickResult:
    """The bin held fewer units than allocated: takes the ``found`` ones, releases the rest
    of that bin's allocation, and allocates the missing units from other bins where it can
    (with ``same_warehouse``, only bins of the short bin's warehouse: a picker walking a pick
    list can fetch them on the same round).

    The bin itself is not trusted again until counted; the caller raises the count.
    Raises InvalidInput when ``found`` is negative or not below what the bin should hold.
    """
    reservation, allocation = _held_in_bin(order_number, line_id, location)
    stocks = lock_stock_of_products([reservation.product_id])
    reservation, allocation = _held_in_bin(order_number, line_id, location)
    if found < 0 or found >= allocation.quantity:
        raise InvalidInput(
            f"A short pick finds fewer than the {allocation.quantity} unit(s) expected in bin {location.code}; "
            "if they are all there, confirm the pick instead.",
            fields={"found": [f"Must be between 0 and {allocation.quantity - 1}."]},
        )
    stock = next(s for s in stocks if s.pk == allocation.stock_id)
    ledger = _Ledger(actor, order_number=order_number)
    if found:
        _take_picked(ledger, stock, reservation, allocation, found)
    missing = allocation.quantity
    ledger.move(stock, MovementKind.RELEASE, allocated=-missing, note=f"short pick in {location.code}")
    reservation.quantity_allocated -= missing
    allocation.quantity = 0
    ledger.flush()
    _save_picked(reservation, allocation)
    others = [
        s
        for s in stocks
        if s.pk != stock.pk and (not same_warehouse or s.location.warehouse_id == location.warehouse_id)
    ]
    moved = _allocate([reservation], others, ledger, by_order=False)
    ledger.flush()
    _save_allocations(moved)
    Reservation.objects.filter(pk=reservation.pk).update(quantity_allocated=reservation.quantity_allocated)
    alerts.check_reorder_points([reservation.product_id], stocks)
    return ShortPickResult(picked=found, reallocated=moved, still_short=reservation.quantity_short)
