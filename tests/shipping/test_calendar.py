"""Cut-off arithmetic across weekends, holidays and time zones (pure functions)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shipping.calendar import (
    CalendarError,
    ServiceCalendar,
    is_late,
    promised_delivery,
    ship_by,
    time_to_cutoff,
)

WARSAW = ZoneInfo("Europe/Warsaw")
MON_TO_FRI = frozenset(range(5))
# 2026-11-23 is a Monday.
MON, TUE, WED, THU, FRI, SAT, SUN = (date(2026, 11, 23) + timedelta(days=i) for i in range(7))


def calendar(*, pickup=MON_TO_FRI, cutoff=time(15, 0), transit=2, holidays=()) -> ServiceCalendar:
    return ServiceCalendar(
        pickup_weekdays=frozenset(pickup), cutoff=cutoff, transit_days=transit, holidays=frozenset(holidays), tz=WARSAW
    )


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = WARSAW) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def test_paid_before_the_cutoff_on_a_pickup_day_ships_that_day() -> None:
    assert ship_by(calendar(), at(MON, 14, 59)) == MON


def test_paid_at_or_after_the_cutoff_ships_the_next_pickup_day() -> None:
    assert ship_by(calendar(), at(MON, 15, 0)) == TUE
    assert ship_by(calendar(), at(FRI, 16, 0)) == MON + timedelta(days=7)


def test_paid_at_the_weekend_ships_on_monday() -> None:
    assert ship_by(calendar(), at(SAT, 9)) == MON + timedelta(days=7)
    assert ship_by(calendar(), at(SUN, 23, 59)) == MON + timedelta(days=7)


def test_a_carrier_holiday_is_not_a_pickup_day() -> None:
    cal = calendar(holidays=[TUE])
    assert ship_by(cal, at(MON, 18)) == WED
    assert ship_by(cal, at(TUE, 8)) == WED


def test_pickup_days_are_the_services_own() -> None:
    tue_thu = calendar(pickup=[1, 3])
    assert ship_by(tue_thu, at(MON, 8)) == TUE
    assert ship_by(tue_thu, at(TUE, 16)) == THU


def test_the_cutoff_is_in_shop_time_whatever_the_payment_time_zone() -> None:
    # 13:30 UTC is 14:30 in Warsaw in November (UTC+1): before the 15:00 cut-off.
    assert ship_by(calendar(), at(MON, 13, 30, ZoneInfo("UTC"))) == MON
    assert ship_by(calendar(), at(MON, 14, 30, ZoneInfo("UTC"))) == TUE


def test_promised_delivery_counts_transit_in_business_days() -> None:
    assert promised_delivery(calendar(transit=2), MON) == WED
    assert promised_delivery(calendar(transit=2), THU) == MON + timedelta(days=7)
    assert promised_delivery(calendar(transit=0), FRI) == FRI


def test_promised_delivery_skips_carrier_holidays() -> None:
    assert promised_delivery(calendar(transit=2, holidays=[TUE, WED]), MON) == FRI


def test_saturday_pickup_still_delivers_on_business_days() -> None:
    with_saturday = calendar(pickup=[0, 1, 2, 3, 4, 5], transit=1)
    assert ship_by(with_saturday, at(SAT, 10)) == SAT
    assert promised_delivery(with_saturday, SAT) == MON + timedelta(days=7)


def test_an_order_not_handed_over_by_the_cutoff_is_late() -> None:
    cal = calendar()
    assert not is_late(cal, MON, now=at(MON, 14, 59), handed_over_at=None)
    assert is_late(cal, MON, now=at(MON, 15, 1), handed_over_at=None)
    assert not is_late(cal, MON, now=at(TUE, 9), handed_over_at=at(MON, 14))
    assert is_late(cal, MON, now=at(TUE, 9), handed_over_at=at(TUE, 8))


def test_time_to_cutoff_counts_down_and_goes_negative() -> None:
    cal = calendar()
    assert time_to_cutoff(cal, MON, now=at(MON, 13, 15)) == timedelta(hours=1, minutes=45)
    assert time_to_cutoff(cal, MON, now=at(MON, 15, 30)) == -timedelta(minutes=30)


def test_the_cutoff_follows_daylight_saving_time() -> None:
    summer = date(2026, 7, 1)  # Warsaw is UTC+2
    assert calendar().cutoff_at(summer).astimezone(ZoneInfo("UTC")).hour == 13
    assert calendar().cutoff_at(MON).astimezone(ZoneInfo("UTC")).hour == 14


def test_a_calendar_with_no_pickup_day_ahead_says_so() -> None:
    every_day = [MON + timedelta(days=i) for i in range(400)]
    with pytest.raises(CalendarError):
        ship_by(calendar(holidays=every_day), at(MON, 16))
