"""Care supplement for a specific support need (zorgtoeslag specifieke ondersteuningsbehoefte) — ruleset v1
§5.3; decree art. 17; BVR of 7 December 2018 (medisch-sociale schaal).

The care agency's assessment gives ``points_p1`` (pillar 1) and ``points_total`` (all pillars, pillar 3 doubled,
at most 36). Bands: 1: p1 ≥ 4 and total < 6 · 2: 6 ≤ total ≤ 8 and p1 < 4 · 3: 9 ≤ total ≤ 11 and p1 < 4 ·
4: 6 ≤ total ≤ 11 and p1 ≥ 4, or 12 ≤ total ≤ 14 · 5: 15–17 · 6: 18–20 · 7: above 20. Below band 1 (p1 < 4 and
total < 6) no supplement. The assessment used for a month is the latest one in force on at least one day of it
(a later assessment ends the earlier one). It extends entitlement to the month of the 21st birthday.
"""
COMPONENT = "care"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 17; ruleset v1 §5.3"


def band(points_p1: int, points_total: int) -> int | None:
    if points_total > 20:
        return 7
    if points_total >= 18:
        return 6
    if points_total >= 15:
        return 5
    if points_total >= 12 or (points_total >= 6 and points_p1 >= 4):
        return 4
    if points_total >= 9:
        return 3
    if points_total >= 6:
        return 2
    if points_p1 >= 4:
        return 1
    return None


def applies_to(calc, child) -> bool:
    return bool(child.care)


def compute(cm):
    assessment = cm.child.care_in_month(cm.month)
    if assessment is None:
        return None
    number = band(assessment.points_p1, assessment.points_total)
    if number is None:
        return None
    amount = cm.param(f"care.band_{number}")
    return cm.line(COMPONENT, amount.value, f"care band {number} (pillar 1: {assessment.points_p1} points, "
                   f"total: {assessment.points_total} points)", LEGAL, (amount,),
                   (("points_p1", assessment.points_p1), ("points_total", assessment.points_total),
                    ("band", number)), (assessment.source,))
