"""Household state, ledger, regular runs and corrections (pure: no Kafka)."""
import orjson

from rules.calculator import Calculator
from rules.periods import parse_period
from streams.events import decode_event
from tables.facts import fold
from tables.household import HouseholdState, read_back
from tables.settlement import correct, regular_run
from tests.builders import Scenario


def state_of(s: Scenario, household="H-000001") -> HouseholdState:
    state = HouseholdState(household)
    for raw in s.events:
        data = orjson.dumps(raw)
        state.add_fact(decode_event(data), data)
    return state


def add(state: HouseholdState, s: Scenario, raw: dict, first: str, last: str | None = None):
    """Fold a fact and correct the closed periods first..last."""
    data = orjson.dumps(raw)
    event = decode_event(data)
    state.add_fact(event, data)
    return correct(state, event, (parse_period(first), parse_period(last or first)))


def family():
    s = Scenario()
    mother = s.parent("1990-03-01")
    child = s.child("2021-04-04", [mother])
    s.bank_account(mother)
    return s, mother, child


def test_regular_run_pays_the_period_once_with_receiver_iban_and_due_date():
    s, mother, child = family()
    state = state_of(s)
    (instruction, audit), = regular_run(state, parse_period("2024-05"))
    assert instruction["kind"] == "regular" and instruction["payer"] == "FONS"
    assert instruction["receiver"] == mother and instruction["method"] == "transfer" and instruction["iban"]
    assert instruction["due_date"] == "2024-06-07"  # 8 June 2024 is a Saturday
    assert instruction["lines"] == [{"child": child, "component": "basic", "period": "2024-05", "amount_cents": 17666}]
    assert audit["trace_id"] == instruction["trace_id"] and audit["lines"][0]["parameters"]
    assert regular_run(state, parse_period("2024-05")) == []  # closing twice is harmless


def test_late_tax_assessment_pays_arrears_for_closed_months():
    s, mother, child = family()
    state = state_of(s)
    for period in ("2023-09", "2023-10"):
        regular_run(state, parse_period(period))
    tax = s.tax(mother, 2021, 20000)
    (correction, audit), = add(state, s, tax, "2023-09", "2023-10")
    assert correction["kind"] == "correction" and correction["caused_by"] == [tax["event_id"]]
    assert [(l["component"], l["period"], l["amount_cents"]) for l in correction["lines"]] == [
        ("social", "2023-09", 7050), ("social", "2023-10", 7050)]
    assert correction["due_date"] == "2023-12-08"


def test_revised_assessment_recovers_the_difference():
    s, mother, child = family()
    s.tax(mother, 2021, 20000)
    state = state_of(s)
    regular_run(state, parse_period("2023-09"))
    revision = s.tax(mother, 2021, 90000, recorded_at="2024-01-01T00:00:00Z")
    (correction, _), = add(state, s, revision, "2023-09")
    assert [(l["component"], l["amount_cents"]) for l in correction["lines"]] == [("social", -7050)]
    # an older assessment arriving late does not win: nothing changes
    stale = s.tax(mother, 2021, 20000, recorded_at="2023-01-01T00:00:00Z")
    assert add(state, s, stale, "2023-09") == []


def test_months_before_the_first_close_are_never_paid():
    s, mother, child = family()
    state = state_of(s)
    regular_run(state, parse_period("2024-05"))
    (correction, _), = add(state, s, s.tax(mother, 2021, 20000), "2024-05")
    assert {l["period"] for l in correction["lines"]} == {"2024-05"}  # not Sep 2023 .. Apr 2024


def test_duplicate_fact_changes_nothing():
    s, mother, child = family()
    tax = s.tax(mother, 2021, 20000)
    state = state_of(s)
    regular_run(state, parse_period("2023-09"))
    assert add(state, s, tax, "2023-09") == []


def test_payer_change_routes_later_periods_to_the_new_payer():
    s, mother, child = family()
    s.payer("KIDSLIFE", "2024-06")
    state = state_of(s)
    (may, _), = regular_run(state, parse_period("2024-05"))
    (june, _), = regular_run(state, parse_period("2024-06"))
    assert may["payer"] == "FONS" and june["payer"] == "KIDSLIFE"
    assert june["instruction_id"].startswith("kidslife-")


def test_state_round_trips_and_replay_gives_same_ids_and_content():
    s, mother, child = family()
    s.childcare(child, "2024-05", 10)
    first, table = state_of(s), {}
    again = read_back(first, table)
    results = regular_run(first, parse_period("2024-05"))
    assert [r[0]["instruction_id"] for r in results] == [r[0]["instruction_id"] for r in regular_run(again, parse_period("2024-05"))]
    assert len(results) == 2  # childcare has its own due date
    assert results[1][0]["due_date"] == "2024-06-20"
    restored = read_back(first, table)
    assert restored.ledger.to_document() == first.ledger.to_document() and len(restored.outbox) == 2


def test_ledger_matches_calculator_after_corrections():
    s, mother, child = family()
    state = state_of(s)
    closed = [parse_period(p) for p in ("2023-09", "2023-10", "2023-11")]
    for month in closed:
        regular_run(state, month)
    add(state, s, s.tax(mother, 2021, 30000), "2023-09", "2023-11")
    add(state, s, s.event("person.died", child, "2023-10-20", {"date_of_death": "2023-10-20"}), "2023-09", "2023-11")
    calc = Calculator.from_events(fold([decode_event(orjson.dumps(e)) for e in s.events]))
    expected = {(l.child, l.component, l.month): l.amount_cents for l in calc.entitlements(closed)}
    assert dict(state.ledger.items()) == expected
