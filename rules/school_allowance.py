"""School allowance (schooltoeslag, selectieve participatietoeslag leerling), per school year — ruleset v1 §6.4
**[assumed model]**; decree art. 24–48.

School year S runs 1 September Y – 31 August Y+1. A pupil enrolled in recognised Flemish preschool (counting from
the month in which it is 3 years old), primary or secondary education during S, with fewer than 30 half days of
unauthorised absence in S (the latest attendance report of S), in a household whose family income (income year
Y−2, as for the social supplement; none while a parent's assessment is missing) is within the thresholds for its
points — the number of entitled children in its household in September Y, at most 20. Period: the first month of
S in which the pupil is enrolled, entitled and qualifies. Amount: preschool a fixed amount if income ≤ max;
primary and secondary (day pupil): income ≤ min → full; min < income ≤ max → minimum + (full − minimum) ×
(max − income) / (max − min), rounded half-up; income > max → nothing. With two levels in the month, the higher
amount (decree art. 45).
"""
from __future__ import annotations

from fractions import Fraction

from rules.money import euro, round_half_up
from rules.periods import allocation_year_start

COMPONENT = "school_allowance"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 24-48; ruleset v1 §6.4"
LEVELS = ("preschool", "primary", "secondary")


def applies_to(calc, child) -> bool:
    return bool(child.enrolments)


def compute(cm):
    if not cm.child.enrolments:
        return None
    decision = _decision(cm.calc, cm.child, allocation_year_start(cm.month))
    if decision is None or decision[0] != cm.month:
        return None
    _, amount, rule, params, inputs, sources = decision
    return cm.line(COMPONENT, amount, rule, LEGAL, params, inputs, sources)


def due_month(calc, child, year: int) -> int | None:
    """The month in which the pupil's allowance for school year ``year`` is due (None: none is due)."""
    decision = _decision(calc, child, year)
    return decision[0] if decision is not None else None


def absence_limit(params, year: int):
    """The most unauthorised absence (half days) allowed in school year ``year``: the value in force in its
    September."""
    return params["conditions.school_allowance_max_unauthorised_absence_half_days"].at_month(year * 12 + 8)


def absence_bars(limit, absence_half_days: int) -> bool:
    """Whether the latest attendance report's unauthorised absence bars the allowance (no report: no absence),
    ``limit`` being the year's :func:`absence_limit`. The only way an attendance report enters the amount."""
    return absence_half_days >= limit.value


def _decision(calc, child, year: int):
    return calc.cached(("school-allowance", child.insz, year), lambda: decide(calc, child, year))


def _level_amount(calc, level: str, income: Fraction, low: int, high: int, september: int):
    p = calc.month_values(september)
    if level == "preschool":
        fixed = p["school_allowance.preschool"]
        return (fixed.value if income <= high else 0), (fixed,), "preschool: fixed amount, income <= max"
    minimum = p[f"school_allowance.{level}_minimum"]
    full = p[f"school_allowance.{level}_full"]
    if income <= low:
        return full.value, (minimum, full), f"{level}: income <= min, full amount"
    if income > high:
        return 0, (minimum, full), f"{level}: income above max"
    share = Fraction(full.value - minimum.value) * (high - income) / (high - low)
    return minimum.value + round_half_up(share), (minimum, full), \
        f"{level}: minimum + (full - minimum) x (max - income) / (max - min)"


def decide(calc, child, year: int):
    """(period, amount, rule, params, inputs, sources) of the pupil's allowance for school year ``year``."""
    september = year * 12 + 8
    school = [e for e in child.enrolments if e.level in LEVELS and e.school_year == year]
    if not school:
        return None
    reports = child.attendance.get(year) or []
    values = calc.month_values(september)
    limit = values["conditions.school_allowance_max_unauthorised_absence_half_days"]
    absence = reports[-1].unauthorised_absence_half_days if reports else 0
    if absence_bars(limit, absence):
        return None
    thresholds = values["school_allowance.thresholds"]
    max_points = values["conditions.school_allowance_max_points"]
    if thresholds is None:
        return None
    points_of: dict[str, int] = {}  # points by September household (the same for every month of S)
    resume = september  # the first month whose facts may differ from those of the last month that gave nothing
    for month in range(september, september + 12):
        if month < resume:
            continue  # the facts of an earlier month, which gave nothing
        place = calc.child_household(child, month)
        resume = month + 1 if place is None else calc.school_allowance_facts_hold_through(place[0], month) + 1
        levels = [e for e in child.enrolments_in_month(month) if e in school
                  and (e.level != "preschool" or month >= child.birth_month + 36)]
        if not levels or not calc.entitlement(child, month).entitled:
            continue
        if place is None:
            continue
        income = calc.household_month(place[0], month).income(year - 2)
        if not income.known:
            continue
        september_household = (calc.child_household(child, september) or place)[0]
        points = points_of.get(september_household)
        if points is None:
            points = points_of[september_household] = min(calc.household_month(september_household, september).n,
                                                          max_points.value)
        low, high = thresholds.value[points]
        if income.cents > high:
            continue  # above the maximum: nothing at any level
        best = max((_level_amount(calc, e.level, income.cents, low, high, september) + (e,) for e in levels),
                   key=lambda item: item[0])
        amount, params, rule, enrolment = best
        if amount <= 0:
            continue
        inputs = (("school_year", f"{year}-{year + 1}"), ("income_year", year - 2),
                  ("family_income_eur", euro(income.cents)), ("points", points),
                  ("threshold_min_eur", euro(low)), ("threshold_max_eur", euro(high)),
                  ("unauthorised_absence_half_days", absence))
        sources = (enrolment.source, *income.sources, *(r.source for r in reports[-1:]))
        return month, amount, f"school allowance, {rule}", (*params, thresholds, max_points, limit), \
            inputs, sources
    return None
