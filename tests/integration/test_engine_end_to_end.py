"""End to end on the embedded broker: source topics → worker processes → payer topics, checked with the
ledger invariant against ``calc`` on the same events (contract §4)."""
from __future__ import annotations

import asyncio
import random
import time
import urllib.request

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.gauges import SAMPLE_SECONDS
from cli.engine_commands import prepare_topics, produce_file, publish_close
from cli.runtime import WorkerProcess, read_dlq, read_payments, wait_idle
from config.settings import load_settings
from rules.calculator import Calculator
from streams import topics as names
from streams.broker import ensure_topics
from streams.broker import free_port
from streams.events import InvalidEvent, decode_event
from tables.facts import fold
from tables.invariant import check
from tests.builders import Scenario

pytestmark = pytest.mark.integration


def population(seed: int = 7) -> Scenario:
    rng = random.Random(seed)
    s = Scenario()
    for h in range(12):
        hid = f"H-E2E{h:03d}"
        parents = [s.parent(f"198{h % 10}-0{1 + h % 9}-11", household=hid) for _ in range(1 + h % 2)]
        for parent in parents:
            s.tax(parent, 2021, rng.randrange(15000, 45000))
            s.bank_account(parent, account=539000000 + h * 10 + parents.index(parent))
        legacy = f"LG-{hid}" if h % 3 == 0 else None
        for k in range(1 + h % 3):
            birth = f"{2012 + 4 * k + h % 4}-0{1 + k}-1{h % 9}" if legacy else f"{2019 + k + h % 4}-0{1 + k}-2{h % 8}"
            child = s.child(birth, parents, household=hid, legacy_group=legacy if birth < "2019" else None,
                            since=min(birth, "2018-06-01"))
            if h % 4 == 1:
                s.childcare(child, "2024-02", 12, 3)
        if h % 5 == 2:
            s.payer("PARENTIA", "2024-01", household=hid)
        if h % 5 == 3:
            s.payer("MYFAMILY", "2023-01", household=hid)
            s.payer("INFINO", "2024-03", household=hid)  # a payer change during the run
        if h % 5 == 4:
            s.payer("KIDSLIFE", "2022-01", household=hid)
    return s


def write_lines(path, events) -> None:
    with path.open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event) + b"\n")


async def send_raw(bootstrap: str, topic: str, values: list[bytes], key: bytes = b"85073012335",
                   headers: list | None = None) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


INVALID = [
    b'{"event_id": "bad-1", "type": "person.born", "schema_version": 1',  # not JSON
    orjson.dumps({"event_id": "bad-2", "type": "person.teleported", "schema_version": 1, "subject": "85073012335",
                  "occurred_on": "2024-01-01", "recorded_at": "2024-01-02T00:00:00Z", "data": {}}),
    orjson.dumps({"event_id": "bad-3", "type": "person.died", "schema_version": 1, "subject": "85073012336",
                  "occurred_on": "2024-01-01", "recorded_at": "2024-01-02T00:00:00Z",
                  "data": {"date_of_death": "2024-01-01"}}),  # INSZ checksum
]


def domain_metrics(worker: WorkerProcess) -> dict[tuple, float]:
    """The worker's /metrics as {(sample name, sorted labels): value}, after the gauges were sampled again."""
    time.sleep(SAMPLE_SECONDS + 1.0)
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def total(samples: dict, name: str, **labels) -> float:
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


def test_sources_to_payers_with_late_data_duplicates_restart_and_double_close(broker, tmp_path):
    settings = load_settings(kafka_bootstrap=broker.bootstrap)
    ensure_topics(broker.bootstrap, {names.EMBEDDED_MARKER_TOPIC: 1})
    asyncio.run(prepare_topics(settings, embedded=True))
    s = population()
    events = list(s.events)
    rng = random.Random(3)
    rng.shuffle(events)  # out of order
    duplicates = rng.sample(events, 10)
    first = tmp_path / "first.jsonl"
    write_lines(first, events + duplicates)

    worker = WorkerProcess(broker.bootstrap, tmp_path / "w1", free_port()).start()
    try:
        asyncio.run(produce_file(broker.bootstrap, first, report=lambda _m: None))
        asyncio.run(send_raw(broker.bootstrap, "src.population", INVALID))
        # Internal messages the engine cannot process (a broken fact, an unknown kind) go to the DLQ as well.
        internal = names.household_events_topic(settings.app_id)
        asyncio.run(send_raw(broker.bootstrap, internal, [b"not a fact"], b"H-E2E000", [("gp-kind", b"fact")]))
        asyncio.run(send_raw(broker.bootstrap, internal, [b"{}"], b"H-E2E001", [("gp-kind", b"bogus")]))
        wait_idle(broker.bootstrap, timeout=180)
        for periods in (["2024-01"], ["2024-02", "2024-02"]):  # 2024-02 closed twice
            for period in periods:  # (January's runs acknowledged first: February's can then be implied)
                asyncio.run(publish_close(broker.bootstrap, period))
            wait_idle(broker.bootstrap, timeout=180)
        before_crash = domain_metrics(worker)

        worker.kill()  # crash; the state comes back from the changelog on the next start
        worker = WorkerProcess(broker.bootstrap, tmp_path / "w1", free_port()).start()

        late = Scenario()
        late._ids = iter(range(90000, 99999))
        parent = s.events[0]["subject"]
        late.tax(parent, 2021, 9000, recorded_at="2024-03-05T00:00:00Z")  # revision: arrears for closed months
        newborn = late.born("2024-02-14", [parent], household=s.events[0]["data"]["household_id"])
        second = tmp_path / "second.jsonl"
        write_lines(second, late.events)
        asyncio.run(produce_file(broker.bootstrap, second, report=lambda _m: None))
        wait_idle(broker.bootstrap, timeout=180)
        asyncio.run(publish_close(broker.bootstrap, "2024-03"))
        wait_idle(broker.bootstrap, timeout=180)
        after_restart = domain_metrics(worker)
    finally:
        log = worker.log_tail()
        worker.stop()

    valid = [decode_event(orjson.dumps(e)) for e in s.events + late.events]
    calculator = Calculator.from_events(fold(valid))
    payments = read_payments(broker.bootstrap)
    report = check([r.value for r in payments], calculator, ["2024-01", "2024-02", "2024-03"])
    assert report.ok, orjson.dumps({"n": len(report.differences), "diff": report.differences[:8], "conflicts": report.conflicting_ids[:5], "log": log[-1500:]}).decode()
    assert report.checked_keys > 50
    kinds = {orjson.loads(r.value)["kind"] for r in payments}
    assert kinds == {"regular", "correction"}  # the late revision and the late birth pay arrears
    payers = {orjson.loads(r.value)["payer"] for r in payments}
    assert payers == {"FONS", "PARENTIA", "MYFAMILY", "INFINO", "KIDSLIFE"}
    newborn_lines = [l for r in payments for l in orjson.loads(r.value)["lines"] if l["child"] == newborn]
    assert {l["component"] for l in newborn_lines} >= {"start", "basic"}

    dlq = read_dlq(broker.bootstrap)
    internal_dlq = {(dict(r.headers)["gp-reason-class"], r.value) for r in dlq
                    if dict(r.headers)["gp-original-topic"] == internal.encode()}
    assert internal_dlq == {(b"internal_error", b"not a fact"), (b"unknown_type", b"{}")}
    dlq = [r for r in dlq if dict(r.headers)["gp-original-topic"] != internal.encode()]
    assert sorted(r.value for r in dlq) == sorted(INVALID)
    for record in dlq:
        headers = dict(record.headers)
        assert headers["gp-original-topic"] in (b"src.population",) and headers["gp-reason"]
        with pytest.raises(InvalidEvent):
            decode_event(record.value)

    # The worker's /metrics: domain metrics with values that match what went through (no personal data).
    assert total(before_crash, "groeipakket_source_records_total") == len(s.events) + len(duplicates)
    assert total(before_crash, "groeipakket_rejected_records_total", topic="src.population") == len(INVALID)
    assert total(before_crash, "groeipakket_household_facts_total", outcome="duplicate") > 0
    paid_by = {dict(l)["payer"] for (n, l), v in before_crash.items() if n == "groeipakket_instructions_total" and v}
    assert paid_by == {orjson.loads(r.value)["payer"] for r in payments if orjson.loads(r.value)["period"] < "2024-03"}
    paid_before = {(dict(l)["kind"], dict(l)["sign"]) for (n, l), v in before_crash.items()
                   if n == "groeipakket_instructed_cents_total" and v}
    assert ("regular", "positive") in paid_before
    assert total(before_crash, "groeipakket_children_paid") > 0
    assert total(before_crash, "groeipakket_households_held") == len({e["data"]["household_id"] for e in s.events
                                                                     if e["type"] == "person.registered"})
    assert total(before_crash, "groeipakket_last_closed_period_index") > 0
    assert total(before_crash, "groeipakket_implied_runs_total") > 0  # February re-dated: settled after the crash
    assert total(before_crash, "groeipakket_consumer_lag_records") == 0
    assert total(before_crash, "groeipakket_state_cache_lookups", result="hit") > 0
    assert total(before_crash, "groeipakket_state_cache_lookups", result="miss") > 0  # (first looks, and closes)
    assert total(after_restart, "groeipakket_instructed_cents_total", kind="correction") > 0  # the arrears
    assert total(after_restart, "groeipakket_source_to_instruction_seconds_count") > 0
    text = " ".join(f"{name}{labels}" for name, labels in before_crash)
    assert not any(e["subject"] in text for e in s.events)
