"""Money and dates as the shop's customers read them (``OMS_SHOP_LOCALE``, CLDR data from
babel): "€1,234.50" in en_US, "1.234,50 €" in de_DE."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from django.conf import settings
from django.utils import timezone


def money(amount: Decimal | str | int | float, currency: str) -> str:
    return format_currency(Decimal(str(amount)), currency, locale=settings.OMS_SHOP_LOCALE)


def day(value: date | datetime | str | None) -> str:
    """A calendar day in the locale's medium form (Nov 24, 2026 / 24.11.2026)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_date(value, format="medium", locale=settings.OMS_SHOP_LOCALE)


def moment(value: datetime | str | None) -> str:
    """A point in time in the shop's time zone, in the locale's short form."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_datetime(value, format="short", locale=settings.OMS_SHOP_LOCALE)
