"""The packing station: open a picked order (by its number or its tote), choose boxes, scan
every unit into them, weigh each box, complete. Completing moves the order to ``packed``.

Every call holds the order's row lock, so two packers on one order take turns.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone

from fulfillment.enums import (
    ACTIVE_ENTRY_STATES,
    OVERRIDE,
    AccuracyKind,
    EntryState,
    FulfillmentErrorCode,
    PackageStatus,
    PackingStatus,
)
from fulfillment.models import Package, PackageItem, PackageType, PackingSession, PackingStation, PickListOrder
from fulfillment.services.picking.state import record_accuracy
from inventory.models import Reservation
from inventory.selectors import product_by_scan, scan_matches
from oms.common.actors import Actor
from oms.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from orders.enums import OrderStatus
from orders.locks import lock_order
from orders.models import Order, OrderLine
from orders.services import order_mark_packed, order_require_move


@dataclass(frozen=True)
class Override:
    """A supervisor's approval of a weight outside the tolerance; the caller has checked
    who the supervisor is (password or their own session)."""

    supervisor: User
    reason: str


def _nothing_to_pack(code: str) -> NotFound:
    return NotFound(
        f"No order or tote {code} is waiting to be packed. Scan the order number or the tote label.",
        code=FulfillmentErrorCode.NOTHING_TO_PACK,
        extra={"code": code},
    )


@transaction.atomic
def packing_open(*, actor: Actor, code: str, station: PackingStation | None = None) -> PackingSession:
    """Opens (or resumes) packing of a picked order, found by its number or its tote.

    Raises InvalidInput (empty code), NotFound ``nothing_to_pack``, Conflict
    ``order_not_picked`` (units still to pick) or ``nothing_to_pack`` (not in picking).
    """
    code = (code or "").strip()
    if not code:
        raise InvalidInput(
            "Scan the order number or the tote label.", fields={"code": ["This field may not be blank."]}
        )
    if actor.user_id is None:
        raise Forbidden("Only a signed-in user or an API client can pack.")
    entry = (
        PickListOrder.objects.select_related("order")
        .filter(Q(tote__iexact=code) | Q(order__number__iexact=code), state__in=ACTIVE_ENTRY_STATES)
        .first()
    )
    number = entry.order.number if entry else code
    try:
        order = lock_order(number=number)
    except NotFound:
        raise _nothing_to_pack(code) from None
    if order.status != OrderStatus.PICKING:
        raise Conflict(
            f"Order {order.number} is {order.status}; only picked orders waiting for packing can be packed.",
            code=FulfillmentErrorCode.NOTHING_TO_PACK,
            extra={"number": order.number, "status": order.status},
        )
    totals = Reservation.objects.filter(order_number=order.number).aggregate(
        picked=Sum("quantity_picked"), needed=Sum("quantity")
    )
    picked, needed = totals["picked"] or 0, totals["needed"] or 0
    if picked < needed:
        raise Conflict(
            f"Order {order.number} is still being picked: {picked} of {needed} unit(s) are picked. "
            "Pack it when its pick list is done.",
            code=FulfillmentErrorCode.ORDER_NOT_PICKED,
            extra={"number": order.number, "picked": picked, "needed": needed},
        )
    session = PackingSession.objects.filter(order=order, status=PackingStatus.OPEN).first()
    if session is None:
        session = PackingSession.objects.create(order=order, station=station, packer_id=actor.user_id)
    elif station is not None and session.station_id != station.pk:
        session.station = station
        session.save(update_fields=["station", "updated_at"])
    return session


def _lock_session(order_number: str) -> tuple[Order, PackingSession]:
    order = lock_order(number=order_number)
    session = PackingSession.objects.filter(order=order, status=PackingStatus.OPEN).first()
    if session is None:
        if order.status != OrderStatus.PICKING:
            order_require_move(order, OrderStatus.PACKED)  # answers transition_not_allowed
        raise Conflict(
            f"Order {order.number} is not open at a packing station: scan its number or tote there first.",
            code=FulfillmentErrorCode.PACKING_INCOMPLETE,
            extra={"number": order.number},
        )
    return order, session


def verified_units(session: PackingSession) -> dict[int, int]:
    """Units scanned into the session's packages, per order line id."""
    return {
        row["line_id"]: row["units"]
        for row in PackageItem.objects.filter(package__session=session)
        .values("line_id")
        .annotate(units=Sum("quantity"))
    }


@transaction.atomic
def package_open(*, actor: Actor, order_number: str, package_type: str) -> Package:
    """Starts the next box of the order, of the given type. An open box that is still
    empty just changes type. Raises InvalidInput (unknown type), Conflict ``package_not_open``
    (another box is open with units in it: close it first)."""
    order, session = _lock_session(order_number)
    ptype = PackageType.objects.filter(code__iexact=(package_type or "").strip(), is_active=True).first()
    if ptype is None:
        raise InvalidInput(
            f"No package type {package_type!r}; choose one of: "
            + ", ".join(PackageType.objects.filter(is_active=True).values_list("code", flat=True))
            + ".",
            fields={"package_type": ["Unknown or inactive package type."]},
        )
    current = session.packages.filter(status=PackageStatus.OPEN).first()
    if current is not None:
        if current.items.exists():
            raise Conflict(
                f"Package {current.sequence} is still open: weigh it and close it before starting another.",
                code=FulfillmentErrorCode.PACKAGE_NOT_OPEN,
                extra={"package": current.sequence},
            )
        current.package_type = ptype
        current.save(update_fields=["package_type", "updated_at"])
        return current
    last = Package.objects.filter(order=order).aggregate(m=Max("sequence"))["m"] or 0
    return Package.objects.create(order=order, session=session, sequence=last + 1, package_type=ptype)


@dataclass(frozen=True)
class PackScanResult:
    """A scan is answered, not raised: a refused one (``ok`` False) keeps its accuracy event."""

    ok: bool
    message: str
    code: str = ""
    package: Package | None = None
    line: OrderLine | None = None
    all_verified: bool = False


@transaction.atomic
def pack_scan(*, actor: Actor, order_number: str, code: str, quantity: int = 1) -> PackScanResult:
    """Verifies units of the order by scan into its open box. A unit that is not in the
    order, or one more than it needs, is refused and recorded in the accuracy ledger.
    Raises InvalidInput (empty code, quantity below 1), Conflict (not open for packing)."""
    code = (code or "").strip()
    if not code:
        raise InvalidInput(
            "Scan the item's barcode or type its SKU.", fields={"code": ["This field may not be blank."]}
        )
    if quantity < 1:
        raise InvalidInput("Scan at least one unit.", fields={"quantity": ["Must be 1 or more."]})
    order, session = _lock_session(order_number)
    lines = list(order.lines.select_related("product"))
    line = next((ln for ln in lines if scan_matches(ln.product, code)), None)
    if line is None:
        scanned = product_by_scan(code)
        record_accuracy(
            actor,
            AccuracyKind.WRONG_PACK_SCAN,
            order_number=order.number,
            sku=scanned.sku if scanned else "",
            expected=", ".join(ln.sku for ln in lines),
            actual=scanned.sku if scanned else code,
        )
        what = f"{scanned.sku} ({scanned.name})" if scanned else code
        return PackScanResult(
            ok=False,
            code=FulfillmentErrorCode.NOT_IN_ORDER,
            message=f"{what} is not in order {order.number}. Put it aside for the supervisor.",
        )
    verified_by_line = verified_units(session)
    verified = verified_by_line.get(line.pk, 0)
    if verified + quantity > line.quantity:
        record_accuracy(
            actor,
            AccuracyKind.OVER_PACK,
            order_number=order.number,
            sku=line.sku,
            expected=str(line.quantity),
            actual=str(verified + quantity),
        )
        left = line.quantity - verified
        return PackScanResult(
            ok=False,
            code=FulfillmentErrorCode.TOO_MANY_UNITS,
            line=line,
            message=f"One too many: order {order.number} needs {line.quantity} x {line.sku}"
            + (f" and only {left} more." if left else " and all of them are packed.")
            + " Put the extra unit aside.",
        )
    package = session.packages.filter(status=PackageStatus.OPEN).first()
    if package is None:
        return PackScanResult(
            ok=False,
            code=FulfillmentErrorCode.NO_OPEN_PACKAGE,
            line=line,
            message="Choose a box first, then scan the units into it.",
        )
    updated = PackageItem.objects.filter(package=package, line=line).update(quantity=F("quantity") + quantity)
    if not updated:
        PackageItem.objects.create(package=package, line=line, product=line.product, quantity=quantity)
    done = verified + quantity
    verified_by_line[line.pk] = done
    all_verified = all(verified_by_line.get(ln.pk, 0) >= ln.quantity for ln in lines)
    return PackScanResult(
        ok=True,
        package=package,
        line=line,
        all_verified=all_verified,
        message=f"{line.sku}: {done} of {line.quantity} in package {package.sequence}."
        + (" Every unit is verified: weigh the box and complete." if all_verified else ""),
    )


def expected_weight(package: Package) -> int:
    """The box's tare plus the catalogue weight of the units in it, in grams."""
    units = sum(i.quantity * i.product.weight_grams for i in package.items.select_related("product"))
    return package.package_type.tare_grams + units


def weight_tolerance(expected: int) -> int:
    return max(settings.OMS_PACK_WEIGHT_TOLERANCE_GRAMS, expected * settings.OMS_PACK_WEIGHT_TOLERANCE_PERCENT // 100)


@transaction.atomic
def package_close(
    *, actor: Actor, order_number: str, sequence: int, weight_grams: int, override: Override | None = None
) -> Package:
    """Weighs and closes a box. A weight further from the expected one than the tolerance
    needs a supervisor's ``override``, recorded in the accuracy ledger and on the package.

    Raises InvalidInput (weight below 1 g, override without reason), NotFound, Conflict
    ``package_not_open``, ``package_empty``, ``weight_out_of_tolerance``; Forbidden
    ``override_not_allowed`` (the supervisor lacks the right).
    """
    if weight_grams is None or weight_grams < 1:
        raise InvalidInput("Enter the weight in grams.", fields={"weight_grams": ["Must be 1 or more."]})
    order, session = _lock_session(order_number)
    package = Package.objects.select_related("package_type").filter(session=session, sequence=sequence).first()
    if package is None:
        raise NotFound(f"Order {order.number} has no package {sequence} open for packing.", code="package_not_found")
    if package.status != PackageStatus.OPEN:
        raise Conflict(
            f"Package {sequence} is already closed at {package.weight_grams} g.",
            code=FulfillmentErrorCode.PACKAGE_NOT_OPEN,
            extra={"package": sequence},
        )
    if not package.items.exists():
        raise Conflict(
            f"Package {sequence} is empty: scan units into it, or choose another box.",
            code=FulfillmentErrorCode.PACKAGE_EMPTY,
            extra={"package": sequence},
        )
    expected = expected_weight(package)
    tolerance = weight_tolerance(expected)
    fields = ["weight_grams", "expected_weight_grams", "status", "closed_at", "updated_at"]
    if abs(weight_grams - expected) > tolerance:
        if override is None:
            raise Conflict(
                f"Package {sequence} weighs {weight_grams} g but should weigh about {expected} g (± {tolerance} g). "
                "Check what is in it, or ask a supervisor to approve the weight.",
                code=FulfillmentErrorCode.WEIGHT_OUT_OF_TOLERANCE,
                extra={"package": sequence, "weight_grams": weight_grams, "expected_grams": expected,
                       "tolerance_grams": tolerance},
            )  # fmt: skip
        reason = (override.reason or "").strip()
        if not reason:
            raise InvalidInput("Say why the weight is approved.", fields={"reason": ["This field may not be blank."]})
        if not override.supervisor.is_active or not override.supervisor.has_perm(OVERRIDE):
            raise Forbidden(
                f"{override.supervisor.get_username()} cannot approve package weights; ask a supervisor.",
                code=FulfillmentErrorCode.OVERRIDE_NOT_ALLOWED,
            )
        package.weight_override_by = override.supervisor.get_username()
        package.weight_override_reason = reason[:255]
        fields += ["weight_override_by", "weight_override_reason"]
        record_accuracy(
            actor,
            AccuracyKind.WEIGHT_OVERRIDE,
            order_number=order.number,
            package_id=package.pk,
            expected=f"{expected} g ± {tolerance} g",
            actual=f"{weight_grams} g",
            note=reason,
            supervisor_id=override.supervisor.pk,
        )
    package.weight_grams = weight_grams
    package.expected_weight_grams = expected
    package.status = PackageStatus.CLOSED
    package.closed_at = timezone.now()
    package.save(update_fields=fields)
    return package


@transaction.atomic
def packing_complete(*, actor: Actor, order_number: str, note: str = "") -> Order:
    """Completes packing: every unit verified and every box weighed. The order becomes
    ``packed``; its closed packages wait for their labels (shipping).

    Raises TransitionNotAllowed (order not picking), Conflict ``packing_incomplete`` naming
    what is missing.
    """
    order, session = _lock_session(order_number)
    session.packages.filter(status=PackageStatus.OPEN, items__isnull=True).delete()
    verified = verified_units(session)
    missing = [(ln, verified.get(ln.pk, 0)) for ln in order.lines.all() if verified.get(ln.pk, 0) < ln.quantity]
    if missing:
        raise Conflict(
            "Not every unit is verified: "
            + ", ".join(f"{ln.sku} {done} of {ln.quantity}" for ln, done in missing)
            + ". Scan the rest.",
            code=FulfillmentErrorCode.PACKING_INCOMPLETE,
            extra={"lines": [{"sku": ln.sku, "quantity": ln.quantity, "verified": done} for ln, done in missing]},
        )
    still_open = list(session.packages.filter(status=PackageStatus.OPEN).values_list("sequence", flat=True))
    if still_open:
        raise Conflict(
            f"Package {', '.join(map(str, still_open))} is not weighed yet: weigh it and close it.",
            code=FulfillmentErrorCode.PACKING_INCOMPLETE,
            extra={"packages": still_open},
        )
    count = session.packages.count()
    order = order_mark_packed(actor=actor, number=order.number, note=note or f"{count} package(s)")
    PickListOrder.objects.filter(order=order, state=EntryState.PICKED).update(state=EntryState.PACKED)
    session.status = PackingStatus.COMPLETED
    session.completed_at = timezone.now()
    session.save(update_fields=["status", "completed_at", "updated_at"])
    return order
