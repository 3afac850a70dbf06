"""The population simulator (sim/): determinism, contract validity, faults, scale, memory, realism, calculator."""
from __future__ import annotations

import collections
import datetime as dt
import hashlib
import random
import tracemalloc

import orjson
import pytest

from rules.calculator import Calculator
from rules.periods import parse_period
from sim import SimulationConfig, generate_events, generate_lines, generate_timeline, write_jsonl
from sim.faults import MUTATORS, corrupt
from streams.events import InvalidEvent, decode_event
from streams.identifiers import birth_date_from_insz, is_valid_insz
from tables.facts import fold

YEAR = dict(start="2024-01", end="2024-12")


def config(households: int, seed: int = 1, **kwargs) -> SimulationConfig:
    return SimulationConfig(households=households, seed=seed, **{**YEAR, **kwargs})


def digest(cfg: SimulationConfig) -> str:
    h = hashlib.sha256()
    for line in generate_lines(cfg):
        h.update(line)
    return h.hexdigest()


@pytest.fixture(scope="module")
def population() -> list[dict]:
    """3 000 families over 2024, no faults (shared by the realism tests)."""
    return list(generate_events(config(3_000, seed=20240101)))


# --- determinism -------------------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_another_seed_differs():
    faulty = dict(invalid_rate=0.02, duplicate_rate=0.02)
    assert digest(config(150, seed=5, **faulty)) == digest(config(150, seed=5, **faulty))
    assert digest(config(150, seed=5, **faulty)) != digest(config(150, seed=6, **faulty))


def test_fault_injection_leaves_the_valid_events_unchanged():
    clean = list(generate_events(config(120, seed=9)))
    faulty, seen = [], set()
    for item in generate_events(config(120, seed=9, invalid_rate=0.05, duplicate_rate=0.05)):
        if isinstance(item, dict) and item["event_id"] not in seen:
            seen.add(item["event_id"])
            faulty.append(item)
    assert faulty == clean


# --- contract validity ---------------------------------------------------------------------------------------
def test_every_valid_event_decodes_with_recorded_after_occurred_and_unique_ids(population):
    ids = set()
    for event in population:
        decoded = decode_event(orjson.dumps(event))
        assert decoded.recorded_at.date() >= decoded.occurred_on
        assert event["recorded_at"] > event["occurred_on"]  # later than 00:00 of the occurred day
        ids.add(event["event_id"])
    assert len(ids) == len(population)
    types = collections.Counter(e["type"] for e in population)
    expected = {"person.registered", "person.born", "person.died", "person.moved", "tax.assessed",
                "property.assessed", "education.enrolled", "education.attendance", "childcare.attendance",
                "care.assessed", "care.foster_placed", "payer.chosen", "receiver.designated",
                "bank_account.registered"}
    assert expected <= set(types)


def test_insz_are_unique_valid_and_encode_the_birth_date(population):
    births = {}
    for event in population:
        if event["type"] in ("person.registered", "person.born"):
            insz = event["subject"]
            assert insz not in births, "an INSZ was issued twice"
            assert is_valid_insz(insz)
            births[insz] = event["data"]["birth_date"]
            assert birth_date_from_insz(insz).isoformat() == event["data"]["birth_date"]
    # every person referred to as a parent or subject of a person event is known
    for event in population:
        for parent in event["data"].get("parents", ()):
            assert parent in births


def test_invalid_records_are_bytes_and_every_one_is_rejected():
    reasons = collections.Counter()
    invalid = valid = 0
    for item in generate_events(config(150, seed=3, invalid_rate=0.5)):
        if isinstance(item, bytes):
            invalid += 1
            with pytest.raises(InvalidEvent) as caught:
                decode_event(item)
            reasons[caught.value.reason_class] += 1
            assert b"_invalid" not in item and b"\n" not in item
        else:
            valid += 1
    assert 0.4 < invalid / valid < 0.6
    assert {"invalid_json", "unknown_type", "invalid_identifier", "invalid_date", "missing_field",
            "impossible_value"} <= set(reasons)


def test_every_fault_kind_is_rejected_for_every_event_type(population):
    rng = random.Random(4)
    examples = {}
    for event in population:
        examples.setdefault(event["type"], event)
    for kind in MUTATORS:
        for event in examples.values():
            raw = corrupt(event, "00000000-0000-0000-0000-000000000000", rng, kind)
            with pytest.raises(InvalidEvent):
                decode_event(raw)


def test_duplicates_are_exact_resends():
    items = list(generate_events(config(100, seed=8, duplicate_rate=0.1)))
    lines = collections.Counter(orjson.dumps(i) for i in items if isinstance(i, dict))
    ids = collections.Counter(i["event_id"] for i in items if isinstance(i, dict))
    resent = [key for key, n in ids.items() if n > 1]
    assert 0.07 < len(resent) / len(ids) < 0.13
    assert sum(n - 1 for n in lines.values()) == sum(n - 1 for n in ids.values())  # same id ⇒ same bytes


# --- scale, order, memory -----------------------------------------------------------------------------------
def test_counts_scale_with_households():
    small = sum(1 for _ in generate_events(config(200, seed=2)))
    large = sum(1 for _ in generate_events(config(800, seed=2)))
    assert 3.5 < large / small < 4.5


def test_timeline_is_globally_ordered_and_holds_the_same_records():
    cfg = config(400, seed=12, start="2023-09", end="2024-06", invalid_rate=0.01, duplicate_rate=0.01)
    plain = list(generate_lines(cfg))
    # small blocks and few open runs: exercises the run files and the cascaded merge
    ordered = list(generate_timeline(cfg, block_households=25, max_open_runs=4))
    as_lines = [(i if isinstance(i, bytes) else orjson.dumps(i)) + b"\n" for i in ordered]
    assert sorted(as_lines) == sorted(plain)
    first_sends, seen = [], set()
    for item in ordered:
        if isinstance(item, dict) and item["event_id"] not in seen:
            seen.add(item["event_id"])
            first_sends.append((item["recorded_at"], item["event_id"]))
    assert first_sends == sorted(first_sends)
    in_memory = list(generate_timeline(cfg))  # one block: sorted in memory
    assert in_memory == ordered


def test_write_jsonl_counts(tmp_path):
    cfg = config(80, seed=4, invalid_rate=0.02, duplicate_rate=0.02)
    counts = write_jsonl(cfg, tmp_path / "events.jsonl")
    ordered = write_jsonl(cfg, tmp_path / "ordered.jsonl", ordered=True)
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    assert counts["lines"] == len(lines) == counts["events"] + counts["duplicates"] + counts["invalid"]
    assert sum(counts["by_type"].values()) == counts["events"]
    assert counts["households"] >= 80
    assert ordered == counts
    assert sorted((tmp_path / "ordered.jsonl").read_bytes().splitlines()) == sorted(lines)


def test_memory_does_not_grow_with_households():
    def peak(households: int) -> int:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in generate_events(SimulationConfig(households=households, seed=3, start="2024-01", end="2024-01")):
            pass
        return tracemalloc.get_traced_memory()[1] - base

    tracemalloc.start()
    try:
        peak(20)  # warm caches
        small, large = peak(150), peak(1_500)
    finally:
        tracemalloc.stop()
    assert large < 1.5 * small + 200_000, (small, large)


# --- realism ------------------------------------------------------------------------------------------------
def _children_on_start(population):
    start = dt.date(2024, 1, 1)
    enrolled = {e["subject"] for e in population if e["type"] == "education.enrolled"
                and e["data"]["school_year"] == "2023-2024"
                and (e["data"]["level"] == "secondary" or e["data"].get("credits", 0) >= 27)}
    children = [e for e in population if e["type"] == "person.registered" and e["data"]["role"] == "child"]
    entitled = [e for e in children
                if dt.date.fromisoformat(e["data"]["birth_date"]) > dt.date(start.year - 18, 1, 1)
                or e["subject"] in enrolled]
    return children, entitled


def test_realistic_family_shares(population):
    households = 3_000
    children, entitled = _children_on_start(population)
    assert 1.75 < len(children) / households < 2.2  # registered children 0-24
    assert 1.5 < len(entitled) / households < 1.9  # ≈ 1.62 M children / 0.95 M families
    parents = collections.Counter(e["data"]["household_id"] for e in population
                                  if e["type"] == "person.registered" and e["data"]["role"] == "parent"
                                  and int(e["data"]["household_id"][2:]) <= households)
    single = sum(1 for n in parents.values() if n == 1) / len(parents)
    assert 0.12 < single < 0.18
    births = sum(1 for e in population if e["type"] == "person.born") / households * 1000
    assert 50 < births < 90  # per 1000 families per year (Flanders: ≈ 60 000 births / 0.95 M families)
    transitional = sum(1 for e in entitled if e["data"].get("legacy_group")) / len(entitled)
    assert 0.65 < transitional < 0.82  # by birth year in 2024 (see the sim.config docstring)


def test_payer_market_shares(population):
    first_choice = {}
    for event in population:
        if event["type"] == "payer.chosen":
            first_choice.setdefault(event["subject"], event["data"]["payer"])
    shares = collections.Counter(first_choice.values())
    total = sum(shares.values())
    expected = {"FONS": 0.28, "KIDSLIFE": 0.25, "MYFAMILY": 0.20, "PARENTIA": 0.14, "INFINO": 0.13}
    for payer, share in expected.items():
        assert abs(shares[payer] / total - share) < 0.03, payer


def test_income_and_tax_timing(population):
    taxes = [e for e in population if e["type"] == "tax.assessed"]
    assert {e["data"]["income_year"] for e in taxes} == {2021, 2022}
    per_subject_year = collections.Counter((e["subject"], e["data"]["income_year"]) for e in taxes)
    revised = sum(1 for n in per_subject_year.values() if n > 1) / len(per_subject_year)
    assert 0.01 < revised < 0.06
    late = [e for e in taxes if e["recorded_at"][:10] >= f"{e['data']['income_year'] + 2}-09-01"]
    assert 0.03 < len(late) / len(taxes) < 0.12  # late ones plus revisions recorded after the year started


# --- the calculator on realistic data -----------------------------------------------------------------------
def test_calculator_runs_on_a_simulated_year():
    events = [decode_event(line) for line in generate_lines(config(500, seed=77))]
    calc = Calculator.from_events(fold(events))
    months = range(parse_period("2024-01"), parse_period("2024-12") + 1)
    lines = calc.entitlements(months)
    components = collections.Counter(line.component for line in lines)
    for component in ("basic", "basic_transitional", "age_supplement", "social", "social_transitional",
                      "school_bonus", "school_allowance", "childcare", "start"):
        assert components[component] > 0, component
    may = parse_period("2024-05")
    paid = {line.child for line in lines if line.month == may and line.amount_cents > 0}
    minors = [e.subject for e in events if e.type == "person.registered" and e.data.role == "child"
              and e.data.birth_date > dt.date(2006, 5, 31)]
    assert len([c for c in minors if c in paid]) / len(minors) > 0.95
    children = [e.subject for e in events if e.type == "person.registered" and e.data.role == "child"]
    assert len([c for c in children if c in paid]) / len(children) > 0.75


# --- the command ----------------------------------------------------------------------------------------------
def test_simulate_command_writes_arrival_ordered_records_with_the_faults_asked_for(tmp_path, capsys):
    from cli.main import main

    out = tmp_path / "events.jsonl"
    assert main(["simulate", "--households", "120", "--seed", "5", "--from", "2024-01", "--to", "2024-06",
                 "--out", str(out), "--invalid-rate", "0.01", "--duplicate-rate", "0.02"]) == 0
    counts = orjson.loads(capsys.readouterr().out)
    lines = out.read_bytes().splitlines()
    assert counts["lines"] == len(lines) == counts["events"] + counts["duplicates"] + counts["invalid"]
    assert counts["invalid"] > 0 and counts["duplicates"] > 0
    valid, invalid = [], 0
    for line in lines:
        try:
            valid.append(decode_event(line))
        except InvalidEvent:
            invalid += 1
    assert invalid == counts["invalid"]
    recorded = [event.recorded_key for event in valid]
    assert len(valid) == counts["events"] + counts["duplicates"]
    # re-sends arrive a little later than their original, everything else in recorded order
    assert sum(1 for a, b in zip(recorded, recorded[1:]) if b < a) <= counts["duplicates"]
    again = tmp_path / "again.jsonl"
    main(["simulate", "--households", "120", "--seed", "5", "--from", "2024-01", "--to", "2024-06",
          "--out", str(again), "--invalid-rate", "0.01", "--duplicate-rate", "0.02"])
    assert again.read_bytes() == out.read_bytes()  # seeded: the same records, byte for byte
