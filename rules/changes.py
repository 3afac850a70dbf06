"""Change months (wijzigingsmaanden): the months in which a household's amounts or their traces can change.

A household's lines for month M depend only on facts read for M, and those facts are constant between their
dates. So when M is not a change month of the household, its lines are those of M−1 with the period changed, and
:meth:`rules.calculator.Calculator.entitlements` computes a period of constant facts once and re-dates its lines
for the months that follow. A change month is a month in which at least one of these may differ from the month
before:

- the parameters: a value dated d is first in force in the month of d (d the 1st) or the next one;
- every July and August (school bonus, §6.1; August has the facts of June when none changed in July and
  August) and every September (allocation year and income year, §4.4; school
  year, §6.4);
- of every person ever a member of (or placed in) the household, and of every member of the legacy groups of
  those persons (the eldest entitled transitional child, §4.3): the month of birth and of death; every
  membership start (household, role and domicile on the reference day, domicile on any day of the month, §1);
  every placement start and end (§5.2); every start of a parents list and the death of any parent in it (switch
  to the new system, §2; orphan supplement, §5.1); every care assessment start and end (§1, §5.3); every
  enrolment's first and last month (§1, §6.2–6.4); every childcare month (§6.3); every attendance report
  (§6.2); the adoption (§7); the months in which an age limit or band is passed (§1, §4.3) and the third
  birthday (§6.2), for every value the age parameters take;
- the month in which a member's school allowance is due for a school year (§6.4).

For each date of a person's facts both its month and the next are change months (an end holds up to its day).
Taking too many months only costs time; a missing one would repeat the lines of the month before, so a rule that
starts to read a new fact must add its dates here. tests/test_change_months.py compares the re-dated lines with a computation
month by month over simulated and random populations.
"""
from __future__ import annotations

from rules import school_allowance
from rules.periods import month_of
from rules.situation import Person

# The parameters that are ages in years, counted from the month of birth (entitlement limits, age bands).
AGE_PARAMETERS = ("conditions.age_limit_unconditional", "conditions.age_limit_care",
                  "conditions.age_limit_education", "conditions.age_band_6_11_from",
                  "conditions.age_band_12_17_from", "conditions.age_band_18_plus_from")
YEARLY_MONTHS = {6, 7, 8}  # July, August, September (month % 12)


def parameter_months(params) -> set[int]:
    """The months in which a parameter value starts to be in force: a month reads the values in force on its
    first day (:meth:`rules.parameters.Parameter.at_month`)."""
    return {month_of(day) if day.day == 1 else month_of(day) + 1 for parameter in params for day in parameter.dates}


def ages_in_years(params) -> set[int]:
    """Every value the age parameters take."""
    return {value.value for name in AGE_PARAMETERS for value in params[name].values if value is not None}


def person_months(person: Person, persons: dict[str, Person], ages: set[int], parameters: set[int]) -> tuple[int, ...]:
    """The change months due to the facts about ``person`` the rules read, and to the parameters."""
    days = [person.died_on, person.adopted_on]  # the month of the date and the month after
    days += [membership.start for membership in person.memberships]
    for placement in person.placements:
        days += (placement.start, placement.end)
    days += [start for start, _, _ in person.parents]
    for reports in person.attendance.values():
        days += [report.as_of for report in reports]
    months = {month_of(day) for day in days if day is not None}
    months.update(person.childcare)
    if person.birth_date is not None:
        months.update((person.birth_month, person.birth_month + 36))  # birth, third birthday
    months |= {month + 1 for month in months}
    # Facts that hold from a month to a month (both included), and deaths counted from their month.
    for assessment in person.care:
        months.update((month_of(assessment.start), month_of(assessment.end) + 1))
    for enrolment in person.enrolments:
        months.update((enrolment.first_month, enrolment.last_month + 1))
    for _, parents, _ in person.parents:
        months.update(month_of(persons[insz].died_on) for insz in parents
                      if insz in persons and persons[insz].died_on is not None)
    if person.birth_date is not None:  # an age limit or band passed: from the month after that birthday's month
        months.update(person.birth_month + 12 * age + 1 for age in ages)
    return tuple(sorted(months | parameters))


def fact_months(calc, household_id: str) -> set[int]:
    """The change months of a household due to the parameters and the facts of its members and their legacy
    groups (without the yearly months and the school allowance)."""
    groups = calc.situation.legacy_groups
    members = calc.members(household_id)
    people = {person.insz: person for person in members}
    for person in members:
        if person.legacy_group is not None:
            people.update((other.insz, other) for other in groups.get(person.legacy_group, ()))
    months = set(calc.parameter_change_months)
    for person in people.values():
        months.update(calc.person_change_months(person))
    return months


def household_months(calc, household_id: str, years: list[int]) -> set[int]:
    """The change months of a household, for the school years (allocation years) ``years``."""
    months = set(calc.fact_change_months(household_id))
    for person in calc.members(household_id):
        if person.enrolments:
            for year in years:
                due = school_allowance.due_month(calc, person, year)
                if due is not None:
                    months.update((due, due + 1))
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
