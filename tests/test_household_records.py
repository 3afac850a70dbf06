"""The household state in the table (tables/household.py): a head per household and one entry per subject of its
facts; what each change writes, the lazy read-back, values written before this layout, and the crash case the
write order is there for (the head stored, the fact entries after it lost)."""
from __future__ import annotations

import orjson

from rules.periods import parse_period
from streams.events import decode_event
from tables.facts import Outcome
from tables.household import HouseholdState, facts_key, head_document, read_back, records_prefix
from tables.settlement import fold_and_correct, regular_run
from tests.test_settlement import family, state_of

HOUSEHOLD = "H-000001"
CLOSED = (parse_period("2024-01"), parse_period("2024-03"))


def closed_state(months=("2024-01", "2024-02", "2024-03")):
    """A family paid for January to March (regular runs made, outbox settled), as read back from a table."""
    s, mother, child = family()
    state, table = state_of(s), {}
    for month in months:
        regular_run(state, parse_period(month))
    state.outbox.clear()
    return s, mother, read_back(state, table), table


def fold(state, raw: dict):
    data = orjson.dumps(raw)
    return fold_and_correct(state, decode_event(data), data, CLOSED)


def test_a_fact_writes_the_head_first_then_only_its_subjects_entry():
    s, mother, state, table = closed_state()
    assert state.forecast is None  # March's run serves no later month: the child turns 3 in April
    tax = s.tax(mother, 2021, 20000)
    outcome, made = fold(state, tax)
    assert outcome is Outcome.ACCEPTED and made  # arrears for the closed months
    writes = state.writes()
    assert [key for key, _ in writes] == [HOUSEHOLD, facts_key(HOUSEHOLD, mother)]  # the head first
    assert head_document(writes[0][1])["forecast"] is None  # made from the facts before
    assert state.writes() == []  # written: nothing left to write


def test_a_duplicate_writes_nothing_and_a_superseded_fact_only_its_subjects_entry():
    s, mother, state, table = closed_state()
    tax = s.tax(mother, 2021, 20000, recorded_at="2024-02-01T00:00:00Z")
    fold(state, tax)
    state = read_back(state, table)
    assert fold(state, tax)[0] is Outcome.DUPLICATE and state.writes() == []
    older = s.tax(mother, 2021, 30000, recorded_at="2024-01-01T00:00:00Z")
    assert fold(state, older)[0] is Outcome.SUPERSEDED
    writes = state.writes()
    assert [key for key, _ in writes] == [facts_key(HOUSEHOLD, mother)]  # no correction: the head is unchanged
    table.update(writes)
    again = read_back(state, table)
    assert fold(again, older)[0] is Outcome.DUPLICATE  # the superseded id is kept with its key's entry


def test_a_close_that_re_dates_reads_neither_facts_nor_more_than_it_writes():
    s, mother, state, table = closed_state(("2024-01",))  # computed, and holds until March
    reads = {"facts": 0}
    prefix = records_prefix(HOUSEHOLD)

    def read_facts():
        reads["facts"] += 1
        return [value for key, value in table.items() if key.startswith(prefix)]

    back = HouseholdState.read(table[HOUSEHOLD], read_facts)
    (instruction, _), = regular_run(back, parse_period("2024-02"))
    assert instruction["lines"][0]["period"] == "2024-02"
    assert reads["facts"] == 0  # re-dated from the forecast
    assert [key for key, _ in back.writes()] == [HOUSEHOLD]  # ledger, periods done and outbox: the head only


def test_a_value_written_before_fact_entries_is_read_and_rewritten_as_entries():
    s, mother, state, _ = closed_state()
    head = orjson.dumps({"household_id": HOUSEHOLD, "ledger": state.ledger.to_document(),
                         "regular_done": sorted(state.regular_done), "outbox": [], "forecast": state.forecast})
    old_value = head + b"\n" + state.facts.to_bytes()
    old = HouseholdState.read(old_value, lambda: [])
    table = {}
    migrated = read_back(old, table)
    assert sorted(table) == sorted([HOUSEHOLD] + [
        facts_key(HOUSEHOLD, subject) for subject in {key[1] for key in state.facts._facts}])
    assert migrated.facts.to_bytes() == state.facts.to_bytes() and migrated.forecast == state.forecast
    assert orjson.dumps(regular_run(migrated, parse_period("2024-04"))) == orjson.dumps(
        regular_run(state, parse_period("2024-04")))


def test_after_a_crash_that_kept_the_head_but_lost_the_entry_the_fact_comes_again_and_corrects_nothing_more():
    s, mother, state, table = closed_state()
    tax = s.tax(mother, 2021, 20000)
    _, made = fold(state, tax)
    writes = state.writes()
    crashed = dict(table)
    crashed[HOUSEHOLD] = writes[0][1]  # the changelog kept a prefix of the message's writes: the head
    prefix = records_prefix(HOUSEHOLD)
    recovered = HouseholdState.read(crashed[HOUSEHOLD],
                                    lambda: [value for key, value in crashed.items() if key.startswith(prefix)])
    assert [entry["instruction"]["instruction_id"] for entry in recovered.outbox] == [made[0][0]["instruction_id"]]
    outcome, again = fold(recovered, tax)  # the message was not committed: it comes again
    assert outcome is Outcome.ACCEPTED and again == []  # the ledger holds the correction already
    assert recovered.ledger.to_document() == state.ledger.to_document()
    assert orjson.dumps(regular_run(recovered, parse_period("2024-04"))) == orjson.dumps(
        regular_run(state, parse_period("2024-04")))


def test_a_new_household_writes_its_head_and_a_persons_history_is_one_entry():
    s, mother, child = family()
    s.tax(mother, 2021, 20000)
    state = HouseholdState(HOUSEHOLD)
    for raw in s.events:  # as a registration forwards the persons' histories
        data = orjson.dumps(raw)
        state.add_fact(decode_event(data), data)
    keys = [key for key, _ in state.writes()]
    assert keys[0] == HOUSEHOLD  # the head: a close finds every household by it
    assert sorted(keys[1:]) == sorted(facts_key(HOUSEHOLD, subject) for subject in {mother, child})
