"""Preschool supplement (kleutertoeslag), twice per child — ruleset v1 §6.2; decree art. 54–55.

- At age 3: the child turns 3 in year Y and is enrolled in recognised Dutch-language preschool no later than two
  months after its third birthday (an enrolment that starts by then and has not ended before the birthday).
  Period: the month of the third birthday.
- At age 4: the child turns 4 in year Y, is enrolled in preschool in the school year that starts in Y−1, and its
  preschool attendance in that school year reaches 150 half days **[decision: the contract carries no class]**.
  Period: the month of the first attendance report (``as_of``) that shows the threshold reached.
Amount: the one of the calendar year of the period.

Both periods are change months of the household (rules.changes.person_months: the third birthday's month, and
the month of every attendance report of the fourth birthday's school year), and so is the month after each. So
the amount, read for the period only, changes no other month's lines: its new value every January makes no
change month (rules.changes.parameter_months), or every January would be computed for every household.
"""
import datetime as dt

from rules.periods import add_years, month_of

COMPONENT = "preschool"
READ_IN_CHANGE_MONTHS_ONLY = ("preschool",)  # parameters read only for a line in a change month (above)
LEGAL = "Groeipakketdecreet 27.04.2018, art. 54-55; ruleset v1 §6.2"


def _add_months(day: dt.date, months: int) -> dt.date:
    month = month_of(day) + months
    year, m = month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def applies_to(calc, child) -> bool:
    return bool(child.enrolments or child.attendance)


def compute(cm):
    child = cm.child
    if not child.enrolments and not child.attendance:
        return None
    if cm.month == child.birth_month + 36:  # the month of the third birthday
        third = add_years(child.birth_date, 3)
        grace = cm.param("conditions.preschool_age_3_enrolment_grace_months")
        deadline = _add_months(third, grace.value)
        amount = cm.param("preschool", (cm.month // 12) * 12)  # January of the period's calendar year
        for enrolment in child.enrolments:
            if enrolment.level == "preschool" and enrolment.start <= deadline and enrolment.end >= third:
                return cm.line(COMPONENT, amount.value, f"preschool supplement at age 3: enrolled by "
                               f"{deadline.isoformat()}", LEGAL, (amount, grace),
                               (("third_birthday", third.isoformat()),), (enrolment.source,))
    fourth_year = child.birth_date.year + 4
    school_year = fourth_year - 1
    reports = child.attendance.get(school_year)
    if not reports:
        return None
    enrolment = next((e for e in child.enrolments if e.level == "preschool" and e.school_year == school_year), None)
    if enrolment is None:
        return None
    minimum = cm.param("conditions.preschool_age_4_min_half_days")
    reached = next((r for r in reports if r.preschool_half_days >= minimum.value), None)
    if reached is None or month_of(reached.as_of) != cm.month:
        return None
    amount = cm.param("preschool", (cm.month // 12) * 12)
    return cm.line(COMPONENT, amount.value, f"preschool supplement at age 4: {reached.preschool_half_days} half "
                   f"days attended by {reached.as_of.isoformat()} (>= {minimum.value})", LEGAL, (amount, minimum),
                   (("school_year", f"{school_year}-{school_year + 1}"),), (enrolment.source, reached.source))
