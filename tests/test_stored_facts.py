"""Facts read back from the engine's own tables and topics (decode_stored): the same events as at ingest, without
computing the identifiers' check digits again; ingest still refuses an invalid identifier."""
import orjson
import pytest
from pydantic import ValidationError

from streams.events import InvalidEvent, decode_event, decode_stored
from tests.builders import Scenario


def scenario_events() -> list[bytes]:
    s = Scenario()
    mother = s.parent("1986-02-11")
    s.child("2019-05-04", [mother])
    s.bank_account(mother)
    return [orjson.dumps(event) for event in s.events]


def test_a_stored_fact_decodes_to_the_event_accepted_at_ingest():
    for raw in scenario_events():
        assert decode_stored(raw) == decode_event(raw)


def test_an_iban_comes_out_compacted_as_at_ingest():
    raw = next(r for r in scenario_events() if b"bank_account" in r)
    event = orjson.loads(raw)
    iban = event["data"]["iban"]
    event["data"]["iban"] = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()
    spaced = orjson.dumps(event)
    assert decode_stored(spaced).data.iban == decode_event(spaced).data.iban == iban


def test_check_digits_are_checked_at_ingest_only():
    raw = scenario_events()[0]
    event = orjson.loads(raw)
    insz = event["subject"]
    event["subject"] = insz[:9] + f"{(int(insz[9:]) + 1) % 100:02d}"  # a wrong check digit
    tampered = orjson.dumps(event)
    with pytest.raises(InvalidEvent) as refused:
        decode_event(tampered)
    assert refused.value.reason_class == "invalid_identifier"
    assert decode_stored(tampered).subject == event["subject"]  # trusted: accepted before


def test_anything_else_wrong_is_still_refused():
    event = orjson.loads(scenario_events()[0])
    event["occurred_on"] = "1850-01-01"
    with pytest.raises(ValidationError):
        decode_stored(orjson.dumps(event))
