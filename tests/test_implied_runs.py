"""Implied regular runs (tables.settlement.implied_run): a close that only re-dates a household's forecast publishes
the run without writing the state, and the ledger takes its lines in when the state is next loaded. Over a
simulated population, month by month, the instructions and the ledger are those of closes that record every run."""
from __future__ import annotations

import orjson

from bench.corrections import simulated_households, state_before
from rules.parameters import default_parameters
from rules.periods import parse_period
from streams.events import decode_event
from tables.household import read_back
from tables.settlement import fold_and_correct, implied_run, regular_run, settle_implied_runs


def replay(events, first: int, last: int, implied: bool):
    """As the households agent: the month's facts (each correcting the closed months), then the close; the state
    goes through its table value between messages, and the outbox is acknowledged after each. With ``implied``,
    a close whose run is implied writes nothing, and every load settles the implied runs of the closes so far.
    Yields (month, output of the month as JSON, whether its run was implied, writes the close made)."""
    parameters = default_parameters()
    state, table = state_before(events, first), {}
    closed_months: list[int] = []
    for month in range(first, last + 1):
        closed = (first, month - 1) if closed_months else None
        output = []
        for recorded, raw in events:
            if recorded != month:
                continue
            state = read_back(state, table)
            if implied:
                settle_implied_runs(state, closed_months)
            output.append(fold_and_correct(state, decode_event(raw), raw, closed, parameters)[1])
            state.outbox.clear()
        state = read_back(state, table)
        head = state.head_written
        run = implied_run(state, month, parameters) if implied else None
        if run is None:
            if implied:
                settle_implied_runs(state, closed_months)
            run = regular_run(state, month, parameters)
            state.outbox.clear()
        elif state.head() != head:
            raise AssertionError("an implied run changed the state")
        writes = state.writes()
        table.update(writes)
        closed_months.append(month)
        yield month, orjson.dumps([output, run]), implied and not writes, len(writes)


def test_implied_runs_publish_what_recorded_runs_do_and_the_ledger_settles_to_the_same_sums():
    first, last = parse_period("2023-07"), parse_period("2024-12")
    months = implied_months = 0
    for household, events in simulated_households(160, 5, "2022-07", "2024-12"):
        recorded = list(replay(events, first, last, implied=False))
        for (month, output, was_implied, writes), (_, expected, _, _) in zip(
                replay(events, first, last, implied=True), recorded):
            assert output == expected, (household, month)
            months += 1
            implied_months += was_implied
    assert months > 2_000
    assert implied_months > months // 4  # a third of the months are July-September: always computed


def test_the_ledger_after_implied_runs_equals_the_ledger_of_recorded_runs():
    first, last = parse_period("2023-07"), parse_period("2024-06")
    checked = 0
    for _, events in simulated_households(60, 9, "2022-07", "2024-06"):
        states = []
        for implied in (False, True):
            parameters, closed_months = default_parameters(), []
            state = state_before(events, first)
            for month in range(first, last + 1):
                run = implied_run(state, month, parameters) if implied else None
                if run is None:
                    settle_implied_runs(state, closed_months)
                    regular_run(state, month, parameters)
                    state.outbox.clear()
                closed_months.append(month)
            settle_implied_runs(state, closed_months)
            states.append(state)
        recorded, settled = states
        assert sorted(settled.ledger.items()) == sorted(recorded.ledger.items())
        assert settled.regular_done == recorded.regular_done
        checked += 1
    assert checked > 40


def test_a_run_is_not_implied_while_the_outbox_holds_an_entry_or_the_month_is_done():
    first = parse_period("2024-01")
    for _, events in simulated_households(40, 3, "2023-07", "2024-06"):
        state = state_before(events, first)
        regular_run(state, first)
        if state.forecast is None or state.forecast["until"] <= first:
            continue
        assert implied_run(state, first + 1) is None  # the first run's entry is still in the outbox
        state.outbox.clear()
        assert implied_run(state, first + 1) is not None
        settle_implied_runs(state, [first, first + 1])
        assert first + 1 in state.regular_done and implied_run(state, first + 1) is None
        return
    raise AssertionError("no household with a forecast past its first month")
