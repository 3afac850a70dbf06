"""A person's facts that hold for one year (jaargegevens): tax assessments and property by income year,
attendance reports by school year — read one year at a time, and made only for the years a rule reads.

A household's stored history holds several years of these facts (at a September close: on average 21 of its
34 facts, for 5–6 income years and two school years), while the rules of a month read one income year (the
family income of the allocation year, §4.4 and §6.4) and one or two school years (the school allowance, §6.4;
the preschool supplement at 4, §6.2). A :class:`ByYear` keeps, per year, how to load the facts of that year, and
makes the year's value (what the rules read: :func:`tax_year`, :func:`property_year`, :func:`attendance_year`)
when it is first read: a situation rebuilt from stored facts decodes only the years its rules ask for. Every
rule reads these facts through ``get(year)`` (or asks whether there are any), so the values are those the
situation would hold had it made every year at once (``tests/test_yearly_facts.py``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from rules.periods import parse_school_year

Load = Callable[[], object]  # returns one decoded source event
YEARLY_TYPES = ("tax.assessed", "property.assessed", "education.attendance")


@dataclass(frozen=True, slots=True)
class Attendance:
    as_of: dt.date
    preschool_half_days: int
    unauthorised_absence_half_days: int
    source: str


class StoredYearlyFact(NamedTuple):
    """A yearly fact read back and not decoded: what a situation needs to place it, and how to decode it."""

    type: str
    subject: str
    year: int
    load: Load


class ByYear(dict):
    """Year -> the value the rules read, made from the year's facts when the year is first read."""

    __slots__ = ("_pending", "_make")

    def __init__(self, make: Callable[[list], object]):
        super().__init__()
        self._pending: dict[int, list[Load]] = {}
        self._make = make  # the year's events (in the order they were added) -> the year's value

    def add(self, year: int, load: Load) -> None:
        """A fact of ``year``, loaded (decoded) when the year is first read."""
        self._pending.setdefault(year, []).append(load)

    def get(self, year: int, default=None):
        pending = self._pending.pop(year, None)
        if pending is not None:
            self[year] = self._make([load() for load in pending])
        return super().get(year, default)

    def __bool__(self) -> bool:
        return bool(self._pending) or dict.__len__(self) > 0

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._pending)


def tax_year(events: list) -> tuple[object, str]:
    """The assessment of the income year (one per person and year: its natural key) and its source event."""
    event = events[-1]
    return event.data, event.event_id


def property_year(events: list) -> list[tuple[object, str]]:
    """Every parcel assessed for the income year, with its source event."""
    return [(event.data, event.event_id) for event in events]


def attendance_year(events: list) -> list[Attendance]:
    """The school year's attendance reports, in the order of their ``as_of`` date."""
    reports = [Attendance(event.data.as_of, event.data.preschool_half_days,
                          event.data.unauthorised_absence_half_days, event.event_id) for event in events]
    reports.sort(key=lambda report: report.as_of)
    return reports


def year_of(event_type: str, year_part) -> int:
    """The year a yearly fact holds for, from its income year or its school year's text (the year part of its
    natural key: tables.facts.natural_key)."""
    return parse_school_year(year_part) if event_type == "education.attendance" else year_part


def entry(fact) -> tuple[int, Load]:
    """The year of a yearly fact (a decoded event or a :class:`StoredYearlyFact`) and how to load it."""
    if isinstance(fact, StoredYearlyFact):
        return fact.year, fact.load
    data = fact.data
    year = year_of(fact.type, data.school_year if fact.type == "education.attendance" else data.income_year)
    return year, lambda: fact
