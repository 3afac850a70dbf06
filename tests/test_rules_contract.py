"""Contract §2 (duplicates, order independence, facts before the person is known) and §6 (offline calc output),
checked on the calculator's result."""
import copy
import random

import orjson

from cli.main import main as cli_main
from rules.periods import parse_period
from tests.builders import Scenario, amounts, child_amounts


def rich_scenario():
    """A family exercising most components in 2023-09 .. 2024-08."""
    s = Scenario()
    mother, father = s.parent("1984-03-03"), s.parent("1982-11-11")
    s.tax(mother, 2021, 20000, recorded_at="2022-07-01T00:00:00Z")
    s.tax(mother, 2021, 15000, recorded_at="2022-09-01T00:00:00Z")  # supersedes
    s.tax(father, 2021, 14000)
    s.property(father, 2021, "P-1", "other", 50000, 50)
    emma = s.child("2012-02-10", [mother, father], legacy_group="LG-1")
    noah = s.child("2016-01-03", [mother, father], legacy_group="LG-1")
    mila = s.child("2021-03-15", [mother, father])
    baby = s.born("2024-02-02", [mother, father])
    s.enrolled(mila, "2023-2024", "preschool", "2024-04-15")
    s.childcare(mila, "2024-02", 12, 3)
    s.childcare(baby, "2024-05", 13, 2)
    s.enrolled(noah, "2023-2024", "primary", "2023-09-01")
    s.enrolled(emma, "2023-2024", "primary", "2023-09-01")
    s.care(noah, 0, 12, "2022-01-01")
    s.died(father, "2024-06-20")
    return s, (mother, father), (emma, noah, mila, baby)


MONTHS = range(parse_period("2023-09"), parse_period("2024-08") + 1)


def rows(calc):
    return sorted(tuple(sorted(line.row().items())) for line in calc.entitlements(MONTHS))


def calc_of(events):
    s = Scenario()
    s.events = events
    return s.calculator()


def test_rich_scenario_has_lines():
    s, _, _ = rich_scenario()
    assert len(rows(s.calculator())) > 50


def test_out_of_order_arrival_gives_the_same_result():
    s, _, _ = rich_scenario()
    expected = rows(s.calculator())
    assert rows(calc_of(list(reversed(s.events)))) == expected
    for seed in (1, 2, 3):
        shuffled = list(s.events)
        random.Random(seed).shuffle(shuffled)
        assert rows(calc_of(shuffled)) == expected


def test_duplicate_event_id_changes_nothing():
    s, _, _ = rich_scenario()
    expected = rows(s.calculator())
    assert rows(calc_of(s.events + [copy.deepcopy(e) for e in s.events])) == expected


def test_duplicate_event_id_with_other_content_is_ignored():
    # the same event_id arriving again with another income (and a later recorded_at) is a duplicate.
    s = Scenario()
    parent = s.parent()
    first = s.tax(parent, 2021, 24000)
    child = s.child("2020-05-01", [parent])
    replay = copy.deepcopy(first)
    replay["data"]["taxable_income_cents"] = 9000000
    replay["recorded_at"] = "2023-01-01T00:00:00Z"
    s.events.append(replay)
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": 17666, "social": 7050}


def test_facts_before_the_person_is_registered_are_applied():
    # the tax assessment, the care assessment and the childcare record all arrive before the registrations.
    s = Scenario()
    parent = s.insz("1985-01-01")
    child = s.insz("2022-04-04")
    s.tax(parent, 2021, 24000)
    s.care(child, 0, 6, "2023-01-01")
    s.childcare(child, "2024-05", 10)
    s.event("person.registered", parent, "2015-01-01", {"birth_date": "1985-01-01", "household_id": s.household,
                                                          "role": "parent", "region": "flanders"})
    s.event("person.registered", child, "2022-04-04", {"birth_date": "2022-04-04", "household_id": s.household,
                                                         "role": "child", "parents": [parent], "region": "flanders"})
    # basic 176.66 + social A12 70.50 + care band 2 118.74 + childcare 10 x 3.50.
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": 17666, "social": 7050, "care": 11874,
                                                               "childcare": 3500}


def test_death_recorded_before_the_registration_is_applied():
    s = Scenario()
    parent = s.parent()
    child = s.insz("2020-03-01")
    s.died(child, "2024-03-10")
    s.event("person.registered", child, "2020-03-01", {"birth_date": "2020-03-01", "household_id": s.household,
                                                         "role": "child", "parents": [parent], "region": "flanders"})
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-03") == {"basic": 17666}
    assert child_amounts(calc, child, "2024-04") == {}


def test_moved_events_with_the_same_date_later_recorded_wins():
    # natural key subject + occurred_on: two moves on 2024-05-01, the later recorded (Flanders) wins.
    s = Scenario()
    parent = s.parent()
    child = s.child("2020-03-01", [parent])
    s.event("person.moved", child, "2024-05-01", {"household_id": s.household, "role": "child", "region": "flanders"},
            recorded_at="2024-05-03T00:00:00Z")
    s.event("person.moved", child, "2024-05-01", {"household_id": s.household, "role": "child", "region": "abroad"},
            recorded_at="2024-05-02T00:00:00Z")
    assert child_amounts(s.calculator(), child, "2024-06") == {"basic": 17666}


# --- §6 offline calc ---------------------------------------------------------------------------------------------

def test_calc_command_prints_one_row_per_child_component_period(tmp_path, capsysbinary):
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, 24000)
    child = s.child("2021-04-01", [parent])
    path = tmp_path / "events.jsonl"
    path.write_bytes(s.jsonl() + b"not json\n")
    assert cli_main(["calc", str(path), "--from", "2024-05", "--to", "2024-06"]) == 0
    out = capsysbinary.readouterr()
    document = orjson.loads(out.out)
    assert sorted((r["period"], r["component"], r["amount_cents"], r["child"], r["household_id"])
                  for r in document["entitlements"]) == [
        ("2024-05", "basic", 17666, child, s.household), ("2024-05", "social", 7050, child, s.household),
        ("2024-06", "basic", 17666, child, s.household), ("2024-06", "social", 7050, child, s.household)]
    assert b"line 4" in out.err  # the invalid line is reported, not fatal
