"""Cycle counts: a count task over some bins, blind entry, a manager's approval.

How counts and orders live together: a count compares the units physically in a bin with
``on_hand``. Allocating an order only moves ``allocated`` (the units stay in the bin), so
orders may allocate while a count is open without disturbing it. Each entry records the
``on_hand`` at the moment it was entered (``expected``), and approval applies the variance
``counted - expected`` as a change to the current ``on_hand``, so units picked between entry
and approval are not counted twice. If the correction takes ``on_hand`` below what is
allocated, the newest allocations in that bin are released (``stock_adjust``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inventory.locks import lock_count as _lock_count
from inventory.models import (
    AdjustmentReason,
    CountStatus,
    CycleCount,
    CycleCountEntry,
    Location,
    MovementKind,
    Product,
    StockLevel,
)
from inventory.services.stock import stock_adjust
from inventory.transitions import COUNT_TRANSITIONS
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput


class CountTransitionNotAllowed(Conflict):
    code = "count_transition_not_allowed"


def _count_set_status(count: CycleCount, to_status: str, actor: Actor) -> CycleCount:
    if to_status not in COUNT_TRANSITIONS[count.status]:
        allowed = sorted(COUNT_TRANSITIONS[count.status])
        raise CountTransitionNotAllowed(
            f"Count {count.reference} is {count.status} and cannot become {to_status}.",
            extra={"status": count.status, "requested": to_status, "allowed": allowed},
        )
    count.status = to_status
    fields = ["status", "updated_at"]
    if to_status == CountStatus.SUBMITTED:
        count.submitted_at = timezone.now()
        fields.append("submitted_at")
    elif to_status in (CountStatus.APPROVED, CountStatus.REJECTED):
        count.decided_at = timezone.now()
        count.decided_by = actor.label
        fields += ["decided_at", "decided_by"]
    count.save(update_fields=fields)
    return count


@transaction.atomic
def count_create(*, actor: Actor, locations: list[Location], note: str = "") -> CycleCount:
    """Opens a count task for the bins. Raises InvalidInput for no bins or inactive bins."""
    if not locations:
        raise InvalidInput("Name at least one bin to count.", fields={"locations": ["Give at least one location."]})
    inactive = [loc.code for loc in locations if not loc.is_active]
    if inactive:
        raise InvalidInput(
            f"These bins are not active: {', '.join(inactive)}.",
            fields={"locations": [f"Location {code} is not active." for code in inactive]},
        )
    count = CycleCount.objects.create(reference=f"pending-{uuid.uuid4().hex[:24]}", note=note, created_by=actor.label)
    count.reference = f"CC-{count.pk:06d}"
    count.save(update_fields=["reference"])
    count.locations.set(locations)
    return count


@transaction.atomic
def count_enter(*, actor: Actor, reference: str, location: Location, product: Product, counted: int) -> CycleCountEntry:
    """Records what the counter found in a bin (again, to correct it). Blind: the answer
    does not include what the system expected.

    Raises Conflict when the count is not open, InvalidInput for a bin outside the count or a
    negative quantity.
    """
    count = _lock_count(reference)
    if count.status != CountStatus.OPEN:
        raise CountTransitionNotAllowed(
            f"Count {reference} is {count.status}; entries can be made only while it is open.",
            extra={"status": count.status},
        )
    if counted < 0:
        raise InvalidInput("A count cannot be negative.", fields={"counted": ["Enter 0 or more."]})
    if not count.locations.filter(pk=location.pk).exists():
        raise InvalidInput(
            f"Bin {location.code} is not part of count {reference}.",
            fields={"location": [f"Not in count {reference}."]},
        )
    stock = StockLevel.objects.filter(product=product, location=location).first()
    entry, _ = CycleCountEntry.objects.update_or_create(
        count=count,
        location=location,
        product=product,
        defaults={"counted": counted, "expected": stock.on_hand if stock else 0, "counted_by": actor.label},
    )
    return entry


@dataclass(frozen=True)
class MissingEntry:
    location: str
    sku: str


def count_missing_entries(count: CycleCount) -> list[MissingEntry]:
    """SKUs the system holds in the count's bins that nobody has counted yet."""
    entered = set(count.entries.values_list("location_id", "product_id"))
    return [
        MissingEntry(location=s.location.code, sku=s.product.sku)
        for s in StockLevel.objects.select_related("location", "product")
        .filter(location__in=count.locations.all(), on_hand__gt=0)
        .order_by("location__pick_sequence", "location__code", "product__sku")
        if (s.location_id, s.product_id) not in entered
    ]


@transaction.atomic
def count_submit(*, actor: Actor, reference: str) -> CycleCount:
    """Hands the count to a manager. Refused (409 count_incomplete) while a SKU the system
    holds in one of its bins has no entry: enter 0 for what is not there."""
    count = _lock_count(reference)
    if count.status == CountStatus.OPEN:
        missing = count_missing_entries(count)
        if missing:
            raise Conflict(
                f"Count {reference} is missing entries for: "
                + ", ".join(f"{m.sku} in {m.location}" for m in missing)
                + ". Enter what you find there, 0 if nothing.",
                code="count_incomplete",
                extra={"missing": [{"location": m.location, "sku": m.sku} for m in missing]},
            )
    return _count_set_status(count, CountStatus.SUBMITTED, actor)


@transaction.atomic
def count_approve(*, actor: Actor, reference: str) -> CycleCount:
    """Applies every variance as a count adjustment (see the module docstring) and closes
    the count. A correction larger than what is left in the bin takes it to zero."""
    count = _lock_count(reference)
    _count_set_status(count, CountStatus.APPROVED, actor)
    for entry in count.entries.select_related("product", "location").order_by("id"):
        if entry.variance == 0:
            continue
        current = StockLevel.objects.filter(product=entry.product, location=entry.location).first()
        on_hand = current.on_hand if current else 0
        delta = max(entry.variance, -on_hand)
        if delta:
            stock_adjust(
                actor=actor,
                product=entry.product,
                location=entry.location,
                delta=delta,
                reason=AdjustmentReason.COUNT,
                kind=MovementKind.COUNT,
                reference=count.reference,
                note=f"counted {entry.counted}, expected {entry.expected}",
            )
    return count


@transaction.atomic
def count_reject(*, actor: Actor, reference: str) -> CycleCount:
    """Closes a submitted count without changing stock."""
    return _count_set_status(_lock_count(reference), CountStatus.REJECTED, actor)


@transaction.atomic
def count_reopen(*, actor: Actor, reference: str) -> CycleCount:
    """Sends a submitted count back to the counters for a recount."""
    return _count_set_status(_lock_count(reference), CountStatus.OPEN, actor)
