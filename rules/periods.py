"""Periods (maanden), allocation years (toekenningsjaren), school years and due dates.

A month is handled as an integer index ``year * 12 + month - 1`` so that "the month of the 18th birthday"
is ``birth_month + 216`` and ranges are plain integer ranges. ``"2024-05"`` is the period text of the contract.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from functools import lru_cache

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])\Z")
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})\Z")


def month_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def parse_period(text: str) -> int:
    """``"2024-05"`` → month index; ValueError on anything else."""
    match = _PERIOD.match(text or "")
    if not match:
        raise ValueError(f"not a period YYYY-MM: {text!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


@lru_cache(maxsize=4096)
def period_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


@lru_cache(maxsize=4096)
def month_first_day(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


@lru_cache(maxsize=4096)
def month_last_day(month: int) -> dt.date:
    year, m = month // 12, month % 12 + 1
    return dt.date(year, m, calendar.monthrange(year, m)[1])


@lru_cache(maxsize=4096)
def days_in_month(month: int) -> int:
    return calendar.monthrange(month // 12, month % 12 + 1)[1]


def allocation_year_start(month: int) -> int:
    """Toekenningsjaar: 1 September – 31 August; the calendar year in which it starts."""
    year, m = month // 12, month % 12 + 1
    return year if m >= 9 else year - 1


def income_year(month: int) -> int:
    """The income year of month M: two years before the year in which its allocation year starts."""
    return allocation_year_start(month) - 2


def school_year_text(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


@lru_cache(maxsize=1024)
def parse_school_year(text: str) -> int:
    """``"2023-2024"`` → 2023; ValueError unless the second year follows the first. (Cached: every stored
    enrolment and attendance report is parsed again each time a household's situation is rebuilt.)"""
    match = _SCHOOL_YEAR.match(text or "")
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValueError(f"not a school year YYYY-YYYY+1: {text!r}")
    return int(match.group(1))


def add_years(day: dt.date, years: int) -> dt.date:
    """The anniversary ``years`` after ``day`` (29 February → 28 February in common years)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def regular_due_date(month: int) -> dt.date:
    """Monthly components and one-offs of period P: the 8th of P+1, on a weekend the last working day before."""
    day = month_first_day(month + 1).replace(day=8)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def childcare_due_date(month: int) -> dt.date:
    """``childcare`` of period P: the 20th of P+1, on a weekend the next working day."""
    day = month_first_day(month + 1).replace(day=20)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
