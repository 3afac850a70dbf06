"""Childcare supplement (kinderopvangtoeslag) — ruleset v1 §6.3; BVR 7 December 2018, art. 1 and 3.

For a child not enrolled in preschool on any day of the care month, cared for in licensed childcare whose price
does not depend on income: (full days + ½ × half days) × daily rate, rounded half-up on the monthly total, the
days capped at the days of the month. Period: the care month; paid on the 20th of the next month.
"""
from rules.periods import days_in_month

COMPONENT = "childcare"
LEGAL = "BVR 7.12.2018 kinderopvangtoeslag, art. 1 and 3; ruleset v1 §6.3"


def applies_to(calc, child) -> bool:
    return bool(child.childcare)


def compute(cm):
    record = cm.child.childcare.get(cm.month)
    if record is None:
        return None
    full, half, income_related, source = record
    if income_related:
        return None
    if any(e.level == "preschool" for e in cm.child.enrolments_in_month(cm.month)):
        return None
    half_days = min(2 * full + half, 2 * days_in_month(cm.month))  # in half days, capped
    if half_days == 0:
        return None
    rate = cm.param("childcare.daily_rate")
    amount = (rate.value * half_days + 1) // 2  # x/2 rounded half-up on the monthly total
    return cm.line(COMPONENT, amount, f"({full} full + ½ × {half} half days, capped at the days of the month) "
                   f"× daily rate", LEGAL, (rate,), (("days_counted", f"{half_days / 2:g}"),), (source,))
