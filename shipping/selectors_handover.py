"""Reads of the courier hand-over: manifests with their parcels, and the labelled parcels
still at the dock, flagged once their cut-off has passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from fulfillment.enums import PackageStatus
from fulfillment.models import Package
from oms.common.errors import NotFound
from shipping import calendar
from shipping.enums import LabelStatus, ManifestStatus, ShipmentStatus
from shipping.models import Carrier, CarrierService, Label, Manifest
from shipping.selectors import service_calendar

MANIFEST_NOT_FOUND = "manifest_not_found"
# Who may read manifests and the parcels at the dock (granted by migrations/0004_label_roles.py;
# acting needs shipping.enums.HAND_OVER).
VIEW_MANIFESTS = "shipping.view_manifest"

# --- manifests ------------------------------------------------------------------------------


def normalise_manifest_number(number: str) -> str:
    return (number or "").strip().upper()


def manifest_by_number(number: str) -> Manifest:
    """The manifest with its carrier. Raises NotFound ``manifest_not_found``."""
    number = normalise_manifest_number(number)
    manifest = Manifest.objects.select_related("carrier").filter(number=number).first()
    if manifest is None:
        raise NotFound(f"No manifest has the number {number}.", code=MANIFEST_NOT_FOUND, extra={"manifest": number})
    return manifest


def manifest_list() -> QuerySet[Manifest]:
    """Manifests with their carrier, number of parcels and total weight (grams)."""
    return Manifest.objects.select_related("carrier").annotate(
        parcel_count=Count("labels"),
        weight_grams=Coalesce(Sum("labels__package__weight_grams"), Value(0), output_field=IntegerField()),
    )


@dataclass(frozen=True)
class ManifestParcel:
    label_id: int
    tracking_number: str
    order_number: str
    order_status: str
    package: int  # sequence of the package in its order
    packages: int  # closed packages of the order
    recipient_name: str
    recipient_city: str
    recipient_country: str
    weight_grams: int | None
    scanned_out_at: datetime | None
    scanned_out_by: str


@dataclass(frozen=True)
class ManifestDetail:
    """A manifest and its parcels, in the order they were scanned. Has the attributes of an
    annotated ``manifest_list()`` row, so the same output shape serves both."""

    manifest: Manifest
    parcels: list[ManifestParcel]

    @property
    def number(self) -> str:
        return self.manifest.number

    @property
    def carrier(self) -> Carrier:
        return self.manifest.carrier

    @property
    def pickup_date(self) -> date:
        return self.manifest.pickup_date

    @property
    def status(self) -> str:
        return self.manifest.status

    @property
    def is_open(self) -> bool:
        return self.manifest.status == ManifestStatus.OPEN

    @property
    def opened_by(self) -> str:
        return self.manifest.opened_by

    @property
    def created_at(self) -> datetime:
        return self.manifest.created_at

    @property
    def closed_at(self) -> datetime | None:
        return self.manifest.closed_at

    @property
    def closed_by(self) -> str:
        return self.manifest.closed_by

    @property
    def parcel_count(self) -> int:
        return len(self.parcels)

    @property
    def weight_grams(self) -> int:
        return sum(p.weight_grams or 0 for p in self.parcels)


def package_counts(order_ids: set[int]) -> dict[int, int]:
    """Closed packages per order: the N of "package n of N"."""
    return dict(
        Package.objects.filter(order_id__in=order_ids, status=PackageStatus.CLOSED)
        .values("order_id")
        .annotate(n=Count("id"))
        .values_list("order_id", "n")
    )


def manifest_detail(*, number: str) -> ManifestDetail:
    """Raises NotFound ``manifest_not_found``."""
    manifest = manifest_by_number(number)
    labels = list(
        Label.objects.filter(manifest=manifest)
        .select_related("shipment__order__shipping_address", "package")
        .order_by("scanned_out_at", "id")
    )
    counts = package_counts({label.shipment.order_id for label in labels})
    parcels = []
    for label in labels:
        order = label.shipment.order
        address = order.shipping_address
        parcels.append(
            ManifestParcel(
                label_id=label.pk,
                tracking_number=label.tracking_number or "",
                order_number=order.number,
                order_status=order.status,
                package=label.package.sequence,
                packages=counts.get(order.pk, 0),
                recipient_name=address.name,
                recipient_city=address.city,
                recipient_country=str(address.country),
                weight_grams=label.package.weight_grams,
                scanned_out_at=label.scanned_out_at,
                scanned_out_by=label.scanned_out_by,
            )
        )
    return ManifestDetail(manifest=manifest, parcels=parcels)


def open_manifests() -> list[Manifest]:
    return list(manifest_list().filter(status=ManifestStatus.OPEN).order_by("pickup_date", "carrier__code", "id"))


def recent_closed_manifests(limit: int = 10) -> list[Manifest]:
    return list(manifest_list().filter(status=ManifestStatus.CLOSED).order_by("-closed_at", "-id")[:limit])


# --- parcels at the dock --------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingParcel:
    """A live label not scanned out yet, and by when it must be."""

    label_id: int
    tracking_number: str
    order_number: str
    package: int
    packages: int
    carrier: Carrier
    service: CarrierService
    leave_by: date  # the order's ship-by day; without one, the day the label allows
    cutoff_at: datetime
    now: datetime

    @property
    def overdue(self) -> bool:
        return self.now > self.cutoff_at

    @property
    def overdue_by(self) -> timedelta:
        """How long past the cut-off (zero before it)."""
        return max(self.now - self.cutoff_at, timedelta(0))

    @property
    def time_left(self) -> timedelta:
        """Until the cut-off (zero after it)."""
        return max(self.cutoff_at - self.now, timedelta(0))


def parcels_waiting_for_pickup(*, now: datetime, carrier: str | None = None) -> list[WaitingParcel]:
    """Labelled parcels not scanned out yet (of one carrier, by code, if given): overdue ones
    first, then the nearest cut-off. The cut-off is that of the order's ship-by day; an order
    without one must leave by the first cut-off after its label was issued."""
    labels = Label.objects.filter(
        status=LabelStatus.LIVE,
        scanned_out_at__isnull=True,
        shipment__status__in=[ShipmentStatus.AWAITING_LABELS, ShipmentStatus.LABELLED],
    ).select_related("shipment__order", "shipment__service__carrier", "package")
    if carrier:
        labels = labels.filter(shipment__carrier__code__iexact=carrier)
    rows = list(labels)
    counts = package_counts({label.shipment.order_id for label in rows})
    calendars: dict[int, calendar.ServiceCalendar] = {}
    parcels = []
    for label in rows:
        shipment = label.shipment
        service = shipment.service
        if service.pk not in calendars:
            calendars[service.pk] = service_calendar(service)
        cal = calendars[service.pk]
        day = shipment.order.ship_by or _day_of_issue(cal, label.issued_at or label.created_at)
        parcels.append(
            WaitingParcel(
                label_id=label.pk,
                tracking_number=label.tracking_number or "",
                order_number=shipment.order.number,
                package=label.package.sequence,
                packages=counts.get(shipment.order_id, 0),
                carrier=service.carrier,
                service=service,
                leave_by=day,
                cutoff_at=cal.cutoff_at(day),
                now=now,
            )
        )
    return sorted(parcels, key=lambda p: (p.cutoff_at, p.order_number, p.package))


def _day_of_issue(cal: calendar.ServiceCalendar, issued_at: datetime) -> date:
    """The pickup day a label issued at ``issued_at`` makes (as payment makes ship-by); the
    day of issue itself when the calendar has no pickup day ahead."""
    try:
        return calendar.ship_by(cal, issued_at)
    except calendar.CalendarError:
        return issued_at.astimezone(cal.tz).date()


def unscanned_after_cutoff(*, now: datetime, carrier: str | None = None) -> list[WaitingParcel]:
    """The waiting parcels whose cut-off has passed: they should have left already."""
    return [p for p in parcels_waiting_for_pickup(now=now, carrier=carrier) if p.overdue]
