"""Handing parcels to the courier: one open manifest per carrier and pickup day, parcels
scanned out onto it at the dock, the order shipped when its last parcel is out, and the
manifest closed when the driver has signed for it.

Lock order (docs/architecture.md): order -> shipment -> labels -> manifest. A scan holds all
four, so two docks scanning the parcels of one order take turns, and a close (which locks
only the manifest) either comes before a scan, which then finds the manifest closed, or
after it, and counts its parcel. Opening a manifest locks the carrier row, so two docks
opening the day's manifest at once get the same one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from fulfillment.selectors import closed_packages
from oms.common.actors import Actor
from oms.common.errors import Conflict, InvalidInput, NotFound
from orders.enums import OrderStatus
from orders.locks import lock_order
from orders.models import Order
from orders.services import order_mark_shipped
from shipping.enums import CURRENT_LABEL_STATES, LabelStatus, ManifestStatus, ShipmentStatus, ShippingErrorCode
from shipping.models import Carrier, Label, Manifest, Shipment
from shipping.selectors_handover import manifest_by_number
from shipping.services.shipments import _shipment_set_status, lock_shipment, shipment_record

# Error codes of the hand-over that the shared vocabulary (ShippingErrorCode) does not name
# (and MANIFEST_NOT_FOUND, from the selectors).
PARCEL_NOT_ON_MANIFEST = "parcel_not_on_manifest"
PARCEL_HANDED_OVER = "parcel_handed_over"

# Shipments whose parcels are still at the dock.
AT_THE_DOCK = (ShipmentStatus.AWAITING_LABELS, ShipmentStatus.LABELLED)


def normalise_code(code: str) -> str:
    """A tracking number as scanned or typed: without spaces, in capitals."""
    return "".join((code or "").split()).upper()


def _require_code(code: str) -> str:
    tracking = normalise_code(code)
    if not tracking:
        raise InvalidInput(
            "Scan the parcel's label, or type the tracking number under its barcode.",
            fields={"code": ["This field may not be blank."]},
        )
    return tracking


def _lock_manifest(pk: int) -> Manifest:
    # Only the manifest row: its carrier is read, not locked (a scan may hold the carrier row
    # through its shipment lock while a close waits here).
    return Manifest.objects.select_for_update(no_key=True, of=("self",)).select_related("carrier").get(pk=pk)


def _require_open(manifest: Manifest) -> None:
    if manifest.status != ManifestStatus.OPEN:
        closed = timezone.localtime(manifest.closed_at).strftime("%H:%M") if manifest.closed_at else ""
        raise Conflict(
            f"Manifest {manifest.number} was closed{' at ' + closed if closed else ''}"
            f"{' by ' + manifest.closed_by if manifest.closed_by else ''}: open the next manifest for "
            f"{manifest.carrier.name} and scan the parcel there.",
            code=ShippingErrorCode.MANIFEST_CLOSED,
            extra={"manifest": manifest.number, "carrier": manifest.carrier.code},
        )


# --- opening --------------------------------------------------------------------------------


@transaction.atomic
def manifest_open(*, actor: Actor, carrier_code: str, pickup_date: date | None = None) -> tuple[Manifest, bool]:
    """The open manifest of the carrier for the pickup day (today in shop time by default),
    made now if there is none; ``True`` with a new one. A closed manifest of the same day
    stays closed: parcels after the pickup go on a new one.

    Raises InvalidInput (no such active carrier, a pickup day in the past).
    """
    code = (carrier_code or "").strip()
    carrier = Carrier.objects.filter(code__iexact=code, is_active=True).first() if code else None
    if carrier is None:
        raise InvalidInput(
            f"No active carrier has the code {code}; choose the carrier whose driver collects the parcels."
            if code
            else "Choose the carrier whose driver collects the parcels.",
            fields={"carrier": [f"No active carrier {code}." if code else "This field is required."]},
        )
    today = timezone.localdate()
    day = pickup_date or today
    if day < today:
        raise InvalidInput(
            f"The pickup day {day.isoformat()} has passed: open the manifest for today or a later day.",
            fields={"pickup_date": ["Must be today or later."]},
        )
    # Opening is serialized per carrier: a second dock waits here, then finds the first one's.
    Carrier.objects.select_for_update(no_key=True).filter(pk=carrier.pk).first()
    existing = (
        Manifest.objects.select_related("carrier")
        .filter(carrier=carrier, pickup_date=day, status=ManifestStatus.OPEN)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing, False
    manifest = Manifest.objects.create(
        number=f"pending-{uuid.uuid4().hex[:24]}", carrier=carrier, pickup_date=day, opened_by=actor.label
    )
    manifest.number = f"MF-{manifest.pk:06d}"
    manifest.save(update_fields=["number"])
    return manifest, True


# --- scanning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelScan:
    """What a scan (or an unscan) did, for the person at the dock."""

    manifest: str
    tracking_number: str
    order_number: str
    package: int  # the parcel's sequence in its order
    packages: int  # parcels of the order
    scanned: int  # of them scanned out, on any manifest
    shipped: bool  # this scan shipped the order
    message: str


@dataclass(frozen=True)
class _Found:
    label_id: int
    shipment_id: int
    order_number: str


def _find(tracking: str) -> _Found:
    rows = Label.objects.values_list("pk", "shipment_id", "shipment__order__number")
    row = rows.filter(tracking_number=tracking).first() or rows.filter(tracking_number__iexact=tracking).first()
    if row is None:
        raise NotFound(
            f"No parcel has the tracking number {tracking}. Scan the parcel's shipping label (not the packing "
            "slip), or type the number under its barcode.",
            code=ShippingErrorCode.PARCEL_NOT_FOUND,
            extra={"tracking_number": tracking},
        )
    return _Found(*row)


def _lock_parcel(tracking: str, manifest: Manifest) -> tuple[Order, Shipment, Label, Manifest]:
    """Locks the parcel's order, shipment, label and then the manifest, in the global order."""
    found = _find(tracking)
    order = lock_order(number=found.order_number)
    shipment = lock_shipment(found.shipment_id)
    label = (
        Label.objects.select_for_update(no_key=True, of=("self",))
        .select_related("package", "manifest")
        .get(pk=found.label_id)
    )
    return order, shipment, label, _lock_manifest(manifest.pk)


def _require_live(label: Label, order: Order) -> None:
    tracking = label.tracking_number or ""
    if label.status == LabelStatus.VOIDED:
        replacement = (
            Label.objects.filter(package_id=label.package_id, status__in=CURRENT_LABEL_STATES, pk__gt=label.pk)
            .order_by("-pk")
            .first()
        )
        why = f" ({label.void_reason})" if label.void_reason else ""
        where = f"package {label.package.sequence} of {order.number}"
        if replacement is not None and replacement.status == LabelStatus.LIVE:
            then = f"{where} has a new label, {replacement.tracking_number}: stick it over the old one and scan that."
        elif replacement is not None:
            then = f"the new label of {where} is not made yet: keep the parcel back until it is printed."
        else:
            then = f"no new label was asked for {where}: keep the parcel back and ask for a new label."
        raise Conflict(
            f"Label {tracking} was voided{why} and must not leave; {then}",
            code=ShippingErrorCode.LABEL_NOT_LIVE,
            extra={
                "tracking_number": tracking,
                "status": label.status,
                "replaced_by": replacement.tracking_number if replacement is not None else None,
            },
        )
    if label.status != LabelStatus.LIVE:
        raise Conflict(
            f"Label {tracking} is {label.get_status_display().lower()}, not live: keep package "
            f"{label.package.sequence} of {order.number} back until its label is live.",
            code=ShippingErrorCode.LABEL_NOT_LIVE,
            extra={"tracking_number": tracking, "status": label.status},
        )


def _require_not_scanned(label: Label, manifest: Manifest) -> None:
    scanned = label.manifest
    if scanned is None:
        return
    when = timezone.localtime(label.scanned_out_at).strftime("%H:%M") if label.scanned_out_at else ""
    by = f" by {label.scanned_out_by}" if label.scanned_out_by else ""
    where = "this manifest" if scanned.pk == manifest.pk else f"manifest {scanned.number}"
    raise Conflict(
        f"Parcel {label.tracking_number} is already on {where} (scanned {when}{by}): scan the next parcel.",
        code=ShippingErrorCode.PARCEL_ALREADY_SCANNED,
        extra={"tracking_number": label.tracking_number, "manifest": scanned.number},
    )


def _require_carrier(shipment: Shipment, label: Label, manifest: Manifest) -> None:
    carrier = shipment.carrier
    if carrier.pk == manifest.carrier_id:
        return
    raise Conflict(
        f"Parcel {label.tracking_number} goes with {carrier.name} ({carrier.code}), not {manifest.carrier.name}: "
        f"put it with the {carrier.code} parcels and scan it into a {carrier.code} manifest.",
        code=ShippingErrorCode.PARCEL_OTHER_CARRIER,
        extra={"tracking_number": label.tracking_number, "carrier": carrier.code, "manifest": manifest.number},
    )


@dataclass(frozen=True)
class _Progress:
    packages: int
    scanned: int
    complete: bool  # every closed package has a live label, and every live label is out


def _progress(shipment: Shipment) -> _Progress:
    packages = {p.pk for p in closed_packages(shipment.order)}
    live = dict(
        Label.objects.filter(shipment=shipment, status=LabelStatus.LIVE).values_list("package_id", "scanned_out_at")
    )
    out = {package for package, at in live.items() if at is not None}
    every_package_labelled = bool(packages) and packages <= set(live)
    return _Progress(packages=len(packages), scanned=len(out), complete=every_package_labelled and out == set(live))


@transaction.atomic
def parcel_scan_out(*, actor: Actor, manifest_number: str, code: str) -> ParcelScan:
    """Scans a parcel out onto an open manifest, by its tracking number (spaces and case do
    not matter). The label must be live, of the manifest's carrier, and not scanned out yet.
    When it is the last parcel of its order (every closed package has a live label and
    every live label is out), the shipment is handed over and the order becomes shipped.
    Records a shipment event.

    Raises InvalidInput (no code), NotFound ``manifest_not_found`` / ``parcel_not_found``,
    Conflict ``manifest_closed``, ``label_not_live`` (voided: ``extra.replaced_by`` names the
    new label), ``parcel_already_scanned`` (``extra.manifest``), ``parcel_other_carrier``
    (``extra.carrier``).
    """
    tracking = _require_code(code)
    manifest = manifest_by_number(manifest_number)
    _require_open(manifest)
    order, shipment, label, manifest = _lock_parcel(tracking, manifest)
    _require_open(manifest)
    _require_live(label, order)
    _require_not_scanned(label, manifest)
    _require_carrier(shipment, label, manifest)

    label.manifest = manifest
    label.scanned_out_at = timezone.now()
    label.scanned_out_by = actor.label
    label.save(update_fields=["manifest", "scanned_out_at", "scanned_out_by"])
    shipment_record(
        shipment,
        actor,
        "parcel_scanned_out",
        f"Package {label.package.sequence}: {label.tracking_number} on {manifest.number}",
        data={"label": label.pk, "manifest": manifest.number},
    )
    progress = _progress(shipment)
    shipped = False
    if progress.complete and shipment.status == ShipmentStatus.LABELLED:
        note = f"Handed over to {manifest.carrier.name} on manifest {manifest.number}"
        _shipment_set_status(shipment, ShipmentStatus.HANDED_OVER, actor=actor, note=note)
        if order.status == OrderStatus.PACKED:
            order_mark_shipped(actor=actor, number=order.number, note=note)
        shipped = True
    if shipped:
        message = (
            f"Parcel {label.tracking_number} scanned: order {order.number} shipped."
            if progress.packages == 1
            else f"Parcel {label.tracking_number} scanned: all {progress.packages} parcels of {order.number} are "
            "out, order shipped."
        )
    else:
        message = (
            f"Parcel {label.tracking_number} scanned: {progress.scanned} of {progress.packages} parcels of "
            f"{order.number} scanned; the order ships when all are."
        )
    return ParcelScan(
        manifest=manifest.number,
        tracking_number=label.tracking_number or tracking,
        order_number=order.number,
        package=label.package.sequence,
        packages=progress.packages,
        scanned=progress.scanned,
        shipped=shipped,
        message=message,
    )


@transaction.atomic
def parcel_unscan(*, actor: Actor, manifest_number: str, code: str) -> ParcelScan:
    """Takes a parcel scanned by mistake off an open manifest, while its order is not
    shipped yet. Records a shipment event.

    Raises InvalidInput (no code), NotFound ``manifest_not_found`` / ``parcel_not_found``,
    Conflict ``manifest_closed``, ``parcel_not_on_manifest``, ``parcel_handed_over`` (the
    order is shipped already).
    """
    tracking = _require_code(code)
    manifest = manifest_by_number(manifest_number)
    _require_open(manifest)
    order, shipment, label, manifest = _lock_parcel(tracking, manifest)
    _require_open(manifest)
    if label.manifest_id != manifest.pk:
        elsewhere = f"; it is on manifest {label.manifest.number}" if label.manifest is not None else ""
        raise Conflict(
            f"Parcel {label.tracking_number} is not on manifest {manifest.number}{elsewhere}: nothing to take off.",
            code=PARCEL_NOT_ON_MANIFEST,
            extra={
                "tracking_number": label.tracking_number,
                "manifest": label.manifest.number if label.manifest is not None else None,
            },
        )
    if shipment.status not in AT_THE_DOCK or order.status != OrderStatus.PACKED:
        raise Conflict(
            f"Order {order.number} is already {order.get_status_display().lower()} with parcel "
            f"{label.tracking_number}: it cannot be taken off the manifest.",
            code=PARCEL_HANDED_OVER,
            extra={"tracking_number": label.tracking_number, "order": order.number},
        )
    label.manifest = None
    label.scanned_out_at = None
    label.scanned_out_by = ""
    label.save(update_fields=["manifest", "scanned_out_at", "scanned_out_by"])
    shipment_record(
        shipment,
        actor,
        "parcel_unscanned",
        f"Package {label.package.sequence}: {label.tracking_number} off {manifest.number}",
        data={"label": label.pk, "manifest": manifest.number},
    )
    progress = _progress(shipment)
    return ParcelScan(
        manifest=manifest.number,
        tracking_number=label.tracking_number or tracking,
        order_number=order.number,
        package=label.package.sequence,
        packages=progress.packages,
        scanned=progress.scanned,
        shipped=False,
        message=f"Parcel {label.tracking_number} taken off manifest {manifest.number}: {progress.scanned} of "
        f"{progress.packages} parcels of {order.number} scanned.",
    )


# --- closing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestClosed:
    manifest: Manifest
    parcels: int
    weight_grams: int
    incomplete: list[str]  # orders with parcels on the manifest and others still at the dock
    message: str


def _kilograms(grams: int) -> str:
    return f"{grams / 1000:.2f} kg"


@transaction.atomic
def manifest_close(*, actor: Actor, manifest_number: str) -> ManifestClosed:
    """Closes an open manifest when the driver has collected its parcels: no parcel can be
    scanned onto it or taken off it after. Records a ``manifest_closed`` event on each
    shipment with a parcel on it.

    Raises NotFound ``manifest_not_found``, Conflict ``manifest_closed``, ``manifest_empty``.
    """
    manifest = manifest_by_number(manifest_number)
    _require_open(manifest)
    manifest = _lock_manifest(manifest.pk)
    _require_open(manifest)
    labels = list(Label.objects.filter(manifest=manifest).select_related("shipment__order", "package").order_by("id"))
    if not labels:
        raise Conflict(
            f"Manifest {manifest.number} has no parcels: scan the parcels out before closing it.",
            code=ShippingErrorCode.MANIFEST_EMPTY,
            extra={"manifest": manifest.number},
        )
    manifest.status = ManifestStatus.CLOSED
    manifest.closed_at = timezone.now()
    manifest.closed_by = actor.label
    manifest.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])

    by_shipment: dict[int, list[Label]] = {}
    for label in labels:
        by_shipment.setdefault(label.shipment_id, []).append(label)
    incomplete = []
    for parcels in by_shipment.values():
        shipment = parcels[0].shipment
        shipment_record(
            shipment,
            actor,
            "manifest_closed",
            f"Collected by {manifest.carrier.name} on manifest {manifest.number}: {len(parcels)} parcel(s)",
            data={"manifest": manifest.number, "labels": [p.pk for p in parcels]},
        )
        if shipment.status in AT_THE_DOCK:
            incomplete.append(shipment.order.number)
    weight = sum(label.package.weight_grams or 0 for label in labels)
    message = (
        f"Manifest {manifest.number} closed: {len(labels)} parcel(s), {_kilograms(weight)}, for "
        f"{manifest.carrier.name}. Print it for the driver to sign."
    )
    if incomplete:
        message += (
            f" Not all parcels of {', '.join(sorted(incomplete))} were on it: scan the rest onto the next manifest."
        )
    return ManifestClosed(
        manifest=manifest, parcels=len(labels), weight_grams=weight, incomplete=sorted(incomplete), message=message
    )
