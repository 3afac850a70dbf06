"""The bench's latency figure: from a late source record to the instruction it caused, past invalid records."""
from types import SimpleNamespace

import orjson

from bench.chain import latencies_ms


def record(topic: str, value: bytes, timestamp: int):
    return SimpleNamespace(topic=topic, value=value, timestamp=timestamp)


def test_latencies_pair_late_records_with_their_corrections_and_pass_over_invalid_records():
    late = {"event_id": "e-1", "type": "childcare.attendance", "subject": "x"}
    sources = [
        record("src.childcare", b'{"type":"childcare.attendance","subject":"x"}', 1_000),  # no event id
        record("src.childcare", b'{"type":"childcare.attendance", not json', 1_100),
        record("src.childcare", b'["childcare.attendance"]', 1_200),
        record("src.childcare", orjson.dumps(late), 2_000),
        record("src.childcare", orjson.dumps({**late, "event_id": "e-2"}), 2_500),  # not one of the late ones
    ]
    payments = [
        record("payments.fons", orjson.dumps({"caused_by": ["e-1"], "lines": []}), 2_250),
        record("payments.fons", orjson.dumps({"caused_by": ["e-2"], "lines": []}), 2_600),
        record("payments.fons", orjson.dumps({"caused_by": None, "lines": []}), 2_700),
    ]
    assert latencies_ms(sources, payments, {"e-1"}) == [250]
