"""Settlement (afrekening): regular runs for closed periods and corrections, as payment instructions.

- ``regular_run(state, period)``: the entitlements of the period minus what was already instructed, as a
  ``regular`` instruction (``childcare`` lines in a second instruction: they are due on another date).
- ``correct(state, event, last_closed)``: after a fact changed, the signed differences between what is now due
  and what was instructed, for the closed months that fact can affect, within the arrears and recovery limits,
  as one ``correction`` instruction due with the next regular run.

Instruction ids are deterministic: a hash of household, kind, period and cause (the period for a regular run,
the event id for a correction), so processing the same history again yields the same ids with the same content.
Every instruction carries an audit record with the full trace of each line (``trace_id``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from rules import payment, school_allowance
from rules.parameters import default_parameters
from rules.calculator import COMPONENTS
from rules.periods import income_year, month_of, parse_period, parse_school_year, period_text, regular_due_date
from tables import forecast
from tables.facts import Outcome, natural_key
from tables.household import HouseholdState

NO_AMOUNT_EFFECT = {"payer.chosen", "receiver.designated", "bank_account.registered"}
ASSESSMENTS = ("tax.assessed", "property.assessed")  # read by income year (§4.4, §6.4)


def affected_months(event, last_closed: int, preschool_grace_months: int = 2) -> range:
    """The closed months whose amounts a fact can change (empty for facts that change no amount).

    ``preschool_grace_months``: the longest enrolment grace of the preschool supplement at 3 (§6.2) in the
    parameters, which reaches back from a preschool enrolment's start to the third birthday's month."""
    kind, data = event.type, event.data
    if kind in NO_AMOUNT_EFFECT:
        return range(0)
    if kind in ASSESSMENTS:
        first = (data.income_year + 2) * 12 + 8  # the allocation (and school) year that uses this income year
        return range(first, min(first + 12, last_closed + 1))
    if kind == "childcare.attendance":
        month = parse_period(data.month)
        return range(month, min(month + 1, last_closed + 1))
    if kind == "education.attendance":
        first = parse_school_year(data.school_year) * 12 + 8
        return range(first, min(first + 12, last_closed + 1))
    if kind == "education.enrolled":
        return range(_first_month_enrolment_reads(data, preschool_grace_months),
                     min((parse_school_year(data.school_year) + 1) * 12 + 8, last_closed + 1))
    # Population, care and foster facts: from the earliest date they carry (a registration's birth date: a new
    # member of a legacy group changes its siblings' frozen ranks from the start).
    dates = [event.occurred_on, *(getattr(data, name) for name in ("birth_date", "joined_on", "date_of_death",
                                                                   "valid_from", "from_date") if hasattr(data, name))]
    return range(min(month_of(day) for day in dates), last_closed + 1)


def preschool_grace_months(parameters) -> int:
    """The longest enrolment grace of the preschool supplement at 3 that the parameters ever give (§6.2)."""
    values = parameters["conditions.preschool_age_3_enrolment_grace_months"].values
    return max(value.value for value in values if value is not None)


def _first_month_enrolment_reads(data, preschool_grace_months: int) -> int:
    """The first month an enrolment can change (inschrijving), up to the end of its school year:

    - in secondary or higher education, or primary: the months it covers, from its start — the entitlement past
      18 (§1), the family size and the eldest child of a legacy group in those months, and the school allowance
      (§6.4), paid in the first month of the school year in which the pupil is enrolled and qualifies;
    - in preschool also the preschool supplement: at 3 in the month of the third birthday, which may be up to the
      grace before the start (§6.2), and at 4 in the month of an attendance report of the school year, whatever
      the enrolment's dates; and the childcare supplement of the months it covers (§6.3).
    """
    start = month_of(data.from_date)
    if data.level != "preschool":
        return start
    return min(start - preschool_grace_months, parse_school_year(data.school_year) * 12 + 8)


def attendance_changes_no_amount(state: HouseholdState, event, parameters) -> bool:
    """Whether an attendance report, before it is folded, can change no amount, so that no correction needs to
    be computed for it. It can change two components only (rules/preschool.py, rules/school_allowance.py):

    - the preschool supplement at 4 (§6.2) reads every report of the school year of the fourth birthday, and
      only for a child enrolled in preschool in that year: a report of a year without a preschool enrolment of
      the child, or of another year than that of its fourth birthday (by every birth date the registration and
      birth records give), can change nothing there (otherwise the correction is computed);
    - the school allowance (§6.4) reads the year's latest report only, through its absence test: a report
      earlier than the latest changes nothing, and a new latest one changes something only when it turns the
      test (barred or not) the other way.

    Such a report changes no line nor trace of a month a forecast re-dates either (tables/forecast.py): the
    school allowance's line, whose trace names the latest report, is only in its due month, a change month; the
    reports of the fourth birthday's year, which make change months, are never inert.
    """
    data, facts = event.data, state.facts
    if facts.has(("education.enrolled", event.subject, data.school_year, "preschool")):
        births = [facts.latest((kind, event.subject)) for kind in ("person.registered", "person.born")]
        years = {birth.data.birth_date.year + 3 for birth in births if birth is not None}
        if not years or parse_school_year(data.school_year) in years:
            return False
    latest = facts.latest(("education.attendance", event.subject, data.school_year))
    if latest is not None and latest.data.as_of > data.as_of:
        return True
    limit = school_allowance.absence_limit(parameters, parse_school_year(data.school_year))
    before = school_allowance.absence_bars(limit, latest.data.unauthorised_absence_half_days if latest else 0)
    return before == school_allowance.absence_bars(limit, data.unauthorised_absence_half_days)


def childcare_report_keeps_forecast(state: HouseholdState, event, closed: tuple[int, int] | None) -> bool:
    """Whether a childcare report leaves the household's forecast valid: a report for a closed month M (up to
    the latest closed month L). The forecast then serves only months after L (their runs are not made yet),
    and their lines do not change:

    - the childcare supplement of a month reads that month's report only, and no other rule reads childcare
      reports (rules/childcare.py), so no line of a month after M changes;
    - the report makes M and M+1 change months (rules/changes.py); after L that can only be L+1 (M = L), and
      L+1 has no childcare line now (its report would have dropped the forecast) nor in the forecast: the
      forecast serves L+1 only when the month F it was made for had no report then (F+1 would have been a
      change month), and a report that came later is not in the lines it keeps.

    The report still corrects month M (:func:`correct`). ``tests/test_forecast.py`` compares every re-dated run
    with the computed one."""
    return (event.type == "childcare.attendance" and state.forecast is not None and closed is not None
            and parse_period(event.data.month) <= closed[1])


def assessment_keeps_forecast(state: HouseholdState, event) -> bool:
    """Whether a tax or property assessment leaves the household's forecast valid: one for another income year
    than that of the forecast's allocation year. The rules read an income year only for the allocation year
    that starts two years after it (§4.4 social supplement, §6.4 school allowance: rules.periods.income_year),
    and every month a forecast serves is in the allocation year of the month it was made for (September starts
    a new one and is a change month of every household: tables.forecast), so an assessment of another income
    year changes no line nor trace of those months, nor a change month (rules.changes reads no assessment). The
    assessment still corrects the closed months of its own allocation year (:func:`correct`)."""
    return (event.type in ASSESSMENTS and state.forecast is not None
            and event.data.income_year != income_year(state.forecast["month"]))


def fold_and_correct(state: HouseholdState, event, raw: bytes | None, closed: tuple[int, int] | None,
                     parameters=None) -> tuple[Outcome, list[tuple[dict, dict]]]:
    """Fold one fact into the state and, when it was accepted, correct the closed months it changes."""
    parameters = parameters or default_parameters()
    inert = closed is not None and event.type == "education.attendance" and attendance_changes_no_amount(
        state, event, parameters)
    replaced = state.facts.winner(natural_key(event)) if closed is not None else None
    keeps = inert or childcare_report_keeps_forecast(state, event, closed) or assessment_keeps_forecast(state, event)
    outcome = state.add_fact(event, raw, changes_lines=not keeps)
    if outcome is not Outcome.ACCEPTED or inert:
        return outcome, []
    return outcome, correct(state, event, closed, parameters, replaced)


def instruction_id(payer: str, household_id: str, kind: str, period: int, cause: str, part: str = "") -> str:
    digest = hashlib.sha256(f"{household_id}|{kind}|{period_text(period)}|{cause}|{part}".encode()).hexdigest()
    return f"{payer.lower()}-{digest[:32]}"


def _instruction(details: payment.PaymentDetails, fingerprint: str, state: HouseholdState, kind: str, period: int,
                 lines: list[tuple], due, caused_by, explanations: list[dict], cause: str,
                 part: str = "") -> tuple[dict, dict]:
    iid = instruction_id(details.payer, state.household_id, kind, period, cause, part)
    rows = [{"child": child, "component": component, "period": period_text(month), "amount_cents": cents}
            for child, component, month, cents in lines]
    instruction = {
        "instruction_id": iid, "payer": details.payer, "household_id": state.household_id,
        "receiver": details.receiver, "iban": details.iban, "method": details.method, "kind": kind,
        "period": period_text(period), "due_date": due.isoformat(), "lines": rows,
        "total_cents": sum(row["amount_cents"] for row in rows),
        "caused_by": sorted(set(caused_by)), "trace_id": "trace-" + iid.split("-", 1)[1],
    }
    audit = {"trace_id": instruction["trace_id"], "instruction_id": iid, "household_id": state.household_id,
             "kind": kind, "period": instruction["period"], "payment_sources": list(details.sources),
             "parameters_version": fingerprint, "lines": explanations}
    return instruction, audit


def _key_order(key: tuple) -> tuple:
    child, component, month = key
    return month, child, COMPONENTS.index(component)


def regular_run(state: HouseholdState, period: int, parameters=None) -> list[tuple[dict, dict]]:
    """The regular instruction(s) of a closed period; empty when already made (closing twice is harmless).
    Re-dated from the household's forecast when it serves the period (:mod:`tables.forecast`), else computed."""
    if period in state.regular_done:
        return []
    parameters = parameters or default_parameters()
    fingerprint = parameters.fingerprint()
    nothing_instructed = not state.ledger.entries_for({period})
    if nothing_instructed and forecast.serves(state.forecast, period, fingerprint):
        parts = forecast.redated(state.forecast, period)
        if state.forecast["until"] == period:  # it serves no later month (tables.forecast.make)
            state.forecast = None
    else:
        calc = state.calculator(parameters)
        parts = _computed_parts(calc, state, period)
        state.forecast = forecast.make(calc, state.household_id, parts, period, fingerprint,
                                       _explain_in_full) if nothing_instructed else None
    state.regular_done.add(period)
    return [_record(state, instruction, audit, lines)
            for instruction, audit, lines in _regular_instructions(state, period, fingerprint, parts)]


def _regular_instructions(state: HouseholdState, period: int, fingerprint: str,
                          parts: dict[str, forecast.Part]) -> list[tuple[dict, dict, list[tuple]]]:
    return [(*_instruction(details, fingerprint, state, "regular", period, lines,
                           payment.due_date(part or "basic", period), sources, explanations,
                           cause="regular", part=part), lines)
            for part, (details, lines, explanations, sources) in parts.items()]


def implied_run(state: HouseholdState, period: int, parameters=None) -> list[tuple[dict, dict]] | None:
    """The regular run of a closed period as an *implied* run (stilzwijgende doorbetaling): the household's
    forecast re-dated, returned without changing the state — or None when the run must be recorded.

    It is implied only when the forecast serves the period, nothing was instructed for it, the run is not done and
    the outbox is empty: then the state as stored, with the period's close, determines it completely, so the
    state need not be written. The close that publishes it records the period as closed for the partition only
    once the broker acknowledged every implied run (agents/households.py); from then on the ledger holds its
    lines implicitly, and :func:`settle_implied_runs` writes them in when the state is next loaded. The same
    instructions, ids and audit records as :func:`regular_run` gives (``tests/test_implied_runs.py``)."""
    if period in state.regular_done or state.outbox or state.ledger.entries_for({period}):
        return None
    fingerprint = (parameters or default_parameters()).fingerprint()
    if not forecast.serves(state.forecast, period, fingerprint):
        return None
    return [(instruction, audit) for instruction, audit, _ in
            _regular_instructions(state, period, fingerprint, forecast.redated(state.forecast, period))]


def settle_implied_runs(state: HouseholdState, closed_months: Iterable[int]) -> bool:
    """Record in the ledger the implied runs of the closed months (``closed_months``: every month whose close
    completed for the household's partition); True when the state changed. A closed month the forecast covers
    and whose regular run is not recorded was paid by an implied run: every other close of it recorded the run
    (:func:`implied_run`). Run before anything reads the ledger or drops the forecast (a fact)."""
    if state.forecast is None:
        return False
    months = forecast.implied_months(state.forecast, closed_months, state.regular_done)
    for month in months:
        for _, lines, _, _ in forecast.redated(state.forecast, month).values():
            for child, component, line_month, cents in lines:
                state.ledger.record(child, component, line_month, cents)
        state.regular_done.add(month)
    return bool(months)


def _computed_parts(calc, state: HouseholdState, period: int) -> dict[str, forecast.Part]:
    """What is due for the period less what was instructed, in a ``childcare`` part (due on another date) and
    the other lines; only parts with lines."""
    details = payment.payment_details(calc, state.household_id, period)
    parts: dict[str, forecast.Part] = {}
    due = calc.household_entitlements(state.household_id, period)
    for key, line, difference, already in _differences(state, due, period, order=_key_order):
        _, lines, explanations, sources = parts.setdefault("childcare" if key[1] == "childcare" else "",
                                                           (details, [], [], []))
        lines.append((*key, difference))
        explanations.append(_explain(line, key, difference, already))
        sources.extend(s for s in (line.sources if line else ()) if s)
    return {part: parts[part] for part in ("", "childcare") if part in parts}


def _differences(state: HouseholdState, due: list, month: int, order=None):
    """(key, line or None, difference, already instructed) for every child and component of the month whose
    amount now due (``due``: the month's lines) differs from what the ledger says was instructed, by key
    (``order``: a sort key for the keys, default their natural order)."""
    lines = {(line.child, line.component, line.month): line for line in due}
    for key in sorted(set(lines) | set(state.ledger.entries_for({month})), key=order):
        line = lines.get(key)
        already = state.ledger.instructed(*key)
        difference = (line.amount_cents if line else 0) - already
        if difference:
            yield key, line, difference, already


def correct(state: HouseholdState, event, closed: tuple[int, int] | None, parameters=None,
            replaced=None) -> list[tuple[dict, dict]]:
    """A correction for the closed months (``closed`` = first and latest closed period) the fact can change;
    nothing before the first close, and never for a month before it (it was never closed, so never paid).
    ``replaced``: the fact of the same natural key it won over, whose months change too (a birth date revised
    to a later day takes the start grant out of the month paid before)."""
    if closed is None:
        return []
    first_closed, last_closed = closed
    grace = preschool_grace_months(parameters or default_parameters())
    months = sorted({m for fact in (event, replaced) if fact is not None
                     for m in affected_months(fact, last_closed, grace) if m >= first_closed})
    if not months:
        return []
    calc = state.calculator(parameters)
    first_allowed = last_closed - max(calc.count("conditions.arrears_limit_months", last_closed),
                                      calc.count("conditions.recovery_limit_months", last_closed)) + 1
    months = [m for m in months if m >= first_allowed]
    lines, explanations, sources = [], [], [event.event_id]
    by_month: dict[int, list] = {month: [] for month in months}
    for line in calc.entitlements(months, [state.household_id]):  # periods of constant facts computed once
        by_month[line.month].append(line)
    for month in months:
        for key, line, difference, already in _differences(state, by_month[month], month):
            if payment.correction_allowed(difference, month, last_closed, calc.count):
                lines.append((*key, difference))
                explanations.append(_explain(line, key, difference, already))
                sources.extend(s for s in (line.sources if line else ()) if s)
    if not lines:
        return []
    lines.sort(key=lambda line: _key_order(line[:3]))
    instruction, audit = _instruction(payment.payment_details(calc, state.household_id, last_closed),
                                      calc.params.fingerprint(), state, "correction", last_closed, lines,
                                      regular_due_date(last_closed + 1), [event.event_id], explanations,
                                      cause=event.event_id)
    return [_record(state, instruction, audit, lines)]


def _explain(line, key, difference: int, already: int) -> dict:
    child, component, month = key
    if line is None:
        return {"child": child, "component": component, "period": period_text(month), "amount_cents": difference,
                "rule": "no longer due: the facts as now known give nothing for this component and period",
                "previously_instructed_cents": already, "now_due_cents": 0}
    return {**line.explanation(), "amount_cents": difference, "now_due_cents": line.amount_cents,
            "previously_instructed_cents": already}


def _explain_in_full(line) -> dict:
    """The audit line of a line due in full, nothing instructed before."""
    return _explain(line, (line.child, line.component, line.month), line.amount_cents, 0)


def _record(state: HouseholdState, instruction: dict, audit: dict, lines: list[tuple]) -> tuple[dict, dict]:
    """Ledger and outbox change together: the caller writes the state once, then publishes the outbox."""
    for child, component, month, cents in lines:
        state.ledger.record(child, component, month, cents)
    state.outbox.append({"instruction": instruction, "audit": audit})
    return instruction, audit

