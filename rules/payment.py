"""Who is paid, by whom, and when (uitbetaler, begunstigde, betaaldatum) — ruleset v1 §8; decree art. 75 and
art. 90-103 (arrears and recoveries).

- Payer: the household's chosen payer from the month its choice takes effect; FONS when none was chosen.
- Receiver: the household's designated receiver; without one, the youngest parent in the household
  **[decision]**. The receiver's IBAN comes from the payer source; without one the method is ``cheque``.
- Regular payment of period P: due on the 8th of P+1 (weekend: the last working day before); ``childcare`` on
  the 20th of P+1 (weekend: the next working day).
- Corrections: the signed difference per child, component and period, with the next regular run's due date;
  arrears reach back at most 5 years, recoveries at most 3 years, in months back from the latest closed period.
"""
from __future__ import annotations

from dataclasses import dataclass

from rules.periods import childcare_due_date, regular_due_date


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    payer: str
    receiver: str | None
    iban: str | None
    sources: tuple[str, ...]

    @property
    def method(self) -> str:
        return "transfer" if self.iban else "cheque"


def payment_details(calc, household_id: str, month: int) -> PaymentDetails:
    file = calc.situation.households.get(household_id)
    payer, payer_source = file.payer_in(month) if file else ("FONS", None)
    designated = file.receiver_in(month) if file else None
    if designated:
        receiver, receiver_source = designated
    else:
        parents = calc.household_month(household_id, month).parents
        youngest = max(parents, key=lambda p: (p.birth_date, p.insz)) if parents else None
        receiver, receiver_source = (youngest.insz, youngest.birth_source) if youngest else (None, None)
    person = calc.situation.persons.get(receiver) if receiver else None
    iban, iban_source = person.iban if person is not None and person.iban else (None, None)
    return PaymentDetails(payer, receiver, iban, tuple(s for s in (payer_source, receiver_source, iban_source) if s))


def due_date(component: str, month: int):
    return childcare_due_date(month) if component == "childcare" else regular_due_date(month)


def correction_allowed(difference_cents: int, month: int, last_closed: int, count) -> bool:
    """Arrears (positive) within ``arrears_limit_months``, recoveries (negative) within ``recovery_limit_months``,
    counted back from the latest closed period (the latest closed period itself is 0 months back)."""
    back = last_closed - month
    if difference_cents > 0:
        return back < count("conditions.arrears_limit_months", last_closed)
    return back < count("conditions.recovery_limit_months", last_closed)
