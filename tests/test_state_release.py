"""A household state's calculator forms reference cycles (a household-month refers to its calculator); a state
that is done with is released (HouseholdState.release), so that reference counting frees it at once instead of
the cycle collector in one long pause (agents/pauses.py). The state cache releases what it lets go."""
from __future__ import annotations

import gc
import weakref

import orjson
import pytest

from rules.periods import parse_period
from streams.events import decode_event
from tables.household import StateCache
from tables.settlement import regular_run
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


def test_a_computed_state_left_alone_is_cyclic_garbage(no_automatic_collection):
    state = computed_state()
    calculator = weakref.ref(state._calculator)
    del state
    assert calculator() is not None  # only the cycle collector can free it
    assert gc.collect() > 0 and calculator() is None


def test_a_released_state_is_freed_by_reference_counting(no_automatic_collection):
    state = computed_state()
    calculator = weakref.ref(state._calculator)
    state.release()
    assert calculator() is None
    del state
    assert gc.collect() == 0


def test_a_released_state_computes_the_same_again():
    s, _, _ = family()
    kept, released = state_of(s), state_of(s)
    for state in (kept, released):
        regular_run(state, parse_period("2024-09"))
    released.release()
    assert regular_run(released, parse_period("2024-10")) == regular_run(kept, parse_period("2024-10"))


def test_a_rebuilt_calculator_releases_the_one_before(no_automatic_collection):
    s, mother, _ = family()
    state = state_of(s)
    regular_run(state, parse_period("2024-09"))
    before = weakref.ref(state._calculator)
    s.bank_account(mother, account=539007548)  # a newer fact: the next calculation builds a new calculator
    data = orjson.dumps(s.events[-1])
    state.add_fact(decode_event(data), data)
    state.calculator()
    assert before() is None and state._calculator is not None


def test_the_cache_releases_what_it_evicts_replaces_or_clears_and_keeps_what_it_holds_warm():
    cache = StateCache(capacity=2)
    states = {name: computed_state() for name in ("A", "B", "C")}
    for name in ("A", "B"):
        cache.remember(name, b"head", states[name])
    cache.let_go("A", states["A"])  # held: stays warm
    assert states["A"]._calculator is not None
    cache.remember("C", b"head", states["C"])  # evicts A, the oldest
    assert states["A"]._calculator is None and states["B"]._calculator is not None
    newer = computed_state()
    cache.remember("B", b"newer head", newer)  # B replaced by a newer state
    assert states["B"]._calculator is None and newer._calculator is not None
    loose = computed_state()
    cache.let_go("D", loose)  # never held: released
    assert loose._calculator is None
    cache.clear()
    assert states["C"]._calculator is None and newer._calculator is None
