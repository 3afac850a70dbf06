"""Support supplement (ondersteuningstoeslag) — ruleset v1 §5.3; decree art. 17/1 (from 2023).

On top of the care supplement, from January 2023, for a child whose assessment totals at least 12 points.
"""
COMPONENT = "support"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 17/1 (decree of 2022); ruleset v1 §5.3"


def applies_to(calc, child) -> bool:
    return bool(child.care)


def compute(cm):
    assessment = cm.child.care_in_month(cm.month)
    amount = cm.param("support")
    if assessment is None or amount is None:
        return None
    minimum = cm.param("conditions.support_min_points_total")
    if assessment.points_total < minimum.value:
        return None
    return cm.line(COMPONENT, amount.value, f"support supplement: assessment total {assessment.points_total} "
                   f">= {minimum.value} points", LEGAL, (amount, minimum),
                   (("points_total", assessment.points_total),), (assessment.source,))
