"""Template filters: ``{{ amount|money:currency }}``, ``{{ when|day }}``, ``{{ when|moment }}``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template

from notifications import formatting

register = template.Library()


@register.filter
def money(amount: Decimal | str | int | float | None, currency: str) -> str:
    return "" if amount is None or amount == "" else formatting.money(amount, currency)


@register.filter
def day(value: date | datetime | str | None) -> str:
    return formatting.day(value)


@register.filter
def moment(value: datetime | str | None) -> str:
    return formatting.moment(value)
