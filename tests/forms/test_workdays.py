"""Working days on the Jalali calendar: Fridays and official holidays are off (workdays.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from forms.workdays import TEHRAN, WorkCalendar, fixed_holidays, jalali_to_date

# 1405-09-08 (Saturday) .. : 2026-11-29 is a Sunday in Gregorian terms; pick by weekday.
SATURDAY = date(2026, 11, 28)
assert SATURDAY.weekday() == 5


def test_fixed_holidays_include_nowruz_and_the_revolution_day() -> None:
    days = dict(fixed_holidays(1405))
    assert days[jalali_to_date(1405, 1, 1)] == "عید نوروز"
    assert jalali_to_date(1405, 11, 22) in days
    assert len(days) == 10


def test_friday_is_not_a_working_day() -> None:
    calendar = WorkCalendar()
    assert not calendar.is_working_day(date(2026, 12, 4))  # a Friday
    assert calendar.is_working_day(date(2026, 12, 3))      # Thursday works unless told


def test_three_working_days_from_saturday_end_on_monday() -> None:
    assert WorkCalendar().add_working_days(SATURDAY, 3) == date(2026, 11, 30)


def test_a_week_of_working_days_skips_the_friday() -> None:
    assert WorkCalendar().add_working_days(SATURDAY, 7) == date(2026, 12, 5)


def test_a_holiday_pushes_the_deadline_a_day() -> None:
    holiday = date(2026, 11, 29)
    assert WorkCalendar.of({holiday}).add_working_days(SATURDAY, 3) == date(2026, 12, 1)


def test_a_case_received_on_friday_starts_counting_on_saturday() -> None:
    friday = date(2026, 11, 27)
    assert WorkCalendar().add_working_days(friday, 1) == SATURDAY


def test_nowruz_holidays_are_all_skipped() -> None:
    calendar = WorkCalendar.of(d for d, _ in fixed_holidays(1405))
    eve = jalali_to_date(1404, 12, 28)
    due = calendar.add_working_days(eve, 2)
    assert due > jalali_to_date(1405, 1, 4)
    assert all(calendar.is_working_day(d) is False for d, _ in fixed_holidays(1405))


def test_deadline_is_the_end_of_the_day_in_tehran() -> None:
    received = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)  # Saturday morning in Tehran
    due = WorkCalendar().deadline(received, 3)
    local = due.astimezone(TEHRAN)
    assert (local.date(), local.hour, local.minute) == (date(2026, 11, 30), 23, 59)


def test_an_evening_case_in_utc_counts_from_the_tehran_day() -> None:
    late_friday_utc = datetime(2026, 11, 27, 21, 0, tzinfo=timezone.utc)  # 00:30 Saturday in Tehran
    due = WorkCalendar().deadline(late_friday_utc, 1)
    assert due.astimezone(TEHRAN).date() == SATURDAY


def test_working_days_left_counts_down_and_goes_negative() -> None:
    calendar = WorkCalendar()
    due = calendar.deadline(datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc), 3)  # Monday
    assert calendar.working_days_left(due, datetime(2026, 11, 28, 8, tzinfo=timezone.utc)) == 2
    assert calendar.working_days_left(due, datetime(2026, 11, 30, 8, tzinfo=timezone.utc)) == 0
    assert calendar.working_days_left(due, datetime(2026, 12, 1, 8, tzinfo=timezone.utc)) == -1
    assert calendar.working_days_left(due, datetime(2026, 12, 3, 8, tzinfo=timezone.utc)) == -3


def test_a_deadline_needs_at_least_one_day() -> None:
    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(SATURDAY, 0)
