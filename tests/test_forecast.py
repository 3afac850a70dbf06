"""A regular run re-dated from the household's forecast is the one a computation gives: same instructions, ids and
audit records, byte for byte (tables/forecast.py)."""
from __future__ import annotations

from collections import Counter

import orjson

from bench.corrections import simulated_households, state_before
from rules.parameters import default_parameters
from rules.periods import parse_period
from streams.events import decode_event
from tables.household import HouseholdState, read_back
from tables.settlement import fold_and_correct, regular_run
from tests.builders import Scenario


def replay(events, first: int, last: int, use_forecast: bool):
    """Month by month as the engine does: the month's facts (each correcting the closed months), then the
    close; the state goes through its table value between messages. Yields each close's output as JSON."""
    parameters = default_parameters()
    state, table = state_before(events, first), {}
    for month in range(first, last + 1):
        closed = (first, month - 1) if month > first else None
        for recorded, raw in events:
            if recorded == month:  # as the engine folds: an attendance report that changes nothing keeps it
                fold_and_correct(state, decode_event(raw), raw, closed, parameters)
        state = read_back(state, table)
        if not use_forecast:
            state.forecast = None
        served = state.forecast is not None and state.forecast["month"] < month <= state.forecast["until"]
        yield month, served, orjson.dumps(regular_run(state, month, parameters))
        state.outbox.clear()
        state = read_back(state, table)


def test_regular_runs_from_the_forecast_equal_the_computed_ones():
    first, last = parse_period("2023-07"), parse_period("2024-12")
    runs, served = Counter(), Counter()  # by calendar month (0 = January)
    for household, events in simulated_households(160, 5, "2022-07", "2024-12"):
        computed = list(replay(events, first, last, use_forecast=False))
        for (month, from_forecast, output), (_, _, expected) in zip(replay(events, first, last, True), computed):
            assert output == expected, (household, month)
            runs[month % 12] += 1
            served[month % 12] += from_forecast
    assert sum(runs.values()) > 2_000
    assert sum(served.values()) > sum(runs.values()) // 2
    # July (June and the school bonus) and August (June) re-dated where no fact changed; September is computed
    # (new allocation, income and school year); 2023-07 is the first month, always computed.
    assert served[6] > runs[6] // 3 and served[7] > runs[7] // 2 and served[8] == 0


def test_a_forecast_that_serves_no_later_month_is_not_kept_and_a_fact_then_leaves_the_head_as_it_is():
    """The run of August (September: a new allocation year, a change month for every household) keeps no
    forecast, so September's first fact rewrites the fact entry only, not the head with its ledger."""
    kept = dropped = 0
    for household, events in simulated_households(40, 5, "2023-08", "2024-09"):
        state = state_before(events, parse_period("2024-08"))
        regular_run(state, parse_period("2024-07"))
        kept += state.forecast is not None
        regular_run(state, parse_period("2024-08"))
        assert state.forecast is None, household
        state.outbox.clear()  # (delivered)
        state = read_back(state, {})
        september = [raw for month, raw in events if month == parse_period("2024-09")]
        for raw in september:
            fold_and_correct(state, decode_event(raw), raw, (parse_period("2024-07"), parse_period("2024-08")))
        if september and not state.outbox:  # (a correction is recorded in the head: ledger and outbox)
            assert all(key.startswith("~") for key, _ in state.writes()), household
            dropped += 1
    assert kept > 20 and dropped > 20  # July's run forecasts August (its facts are June's) for most households


def _paid_with_forecast(scenario: Scenario, month: int) -> tuple[HouseholdState, list]:
    """A state of the scenario's facts with its regular run of ``month`` made and delivered, read back from its
    table value; the forecast it keeps serves the next month."""
    state = HouseholdState(scenario.household)
    for event in scenario.decoded():
        state.add_fact(event)
    paid = regular_run(state, month)
    state.outbox.clear()
    state = read_back(state, {})
    assert state.forecast is not None and state.forecast["until"] >= month + 1
    return state, paid


def test_the_month_after_the_school_allowance_is_re_dated_without_it():
    """September pays the school allowance (§6.4) once; October has September's lines without it. The forecast
    made in September serves October, and its re-dated run is the computed one, byte for byte."""
    s = Scenario("H-S")
    mother = s.parent("1986-03-01")
    pupil = s.child("2015-06-10", [mother])
    s.enrolled(pupil, "2024-2025", "primary", "2024-09-02")
    s.tax(mother, 2022, 14_000.0)
    september, october = parse_period("2024-09"), parse_period("2024-10")
    runs = []
    for use_forecast in (True, False):
        state, paid = _paid_with_forecast(s, september)
        assert "school_allowance" in {line["component"] for instruction, _ in paid for line in instruction["lines"]}
        if not use_forecast:
            state.forecast = None
        runs.append(orjson.dumps(regular_run(state, october)))
    assert runs[0] == runs[1]
    assert b"school_allowance" not in runs[0] and b'"basic"' in runs[0]


def test_an_assessment_of_another_income_year_keeps_the_forecast():
    """November 2024 reads the income of 2022 (allocation year 2024-2025): an assessment of 2023 leaves the
    forecast made in October as it is, and the run re-dated from it is the computed one, byte for byte; a revised
    assessment of 2022 drops it."""
    s = Scenario("H-T")
    mother = s.parent("1984-07-01")
    s.child("2014-02-11", [mother])
    s.child("2019-11-30", [mother])
    s.tax(mother, 2022, 21_000.0)
    october, november = parse_period("2024-10"), parse_period("2024-11")
    runs = []
    for use_forecast in (True, False):
        state, _ = _paid_with_forecast(s, october)
        later = Scenario("H-T")
        raw = orjson.dumps(later.tax(mother, 2023, 48_000.0, recorded_at="2024-11-05T09:00:00Z"))
        fold_and_correct(state, decode_event(raw), raw, (october, october))
        assert state.forecast is not None
        if not use_forecast:
            state.forecast = None
        runs.append(orjson.dumps(regular_run(state, november)))
        state.outbox.clear()
        raw = orjson.dumps(later.tax(mother, 2022, 9_000.0, recorded_at="2024-11-20T09:00:00Z"))
        fold_and_correct(state, decode_event(raw), raw, (october, november))
        assert state.forecast is None
    assert runs[0] == runs[1] and b'"social"' in runs[0]
