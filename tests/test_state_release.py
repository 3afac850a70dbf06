"""A household state's calculator forms no reference cycle (a household-month refers to its calculator weakly),
so reference counting frees a calculator, its situation and decoded facts as soon as nothing uses it, instead of
the cycle collector in one long pause with the GIL held (agents/pauses.py: the September rebalance)."""
from __future__ import annotations

import gc
import weakref

import orjson
import pytest

from bench.corrections import simulated_households, state_before
from rules.calculator import Calculator
from rules.parameters import default_parameters
from rules.periods import parse_period
from rules.situation import Situation
from streams.events import decode_event
from tables.household import StateCache
from tables.settlement import fold_and_correct, regular_run
from tests.test_settlement import family, state_of


def computed_state():
    s, _, _ = family()
    state = state_of(s)
    regular_run(state, parse_period("2024-09"))
    return state


@pytest.fixture
def no_automatic_collection():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_a_computed_state_left_alone_is_freed_by_reference_counting(no_automatic_collection):
    state = computed_state()
    assert state._calculator._household_months  # it did cache household-months (which refer back to it)
    calculator = weakref.ref(state._calculator)
    del state
    assert calculator() is None
    assert gc.collect() == 0


def test_a_household_month_outlived_by_its_calculator_says_so():
    s, _, _ = family()
    month = Calculator(Situation(s.decoded())).household_month(s.household, parse_period("2024-09"))
    with pytest.raises(ReferenceError):
        month.entitled


def test_a_rebuilt_calculator_frees_the_one_before(no_automatic_collection):
    s, mother, _ = family()
    state = state_of(s)
    regular_run(state, parse_period("2024-09"))
    before = weakref.ref(state._calculator)
    s.bank_account(mother, account=539007548)  # a newer fact: the next calculation builds a new calculator
    data = orjson.dumps(s.events[-1])
    state.add_fact(decode_event(data), data)
    state.calculator()
    assert before() is None and state._calculator is not None


def test_the_cache_frees_what_it_evicts_replaces_or_clears(no_automatic_collection):
    cache = StateCache(capacity=2)
    calculators = {}
    for name in ("A", "B", "C"):
        state = computed_state()
        calculators[name] = weakref.ref(state._calculator)
        cache.remember(name, b"head", state)
        del state
    assert calculators["A"]() is None and calculators["B"]() is not None  # A evicted, the oldest
    newer = computed_state()
    cache.remember("B", b"newer head", newer)  # B replaced by a newer state
    assert calculators["B"]() is None
    cache.clear()
    assert calculators["C"]() is None
    assert gc.collect() == 0


def test_a_close_over_a_simulated_population_leaves_no_cyclic_garbage(no_automatic_collection):
    """The households agent's close over every household of a partition, without any clean-up between them."""
    parameters, first, september = default_parameters(), parse_period("2024-08"), parse_period("2024-09")
    states = []
    for _, events in simulated_households(60, 5, "2023-08", "2024-09"):
        state = state_before(events, first)
        for month in (first, september):
            for recorded, raw in events:
                if recorded == month:
                    fold_and_correct(state, decode_event(raw), raw, (first, month - 1) if month > first else None,
                                     parameters)
        states.append(state)
    gc.collect()
    lines = 0
    for state in states:
        lines += sum(len(instruction["lines"]) for instruction, _ in regular_run(state, september, parameters))
    assert lines > 50
    del states, state
    assert gc.collect() == 0
