"""Entitlement of a child for month M (rechtgevend kind) — ruleset v1 §1; decree art. 8 (domicile) and
art. 9–10 (age limits).

A child is entitled in M when (1) it is alive in M (born by its last day, not deceased before its first day),
(2) its domicile is in the Flemish region on at least one day of M, and (3) M is not later than the month of its
18th birthday; or it has a valid care assessment (a care band, §5.3) in M and M is not later than the month of
its 21st birthday; or M is not later than the month of its 25th birthday and it is enrolled on at least one day
of M in secondary education or in higher education with at least 27 credits.
"""
from __future__ import annotations

from typing import NamedTuple

from rules import care
from rules.situation import Person


class EntitlementDecision(NamedTuple):
    entitled: bool
    basis: str  # why (or why not), in words
    sources: tuple[str, ...]


NOT_ALIVE = EntitlementDecision(False, "not alive in the month", ())
# The parameters the decision reads (rules.changes: a decision holds while none of them changes).
PARAMETERS = ("conditions.age_limit_unconditional", "conditions.age_limit_care", "conditions.age_limit_education",
              "conditions.higher_education_min_credits")


def decide(person: Person, month: int, values: dict) -> EntitlementDecision:
    """``values``: the parameter values in force in month M, by name (the age limits and the credits threshold)."""
    if person.birth_date is None or person.reference_day(month) is None:
        return NOT_ALIVE
    records = person.regions_in_month(month)
    flemish = [m.source for m in records if m.region == "flanders"]
    if not flemish:
        return EntitlementDecision(False, "domicile not in the Flemish region on any day of the month",
                                   tuple(m.source for m in records))
    sources = (person.birth_source, *flemish)
    months_old = month - person.birth_month
    if months_old <= 12 * values["conditions.age_limit_unconditional"].value:
        return EntitlementDecision(True, "alive, Flemish domicile, not past the month of the 18th birthday", sources)
    if months_old <= 12 * values["conditions.age_limit_care"].value:
        assessment = person.care_in_month(month)
        if assessment is not None and care.band(assessment.points_p1, assessment.points_total) is not None:
            return EntitlementDecision(True, "care assessment in force: entitled up to the month of the 21st "
                                             "birthday", (*sources, assessment.source))
    if months_old <= 12 * values["conditions.age_limit_education"].value:
        min_credits = values["conditions.higher_education_min_credits"].value
        for enrolment in person.enrolments_in_month(month):
            if enrolment.level == "secondary" or (enrolment.level == "higher" and (enrolment.credits or 0) >= min_credits):
                return EntitlementDecision(True, f"enrolled in {enrolment.level} education: entitled up to the "
                                                 "month of the 25th birthday", (*sources, enrolment.source))
    return EntitlementDecision(False, "past the age limit without care assessment or qualifying education", sources)
