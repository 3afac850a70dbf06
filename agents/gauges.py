"""Gauges sampled by a timer (reads only): households held by this worker and its consumer lag per topic.

- ``groeipakket_households_held``: household states in the households table of this worker's active partitions
  (a key scan of the RocksDB partitions, cheap: a few million keys a second).
- ``groeipakket_consumer_lag_records{topic}``: per input topic, the records between the consumer's committed
  offset and the broker's high watermark (as last fetched), summed over this worker's assigned partitions.

Counters updated on the hot path (records, facts, instructions, amounts, children paid) live in
``agents/metrics.py``; these two are sampled because they are states, not events.
"""
from __future__ import annotations

import logging
from collections import defaultdict

from agents import metrics
from agents.engine import Engine, partition_keys

log = logging.getLogger("groeipakket.gauges")
SAMPLE_SECONDS = 5.0


def households_held(engine: Engine) -> int:
    table = engine.households
    actives = engine.app.assignor.assigned_actives()
    topic = table.changelog_topic_name
    return sum(1 for tp in actives if tp.topic == topic
               for key in partition_keys(table, tp.partition) if not key.startswith("__"))


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
