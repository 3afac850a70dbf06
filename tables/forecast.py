"""Regular runs without recomputation (ongewijzigde doorbetaling): the next month paid as the last one, re-dated.

A household's lines for month M are those of M−1 with the period changed when M is not one of its change
months (:mod:`rules.changes`): no fact it reads and no parameter differs. The payment details read two more
facts by month: the payer choice and the designated receiver, from the month they take effect (ruleset §8).

So a regular run that computes month P also keeps, in the household state, a *forecast* when it serves a later
month: the lines it instructed with their traces (the audit lines) and payment details, and the last month
``until`` they hold for — every month after P up to ``until`` is neither a change month of the household nor a
month in which a payer choice or a designated receiver takes effect, except a July and an August in which no fact
changes: July is June with the school bonus (the forecast keeps the bonus lines, computed when it is made), August
is June (rules.changes.month_with_same_facts); and the month after a school allowance's due month, which is the
due month without that line. The regular run of a later month up to ``until`` re-dates them
instead of building the household's situation and computing it: the same instructions, ids and audit records as a
computation would give (``tests/test_forecast.py`` checks this over a simulated population).

A forecast holds only while nothing it was made from changes: every accepted fact drops it
(:meth:`tables.household.HouseholdState.add_fact`) but those that change none of its lines nor traces
(tables.settlement: an attendance report that changes no amount, a childcare report for a closed month, an
assessment of another income year), it names the parameters it was computed with (their
fingerprint), and it is made and used only for a month that nothing was instructed for yet (a regular run
pays what is due, less what was instructed: with nothing instructed, exactly the lines).
"""
from __future__ import annotations

from collections.abc import Callable

from rules import changes, school_allowance, school_bonus
from rules.calculator import COMPONENTS
from rules.payment import PaymentDetails
from rules.periods import allocation_year_start, period_text

# One part of a regular run: the payment details, lines (child, component, month, cents), their audit lines
# and the source events behind them.
Part = tuple[PaymentDetails, list[tuple], list[dict], list[str]]
# Components paid in one month of a year, whose lines a re-dated month leaves out (the school bonus of a July
# comes from the forecast's own list).
PAID_ONCE = (school_bonus.COMPONENT, school_allowance.COMPONENT)


def _span(calc, household_id: str, month: int) -> tuple[int, int | None]:
    """The last month from ``month`` on whose lines and payment details are those of ``month`` re-dated, but for
    the school bonus; and the July among them that adds the school bonus, or None.

    Nothing of the household changes up to the month before its next change month. July and August are change
    months every year, but the calculator knows two of their cases (rules.changes.only_school_bonus_added and
    month_with_same_facts): a July in which no fact changes has the lines of June and the school bonus, and an
    August in which no fact changes, after such a July, has the lines of June. The month after a school
    allowance's due month is one only for that line (§6.4, paid once, read by no other rule), which
    :func:`redated` leaves out: so a forecast made in the due month serves the months after it."""
    months = changes.household_months(calc, household_id, [allocation_year_start(month)], month_after_due=False)
    file = calc.situation.households.get(household_id)
    if file is not None:
        months.update(start for start, _, _ in file.payers + file.receivers)
    until = month
    while not changes.is_change_month(until + 1, months):  # every July is one: at most eleven steps
        until += 1
    july = None
    if (until + 1) % 12 == 6 and until + 1 not in months:
        july = until = until + 1
    if until % 12 == 6 and until not in months and until + 1 not in months:
        until += 1
    return until, july


def make(calc, household_id: str, parts: dict[str, Part], month: int, fingerprint: str,
         explain: Callable[[object], dict]) -> dict | None:
    """The forecast of a regular run of ``month`` (its parts as made), as stored in the household state;
    ``explain`` gives the audit line of a line due in full (for the school bonus of a July it serves). None when
    it would serve no month: the next month is a change month (every August, before the new allocation year).
    Not keeping such a forecast keeps the head smaller, and the next fact leaves the head as it is (a fact drops
    the forecast: a rewrite of the head, ledger included, when there is one)."""
    until, july = _span(calc, household_id, month)
    if until == month:
        return None
    document = {"month": month, "until": until, "parameters": fingerprint,
                "parts": [[name, details.payer, details.receiver, details.iban, list(details.sources), explanations]
                          for name, (details, _, explanations, _) in parts.items()]}
    if july is not None:
        bonus = calc.school_bonus_lines(household_id, july)
        children = {line["child"] for line in parts[""][2]} if "" in parts else set()
        if bonus.keys() <= children:  # (else July is computed in full, as the calculator does)
            document["school_bonus"] = [explain(bonus[child]) for child in sorted(bonus)]
        elif july - 1 == month:
            return None
        else:
            document["until"] = july - 1
    return document


def serves(forecast: dict | None, month: int, fingerprint: str) -> bool:
    return (forecast is not None and forecast["month"] < month <= forecast["until"]
            and forecast["parameters"] == fingerprint)


def implied_months(forecast: dict, closed_months, regular_done: set[int]) -> list[int]:
    """The closed months the forecast covers (whatever parameters are in force now) whose run is not recorded:
    those paid by an implied run (tables.settlement.implied_run)."""
    return sorted(month for month in closed_months
                  if forecast["month"] < month <= forecast["until"] and month not in regular_done)


def redated(forecast: dict, month: int) -> dict[str, Part]:
    """The parts of the forecast's regular run for ``month`` (one the forecast serves): its lines without the
    school bonus and the school allowance (a month the forecast serves is never a due month of either), with the
    school bonus of the July it serves, in the order a computed run gives (child, component)."""
    period = period_text(month)
    bonus = forecast.get("school_bonus", ()) if month % 12 == 6 else ()
    parts: dict[str, Part] = {}
    for name, payer, receiver, iban, payment_sources, explanations in forecast["parts"]:
        kept = [line for line in explanations if line["component"] not in PAID_ONCE]
        if name == "" and bonus:
            kept = sorted([*kept, *bonus], key=lambda line: (line["child"], COMPONENTS.index(line["component"])))
        if not kept:
            continue
        lines = [{**line, "period": period} for line in kept]
        parts[name] = (PaymentDetails(payer, receiver, iban, tuple(payment_sources)),
                       [(line["child"], line["component"], month, line["amount_cents"]) for line in lines],
                       lines, [source for line in lines for source in line["source_events"]])
    return parts
