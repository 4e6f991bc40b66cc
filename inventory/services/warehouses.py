"""Use cases of warehouses and their bins. Stock counters are not touched here."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from inventory.models import Location, Warehouse
from oms.common.errors import InvalidInput


def _duplicate(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]}, code="duplicate")


def _check_fields(changes: dict[str, object], allowed: set[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            "These fields cannot be changed.", fields={k: ["This field cannot be changed."] for k in sorted(unknown)}
        )


@transaction.atomic
def warehouse_create(*, code: str, name: str, is_active: bool = True) -> Warehouse:
    """Adds a warehouse. Raises InvalidInput (code ``duplicate``) if the code is taken."""
    message = f"A warehouse with code {code} already exists."
    if Warehouse.objects.filter(code=code).exists():
        raise _duplicate("code", message)
    try:
        with transaction.atomic():
            return Warehouse.objects.create(code=code, name=name, is_active=is_active)
    except IntegrityError:  # a concurrent create took the code between the check and the insert
        raise _duplicate("code", message) from None


@transaction.atomic
def warehouse_update(*, warehouse: Warehouse, **changes: object) -> Warehouse:
    """Renames a warehouse or (de)activates it. Stock in an inactive warehouse stays where it
    is but is no longer allocated to new orders."""
    _check_fields(changes, {"name", "is_active"})
    for field, value in changes.items():
        setattr(warehouse, field, value)
    if changes:
        warehouse.save(update_fields=[*changes, "updated_at"])
    return warehouse


@transaction.atomic
def location_create(*, warehouse: Warehouse, code: str, pick_sequence: int = 0, is_active: bool = True) -> Location:
    """Adds a bin. Bin codes are unique across all warehouses (a scanned code names one bin).
    Raises InvalidInput (code ``duplicate``) if the code is taken."""
    existing = Location.objects.select_related("warehouse").filter(code=code).first()
    if existing is not None:
        raise _duplicate("code", f"Location {code} already exists in warehouse {existing.warehouse.code}.")
    try:
        with transaction.atomic():
            return Location.objects.create(
                warehouse=warehouse, code=code, pick_sequence=pick_sequence, is_active=is_active
            )
    except IntegrityError:
        raise _duplicate("code", f"Location {code} already exists.") from None


@transaction.atomic
def location_update(*, location: Location, **changes: object) -> Location:
    """Changes a bin's place in the picking walk or (de)activates it. Units already allocated
    in an inactive bin stay allocated; new orders are not allocated from it."""
    _check_fields(changes, {"pick_sequence", "is_active"})
    for field, value in changes.items():
        setattr(location, field, value)
    if changes:
        location.save(update_fields=[*changes, "updated_at"])
    return location
