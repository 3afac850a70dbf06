"""The whole chain on the embedded broker at a population scale: simulate → replay month by month → close every
month → late data → recovery of a worker from its changelog → verify (issue 4's acceptance, at the scale CI can
afford: ``GROEIPAKKET_SCALE_HOUSEHOLDS``, default 600; ``groeipakket bench`` runs the same chain by hand)."""
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

HOUSEHOLDS = int(os.environ.get("GROEIPAKKET_SCALE_HOUSEHOLDS", "600"))


def test_fault_injected_replay_verifies_with_zero_differences(broker, tmp_path):
    ensure_topics(broker.bootstrap, {names.EMBEDDED_MARKER_TOPIC: 1})
    asyncio.run(prepare_topics(load_settings(kafka_bootstrap=broker.bootstrap), embedded=True))
    options = ChainOptions(households=HOUSEHOLDS, seed=11, first="2024-01", last="2024-12", invalid_rate=0.004,
                           duplicate_rate=0.02, latency_events=40, latency_rate=40.0)
    figures = run_chain(options, broker.bootstrap, tmp_path, say=print)
    report = figures["report"]
    simulated = figures["simulated"]

    assert report.closed_periods == [f"2024-{m:02d}" for m in range(1, 13)]
    # Faults really were injected and reached the engine: invalid records in the DLQ, re-sends delivered.
    assert simulated["invalid"] > 0 and simulated["duplicates"] > 0
    assert report.dlq.invalid >= simulated["invalid"]
    assert report.dlq.ok, (report.dlq.missing_from_dlq[:5], report.dlq.valid_in_dlq[:5])
    assert not report.ledger.conflicting_ids
    assert report.ledger.differences == [], report.ledger.differences[:10]
    # All five payers were paid, corrections were made for late data, and the late records were traced.
    assert set(report.ledger.totals_by_payer) == {"FONS", "INFINO", "KIDSLIFE", "MYFAMILY", "PARENTIA"}
    assert any(kind.endswith("correction") for kind in report.ledger.instructions_by_payer_kind)
    assert figures["latency_samples"] > 0
    assert figures["recovery_seconds"] > 0 and figures["changelog_records"] > 0
    assert report.ok
