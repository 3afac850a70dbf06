"""The situation (gezinssituatie) derived from the fact store: persons with valid-time histories, households.

Pure: built from the winning events of a :class:`tables.facts.FactStore` (or any iterable of accepted events),
it answers the questions the rules ask — which household a child belongs to in a month, who the parents in that
household are, the child's domicile, care assessments, enrolments, incomes — with the id of the source event
behind every answer, for the trace.

Decisions (ruleset §1 "state used for month M", contract §3):
- A person's household, role and domicile hold from the date of the event that sets them: ``person.registered``
  from ``occurred_on``, ``person.born`` from the birth date, ``person.adopted`` from ``joined_on`` (role child,
  domicile of the adoptive parents on that day), ``person.moved`` from ``occurred_on``. On the same date the
  later-recorded event wins.
- A child's birth date comes from its birth or registration; an adopted child only known by its adoption gets
  the birth date encoded in its INSZ.
- Parents (for the orphan supplement) are those of the birth or registration, replaced by the adoptive parents
  from ``joined_on``.
- A foster placement puts the child in the foster household from ``from_date`` to ``to_date``.
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rules import yearly_facts
from rules.periods import month_first_day, month_last_day, month_of, parse_period, parse_school_year
from rules.yearly_facts import ByYear, attendance_year, property_year, tax_year
from streams.identifiers import birth_date_from_insz

FAR_FUTURE = dt.date(9999, 12, 31)


@dataclass(frozen=True, slots=True)
class Membership:
    start: dt.date
    household: str
    role: str
    region: str | None
    source: str
    order: tuple = ()


@dataclass(frozen=True, slots=True)
class Placement:
    start: dt.date
    end: dt.date
    household: str
    kind: str
    source: str


@dataclass(frozen=True, slots=True)
class CareAssessment:
    start: dt.date
    end: dt.date  # effective end: valid_to, or the day before the next assessment
    points_p1: int
    points_total: int
    source: str


@dataclass(frozen=True, slots=True)
class Enrolment:
    school_year: int
    level: str
    start: dt.date
    end: dt.date  # to_date, or 31 August at the end of the school year
    credits: int | None
    source: str
    first_month: int = 0  # month indexes of start and end (for the per-month look-ups)
    last_month: int = 0


@dataclass(slots=True)
class Person:
    insz: str
    birth_date: dt.date | None = None
    birth_source: str | None = None
    born_here: bool = False  # known through person.born (the start grant at birth)
    birth_region: str | None = None
    adopted_on: dt.date | None = None
    adoption_source: str | None = None
    died_on: dt.date | None = None
    death_source: str | None = None
    legacy_group: str | None = None
    legacy_source: str | None = None
    memberships: list[Membership] = field(default_factory=list)
    membership_starts: list[dt.date] = field(default_factory=list)
    parents: list[tuple[dt.date, tuple[str, ...], str]] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    care: list[CareAssessment] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    attendance: ByYear = field(default_factory=lambda: ByYear(attendance_year))  # by school year (yearly_facts)
    childcare: dict[int, tuple[int, int, bool, str]] = field(default_factory=dict)
    tax: ByYear = field(default_factory=lambda: ByYear(tax_year))  # by income year
    property: ByYear = field(default_factory=lambda: ByYear(property_year))
    iban: tuple[str, str] | None = None
    birth_month: int = 0
    birth_order: tuple = ()

    # --- valid-time look-ups ------------------------------------------------------------------------------
    def membership_on(self, day: dt.date) -> Membership | None:
        i = bisect.bisect_right(self.membership_starts, day) - 1
        return self.memberships[i] if i >= 0 else None

    def alive_on(self, day: dt.date) -> bool:
        return (self.birth_date is None or self.birth_date <= day) and (self.died_on is None or self.died_on >= day)

    def placement_on(self, day: dt.date) -> Placement | None:
        for placement in self.placements:
            if placement.start <= day <= placement.end:
                return placement
        return None

    def regions_in_month(self, month: int) -> list[Membership]:
        """The membership records in force on at least one day of the month (for the domicile test)."""
        first, last = month_first_day(month), month_last_day(month)
        i = max(bisect.bisect_right(self.membership_starts, first) - 1, 0)
        j = bisect.bisect_right(self.membership_starts, last)
        return self.memberships[i:j]

    def parents_on(self, day: dt.date) -> tuple[tuple[str, ...], str | None]:
        current: tuple[tuple[str, ...], str | None] = ((), None)
        for start, parents, source in self.parents:
            if start <= day:
                current = (parents, source)
        return current

    def care_in_month(self, month: int) -> CareAssessment | None:
        """The latest assessment in force on at least one day of the month."""
        first, last = month_first_day(month), month_last_day(month)
        found = None
        for assessment in self.care:
            if assessment.start <= last and assessment.end >= first:
                found = assessment
        return found

    def enrolments_in_month(self, month: int) -> list[Enrolment]:
        return [e for e in self.enrolments if e.first_month <= month <= e.last_month]

    def reference_day(self, month: int) -> dt.date | None:
        """The day whose state counts for month M: its last day, or the day of death in the month of death;
        None when the person is not alive in M (not born by its last day, or died before its first day)."""
        last = month_last_day(month)
        if self.birth_date is not None and self.birth_date > last:
            return None
        if self.died_on is not None:
            if self.died_on < month_first_day(month):
                return None
            if self.died_on < last:
                return self.died_on
        return last


@dataclass(slots=True)
class HouseholdFile:
    """What the payer source said about a household: payer choices and designated receivers by month."""

    household_id: str
    payers: list[tuple[int, str, str]] = field(default_factory=list)  # (from month, payer, source)
    receivers: list[tuple[int, str, str]] = field(default_factory=list)

    def payer_in(self, month: int) -> tuple[str, str | None]:
        return _latest_until(self.payers, month) or ("FONS", None)

    def receiver_in(self, month: int) -> tuple[str, str] | None:
        return _latest_until(self.receivers, month)


def _latest_until(entries: list[tuple[int, str, str]], month: int) -> tuple[str, str] | None:
    found = None
    for start, value, source in entries:
        if start <= month:
            found = (value, source)
    return found


class Situation:
    """All persons and households known from a set of accepted events. A yearly fact (rules.yearly_facts) may
    also come as a :class:`rules.yearly_facts.StoredYearlyFact`, decoded only if a rule reads its year."""

    def __init__(self, events: Iterable) -> None:
        self.persons: dict[str, Person] = {}
        self.households: dict[str, HouseholdFile] = {}
        adoptions = []
        for event in events:
            handler = _HANDLERS.get(event.type)
            if handler is not None:
                handler(self, event)
            if event.type == "person.adopted":
                adoptions.append(event)
        for person in self.persons.values():
            _index_memberships(person)
        for event in adoptions:  # needs everyone's memberships to find the adoptive parents' domicile
            self._place_adoption(event)
        self.members_ever: dict[str, set[str]] = defaultdict(set)
        self.legacy_groups: dict[str, list[Person]] = defaultdict(list)
        for person in self.persons.values():
            self._finish(person)

    def person(self, insz: str) -> Person:
        person = self.persons.get(insz)
        if person is None:
            person = self.persons[insz] = Person(insz)
        return person

    def household(self, household_id: str) -> HouseholdFile:
        file = self.households.get(household_id)
        if file is None:
            file = self.households[household_id] = HouseholdFile(household_id)
        return file

    def _finish(self, person: Person) -> None:
        if person.birth_date is None:
            person.birth_date = birth_date_from_insz(person.insz)
        if person.birth_date is not None:
            person.birth_month = month_of(person.birth_date)
        _index_memberships(person)
        person.parents.sort(key=lambda p: p[0])
        person.placements.sort(key=lambda p: p.start)
        care = sorted(person.care, key=lambda c: c.start)
        person.care = [
            CareAssessment(c.start, min(c.end, care[i + 1].start - dt.timedelta(days=1)) if i + 1 < len(care) else c.end,
                           c.points_p1, c.points_total, c.source)
            for i, c in enumerate(care)
        ]
        person.enrolments.sort(key=lambda e: (e.start, e.level))
        for membership in person.memberships:
            self.members_ever[membership.household].add(person.insz)
        for placement in person.placements:
            self.members_ever[placement.household].add(person.insz)
        if person.legacy_group and person.birth_date and person.birth_date < dt.date(2019, 1, 1):
            self.legacy_groups[person.legacy_group].append(person)

    def _place_adoption(self, event) -> None:
        child = self.person(event.subject)
        joined = event.data.joined_on
        region = None
        for parent in event.data.parents:
            membership = self.persons[parent].membership_on(joined) if parent in self.persons else None
            if membership is not None and membership.region:
                region = membership.region
                break
        if region is None:
            previous = child.membership_on(joined)
            region = previous.region if previous else None
        child.memberships.append(Membership(joined, event.data.household_id, "child", region, event.event_id,
                                            (event.recorded_key, event.event_id)))


def _index_memberships(person: Person) -> None:
    person.memberships.sort(key=lambda m: (m.start, m.order))
    person.membership_starts = [m.start for m in person.memberships]


def _order(event) -> tuple:
    return event.recorded_key, event.event_id


def _registered(situation: Situation, event) -> None:
    data, person = event.data, situation.person(event.subject)
    _set_birth(person, data.birth_date, event)
    person.memberships.append(Membership(event.occurred_on, data.household_id, data.role, data.region,
                                         event.event_id, _order(event)))
    if data.parents:
        person.parents.append((data.birth_date, tuple(data.parents), event.event_id))
    if data.legacy_group:
        person.legacy_group, person.legacy_source = data.legacy_group, event.event_id


def _set_birth(person: Person, birth_date: dt.date, event) -> None:
    """Birth date from the most recently recorded of the person's birth and registration events."""
    if person.birth_source is None or _order(event) > person.birth_order:
        person.birth_date, person.birth_source, person.birth_order = birth_date, event.event_id, _order(event)


def _born(situation: Situation, event) -> None:
    data, person = event.data, situation.person(event.subject)
    _set_birth(person, data.birth_date, event)
    person.born_here, person.birth_region = True, data.region
    person.memberships.append(Membership(data.birth_date, data.household_id, "child", data.region,
                                         event.event_id, _order(event)))
    person.parents.append((data.birth_date, tuple(data.parents), event.event_id))


def _adopted(situation: Situation, event) -> None:
    person = situation.person(event.subject)
    person.adopted_on, person.adoption_source = event.data.joined_on, event.event_id
    person.parents.append((event.data.joined_on, tuple(event.data.parents), event.event_id))


def _died(situation: Situation, event) -> None:
    person = situation.person(event.subject)
    person.died_on, person.death_source = event.data.date_of_death, event.event_id


def _moved(situation: Situation, event) -> None:
    data = event.data
    situation.person(event.subject).memberships.append(
        Membership(event.occurred_on, data.household_id, data.role, data.region, event.event_id, _order(event)))


def _tax(situation: Situation, fact) -> None:
    situation.person(fact.subject).tax.add(*yearly_facts.entry(fact))


def _property(situation: Situation, fact) -> None:
    situation.person(fact.subject).property.add(*yearly_facts.entry(fact))


def _enrolled(situation: Situation, event) -> None:
    data = event.data
    year = parse_school_year(data.school_year)
    end = data.to_date or dt.date(year + 1, 8, 31)
    situation.person(event.subject).enrolments.append(
        Enrolment(year, data.level, data.from_date, end, data.credits, event.event_id, month_of(data.from_date),
                  month_of(end)))


def _attendance(situation: Situation, fact) -> None:
    situation.person(fact.subject).attendance.add(*yearly_facts.entry(fact))


def _childcare(situation: Situation, event) -> None:
    data = event.data
    situation.person(event.subject).childcare[parse_period(data.month)] = (
        data.full_days, data.half_days, data.income_related, event.event_id)


def _care(situation: Situation, event) -> None:
    data = event.data
    situation.person(event.subject).care.append(
        CareAssessment(data.valid_from, data.valid_to or FAR_FUTURE, data.points_p1, data.points_total,
                       event.event_id))


def _foster(situation: Situation, event) -> None:
    data = event.data
    situation.person(event.subject).placements.append(
        Placement(data.from_date, data.to_date or FAR_FUTURE, data.foster_household_id, data.kind, event.event_id))


def _payer(situation: Situation, event) -> None:
    situation.household(event.subject).payers.append((parse_period(event.data.from_month), event.data.payer,
                                                      event.event_id))
    situation.household(event.subject).payers.sort()


def _receiver(situation: Situation, event) -> None:
    situation.household(event.subject).receivers.append((parse_period(event.data.from_month), event.data.receiver,
                                                         event.event_id))
    situation.household(event.subject).receivers.sort()


def _bank_account(situation: Situation, event) -> None:
    situation.person(event.subject).iban = (event.data.iban, event.event_id)


_HANDLERS = {
    "person.registered": _registered, "person.born": _born, "person.adopted": _adopted, "person.died": _died,
    "person.moved": _moved, "tax.assessed": _tax, "property.assessed": _property,
    "education.enrolled": _enrolled, "education.attendance": _attendance, "childcare.attendance": _childcare,
    "care.assessed": _care, "care.foster_placed": _foster, "payer.chosen": _payer,
    "receiver.designated": _receiver, "bank_account.registered": _bank_account,
}
