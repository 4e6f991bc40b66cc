"""Package types: the boxes and mailers the packers choose from, with their size and tare.

A type in use is never deleted (packages point at it); it is deactivated, which takes it off
the packers' list while the packages made with it keep their tare.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from fulfillment.models import PackageType
from oms.common.errors import InvalidInput

CHANGEABLE = frozenset({"name", "length_mm", "width_mm", "height_mm", "tare_grams", "is_active"})


def _duplicate(code: str) -> InvalidInput:
    message = f"A package type with code {code} already exists; choose another code or change that one."
    return InvalidInput(message, fields={"code": [message]}, code="duplicate")


@transaction.atomic
def package_type_create(
    *,
    code: str,
    name: str,
    length_mm: int,
    width_mm: int,
    height_mm: int,
    tare_grams: int,
    is_active: bool = True,
) -> PackageType:
    """Adds a package type. Raises InvalidInput (code ``duplicate``) when the code is taken,
    whatever its letter case (packers type it)."""
    if PackageType.objects.filter(code__iexact=code).exists():
        raise _duplicate(code)
    try:
        with transaction.atomic():
            return PackageType.objects.create(
                code=code,
                name=name,
                length_mm=length_mm,
                width_mm=width_mm,
                height_mm=height_mm,
                tare_grams=tare_grams,
                is_active=is_active,
            )
    except IntegrityError:  # a concurrent create took the code between the check and the insert
        raise _duplicate(code) from None


@transaction.atomic
def package_type_update(*, package_type: PackageType, **changes: object) -> PackageType:
    """Changes a package type's name, size, tare or whether packers may choose it. The code
    stays. Packages already closed keep the expected weight computed when they were weighed.
    Raises InvalidInput naming a field that cannot be changed."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise InvalidInput(
            "These fields cannot be changed.", fields={k: ["This field cannot be changed."] for k in sorted(unknown)}
        )
    for field, value in changes.items():
        setattr(package_type, field, value)
    if changes:
        package_type.save(update_fields=[*changes, "updated_at"])
    return package_type
