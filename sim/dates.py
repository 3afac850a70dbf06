"""Calendar arithmetic of the simulator: instants in seconds, month indexes, allocation (school) years.

An *instant* is seconds since day 0 of the proleptic calendar (``date.toordinal() * DAY``); a *month index* is
``year * 12 + month - 1``. The allocation year (*toekenningsjaar*) and the school year both start on 1 September.
"""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

DAY = 86_400
YEAR_DAYS = 365.2425
ORD_MIN = dt.date(1900, 1, 1).toordinal()
ORD_MAX = dt.date(2100, 12, 31).toordinal()


def parse_month(text: str) -> tuple[int, int]:
    """``"YYYY-MM"`` as ``(year, month)``; a clear ``ValueError`` otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        dt.date(year, month, 1)
    except (ValueError, AttributeError):
        raise ValueError(f"not a month YYYY-MM: {text!r}") from None
    return year, month


def last_day(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def alloc_start(day: dt.date) -> int:
    """The calendar year in which the allocation year (and the school year) of ``day`` starts."""
    return day.year if day.month >= 9 else day.year - 1


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_first(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_last(index: int) -> dt.date:
    return last_day(index // 12, index % 12 + 1)


@lru_cache(maxsize=65_536)
def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def format_instant(instant: int) -> str:
    """Seconds since day 0 of the proleptic calendar (``date.toordinal() * 86400``) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    seconds = instant % DAY
    return f"{_iso(instant // DAY)}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def hazard_probability(rate: float, years: float) -> float:
    """Probability of at least one occurrence of a yearly hazard over ``years``."""
    return 1.0 - math.exp(-rate * years)
