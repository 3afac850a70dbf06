"""The worker's pause measurements (agents/pauses.py): event-loop lag and cycle-collector pauses."""
from __future__ import annotations

import asyncio
import gc
import logging
import time

from agents import metrics
from agents.pauses import CollectorPauses, watch_event_loop


def _sample(histogram, suffix: str, **labels) -> float:
    metric = histogram.labels(**labels) if labels else histogram
    return next(s.value for s in metric.collect()[0].samples if s.name.endswith(suffix))


def _count(histogram, **labels) -> float:
    return _sample(histogram, "_count", **labels)


def _sum(histogram, **labels) -> float:
    return _sample(histogram, "_sum", **labels)


def test_a_blocked_event_loop_is_measured_and_logged(caplog):
    collector = CollectorPauses()
    before_count, before_sum = _count(metrics.EVENT_LOOP_LAG), _sum(metrics.EVENT_LOOP_LAG)

    async def run() -> None:
        watcher = asyncio.ensure_future(watch_event_loop(collector, interval=0.01, warn_seconds=0.2, samples=3))
        await asyncio.sleep(0.02)
        time.sleep(0.3)  # one step of the loop that blocks it
        await watcher

    with caplog.at_level(logging.WARNING, logger="groeipakket.pauses"):
        asyncio.run(run())
    assert _count(metrics.EVENT_LOOP_LAG) - before_count == 3
    assert _sum(metrics.EVENT_LOOP_LAG) - before_sum >= 0.25
    assert any("event loop was blocked for" in r.getMessage() for r in caplog.records)


def test_an_idle_event_loop_logs_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="groeipakket.pauses"):
        asyncio.run(watch_event_loop(CollectorPauses(), interval=0.01, warn_seconds=0.5, samples=5))
    assert not caplog.records


def test_every_collection_is_timed_and_a_long_one_logged(caplog):
    collector = CollectorPauses(warn_seconds=0.0)  # every collection counts as long here
    before = _count(metrics.GC_PAUSE, generation="2")
    collector.install()
    try:
        with caplog.at_level(logging.WARNING, logger="groeipakket.pauses"):
            gc.collect()
    finally:
        collector.remove()
    assert collector not in gc.callbacks
    assert _count(metrics.GC_PAUSE, generation="2") == before + 1
    assert collector.total_seconds > 0
    assert any("cycle collector ran" in r.getMessage() and "generation 2" in r.getMessage() for r in caplog.records)


def test_a_stop_without_a_start_is_ignored():
    collector = CollectorPauses()
    collector("stop", {"generation": 0, "collected": 0})
    assert collector.total_seconds == 0
