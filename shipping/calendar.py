"""Cut-off arithmetic: when an order must leave (ship-by), when it should arrive (promised
delivery), and whether it is late. Pure functions of a service's calendar; no database.

- A **pickup day** is one of the service's pickup weekdays that is not a carrier holiday.
- **Ship-by**: the payment day if it is a pickup day and payment came before the cut-off
  (shop time, ``OMS_TIME_ZONE``), else the next pickup day.
- **Promised delivery**: ship-by plus the service's transit days counted in business days
  (Monday to Friday, not carrier holidays).
- **Late**: not handed over by the cut-off of the ship-by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A service with pickup weekdays always has a pickup day within a year, however many
# holidays; past that the calendar is wrong, and saying so beats looping for ever.
_HORIZON_DAYS = 366


class CalendarError(ValueError):
    """The calendar has no pickup or business day ahead (every day a holiday)."""


@dataclass(frozen=True)
class ServiceCalendar:
    pickup_weekdays: frozenset[int]  # 0 Monday ... 6 Sunday
    cutoff: time
    transit_days: int
    holidays: frozenset[date]
    tz: ZoneInfo

    def is_pickup_day(self, day: date) -> bool:
        return day.weekday() in self.pickup_weekdays and day not in self.holidays

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def cutoff_at(self, day: date) -> datetime:
        """The moment parcels must be handed over on ``day``, as an aware datetime."""
        return datetime.combine(day, self.cutoff, tzinfo=self.tz)


def next_pickup_day(calendar: ServiceCalendar, after: date) -> date:
    day = after
    for _ in range(_HORIZON_DAYS):
        day += timedelta(days=1)
        if calendar.is_pickup_day(day):
            return day
    raise CalendarError(f"No pickup day within a year after {after.isoformat()}: check the pickup days and holidays.")


def ship_by(calendar: ServiceCalendar, paid_at: datetime) -> date:
    """The day an order paid at ``paid_at`` must leave."""
    local = paid_at.astimezone(calendar.tz)
    today = local.date()
    if calendar.is_pickup_day(today) and local.timetz().replace(tzinfo=None) < calendar.cutoff:
        return today
    return next_pickup_day(calendar, today)


def add_business_days(calendar: ServiceCalendar, start: date, days: int) -> date:
    day, left = start, days
    for _ in range(_HORIZON_DAYS + days):
        if left == 0:
            return day
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            left -= 1
    raise CalendarError(f"No business day within a year after {start.isoformat()}: check the holidays.")


def promised_delivery(calendar: ServiceCalendar, ship_by_day: date) -> date:
    return add_business_days(calendar, ship_by_day, calendar.transit_days)


def is_late(calendar: ServiceCalendar, ship_by_day: date, *, now: datetime, handed_over_at: datetime | None) -> bool:
    """Late: handed over after the ship-by cut-off, or not handed over and the cut-off passed."""
    deadline = calendar.cutoff_at(ship_by_day)
    return (handed_over_at or now) > deadline


def time_to_cutoff(calendar: ServiceCalendar, ship_by_day: date, *, now: datetime) -> timedelta:
    """What is left until the ship-by cut-off (negative once it has passed)."""
    return calendar.cutoff_at(ship_by_day) - now
