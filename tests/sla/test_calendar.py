"""Business calendars count working time only: weekends, holidays, time zones, DST and midnight.

Pure functions: no database, no app.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.sla.calendar import (
    Calendar,
    SlaConfigError,
    add_business_days,
    add_business_time,
    business_seconds_between,
    next_opening,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = Calendar({day: [["09:00", "17:00"]] for day in WEEKDAYS})  # UTC
HOUR = 3600


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# 2026-11-27 is a Friday, 2026-11-30 a Monday.


def test_friday_afternoon_plus_two_hours_lands_on_monday_morning():
    assert add_business_time(OFFICE, utc(2026, 11, 27, 16), 2 * HOUR) == utc(2026, 11, 30, 10)


def test_time_used_up_exactly_at_closing_ends_at_closing_not_next_morning():
    assert add_business_time(OFFICE, utc(2026, 11, 27, 16), HOUR) == utc(2026, 11, 27, 17)


@pytest.mark.parametrize(
    "start, expected",
    [
        (utc(2026, 11, 28, 11), utc(2026, 11, 30, 10)),  # Saturday: counts from Monday 09:00
        (utc(2026, 11, 24, 6), utc(2026, 11, 24, 10)),  # Tuesday before opening
        (utc(2026, 11, 24, 18), utc(2026, 11, 25, 10)),  # Tuesday after closing
        (utc(2026, 11, 24, 17), utc(2026, 11, 25, 10)),  # exactly at closing
    ],
)
def test_a_start_outside_working_hours_counts_from_the_next_opening(start, expected):
    assert add_business_time(OFFICE, start, HOUR) == expected


def test_adding_several_business_days_of_time_skips_each_weekend():
    # 40 business hours from Monday 09:00 is Friday 17:00; 41 is the Monday after at 10:00.
    assert add_business_time(OFFICE, utc(2026, 11, 23, 9), 40 * HOUR) == utc(2026, 11, 27, 17)
    assert add_business_time(OFFICE, utc(2026, 11, 23, 9), 41 * HOUR) == utc(2026, 11, 30, 10)


def test_holidays_have_no_working_time():
    calendar = Calendar(OFFICE.hours, holidays={"2026-11-26": "Company day"})  # Thursday
    assert add_business_time(calendar, utc(2026, 11, 25, 16), 2 * HOUR) == utc(2026, 11, 27, 10)
    assert business_seconds_between(calendar, utc(2026, 11, 25, 9), utc(2026, 11, 28, 9)) == 16 * HOUR


def test_saturday_hours_count_when_the_calendar_has_them():
    calendar = Calendar({**OFFICE.hours, "sat": [["10:00", "14:00"]]})
    assert add_business_time(calendar, utc(2026, 11, 27, 16), 2 * HOUR) == utc(2026, 11, 28, 11)
    assert add_business_time(calendar, utc(2026, 11, 27, 16), 6 * HOUR) == utc(2026, 11, 30, 10)


def test_several_ranges_a_day_skip_the_lunch_break():
    calendar = Calendar({day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WEEKDAYS})
    assert add_business_time(calendar, utc(2026, 11, 24, 11), 2 * HOUR) == utc(2026, 11, 24, 14)


def test_business_seconds_between_counts_only_working_time_and_is_signed():
    friday, monday = utc(2026, 11, 27, 16), utc(2026, 11, 30, 10)
    assert business_seconds_between(OFFICE, friday, monday) == 2 * HOUR
    assert business_seconds_between(OFFICE, monday, friday) == -2 * HOUR
    assert business_seconds_between(OFFICE, utc(2026, 11, 28, 8), utc(2026, 11, 29, 20)) == 0


def test_working_hours_are_wall_clock_hours_in_the_calendar_zone():
    berlin = Calendar(OFFICE.hours, "Europe/Berlin")  # UTC+1 in November
    assert next_opening(berlin, utc(2026, 11, 24, 6)) == utc(2026, 11, 24, 8)
    assert add_business_time(berlin, utc(2026, 11, 24, 15), 2 * HOUR) == utc(2026, 11, 25, 9)


def test_a_week_ahead_of_utc_closes_friday_before_utc_noon():
    tokyo = Calendar(OFFICE.hours, "Asia/Tokyo")  # UTC+9: Friday 17:00 is 08:00 UTC
    assert add_business_time(tokyo, utc(2026, 11, 27, 7), 2 * HOUR) == utc(2026, 11, 30, 1)


def test_spring_forward_weekend_keeps_monday_opening_at_nine_local():
    # Europe/Berlin moves to UTC+2 on Sunday 2026-03-29: Friday 16:00 local is 15:00 UTC,
    # Monday 10:00 local is 08:00 UTC.
    berlin = Calendar(OFFICE.hours, "Europe/Berlin")
    assert add_business_time(berlin, utc(2026, 3, 27, 15), 2 * HOUR) == utc(2026, 3, 30, 8)


def test_the_night_clocks_go_back_counts_the_hour_that_really_passed():
    # A night shift Saturday 22:00 to Sunday 06:00 in Berlin on 2026-10-24/25 lasts 9 real hours.
    nights = Calendar({"sat": [["22:00", "06:00"]]}, "Europe/Berlin")
    assert business_seconds_between(nights, utc(2026, 10, 24, 0), utc(2026, 10, 26, 0)) == 9 * HOUR
    assert add_business_time(nights, utc(2026, 10, 24, 0), 9 * HOUR) == utc(2026, 10, 25, 5)


def test_a_night_shift_runs_across_midnight():
    nights = Calendar({"fri": [["20:00", "04:00"]]})
    assert add_business_time(nights, utc(2026, 11, 27, 23), 2 * HOUR) == utc(2026, 11, 28, 1)
    assert business_seconds_between(nights, utc(2026, 11, 27, 0), utc(2026, 11, 29, 0)) == 8 * HOUR


def test_hours_ending_at_midnight_continue_into_the_next_day():
    late = Calendar({"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]})
    assert add_business_time(late, utc(2026, 11, 23, 23), 2 * HOUR) == utc(2026, 11, 24, 1)


def test_business_days_keep_the_wall_clock_time():
    assert add_business_days(OFFICE, utc(2026, 11, 27, 15, 30), 1) == utc(2026, 11, 30, 15, 30)
    assert add_business_days(OFFICE, utc(2026, 11, 24, 10), 2) == utc(2026, 11, 26, 10)


def test_business_days_skip_holidays():
    calendar = Calendar(OFFICE.hours, holidays={"2026-11-30": "Company day"})  # Monday
    assert add_business_days(calendar, utc(2026, 11, 27, 10), 1) == utc(2026, 12, 1, 10)


def test_business_days_from_outside_hours_count_from_the_next_opening():
    assert add_business_days(OFFICE, utc(2026, 11, 28, 11), 1) == utc(2026, 12, 1, 9)  # Saturday
    assert add_business_days(OFFICE, utc(2026, 11, 24, 20), 0) == utc(2026, 11, 25, 9)


def test_business_days_landing_outside_that_days_hours_move_to_the_next_opening():
    calendar = Calendar({**OFFICE.hours, "sat": [["10:00", "14:00"]]})
    assert add_business_days(calendar, utc(2026, 11, 27, 15), 1) == utc(2026, 11, 30, 9)


def test_business_days_keep_local_time_across_a_dst_change():
    berlin = Calendar(OFFICE.hours, "Europe/Berlin")
    # Friday 2026-03-27 10:00 local (09:00 UTC) -> Monday 10:00 local, now UTC+2.
    assert add_business_days(berlin, utc(2026, 3, 27, 9), 1) == utc(2026, 3, 30, 8)


def test_results_are_utc_whatever_zone_the_start_is_given_in():
    start = utc(2026, 11, 27, 16).astimezone(ZoneInfo("America/New_York"))
    result = add_business_time(OFFICE, start, 2 * HOUR)
    assert result == utc(2026, 11, 30, 10) and result.tzinfo is UTC


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(SlaConfigError) as refused:
        Calendar({"sat": []})
    assert "no working time" in refused.value.errors["hours"]


def test_a_calendar_names_every_wrong_field():
    with pytest.raises(SlaConfigError) as refused:
        Calendar(
            {"mon": [["25:00", "10:00"]], "funday": [["09:00", "17:00"]], "tue": [["09:00", "09:00"]]},
            "Mars/Olympus_Mons",
            {"not-a-date": "Party"},
        )
    assert set(refused.value.errors) == {
        "hours.mon[0]",
        "hours.funday",
        "hours.tue[0]",
        "timezone",
        "holidays.not-a-date",
    }


def test_naive_datetimes_and_negative_amounts_are_refused():
    with pytest.raises(ValueError):
        add_business_time(OFFICE, datetime(2026, 11, 27, 16), HOUR)
    with pytest.raises(ValueError):
        add_business_time(OFFICE, utc(2026, 11, 27, 16), -1)
    with pytest.raises(ValueError):
        add_business_days(OFFICE, utc(2026, 11, 27, 16), -1)
