"""Reads of carriers and their calendars."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings

from shipping.calendar import ServiceCalendar
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
