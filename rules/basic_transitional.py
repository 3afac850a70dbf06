"""Basic amount of the transitional system by rank (basisbedrag overgangsregeling, rang) — ruleset v1 §2 and
§4.2; decree art. 210 §2 (omkering van de rangen).

A transitional child gets the amount of its frozen rank in its legacy group: rank 1 for the youngest, rank 2 for
the second-youngest, rank 3 for all older children.
"""
from rules import regime

COMPONENT = "basic_transitional"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 210 §2; ruleset v1 §4.2"


def applies_to(calc, child) -> bool:
    return child.legacy_group is not None


def compute(cm):
    if cm.regime != regime.TRANSITIONAL:
        return None
    rank, sources = regime.rank(cm.calc, cm.child)
    amount = cm.values[f"basic_transitional.rank_{rank}"]
    return cm.line(COMPONENT, amount.value, f"transitional basic amount for rank {rank} (inverted, frozen ranks "
                   f"in legacy group)", LEGAL, (amount,),
                   (("legacy_group", cm.child.legacy_group), ("rank", rank)), sources)
