"""Faust settings and workarounds for the embedded Tansu broker (see docs/embedded-broker.md).

Defect: Tansu 0.6.0 answers ``ListOffsets(latest)`` with *base offset of the last record batch + 1* instead
of *last offset + 1* (the records themselves, and the high watermark in Fetch responses, are correct).  Faust's
table recovery takes its "highwater" from ``ListOffsets``, so with multi-record changelog batches it

* stops restoring a changelog partition early and **loses the last updates**, and
* on the next start raises ``ConsistencyError`` (persisted offset > highwater).

Workaround chosen: a ``TableManager`` whose ``Recovery`` corrects every changelog end offset before using it:
it fetches from ``reported_end - 1`` (the start of the last batch) with a short-lived, group-less aiokafka
consumer and takes the true end from the records and the Fetch response's high watermark.  It costs one small
fetch per changelog partition per recovery and nothing on the produce/consume path, so throughput is unchanged
(the alternative, single-record producer batches, cuts produce throughput ~30x).  It is only installed when
``embedded=True``; production settings for Apache Kafka do not touch Faust's recovery.

Also: the first JoinGroup of a new group waits about half the session timeout on Tansu (30 s with Faust's 60 s
default), hence ``broker_session_timeout=4`` / ``broker_heartbeat_interval=1`` for the embedded broker.

Usage::

    from streams.broker_compat import faust_app_settings
    app = faust.App("groeipakket", broker=f"kafka://{bootstrap}", **faust_app_settings(embedded=True))
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP

log = logging.getLogger(__name__)

__all__ = [
    "EMBEDDED_SETTINGS",
    "EmbeddedBrokerRecovery",
    "EmbeddedBrokerTableManager",
    "FAST_JOIN_SETTINGS",
    "PRODUCTION_SETTINGS",
    "faust_app_settings",
    "true_end_offsets",
]

#: The first JoinGroup on Tansu waits ~session_timeout/2 (31.8 s to "Worker ready" with Faust's 60 s default).
#: 4 s rather than 6 s: when a worker restarts, Tansu keeps the old member as group leader until its session
#: expires, and the new member's SyncGroup stalls; with 6 s that cost ~8 s on every second start of a group
#: (12.9 s instead of 4.7 s to ready), with 4 s it did not happen in 8 restarts (3.7 s).  Heartbeat <= 1/3.
FAST_JOIN_SETTINGS: dict[str, Any] = {
    "broker_session_timeout": 4.0,
    "broker_heartbeat_interval": 1.0,
}

#: Everything the embedded broker needs (single node, no transactions, end-offset correction, fast join).
EMBEDDED_SETTINGS: dict[str, Any] = {
    **FAST_JOIN_SETTINGS,
    "TableManager": "streams.broker_compat:EmbeddedBrokerTableManager",
    "processing_guarantee": "at_least_once",   # Tansu has no transactions (InitProducerId fails)
    "topic_replication_factor": 1,
    "producer_acks": -1,
    # No standby replicas: on this single in-memory broker they add no durability, and with two workers each one
    # reading the other's changelog (a state record per message) took source -> instruction latency from p50
    # 107 ms / p99 191 ms to 0.8-1.3 s / 2.1-2.9 s and cost ~10 % of throughput (bench --households 1000
    # --workers 2, with its restart). Real Kafka keeps Faust's standby (PRODUCTION_SETTINGS).
    "table_standby_replicas": 0,
    # Fewer, larger record batches. Tansu's in-memory engine pays, for every batch a fetch returns, time that grows
    # with the batches stored before it in the partition: reading a partition costs the square of its batch
    # count. Measured: the second half of a 150 000-record partition took it 22-28 s of CPU in ~2-record batches
    # and 0.5-0.7 s in ~20-record ones. At 100 000 households the internal topics' consumers thus took more of
    # the broker than the workers themselves; the workers' 20 ms linger made batches of one or two records.
    "producer_linger_ms": 200,
}

#: Settings for a real Apache Kafka cluster (>= 3 brokers, min.insync.replicas=2 on the broker side).
#: Faust's defaults are kept for session (60 s), heartbeat (3 s), rebalance (60 s), commit interval (2.8 s),
#: producer batching (16 KiB, linger 0) and recovery (stock TableManager/Recovery).
PRODUCTION_SETTINGS: dict[str, Any] = {
    "processing_guarantee": "at_least_once",
    "topic_replication_factor": 3,
    "producer_acks": -1,
    "table_standby_replicas": 1,
}


def faust_app_settings(embedded: bool, *, replication_factor: Optional[int] = None,
                       session_timeout: Optional[float] = None) -> dict[str, Any]:
    """Faust ``App`` keyword settings for the broker kind.

    ``embedded=True``: the Tansu workarounds (``EMBEDDED_SETTINGS``).  ``embedded=False``: Apache Kafka
    (``PRODUCTION_SETTINGS``; *replication_factor* overrides the default of 3, e.g. 1 for a one-node dev Kafka).
    *session_timeout* (seconds) overrides the kind's group session, with a heartbeat of a quarter of it.
    Returns a new dict each call; merge your own settings on top.
    """
    settings = dict(EMBEDDED_SETTINGS if embedded else PRODUCTION_SETTINGS)
    if replication_factor is not None:
        if embedded and replication_factor != 1:
            raise ValueError("the embedded broker is a single node: replication_factor must be 1")
        settings["topic_replication_factor"] = replication_factor
    if session_timeout is not None:  # the group session for either kind, the heartbeat a quarter of it
        settings["broker_session_timeout"] = session_timeout
        settings["broker_heartbeat_interval"] = session_timeout / 4
    return settings


# --------------------------------------------------------------------------------------------------------------
# End-offset correction
# --------------------------------------------------------------------------------------------------------------

async def true_end_offsets(
    bootstrap: str | list[str],
    partitions: Iterable[TopicPartition | TP],
    *,
    reported: Optional[Mapping[Any, int]] = None,
    timeout: float = 10.0,
    client: Optional[Mapping[str, Any]] = None,
) -> dict[TopicPartition, int]:
    """Return the real "last offset + 1" of each partition, also on a broker whose ``ListOffsets`` is wrong.

    For each partition it takes the broker's reported end offset *E* (``reported`` if given, else
    ``ListOffsets``), fetches from ``E - 1`` (the start of the last batch on Tansu) and reads forward until it
    reaches the Fetch response's high watermark.  On a correct broker this returns *E* after one fetch.
    Raises ``asyncio.TimeoutError`` if a partition cannot be read to its end within *timeout* seconds.
    ``client``: aiokafka security options (``Settings.aiokafka_security()``).
    """
    tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
    if not tps:
        return {}
    ends: dict[TopicPartition, int] = {}
    if reported is not None:
        ends = {TopicPartition(tp.topic, tp.partition): int(v) for tp, v in reported.items() if v is not None}
        if all(tp in ends and ends[tp] == 0 for tp in tps):
            return {tp: 0 for tp in tps}   # all empty: nothing to fetch (a non-empty one reports >= 1)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_uncommitted",
        fetch_max_wait_ms=50,
        auto_offset_reset="earliest",
        client_id="groeipakket-end-offsets",
        **(client or {}),
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        missing = [tp for tp in tps if tp not in ends]
        if missing:
            ends.update(await consumer.end_offsets(missing))
        result = {tp: int(ends[tp]) for tp in tps}
        pending = set()
        for tp in tps:
            if result[tp] > 0:  # E == 0: empty partition (a non-empty one reports at least base 0 + 1)
                consumer.seek(tp, result[tp] - 1)
                pending.add(tp)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError(f"could not read to the end of {sorted(map(str, pending))}")
            batch = await consumer.getmany(*pending, timeout_ms=200)
            for tp in list(pending):
                records = batch.get(tp, [])
                if records:
                    result[tp] = max(result[tp], records[-1].offset + 1)
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue  # no fetch response for this partition yet
                result[tp] = max(result[tp], highwater)
                if await consumer.position(tp) >= highwater:
                    pending.discard(tp)
        return result
    finally:
        # aiokafka 0.14: stopping a group-less consumer before its internal task ever ran raises
        # CancelledError from AIOKafkaConsumer.stop(); one loop iteration avoids that.
        await asyncio.sleep(0)
        await consumer.stop()


def _bootstrap_of(app: Any) -> list[str]:
    return [f"{url.host}:{url.port or 9092}" for url in app.conf.broker_consumer]


class EmbeddedBrokerRecovery(Recovery):
    """Faust ``Recovery`` that corrects the changelog highwaters the embedded broker reports."""

    async def _build_highwaters(self, consumer: Any, tps: set, destination: Any, title: str) -> None:
        reported = await consumer.highwaters(*tps)
        started = time.monotonic()
        corrected = await true_end_offsets(
            _bootstrap_of(self.app), tps,
            reported={tp: v for tp, v in reported.items() if v is not None},
            timeout=float(self.app.conf.broker_request_timeout),
        )
        fixed = {}
        changed = []
        for tp, value in reported.items():
            true_end = corrected.get(TopicPartition(tp.topic, tp.partition), value)
            if value is not None and true_end != value:
                changed.append(f"{tp.topic}[{tp.partition}] {value}->{true_end}")
            fixed[tp] = true_end
        self.log.info("%s changelog end offsets checked in %.3fs; corrected (broker defect): %s", title,
                      time.monotonic() - started, ", ".join(changed) or "none")
        # Same as Recovery._build_highwaters from here on (faust 0.15.3).
        highwaters = {tp: value - 1 if value is not None else -1 for tp, value in fixed.items()}
        self.log.info("Highwater for %s changelog partitions:\n%s", title,
                      self._highwater_logtable(highwaters, title=title))
        destination.clear()
        destination.update(highwaters)


class EmbeddedBrokerTableManager(TableManager):
    """``TableManager`` that uses :class:`EmbeddedBrokerRecovery` (set via the Faust ``TableManager`` setting)."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = EmbeddedBrokerRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery


# --------------------------------------------------------------------------------------------------------------
# Fetch long-poll
# --------------------------------------------------------------------------------------------------------------

#: Tansu answers a Fetch for partitions without new data only when ``fetch_max_wait_ms`` has passed, also when
#: records arrive meanwhile (Kafka answers as soon as ``fetch_min_bytes`` are there). Faust's aiokafka driver
#: hard-codes 1 500 ms, so every hop between two agents waited up to 1.5 s: source -> instruction latency p50
#: 1 205 ms, p99 1 530 ms on ``bench --households 1000``; with 100 ms: p50 115 ms, p99 145 ms. Costs ~10 empty
#: fetches/s per idle worker. Only for apps built with the embedded settings (their TableManager).
EMBEDDED_FETCH_MAX_WAIT_MS = 100


def _install_embedded_fetch_wait() -> None:
    from faust.transport.drivers import aiokafka as faust_aiokafka

    thread = faust_aiokafka.AIOKafkaConsumerThread
    if getattr(thread._create_worker_consumer, "embedded_fetch_wait", False):
        return
    create_worker_consumer = thread._create_worker_consumer

    def _create_worker_consumer(self, transport):
        consumer = create_worker_consumer(self, transport)
        if isinstance(self.app.tables, EmbeddedBrokerTableManager):
            consumer._fetch_max_wait_ms = EMBEDDED_FETCH_MAX_WAIT_MS  # read by the Fetcher at consumer start
        return consumer

    _create_worker_consumer.embedded_fetch_wait = True
    thread._create_worker_consumer = _create_worker_consumer


_install_embedded_fetch_wait()
