"""Basic amount (basisbedrag) — ruleset v1 §2 and §4.1; decree art. 11.

Every entitled child of the new system (born on or after 2019-01-01, older children without an open right on
2018-12-31, and transitional children from the month a parent died) gets the basic amount in force in the month.
"""
from rules import regime

COMPONENT = "basic"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 11; ruleset v1 §4.1"


def applies_to(calc, child) -> bool:
    return True


def compute(cm):
    if cm.regime != regime.NEW:
        return None
    amount = cm.values["basic"]
    switched = regime.parent_death_switch(cm.calc, cm.child, cm.month) if cm.child.legacy_group else None
    if switched:
        return cm.line(COMPONENT, amount.value, "basic amount (transitional child switched to the new system after "
                       "the death of a parent)", LEGAL, (amount,), (("parent_died_on", switched[1].isoformat()),),
                       (switched[2],))
    return cm.line(COMPONENT, amount.value, "basic amount of the new system", LEGAL, (amount,))
