"""The ledger kept by year (tables/ledger.py): the same sums as one mapping, a year decoded only when read and
written back as read when unchanged, and heads written before the ledger's years read and rewritten."""
from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.periods import parse_period
from tables.household import HouseholdState, head_document, read_back
from tables.ledger import Ledger
from tables.settlement import regular_run
from tests.test_household_records import HOUSEHOLD, closed_state

CHILDREN, COMPONENTS = ("85010100123", "19050100155"), ("basic", "social", "care")
MONTHS = st.integers(parse_period("2019-01"), parse_period("2026-12"))
RECORDS = st.tuples(st.sampled_from(CHILDREN), st.sampled_from(COMPONENTS), MONTHS, st.integers(-30_000, 30_000))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(RECORDS, max_size=12), max_size=6))
def test_a_ledger_read_back_between_any_records_holds_the_sums_of_one_mapping(batches):
    ledger, model = Ledger(), {}
    for batch in batches:
        ledger = Ledger.from_encoded_years(ledger.encoded_years())  # written and read back between messages
        for child, component, month, cents in batch:
            ledger.record(child, component, month, cents)
            model[(child, component, month)] = model.get((child, component, month), 0) + cents
        expected = {key: cents for key, cents in model.items() if cents}
        assert dict(ledger.items()) == expected and ledger.total() == sum(expected.values())
        for child, component, month, _ in batch:
            assert ledger.instructed(child, component, month) == expected.get((child, component, month), 0)
            assert ledger.entries_for({month}) == {k: c for k, c in expected.items() if k[2] == month}
    assert Ledger.from_document(ledger.to_document()).to_document() == ledger.to_document()


def test_a_year_not_read_is_neither_decoded_nor_encoded_again():
    untouched = b"any bytes: never decoded"  # not even JSON: decoding it would fail
    ledger = Ledger.from_encoded_years([(2023, untouched), (2024, b'[["85010100123","basic",24288,17000]]')])
    assert ledger.instructed("85010100123", "basic", parse_period("2024-01")) == 17000
    ledger.record("85010100123", "basic", parse_period("2024-02"), 17000)
    years = dict(ledger.encoded_years())
    assert years[2023] is untouched
    assert orjson.loads(years[2024]) == [["85010100123", "basic", 24288, 17000], ["85010100123", "basic", 24289, 17000]]


def test_a_year_whose_rows_cancel_out_is_not_written():
    ledger = Ledger()
    ledger.record("85010100123", "basic", parse_period("2024-01"), 17000)
    ledger.record("85010100123", "basic", parse_period("2024-01"), -17000)
    assert ledger.encoded_years() == [] and ledger.items() == []


def test_a_run_reads_and_writes_the_year_of_its_month_only():
    s, mother, state, table = closed_state(("2023-11", "2023-12", "2024-01"))
    head = table[HOUSEHOLD]
    document, *years = head.split(b"\n")
    assert orjson.loads(document)["ledger_years"] == [2023, 2024] and len(years) == 2
    back = HouseholdState.read(head, lambda: [value for key, value in table.items() if key != HOUSEHOLD])
    back.ledger._encoded[2023] = b"2023, unread"  # (a run of 2024 must not decode 2023)
    regular_run(back, parse_period("2024-02"))
    written = dict(back.writes())[HOUSEHOLD].split(b"\n")
    assert written[1] == b"2023, unread" and written[2] != years[1]


def test_a_head_written_before_the_ledger_years_is_read_and_rewritten_with_them():
    s, mother, state, table = closed_state()
    old_head = orjson.dumps({"household_id": HOUSEHOLD, "ledger": state.ledger.to_document(),
                             "regular_done": sorted(state.regular_done), "outbox": [], "forecast": state.forecast})
    old = HouseholdState.read(old_head, lambda: [value for key, value in table.items() if key != HOUSEHOLD])
    assert old.ledger.to_document() == state.ledger.to_document()
    migrated = read_back(old, dict(table))  # (the fact entries as they are)
    assert head_document(migrated.head_written)["ledger_years"] == [2024]
    assert orjson.dumps(regular_run(migrated, parse_period("2024-04"))) == orjson.dumps(
        regular_run(state, parse_period("2024-04")))
