"""Reads of carriers and their calendars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from orders.enums import OrderStatus
from orders.models import Order
from shipping.calendar import ServiceCalendar, is_late, time_to_cutoff
from shipping.models import CarrierService, ShippingMethodService


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
