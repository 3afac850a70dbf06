"""Gauges sampled by a timer (reads only): households held by this worker and its consumer lag per topic.

- ``groeipakket_households_held``: household states in the households table of this worker's active partitions.
  A partition is counted by a key scan once, when first sampled after a rebalance; from then on the households
  agent adds every household it writes for the first time (a scan every sample took a tenth of the worker's
  time at 20 000 households).
- ``groeipakket_consumer_lag_records{topic}``: per input topic, the records between the consumer's committed
  offset and the broker's high watermark (as last fetched), summed over this worker's assigned partitions.

Counters updated on the hot path (records, facts, instructions, amounts, children paid) live in
``agents/metrics.py``; these two are sampled because they are states, not events.
"""
from __future__ import annotations

import logging
from collections import defaultdict

from agents import metrics
from agents.engine import Engine
from agents.state_table import HouseholdTable

log = logging.getLogger("groeipakket.gauges")
SAMPLE_SECONDS = 5.0


class HouseholdsHeld:
    """Household states per active partition of this worker: scanned once, then counted as they are created."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def added(self, partition: int) -> None:
        """A household's first state was written (by the households agent, on a partition of this worker)."""
        if partition in self._counts:
            self._counts[partition] += 1

    def forget(self) -> None:
        """After a rebalance: the partitions held may have changed hands meanwhile, count them again."""
        self._counts.clear()

    def count(self, table, partitions: set[int]) -> int:
        for partition in partitions - self._counts.keys():
            self._counts[partition] = len(HouseholdTable(table).household_ids(partition))
        for partition in self._counts.keys() - partitions:
            del self._counts[partition]
        return sum(self._counts.values())


def households_held(engine: Engine) -> int:
    return engine.households_held.count(engine.households, engine.household_partitions())


def consumer_lag(engine: Engine) -> dict[str, int]:
    consumer = engine.app.consumer
    lag: dict[str, int] = defaultdict(int)
    for tp in consumer.assignment():
        if tp.topic.endswith("-changelog"):
            continue  # tables are restored, not consumed
        highwater = consumer.highwater(tp)
        committed = consumer._committed_offset.get(tp)  # Faust keeps no public accessor for it
        if highwater is not None:
            lag[tp.topic] += max(highwater - (committed or 0), 0)
    return dict(lag)


def register(engine: Engine) -> None:
    @engine.app.on_partitions_assigned.connect
    async def recount_after_rebalance(sender, *args, **kwargs) -> None:
        engine.households_held.forget()

    @engine.app.timer(interval=SAMPLE_SECONDS)
    async def sample_gauges():
        if not engine.app.tables.recovery.completed.is_set():
            return
        try:
            metrics.HOUSEHOLDS_HELD.set(households_held(engine))
            for topic, records in consumer_lag(engine).items():
                metrics.CONSUMER_LAG.labels(topic).set(records)
        except Exception:  # a gauge must never stop the worker
            log.exception("sampling the gauges failed")
