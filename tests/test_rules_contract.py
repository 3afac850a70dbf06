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


def test_rich_scenario_hand_computed_months():
    # Family income (income year 2021): mother 15 000 (the later-recorded assessment wins over 20 000) + father
    # 14 000 + 3 x 500.00 KI x 50 % = 750 -> 29 750 <= T1 36 325.76.
    s, _, (emma, noah, mila, baby) = rich_scenario()
    calc = s.calculator()
    # September 2023, n = 3 (Emma 11, Noah 7, Mila 2):
    # - Mila (new): basic 176.66 + A3 103.62.
    # - Noah (rank 1): 101.69 + R1 67.07 + full 6-11 32.63 + care band 4 (total 12) 457.39 + support 331.22
    #   + school allowance primary, 3 points (min 27 605.56 / max 51 387.98):
    #   132.06 + 73.31 x (51 387.98 - 29 750) / (51 387.98 - 27 605.56) = 132.06 + 66.6999.. -> 66.70 -> 198.76.
    # - Emma (rank 2, eldest, gets social_transitional -> full): 188.16 + R2 47.38 + full 6-11 32.63 + 198.76.
    assert amounts(calc, "2023-09") == {
        (mila, "basic"): 17666, (mila, "social"): 10362,
        (noah, "basic_transitional"): 10169, (noah, "social_transitional"): 6707, (noah, "age_supplement"): 3263,
        (noah, "care"): 45739, (noah, "support"): 33122, (noah, "school_allowance"): 19876,
        (emma, "basic_transitional"): 18816, (emma, "social_transitional"): 4738, (emma, "age_supplement"): 3263,
        (emma, "school_allowance"): 19876}
    # March 2024, n = 4 (baby born 2024-02-02): Mila turns 3 on 2024-03-15 and is enrolled by 2024-04-15 ->
    # preschool 143.53; Emma turned 12 in February 2024 -> full 12-17 49.86 from March.
    march = amounts(calc, "2024-03")
    assert march[(mila, "preschool")] == 14353 and march[(emma, "age_supplement")] == 4986
    assert march[(baby, "social")] == 10362 and (baby, "start") not in march
    # April 2024: Mila's preschool school allowance (3 years old since March, enrolled from 2024-04-15),
    # 3 points in September 2023, income <= max -> 113.17.
    assert amounts(calc, "2024-04")[(mila, "school_allowance")] == 11317
    # June 2024: the father died on 2024-06-20 -> Emma and Noah switch to basic + half orphan 141.33; income =
    # mother's 15 000 (the father is not in the household on 30 June) <= T1, n = 4 -> A3 103.62 for everyone.
    assert amounts(calc, "2024-06") == {
        **{(c, "basic"): 17666 for c in (emma, noah, mila, baby)},
        **{(c, "orphan"): 14133 for c in (emma, noah, mila, baby)},
        **{(c, "social"): 10362 for c in (emma, noah, mila, baby)},
        (noah, "care"): 45739, (noah, "support"): 33122}
    # July 2024 school bonus (age on 2023-12-31): baby and Mila A 22.08, Noah (7) B 38.64, Emma (11) C 55.20.
    july = amounts(calc, "2024-07")
    assert {c: july[(c, "school_bonus")] for c in (emma, noah, mila, baby)} == {
        emma: 5520, noah: 3864, mila: 2208, baby: 2208}
