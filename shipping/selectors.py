"""Reads of carriers and their calendars, and of shipments and their labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from oms.common.errors import NotFound
from oms.common.models import OutboxMessage, OutboxState
from orders.enums import OrderStatus
from orders.models import Order
from shipping.calendar import ServiceCalendar, is_late, time_to_cutoff
from shipping.enums import CURRENT_LABEL_STATES, LabelStatus, ShipmentStatus
from shipping.models import Carrier, CarrierService, Label, Shipment, ShippingMethodService
from shipping.services.labels import LABELS_TASK


def service_calendar(service: CarrierService) -> ServiceCalendar:
    """The service's calendar in shop time (``OMS_TIME_ZONE``), with its carrier's holidays."""
    return ServiceCalendar(
        pickup_weekdays=frozenset(service.pickup_weekdays),
        cutoff=service.cutoff_time,
        transit_days=service.transit_days,
        holidays=frozenset(service.carrier.holidays.values_list("date", flat=True)),
        tz=ZoneInfo(settings.TIME_ZONE),
    )


def services_by_method() -> dict[str, tuple[CarrierService, ServiceCalendar]]:
    """Each mapped shipping method's carrier service with its calendar, by method code."""
    links = ShippingMethodService.objects.select_related("service__carrier")
    calendars: dict[int, ServiceCalendar] = {}
    result: dict[str, tuple[CarrierService, ServiceCalendar]] = {}
    for link in links:
        service = link.service
        if service.pk not in calendars:
            calendars[service.pk] = service_calendar(service)
        result[str(link.shipping_method_id)] = (service, calendars[service.pk])
    return result


@dataclass(frozen=True)
class ShipTodayRow:
    number: str
    status: str
    service: CarrierService
    ship_by: date
    cutoff_at: datetime
    time_left: timedelta  # negative once the cut-off has passed
    late: bool


# Not yet handed over to the carrier.
_WAITING = [OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.PACKED]


def ship_today(*, now: datetime) -> list[ShipTodayRow]:
    """Orders that must leave today (shop time) or should already have left, with the time
    left to their cut-off: overdue ones first, then the nearest cut-off."""
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    by_method = services_by_method()
    rows = []
    for number, status, method, ship_by in Order.objects.filter(
        status__in=_WAITING, ship_by__lte=today, shipping_method_id__in=list(by_method)
    ).values_list("number", "status", "shipping_method_id", "ship_by"):
        if ship_by is None:  # excluded by the query; narrows the type
            continue
        service, calendar = by_method[str(method)]  # the method code (to_field)
        rows.append(
            ShipTodayRow(
                number=number,
                status=status,
                service=service,
                ship_by=ship_by,
                cutoff_at=calendar.cutoff_at(ship_by),
                time_left=time_to_cutoff(calendar, ship_by, now=now),
                late=is_late(calendar, ship_by, now=now, handed_over_at=None),
            )
        )
    return sorted(rows, key=lambda r: (r.cutoff_at, r.number))


# --- shipments and labels -------------------------------------------------------------------

# The label images are large and no list or detail shows them: they are read only to print.
_LABEL_IMAGES = ("pdf", "zpl")


def shipment_list() -> QuerySet[Shipment]:
    """Shipments with their order, carrier and service, and how many labels each has live,
    failed and still being made."""
    return Shipment.objects.select_related("order", "carrier", "service").annotate(
        live_labels=Count("labels", filter=Q(labels__status=LabelStatus.LIVE)),
        failed_labels=Count("labels", filter=Q(labels__status=LabelStatus.FAILED)),
        requested_labels=Count("labels", filter=Q(labels__status=LabelStatus.REQUESTED)),
    )


def shipment_detail(*, order_number: str) -> Shipment:
    """The order's shipment with every label (voided ones too, package by package, oldest
    first) and its events. Raises NotFound ``shipment_not_found``."""
    labels = (
        Label.objects.select_related("package", "manifest").defer(*_LABEL_IMAGES).order_by("package__sequence", "id")
    )
    shipment = (
        shipment_list()
        .prefetch_related(Prefetch("labels", queryset=labels), "events")
        .filter(order__number=order_number)
        .first()
    )
    if shipment is None:
        raise NotFound(
            f"Order {order_number} has no shipment: there is no such order, or it is not packed yet.",
            code="shipment_not_found",
        )
    return shipment


def label_list() -> QuerySet[Label]:
    """Labels with their order, carrier, package and manifest, without the label images."""
    return Label.objects.select_related("shipment__order", "shipment__carrier", "package", "manifest").defer(
        *_LABEL_IMAGES
    )


def label_detail(*, label_id: int) -> Label:
    """Raises NotFound ``label_not_found``."""
    label = label_list().filter(pk=label_id).first()
    if label is None:
        raise NotFound(f"No label {label_id}.", code="label_not_found")
    return label


def current_label_of_package(package_id: int) -> Label | None:
    """The package's requested, live or failed label (at most one exists)."""
    return label_list().filter(package_id=package_id, status__in=CURRENT_LABEL_STATES).first()


@dataclass(frozen=True)
class LabelsToFix:
    """An order whose labels failed or are still being made, for staff to retry. ``labels``
    are its failed and requested labels, package by package; ``error`` is why an order got
    no label at all (it has no shipment: its last label job's error)."""

    order_number: str
    carrier: Carrier | None
    labels: list[Label]
    error: str = ""
    job_failed: bool = False

    @property
    def failed(self) -> bool:
        return self.job_failed or any(label.status == LabelStatus.FAILED for label in self.labels)


def labels_to_fix() -> list[LabelsToFix]:
    """Orders with failed labels first, then those whose labels are still being made (each by
    order number); packed orders that got no shipment (their label job failed or waits) count
    as failed or still being made likewise."""
    labels = list(
        label_list()
        .filter(status__in=[LabelStatus.FAILED, LabelStatus.REQUESTED])
        .order_by("shipment__order__number", "package__sequence", "id")
    )
    by_order: dict[str, list[Label]] = {}
    for label in labels:
        by_order.setdefault(label.shipment.order.number, []).append(label)
    rows = [LabelsToFix(number, found[0].shipment.carrier, found) for number, found in by_order.items()]
    unshipped = list(
        Order.objects.filter(status=OrderStatus.PACKED, shipment__isnull=True).values_list("number", flat=True)
    )
    if unshipped:
        jobs: dict[str, OutboxMessage] = {}
        for message in OutboxMessage.objects.filter(task=LABELS_TASK, payload__order__in=unshipped).order_by("id"):
            jobs[message.payload["order"]] = message  # the newest one wins
        for number in unshipped:
            job = jobs.get(number)
            failed = job is not None and job.state == OutboxState.FAILED
            rows.append(LabelsToFix(number, None, [], job.last_error if job else "", job_failed=failed))
    return sorted(rows, key=lambda row: (not row.failed, row.order_number))


@dataclass(frozen=True)
class PrintableOrder:
    """An order whose parcels are labelled and wait for the courier."""

    order_number: str
    carrier: str
    labels: int
    never_printed: int


def orders_to_print() -> list[PrintableOrder]:
    """Orders labelled and waiting for the courier, by order number, with how many of their
    live labels were never printed."""
    rows = (
        Shipment.objects.filter(status=ShipmentStatus.LABELLED)
        .annotate(
            live=Count("labels", filter=Q(labels__status=LabelStatus.LIVE)),
            unprinted=Count("labels", filter=Q(labels__status=LabelStatus.LIVE, labels__print_count=0)),
        )
        .order_by("order__number")
        .values_list("order__number", "carrier__code", "live", "unprinted")
    )
    return [PrintableOrder(number, carrier, live, unprinted) for number, carrier, live, unprinted in rows]
