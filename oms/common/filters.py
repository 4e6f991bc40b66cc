"""Query-parameter filters shared by the API's list endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC before it reaches the database.

    Python accepts offsets up to ±23:59 and PostgreSQL only up to ±15:59, so a value such as
    ``2026-01-01T00:00:00+22:00`` would otherwise fail in the query with a server error.
    """

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            # 0001-01-01T00:00:00+01:00 is in year 0 in UTC, which no datetime can hold.
            raise forms.ValidationError(
                "Enter a date and time between the years 1 and 9999 in UTC.", code="out_of_range"
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``IsoDateTimeFilter`` whose value is compared in UTC, whatever offset the caller sent."""

    field_class = UtcIsoDateTimeField
