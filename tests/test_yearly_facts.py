"""Yearly facts (rules.yearly_facts) are decoded only for the years the rules read, and the amounts are those of a
situation that decoded every fact."""
from __future__ import annotations

import orjson

from bench.corrections import simulated_households, state_before
from rules.calculator import Calculator
from rules.periods import parse_period
from rules.yearly_facts import ByYear, property_year
from tables.household import read_back


def test_a_year_is_made_when_first_read_and_only_then():
    loaded = []

    def load(name):
        def decode():
            loaded.append(name)
            return type("Event", (), {"data": name, "event_id": f"id-{name}"})()
        return decode

    years = ByYear(property_year)
    assert not years and len(years) == 0 and years.get(2022) is None
    years.add(2022, load("a"))
    years.add(2022, load("b"))
    years.add(2021, load("c"))
    assert years and len(years) == 2 and loaded == []
    assert years.get(2022) == [("a", "id-a"), ("b", "id-b")] and loaded == ["a", "b"]
    assert years.get(2022) is years.get(2022) and loaded == ["a", "b"]  # made once
    assert years.get(2020, ()) == () and len(years) == 2 and loaded == ["a", "b"]


def test_a_situation_read_back_decodes_only_the_years_it_reads_and_pays_the_same():
    months = range(parse_period("2024-01"), parse_period("2024-12") + 1)
    undecoded = total = 0
    for household, events in simulated_households(120, 5, "2022-09", "2024-12"):
        state = state_before(events, parse_period("2025-01"))
        decoded = Calculator.from_events(list(state.facts))  # every fact decoded and placed at once
        expected = [line.explanation() for line in decoded.entitlements(months, [household])]
        stored = read_back(state, {})
        september = stored.calculator().entitlements([parse_period("2024-09")], [household])
        assert [line.explanation() for line in september] == [line for line in expected
                                                              if line["period"] == "2024-09"], household
        undecoded += sum(event is None for event in stored.facts._facts.values())
        total += len(stored.facts)
        assert orjson.dumps([line.explanation() for line in stored.calculator().entitlements(months, [household])]) \
            == orjson.dumps(expected), household
    assert undecoded > total * 2 // 5  # the other years' tax, property and attendance facts (half of all here)
