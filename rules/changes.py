"""Change months (wijzigingsmaanden): the months in which a household's amounts or their traces can change.

A household's lines for month M depend only on facts read for M, and those facts are constant between their
dates. So when M is not a change month of the household, its lines are those of M−1 with the period changed, and
:meth:`rules.calculator.Calculator.entitlements` computes a period of constant facts once and re-dates its lines
for the months that follow. A change month is a month in which at least one of these may differ from the month
before:

- the parameters: a value dated d is first in force in the month of d (d the 1st) or the next one — but for
  the parameters read only for a line that falls in a change month of the household anyway (the preschool
  supplement's yearly amount: rules/preschool.py), whose new values change no other month;
- every July and August (school bonus, §6.1; without another change July is June plus the school bonus and
  August is June) and every September (allocation year and income year, §4.4; school year, §6.4);
- of every person ever a member of (or placed in) the household, and of every member of the legacy groups of
  those persons (the eldest entitled transitional child, §4.3): the month of birth and of death; every
  membership start (household, role and domicile on the reference day, domicile on any day of the month, §1);
  every placement start and end (§5.2); every start of a parents list and the death of any parent in it (switch
  to the new system, §2; orphan supplement, §5.1); every care assessment start and end (§1, §5.3); every
  enrolment's first and last month (§1, §6.2–6.4); every childcare month (§6.3); every attendance report
  of the school year of the fourth birthday (§6.2; the school allowance reads a year's last report only,
  §6.4); the adoption (§7); the months in which an age limit or band is passed (§1, §4.3) and the third
  birthday (§6.2), for every value the age parameters take;
- the month in which a member's school allowance is due for a school year (§6.4).

A fact dated within a month (a placement, a parents list, a death) changes that month and the next; a
membership changes the month it starts and, unless it starts on the 1st, the next; a fact that holds from month
to month (an enrolment, a care assessment) changes its first month and the month after its last. Taking too
many months only costs time; a missing one would repeat the lines of an earlier month, so a rule that starts to
read a new fact must add its dates here. The same months tell how long a person's place, entitlement decision
and regime, and a household-month's members, hold (Calculator.facts_period). tests/test_change_months.py
compares the re-dated lines with each month computed on its own, over simulated and random populations.
"""
from __future__ import annotations

import bisect
from functools import lru_cache

from rules import preschool, school_allowance
from rules.periods import month_of
from rules.situation import Person

# The parameters that are ages in years, counted from the month of birth (entitlement limits, age bands).
AGE_PARAMETERS = ("conditions.age_limit_unconditional", "conditions.age_limit_care",
                  "conditions.age_limit_education", "conditions.age_band_6_11_from",
                  "conditions.age_band_12_17_from", "conditions.age_band_18_plus_from")
YEARLY_MONTHS = {6, 7, 8}  # July, August, September (month % 12)
FAR_MONTH = 10_000 * 12


@lru_cache(maxsize=16)
def parameter_months(params, names: tuple[str, ...] | None = None) -> tuple[int, ...]:
    """The months in which a value of a parameter (of those named; default all but those read only in change
    months, ``preschool.READ_IN_CHANGE_MONTHS_ONLY``) starts to be in force, in order: a month reads the values
    in force on its first day (:meth:`rules.parameters.Parameter.at_month`). Cached per set of parameters: a
    calculator is built for every household state."""
    chosen = ([parameter for parameter in params if parameter.name not in preschool.READ_IN_CHANGE_MONTHS_ONLY]
              if names is None else [params[name] for name in names])
    return tuple(sorted({month_of(day) if day.day == 1 else month_of(day) + 1
                         for parameter in chosen for day in parameter.dates}))


def last_month_before_change(months: tuple[int, ...], month: int) -> int:
    """The last month from ``month`` on before the next of the change months ``months`` (in order) after it."""
    i = bisect.bisect_right(months, month)
    return months[i] - 1 if i < len(months) else FAR_MONTH


def period_of(months: tuple[int, ...], month: int) -> tuple[int, int]:
    """The first and last month of the period without a change month of ``months`` (in order) that holds
    ``month``."""
    i = bisect.bisect_right(months, month)
    return (months[i - 1] if i else -FAR_MONTH), (months[i] - 1 if i < len(months) else FAR_MONTH)


def ages_in_years(params) -> set[int]:
    """Every value the age parameters take."""
    return {value.value for name in AGE_PARAMETERS for value in params[name].values if value is not None}


def person_months(person: Person, persons: dict[str, Person], ages: set[int]) -> tuple[int, ...]:
    """The change months due to the facts about ``person`` the rules read, in order."""
    months: set[int] = set()
    add = months.add
    # Dates whose month and the month after are change months.
    days = [start for start, _, _ in person.parents]
    if person.died_on is not None:
        days.append(person.died_on)
    if person.adopted_on is not None:
        days.append(person.adopted_on)
    for placement in person.placements:
        days += (placement.start, placement.end)
    if person.attendance and person.birth_date is not None:  # the preschool supplement at 4 reads that year's
        days += [report.as_of for report in person.attendance.get(person.birth_date.year + 3, ())]
    for month in person.childcare:
        add(month)
        add(month + 1)
    for day in days:
        month = day.year * 12 + day.month - 1
        add(month)
        add(month + 1)
    # A membership holds from the month of its start (the reference day is the last day); the one before it is
    # in force on a day of that month unless it starts on the 1st (the domicile on any day of the month).
    for membership in person.memberships:
        start = membership.start
        add(start.year * 12 + start.month - 1)
        if start.day != 1:
            add(start.year * 12 + start.month)
    # Facts that hold from a month to a month (both included), and deaths counted from their month.
    for assessment in person.care:
        add(month_of(assessment.start))
        add(month_of(assessment.end) + 1)
    for enrolment in person.enrolments:
        add(enrolment.first_month)
        add(enrolment.last_month + 1)
    for _, parents, _ in person.parents:
        for insz in parents:
            parent = persons.get(insz)
            if parent is not None and parent.died_on is not None:
                add(month_of(parent.died_on))
    if person.birth_date is not None:
        birth = person.birth_month
        months.update((birth, birth + 1, birth + 36, birth + 37))  # birth, third birthday
        for age in ages:  # an age limit or band passed: from the month after that birthday's month
            add(birth + 12 * age + 1)
    return tuple(sorted(months))


def fact_months(calc, household_id: str) -> tuple[int, ...]:
    """The change months of a household due to the facts of its members and their legacy groups, in order
    (without the parameters, the yearly months and the school allowance)."""
    groups = calc.situation.legacy_groups
    members = calc.members(household_id)
    people = {person.insz: person for person in members}
    for person in members:
        if person.legacy_group is not None:
            people.update((other.insz, other) for other in groups.get(person.legacy_group, ()))
    months: set[int] = set()
    for person in people.values():
        months.update(calc.person_change_months(person))
    return tuple(sorted(months))


def household_months(calc, household_id: str, years: list[int], month_after_due: bool = True) -> set[int]:
    """The change months of a household, for the school years (allocation years) ``years``.

    ``month_after_due=False``: without the month after a school allowance's due month, which differs from the
    due month by that line only (no other rule reads the school allowance), for a caller that leaves the line
    out of the months after the due month (tables.forecast)."""
    months = set(calc.fact_change_months(household_id))  # a set: looked up month by month
    months.update(calc.parameter_change_months)
    for person in calc.members(household_id):
        if person.enrolments:
            for year in years:
                due = school_allowance.due_month(calc, person, year)
                if due is not None:
                    months.update((due, due + 1) if month_after_due else (due,))
    return months


def is_change_month(month: int, changes: set[int]) -> bool:
    return month % 12 in YEARLY_MONTHS or month in changes


def month_with_same_facts(month: int, done: dict, changes: set[int]) -> int | None:
    """An earlier month in ``done`` with the same lines as ``month`` but for the period, or None: the month
    before when ``month`` is not a change month; for August, June when no fact changed in July or August (July
    only adds the school bonus)."""
    if month - 1 in done and not is_change_month(month, changes):
        return month - 1
    if (month % 12 == 7 and month - 1 in done and month - 2 in done and month - 1 not in changes
            and month not in changes):
        return month - 2
    return None


def only_school_bonus_added(month: int, done: dict, changes: set[int]) -> bool:
    """Whether ``month`` is a July with the facts of June (in ``done``): its lines are June's and the school
    bonus of every entitled child (June then has no one-off line either: the month after one is a change
    month)."""
    return month % 12 == 6 and month - 1 in done and month not in changes
