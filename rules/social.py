"""Social supplement (sociale toeslag) of the new system — ruleset v1 §4.4; decree art. 18–21.

Per child with ``basic``, by the family income of the allocation year (see :mod:`rules.family_income`) and the
family size n (entitled children in the household in month M), with the thresholds and amounts in force in M:
income ≤ T1: A12 when n ≤ 2, A3 when n ≥ 3; T1 < income ≤ T1b (from April 2023) and n ≤ 2: B12; T1 < income ≤ T2
and n ≥ 3 (and a child of the household gets ``basic``): M3; otherwise nothing ("≤" is inclusive). No supplement
while a parent's assessment for the income year is missing.
"""
from __future__ import annotations

from dataclasses import dataclass

from rules import regime
from rules.money import euro
from rules.periods import income_year

COMPONENT = "social"
NOT_YET = object()  # HouseholdMonth.income_test before it is computed
LEGAL = "Groeipakketdecreet 27.04.2018, art. 18-21; ruleset v1 §4.4"


@dataclass(frozen=True, slots=True)
class IncomeTest:
    """Where the family income stands against the thresholds in force in the month."""

    at_most_t1: bool
    at_most_t1b: bool  # False when T1b is not in force (before April 2023)
    at_most_t2: bool
    n: int
    has_new_system: bool
    params: tuple
    inputs: tuple
    sources: tuple


def income_test(cm) -> IncomeTest | None:
    """Shared by social and social_transitional; computed once per household and month, and one object for the
    months with the same family income, thresholds and family."""
    test = cm.hm.income_test
    if test is NOT_YET:
        test = cm.hm.income_test = _income_test(cm)
    return test


def _income_test(cm) -> IncomeTest | None:
    year = income_year(cm.month)
    income = cm.hm.income(year)
    if not income.known:
        return None
    values = cm.values
    t1, t1b, t2 = values["social.t1"], values["social.t1b"], values["social.t2"]
    hm = cm.hm
    key = ("income-standing", income, t1, t1b, t2, len(hm.parents), hm.n, hm.has_new_system)
    return cm.calc.cached(key, lambda: _standing(income, t1, t1b, t2, len(hm.parents), hm.n, hm.has_new_system))


def _standing(income, t1, t1b, t2, parents: int, n: int, has_new_system: bool) -> IncomeTest:
    cents = income.cents
    inputs = (("income_year", income.income_year), ("family_income_eur", euro(cents)),
              ("parents_in_household", parents), ("family_size_n", n))
    return IncomeTest(cents <= t1.value, t1b is not None and t1.value < cents <= t1b.value, cents <= t2.value,
                      n, has_new_system, tuple(p for p in (t1, t1b, t2) if p is not None), inputs, income.sources)


def applies_to(calc, child) -> bool:
    return True


def compute(cm):
    if cm.regime != regime.NEW:
        return None
    test = income_test(cm)
    if test is None:
        return None
    if test.at_most_t1:
        name, rule = ("social.a12", "income <= T1 and n <= 2") if test.n <= 2 else ("social.a3", "income <= T1 and n >= 3")
    elif test.at_most_t1b and test.n <= 2:
        name, rule = "social.b12", "T1 < income <= T1b and n <= 2"
    elif test.at_most_t2 and test.n >= 3:
        name, rule = "social.m3", "T1 < income <= T2 and n >= 3"
    else:
        return None
    amount = cm.values[name]
    return cm.line(COMPONENT, amount.value, f"social supplement: {rule}", LEGAL, (amount, *test.params),
                   test.inputs, test.sources)
