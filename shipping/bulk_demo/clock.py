"""Shop-time arithmetic on whole UTC seconds, cached per day: building a ``datetime`` for
each of the tens of millions of timestamps a large load writes would cost more than the
rest of the loader together. Days are counted from 1970-01-01 in shop time (``TIME_ZONE``);
the carrier's calendar rules are those of ``shipping.calendar``, asked once per day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shipping import calendar as cal

DAY = 86_400
HOUR = 3_600
_EPOCH = date(1970, 1, 1)


def _day_number(day: date) -> int:
    return (day - _EPOCH).days


@dataclass
class MethodCalendar:
    """A shipping method with its price and the calendar of the carrier service that delivers
    it, with the answers already worked out, by day number."""

    code: str
    cents: int
    service_id: int
    carrier_id: int
    calendar: cal.ServiceCalendar
    ship_by: dict[tuple[int, bool], tuple[int, int]] = field(default_factory=dict)
    cutoffs: dict[int, int] = field(default_factory=dict)
    pickups: dict[int, int] = field(default_factory=dict)
    deliveries: dict[tuple[int, int], int] = field(default_factory=dict)


class ShopClock:
    def __init__(self, tz: ZoneInfo, *, suffix: str) -> None:
        self.tz = tz
        self.suffix = suffix  # "+00" on PostgreSQL; SQLite keeps naive UTC text, as Django does
        self._offsets: dict[int, int] = {}
        self._local_days: dict[int, str] = {}
        self._utc_days: dict[int, str] = {}
        self._times = [f"{s // HOUR:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]

    def offset(self, t: int) -> int:
        """Seconds the shop's clock is ahead of UTC on the day of ``t`` (at noon)."""
        d = t // DAY
        found = self._offsets.get(d)
        if found is None:
            noon = datetime.fromtimestamp(d * DAY + DAY // 2, tz=UTC).astimezone(self.tz)
            delta = noon.utcoffset()
            found = self._offsets[d] = int(delta.total_seconds()) if delta else 0
        return found

    def local_day(self, t: int) -> int:
        return (t + self.offset(t)) // DAY

    def day_start(self, day: int) -> int:
        """The UTC second of the shop's midnight starting ``day``."""
        t = day * DAY
        return t - self.offset(t)

    def date(self, day: int) -> date:
        return _EPOCH + timedelta(days=day)

    def day_text(self, day: int) -> str:
        found = self._local_days.get(day)
        if found is None:
            found = self._local_days[day] = self.date(day).isoformat()
        return found

    def stamp(self, t: int) -> str:
        """``t`` as the database reads a timestamp."""
        d, s = divmod(t, DAY)
        found = self._utc_days.get(d)
        if found is None:
            found = self._utc_days[d] = self.date(d).isoformat()
        return f"{found} {self._times[s]}{self.suffix}"

    def iso(self, t: int) -> str:
        """``t`` in ISO 8601 with its offset, as carriers send it in tracking payloads."""
        d, s = divmod(t, DAY)
        return f"{self.date(d).isoformat()}T{self._times[s]}+00:00"

    def working(self, t: int, r: float) -> int:
        """``t`` if the warehouse works then (Monday to Friday, 07:00-16:30), else up to an
        hour and a half (``r`` of it) after it opens next."""
        local = t + self.offset(t)
        day, second = divmod(local, DAY)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        if weekday < 5 and 7 * HOUR <= second < 16 * HOUR + 1800:
            return t
        if not (weekday < 5 and second < 7 * HOUR):
            day += 1
            while (day + 3) % 7 >= 5:
                day += 1
        return self.day_start(day) + 7 * HOUR + int(r * 5400)

    def ship_by(self, method: MethodCalendar, paid: int) -> tuple[int, int]:
        """(ship-by day, promised delivery day) of an order paid at ``paid``."""
        day, second = divmod(paid + self.offset(paid), DAY)
        cutoff = method.calendar.cutoff
        key = (day, second < cutoff.hour * HOUR + cutoff.minute * 60)
        found = method.ship_by.get(key)
        if found is None:
            local = self.date(day)
            ship = (
                local
                if key[1] and method.calendar.is_pickup_day(local)
                else cal.next_pickup_day(method.calendar, local)
            )
            promised = cal.promised_delivery(method.calendar, ship)
            found = method.ship_by[key] = (_day_number(ship), _day_number(promised))
        return found

    def cutoff(self, method: MethodCalendar, day: int) -> int:
        """The UTC second of the carrier's cut-off on ``day``."""
        found = method.cutoffs.get(day)
        if found is None:
            found = method.cutoffs[day] = int(method.calendar.cutoff_at(self.date(day)).timestamp())
        return found

    def next_pickup(self, method: MethodCalendar, day: int) -> int:
        found = method.pickups.get(day)
        if found is None:
            found = method.pickups[day] = _day_number(cal.next_pickup_day(method.calendar, self.date(day)))
        return found

    def delivery(self, method: MethodCalendar, ship_day: int, extra: int) -> int:
        """The day a parcel handed over on ``ship_day`` arrives, ``extra`` business days late."""
        key = (ship_day, extra)
        found = method.deliveries.get(key)
        if found is None:
            day = cal.add_business_days(method.calendar, self.date(ship_day), method.calendar.transit_days + extra)
            found = method.deliveries[key] = _day_number(day)
        return found
