"""Age supplement of the transitional system (leeftijdsbijslag) — ruleset v1 §4.3; decree art. 210 §3.

Transitional children only. Bands 6–11, 12–17, 18 and over; **[decision]** a band applies from the month after
the month of the birthday that reaches it. The eldest entitled transitional child of a legacy group gets the
reduced amount in a month in which it gets neither ``social_transitional`` nor ``care``; every other child the
full amount.
"""
from rules import regime

COMPONENT = "age_supplement"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 210 §3; ruleset v1 §4.3"
BANDS = (("18_plus", "conditions.age_band_18_plus_from"), ("12_17", "conditions.age_band_12_17_from"),
         ("6_11", "conditions.age_band_6_11_from"))


def applies_to(calc, child) -> bool:
    return child.legacy_group is not None


def compute(cm):
    if cm.regime != regime.TRANSITIONAL:
        return None
    months_old = cm.month - cm.child.birth_month
    values = cm.values
    for band, start in BANDS:
        start_age = values[start]
        if months_old > 12 * start_age.value:
            break
    else:
        return None
    eldest = regime.eldest_entitled_transitional(cm.calc, cm.child.legacy_group, cm.month)
    reduced = eldest is cm.child and "social_transitional" not in cm.lines and "care" not in cm.lines
    amount = values[f"age_supplement.{'reduced' if reduced else 'full'}_{band}"]
    why = ("reduced: eldest entitled transitional child of its legacy group, without social_transitional or care"
           if reduced else "full amount")
    return cm.line(COMPONENT, amount.value, f"age supplement band {band.replace('_', '-')} ({why})", LEGAL,
                   (amount, start_age), (("legacy_group", cm.child.legacy_group), ("reduced", reduced)),
                   (cm.child.legacy_source,))
