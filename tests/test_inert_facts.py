"""Attendance reports that can change no amount make no correction computation, and skipping it changes nothing:
the same corrections, regular runs and ledger as correcting after every fact (tables.settlement)."""
from __future__ import annotations

import orjson

from bench.corrections import simulated_households, state_before
from rules.parameters import default_parameters
from rules.periods import parse_period
from streams.events import decode_event
from tables.facts import Outcome
from tables.household import read_back
from tables.settlement import attendance_changes_no_amount, correct, fold_and_correct, regular_run


def replay(events, first: int, last: int, shortcut: bool, counts: dict):
    parameters = default_parameters()
    state, table = state_before(events, first), {}
    output = []
    for month in range(first, last + 1):
        closed = (first, month - 1) if month > first else None
        for recorded, raw in events:
            if recorded != month:
                continue
            event = decode_event(raw)
            if shortcut:
                _, made = fold_and_correct(state, event, raw, closed, parameters)
            else:
                inert = closed is not None and event.type == "education.attendance" and \
                    attendance_changes_no_amount(state, event, parameters)
                made = correct(state, event, closed, parameters) if state.add_fact(event, raw) is Outcome.ACCEPTED \
                    else []
                counts["inert"] += inert
                counts["inert_with_correction"] += inert and bool(made)
                counts["attendance"] += event.type == "education.attendance" and closed is not None
            output.append(made)
        output.append(regular_run(state, month, parameters))
        state = read_back(state, table)
    return orjson.dumps([output, state.ledger.to_document()])


def test_skipped_attendance_reports_change_nothing():
    first, last = parse_period("2023-09"), parse_period("2024-12")
    counts = {"inert": 0, "inert_with_correction": 0, "attendance": 0}
    for household, events in simulated_households(200, 9, "2022-09", "2024-12"):
        assert replay(events, first, last, True, counts) == replay(events, first, last, False, counts), household
    assert counts["inert_with_correction"] == 0
    assert counts["attendance"] > 1_000
    assert counts["inert"] > counts["attendance"] // 2  # most reports change nothing
