"""Working days on the Jalali calendar, for case deadlines.

A case's deadline is counted in working days, the way Iranian administrative rules count
them: Friday is off, and so are the official holidays.  The solar holidays fall on the same
Jalali date every year (:func:`fixed_holidays`); the religious ones follow the lunar calendar
as announced each year, so the administrator adds them to the holiday list (the store's
``holidays`` table, edited on the central web app) — nothing here guesses a lunar date.

Deadlines end at the close of the office day in Tehran: a complaint received on Saturday
with a 3-day deadline is due at 23:59:59 Tehran time on Monday, or later if a holiday falls
in between.  A case received on a day off starts counting on the next working day.
Everything is pure: a :class:`WorkCalendar` is built from the holiday list and asked questions.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import jdatetime

from .messages import messages_for

__all__ = ["FRIDAY", "TEHRAN", "WorkCalendar", "fixed_holidays", "jalali_to_date"]

TEHRAN = ZoneInfo("Asia/Tehran")
#: ``date.weekday()`` of Friday.
FRIDAY = 4
_END_OF_DAY = time(23, 59, 59)
#: A search bound: no run of days off is this long, so a loop that reaches it is a bug.
_MAX_DAYS_OFF_IN_A_ROW = 60

#: (Jalali month, day, name's key in forms/translations) of the official holidays that never move.
_FIXED = (
    (1, 1, "holiday_nowruz"), (1, 2, "holiday_nowruz"), (1, 3, "holiday_nowruz"), (1, 4, "holiday_nowruz"),
    (1, 12, "holiday_republic_day"), (1, 13, "holiday_nature_day"),
    (3, 14, "holiday_khomeini_passing"), (3, 15, "holiday_khordad_15"),
    (11, 22, "holiday_revolution_victory"),
    (12, 29, "holiday_oil_nationalisation"),
)


def jalali_to_date(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali one; ``ValueError`` if it does not exist."""
    return jdatetime.date(year, month, day).togregorian()


@lru_cache(maxsize=64)
def fixed_holidays(jalali_year: int) -> tuple[tuple[date, str], ...]:
    """The official holidays of ``jalali_year`` that fall on the same date every year (the
    administrator adds the lunar ones: :mod:`forms.workdays`), named in Persian as the
    administrator names the ones added.  Kept once worked out: every case filed asks for
    three years of them (a fifth of a portal filing's time went into the Jalali dates)."""
    words = messages_for("forms")
    return tuple((jalali_to_date(jalali_year, m, d), words.text(key, "fa")) for m, d, key in _FIXED)


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days: every day but the ``weekend`` weekdays and ``holidays``."""

    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = field(default_factory=lambda: frozenset({FRIDAY}))

    @classmethod
    def of(cls, holidays: Iterable[date], weekend: Iterable[int] = (FRIDAY,)) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(weekend))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first one after it."""
        for _ in range(_MAX_DAYS_OFF_IN_A_ROW):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within {_MAX_DAYS_OFF_IN_A_ROW} days of {day}")

    def add_working_days(self, day: date, days: int) -> date:
        """The working day that is the ``days``-th one counting ``day`` (or the next working
        day, if ``day`` is off) as the first."""
        if days < 1:
            raise ValueError("a deadline is at least one working day")
        day = self.next_working_day(day)
        for _ in range(days - 1):
            day = self.next_working_day(day + timedelta(days=1))
        return day

    def deadline(self, received: datetime, days: int) -> datetime:
        """When a case received at ``received`` (aware) is due: the end of its ``days``-th
        working day in Tehran, as an aware UTC datetime."""
        local_day = received.astimezone(TEHRAN).date()
        due_day = self.add_working_days(local_day, days)
        return datetime.combine(due_day, _END_OF_DAY, TEHRAN).astimezone(timezone.utc)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]`` (negative when ``end`` is before ``start``), so
        ``working_days_between(today, due_day)`` is how many working days are left."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def working_days_left(self, due: datetime, now: datetime) -> int:
        """Working days from today (Tehran) to the due day; 0 = due today, negative = overdue
        by that many working days."""
        today = now.astimezone(TEHRAN).date()
        due_day = due.astimezone(TEHRAN).date()
        left = self.working_days_between(today, due_day)
        if now > due and left >= 0:  # past the end of the due day: overdue by at least one
            return -1
        return left
