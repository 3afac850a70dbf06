"""Social supplement of the transitional system (sociale toeslag overgangsregeling) — ruleset v1 §4.4;
decree art. 210 §4.

Per transitional child, by its frozen rank: in the income bands of the new system — income ≤ T1, or
T1 < income ≤ T2 with n ≥ 3 and at least one new-system child in the household **[decision]** — R1/R2/R3 for
rank 1/2/3; in the T1–T1b band with n ≤ 2: B12. No supplement while a parent's assessment is missing.
"""
from rules import regime
from rules.social import income_test

COMPONENT = "social_transitional"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 210 §4; ruleset v1 §4.4"


def applies_to(calc, child) -> bool:
    return child.legacy_group is not None


def compute(cm):
    if cm.regime != regime.TRANSITIONAL:
        return None
    test = income_test(cm)
    if test is None:
        return None
    rank, rank_sources = regime.rank(cm.calc, cm.child)
    if test.at_most_t1 or (test.at_most_t2 and test.n >= 3 and test.has_new_system):
        name = f"social.r{rank}"
        rule = (f"rank {rank}: income <= T1" if test.at_most_t1
                else f"rank {rank}: T1 < income <= T2, n >= 3 and a new-system child in the household")
    elif test.at_most_t1b and test.n <= 2:
        name, rule = "social.b12", "T1 < income <= T1b and n <= 2"
    else:
        return None
    amount = cm.values[name]
    return cm.line(COMPONENT, amount.value, f"transitional social supplement: {rule}", LEGAL,
                   (amount, *test.params), (*test.inputs, ("rank", rank)), (*test.sources, *rank_sources))
