"""Which closed months a fact corrects (tables.settlement.affected_months): every month it can change, the months
of the fact it replaces included, and no month it cannot change (an enrolment that starts after the last close
computes no correction at all)."""
from __future__ import annotations

import orjson
import pytest

from bench.corrections import simulated_households, state_before
from rules.periods import parse_period
from streams.events import decode_event
from tables import settlement
from tables.household import HouseholdState, read_back
from tables.settlement import affected_months, fold_and_correct, regular_run
from tests.builders import Scenario


def fold(state: HouseholdState, raw: dict, closed: tuple[str, str] | None = None) -> list:
    data = orjson.dumps(raw)
    span = (parse_period(closed[0]), parse_period(closed[1])) if closed else None
    return fold_and_correct(state, decode_event(data), data, span)[1]


def close(state: HouseholdState, *periods: str) -> None:
    for period in periods:
        regular_run(state, parse_period(period))


def ledger_is_due(state: HouseholdState, *periods: str) -> None:
    """The ledger invariant for the closed periods: what was instructed is what the facts now give."""
    calc = state.calculator()
    for period in periods:
        month = parse_period(period)
        due = {(line.child, line.component): line.amount_cents
               for line in calc.household_entitlements(state.household_id, month)}
        instructed = {(child, component): cents for (child, component, m), cents in state.ledger.items()
                      if m == month}
        assert instructed == due, period


def test_a_birth_date_revised_to_a_later_month_takes_the_start_grant_out_of_the_month_paid():
    s = Scenario()
    mother = s.parent("1990-03-01")
    s.bank_account(mother)
    state = HouseholdState(s.household)
    for raw in list(s.events):
        fold(state, raw)
    child = s.born("2024-03-10", [mother])
    fold(state, s.events[-1])
    close(state, "2024-03", "2024-04")
    revised = dict(s.events[-1], event_id="born-revised", recorded_at="2024-05-02T09:00:00Z", occurred_on="2024-04-02",
                   data={**s.events[-1]["data"], "birth_date": "2024-04-02"})
    (correction, _), = fold(state, revised, ("2024-03", "2024-04"))
    lines = {(line["component"], line["period"]): line["amount_cents"] for line in correction["lines"]}
    assert lines[("start", "2024-03")] < 0 and lines[("start", "2024-04")] == -lines[("start", "2024-03")]
    assert lines[("basic", "2024-03")] < 0  # not born by the end of March any more
    ledger_is_due(state, "2024-03", "2024-04")
    assert correction["lines"][0]["child"] == child


def test_a_late_preschool_enrolment_pays_the_supplement_at_4_in_the_month_of_the_report():
    s = Scenario()
    mother = s.parent("1990-03-01")
    s.bank_account(mother)
    child = s.child("2019-10-05", [mother])  # four in 2023: school year 2022-2023
    s.attendance(child, "2022-2023", "2023-01-31", preschool_half_days=160)
    state = HouseholdState(s.household)
    for raw in s.events:
        fold(state, raw)
    months = [f"2023-{m:02d}" for m in range(1, 7)]
    close(state, *months)
    s.enrolled(child, "2022-2023", "preschool", "2023-06-01")  # recorded late, starting late
    (correction, _), = fold(state, s.events[-1], (months[0], months[-1]))
    assert [(line["component"], line["period"]) for line in correction["lines"]] == [("preschool", "2023-01")]
    ledger_is_due(state, *months)


@pytest.mark.parametrize("level", ["primary", "secondary", "higher"])
def test_an_enrolment_starting_after_the_last_close_computes_no_correction(level):
    s = Scenario()
    mother = s.parent("1980-03-01")
    s.bank_account(mother)
    pupil = s.child("2006-05-01", [mother])  # 18 in May 2024: entitled again from September, when enrolled
    state = HouseholdState(s.household)
    for raw in s.events:
        fold(state, raw)
    close(state, "2024-07", "2024-08")
    state = read_back(state, {})
    s.enrolled(pupil, "2024-2025", level, "2024-09-01", credits=60 if level == "higher" else None)
    event = decode_event(orjson.dumps(s.events[-1]))
    assert not affected_months(event, parse_period("2024-08"))
    assert fold(state, s.events[-1], ("2024-07", "2024-08")) == []
    assert state._calculator is None  # the state's facts were not even decoded into a situation
    close(state, "2024-09")
    paid = {(child, component) for (child, component, month), _ in state.ledger.items()
            if month == parse_period("2024-09")}
    assert ((pupil, "basic") in paid) == (level != "primary")  # entitled past 18 in secondary or higher education
    ledger_is_due(state, "2024-07", "2024-08", "2024-09")


def test_a_preschool_enrolment_reaches_back_to_the_school_year_and_the_grace():
    s = Scenario()
    child = s.child("2021-10-20", [])
    s.enrolled(child, "2024-2025", "preschool", "2024-12-01")
    event = decode_event(orjson.dumps(s.events[-1]))
    assert affected_months(event, parse_period("2025-03")) == range(parse_period("2024-09"), parse_period("2025-04"))
    s.enrolled(child, "2024-2025", "preschool", "2024-09-15")
    event = decode_event(orjson.dumps(s.events[-1]))
    assert affected_months(event, parse_period("2025-03"), 3)[0] == parse_period("2024-06")


def replay(events, first: int, last: int) -> bytes:
    state, table, output = state_before(events, first), {}, []
    for month in range(first, last + 1):
        closed = (first, month - 1) if month > first else None
        for recorded, raw in events:
            if recorded == month:
                output.append(fold_and_correct(state, decode_event(raw), raw, closed)[1])
        output.append(regular_run(state, month))
        state = read_back(state, table)
    return orjson.dumps([output, state.ledger.to_document()])


def test_correcting_only_the_affected_months_gives_what_correcting_every_closed_month_gives(monkeypatch):
    """Over a simulated population with late data: the corrections, runs and ledger are those of correcting
    every closed month after every fact (which cannot miss a month)."""
    first, last = parse_period("2024-06"), parse_period("2024-10")
    families = list(simulated_households(60, 13, "2023-06", "2024-10"))
    narrow = [replay(events, first, last) for _, events in families]
    monkeypatch.setattr(settlement, "affected_months", lambda event, last_closed, grace=2: range(0, last_closed + 1))
    everything = [replay(events, first, last) for _, events in families]
    assert sum(b'"kind":"correction"' in output for output in everything) > 5  # the population has late data
    for (household, _), mine, reference in zip(families, narrow, everything, strict=True):
        assert mine == reference, household
