"""School bonus (schoolbonus, universele participatietoeslag) — ruleset v1 §6.1; decree art. 19–22.

Every child entitled in July of year Y, with the July payment; band by the child's age on 31 December of Y−1:
0–3 → A, 4–10 → B, 11–16 → C, 17 and over → D (a child born in Y itself counts as 0–3). The amount is the one
indexed on 1 September of Y−1 (the parameter is looked up on 1 July of Y).
"""
import datetime as dt

from rules.periods import age_on

COMPONENT = "school_bonus"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 19-22; ruleset v1 §6.1"
BANDS = (("d", "conditions.school_bonus_band_d_from_age"), ("c", "conditions.school_bonus_band_c_from_age"),
         ("b", "conditions.school_bonus_band_b_from_age"))


def applies_to(calc, child) -> bool:
    return True


def compute(cm):
    if cm.month % 12 != 6:  # July
        return None
    year = cm.month // 12
    reference = dt.date(year - 1, 12, 31)
    age = age_on(cm.child.birth_date, reference)
    used = []
    band = "a"
    for name, threshold in BANDS:
        limit = cm.values[threshold]
        used.append(limit)
        if age >= limit.value:
            band = name
            break
    amount = cm.values[f"school_bonus.{band}"]
    return cm.line(COMPONENT, amount.value, f"school bonus band {band.upper()}: age {max(age, 0)} on "
                   f"{reference.isoformat()}", LEGAL, (amount, *used), (("age_on_31_december", max(age, 0)),))
