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


def service_of_method(shipping_method_code: str) -> CarrierService | None:
    """The carrier service that delivers a shipping method, if one is mapped."""
    link = (
        ShippingMethodService.objects.select_related("service__carrier")
        .filter(shipping_method__code=shipping_method_code)
        .first()
    )
    return link.service if link else None


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
    links = dict(ShippingMethodService.objects.values_list("shipping_method_id", "service_id"))
    services = {s.pk: s for s in CarrierService.objects.select_related("carrier").filter(pk__in=set(links.values()))}
    calendars = {pk: service_calendar(s) for pk, s in services.items()}
    rows = []
    for number, status, method, ship_by in Order.objects.filter(
        status__in=_WAITING, ship_by__lte=today, shipping_method_id__in=list(links)
    ).values_list("number", "status", "shipping_method_id", "ship_by"):
        if ship_by is None:  # excluded by the query; narrows the type
            continue
        calendar = calendars[links[method]]
        rows.append(
            ShipTodayRow(
                number=number,
                status=status,
                service=services[links[method]],
                ship_by=ship_by,
                cutoff_at=calendar.cutoff_at(ship_by),
                time_left=time_to_cutoff(calendar, ship_by, now=now),
                late=is_late(calendar, ship_by, now=now, handed_over_at=None),
            )
        )
    return sorted(rows, key=lambda r: (r.cutoff_at, r.number))
