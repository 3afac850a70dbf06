"""Family income (gezinsinkomen) for the social supplement and the school allowance — ruleset v1 §4.4;
decree art. 18 and 42; GPedia "Waaruit bestaan de gezinsinkomsten?".

Income of the allocation year (1 September – 31 August) is that of the income year two years before the
calendar year in which the allocation year starts. It is the sum over the parents in the household in month M
of: taxable income + self-employed net income × 100/80 + 80 % of partner maintenance received − 80 % of partner
maintenance paid; plus, over the real estate they own (by their share): 3 × indexed cadastral income (KI) of
property of `other` use + 1 × indexed KI of property in `professional` use; the `own_home` KI never counts. Child
maintenance is ignored. If a parent's assessment for the income year is missing, the income is unknown (no
social supplement, no school allowance) until it arrives. **[decision]** A household without a parent has no
family income to test, so no income-tested supplement.

The income is exact (a Fraction of cents): it is compared with thresholds, never rounded.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from rules.parameters import ParameterError
from rules.periods import period_text
from rules.situation import Person


@dataclass(frozen=True, slots=True, eq=False)  # compared and cached by identity: one object per parents,
class FamilyIncome:  # income year and percentages (Calculator.family_income)
    income_year: int
    cents: Fraction | None  # None: unknown (a parent's assessment is missing, or no parent)
    missing: tuple[str, ...]  # parents whose assessment is missing
    params: tuple
    sources: tuple[str, ...]

    @property
    def known(self) -> bool:
        return self.cents is not None


# The parameters the income reads (rules.changes: an income holds while none of them changes).
PARAMETERS = ("conditions.partner_maintenance_percent", "conditions.self_employed_divisor_percent",
              "conditions.ki_other_multiplier", "conditions.ki_professional_multiplier")


def percentages(calc, month: int) -> tuple:
    """The percentages and multipliers in force in month M (their ParameterValue objects)."""
    p = calc.month_values(month)
    values = tuple([p[name] for name in PARAMETERS])
    if None in values:
        raise ParameterError(f"income percentages not in force in {period_text(month)}")
    return values


def compute(calc, parents: list[Person], income_year: int, month: int) -> FamilyIncome:
    """The family income of ``income_year`` for month M (whose percentages and multipliers apply)."""
    params = percentages(calc, month)
    maintenance, divisor, ki_other, ki_professional = params
    if not parents:
        return FamilyIncome(income_year, None, (), params, ())
    # Exact sums in integers: whole cents, self-employed cents (× 100 / divisor) and hundredths of a cent.
    cents, self_employed, hundredths, missing, sources = 0, 0, 0, [], []
    for parent in parents:
        assessment = parent.tax.get(income_year)
        if assessment is None:
            missing.append(parent.insz)
            continue
        data, source = assessment
        sources.append(source)
        cents += data.taxable_income_cents
        self_employed += data.self_employed_net_cents or 0
        hundredths += (data.partner_maintenance_received_cents or 0) * maintenance.value
        hundredths -= (data.partner_maintenance_paid_cents or 0) * maintenance.value
        for estate, estate_source in parent.property.get(income_year, ()):
            factor = {"other": ki_other.value, "professional": ki_professional.value}.get(estate.use, 0)
            if factor:
                hundredths += estate.ki_indexed_cents * estate.share_percent * factor
                sources.append(estate_source)
    if missing:
        return FamilyIncome(income_year, None, tuple(missing), params, tuple(sources))
    total = Fraction(cents * 100 * divisor.value + self_employed * 100 * 100 + hundredths * divisor.value,
                     100 * divisor.value)
    return FamilyIncome(income_year, total, (), params, tuple(sources))
