"""The whole chain on the embedded broker at a population scale (issue 4's acceptance; ``groeipakket bench`` runs
the same chain by hand):

- a year: 300 households (``GROEIPAKKET_SCALE_HOUSEHOLDS``) simulate → replay month by month → close every month
  → recovery of a worker from its changelog → late data → verify;
- at scale: 20 000 households (``GROEIPAKKET_SAMPLE_HOUSEHOLDS``; 0 skips it) with their faults — invalid records
  of every kind, re-sends, late and revised tax data — on two workers (``GROEIPAKKET_SAMPLE_WORKERS``): their
  history, the month they are registered in, its close and late data after it → verify. About 6 ½ minutes here
  (6:35 on 2026-12-02; 12:12 and 10:15 before the idle wait and the workers' larger batches stopped loading the
  embedded broker)."""
from __future__ import annotations

import asyncio
import os

import pytest

from bench.chain import ChainOptions, run_chain
from cli.engine_commands import prepare_topics
from config.settings import load_settings
from streams import topics as names
from streams.broker import ensure_topics

pytestmark = pytest.mark.integration

HOUSEHOLDS = int(os.environ.get("GROEIPAKKET_SCALE_HOUSEHOLDS", "300"))
SAMPLE_HOUSEHOLDS = int(os.environ.get("GROEIPAKKET_SAMPLE_HOUSEHOLDS", "20000"))
SAMPLE_WORKERS = int(os.environ.get("GROEIPAKKET_SAMPLE_WORKERS", "2"))


def prepared(broker) -> str:
    ensure_topics(broker.bootstrap, {names.EMBEDDED_MARKER_TOPIC: 1})
    asyncio.run(prepare_topics(load_settings(kafka_bootstrap=broker.bootstrap), embedded=True))
    return broker.bootstrap


def assert_verified(figures: dict) -> None:
    """Zero differences, and the faults really were injected and reached the engine."""
    report, simulated = figures["report"], figures["simulated"]
    assert simulated["invalid"] > 0 and simulated["duplicates"] > 0
    assert report.dlq.invalid >= simulated["invalid"]
    assert report.dlq.ok, (report.dlq.missing_from_dlq[:5], report.dlq.valid_in_dlq[:5])
    assert not report.ledger.conflicting_ids
    assert report.ledger.differences == [], report.ledger.differences[:10]
    assert set(report.ledger.totals_by_payer) == {"FONS", "INFINO", "KIDSLIFE", "MYFAMILY", "PARENTIA"}
    assert any(kind.endswith("correction") for kind in report.ledger.instructions_by_payer_kind)
    assert figures["latency_samples"] > 0  # the late records were traced to their corrections
    assert report.ok


def test_fault_injected_replay_of_a_year_verifies_with_zero_differences(broker, tmp_path):
    options = ChainOptions(households=HOUSEHOLDS, seed=11, first="2024-01", last="2024-12", invalid_rate=0.004,
                           duplicate_rate=0.02, latency_events=40, latency_rate=40.0, naive_records=0)
    figures = run_chain(options, prepared(broker), tmp_path, say=print)

    assert figures["report"].closed_periods == [f"2024-{m:02d}" for m in range(1, 13)]
    assert figures["recovery_seconds"] > 0 and figures["changelog_records"] > 0
    assert_verified(figures)


def test_the_naive_pipeline_baseline_takes_every_record_once_through_its_table_and_output(broker, tmp_path):
    """The bench's baseline (bench/naive.py) runs for real: every record consumed, written and sent once."""
    from bench.naive import OUTPUT_TOPIC, naive_rate
    from sim.population import SimulationConfig
    from sim.timeline import write_jsonl
    from streams.broker_compat import true_end_offsets
    from streams.reader import partitions_of

    events = tmp_path / "events.jsonl"
    write_jsonl(SimulationConfig(households=60, seed=5, start="2024-01", end="2024-01"), events, ordered=True)
    figures = naive_rate(broker.bootstrap, events, tmp_path, records=500)

    assert figures["records"] == 500 and figures["records_per_second"] > 0

    async def sent() -> int:
        return sum((await true_end_offsets(broker.bootstrap, await partitions_of(broker.bootstrap,
                                                                                 [OUTPUT_TOPIC]))).values())
    assert asyncio.run(sent()) == 500 + 1  # and the warm-up record


def test_the_two_hop_baseline_takes_every_record_through_both_agents(broker, tmp_path):
    """The ceiling with a routing hop (bench/naive.py, hops=2): every record written and sent by both agents."""
    from bench.naive import naive_rate, topic_names
    from sim.population import SimulationConfig
    from sim.timeline import write_jsonl
    from streams.broker_compat import true_end_offsets
    from streams.reader import partitions_of

    events = tmp_path / "events.jsonl"
    write_jsonl(SimulationConfig(households=60, seed=5, start="2024-01", end="2024-01"), events, ordered=True)
    figures = naive_rate(broker.bootstrap, events, tmp_path, records=300, hops=2)

    assert figures["records"] == 300 and figures["hops"] == 2 and figures["records_per_second"] > 0
    _, middle, output = topic_names(2)

    async def sent(topic: str) -> int:
        return sum((await true_end_offsets(broker.bootstrap, await partitions_of(broker.bootstrap,
                                                                                 [topic]))).values())
    assert asyncio.run(sent(middle)) == asyncio.run(sent(output)) == 300 + 1  # and the warm-up record


@pytest.mark.skipif(not SAMPLE_HOUSEHOLDS, reason="GROEIPAKKET_SAMPLE_HOUSEHOLDS=0")
def test_fault_injected_replay_at_scale_verifies_with_zero_differences(broker, tmp_path):
    options = ChainOptions(households=SAMPLE_HOUSEHOLDS, seed=21, first="2024-01", last="2024-01",
                           workers=SAMPLE_WORKERS, latency_events=20, latency_rate=40.0, recovery=False,
                           naive_records=0)
    figures = run_chain(options, prepared(broker), tmp_path, say=print)

    assert figures["report"].closed_periods == ["2024-01"]
    assert figures["report"].ledger.checked_keys > 0
    assert_verified(figures)
