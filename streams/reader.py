"""Read topics to their end (payer topics, DLQ, audit) and wait for the engine to be idle.

"The end" is taken from :func:`streams.broker_compat.true_end_offsets`, which is exact on Apache Kafka and on the
embedded broker alike (the latter reports wrong end offsets for multi-record batches).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.broker_compat import true_end_offsets

MAX_INTERVAL = 5.0  # seconds between two idle checks of a long phase


async def partitions_of(bootstrap: str, topics: Iterable[str], client: dict | None = None) -> list[TopicPartition]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **(client or {}))
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata of every topic (asking for a named one may auto-create it)
        result = []
        for topic in topics:
            for partition in sorted(consumer.partitions_for_topic(topic) or ()):
                result.append(TopicPartition(topic, partition))
        return result
    finally:
        await asyncio.sleep(0)
        await consumer.stop()


async def read_topics(bootstrap: str, topics: Iterable[str], timeout: float = 120.0, client: dict | None = None) -> list:
    """Every record of the topics, from the beginning to the true end (ConsumerRecord objects); ``client``:
    aiokafka security options (``Settings.aiokafka_security()``)."""
    tps = await partitions_of(bootstrap, list(topics), client)
    if not tps:
        return []
    records = []
    async for batch in consume_to(bootstrap, await true_end_offsets(bootstrap, tps, client=client), timeout, client):
        records.extend(batch)
    return records


async def consume_to(bootstrap: str, ends: dict[TopicPartition, int], timeout: float = 120.0,
                     client: dict | None = None):
    """The records of each partition from its start to ``ends`` (exclusive), batch by batch, read by one plain
    consumer without a group (async generator of lists of ConsumerRecord)."""
    wanted = {tp: end for tp, end in ends.items() if end > 0}
    if not wanted:
        return
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024,
                                **(client or {}))
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, 0)
        deadline = time.monotonic() + timeout
        pending = set(wanted)
        while pending:
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError(f"could not read {sorted(map(str, pending))} to the end")
            batch = await consumer.getmany(*pending, timeout_ms=500, max_records=50_000)
            yield [r for tp, items in batch.items() for r in items if r.offset < wanted[tp]]
            for tp in list(pending):
                if await consumer.position(tp) >= wanted[tp]:
                    pending.discard(tp)
    finally:
        await asyncio.sleep(0)
        await consumer.stop()


async def group_progress(bootstrap: str, group: str, topics: Iterable[str]) -> tuple[int | None, int]:
    """(lag, committed) of the consumer group on the topics: the records not yet committed (None when a partition
    is written faster than it can be read to its end, i.e. busy), and the sum of its committed offsets (grows
    while the group makes progress, read first: always known).

    The true ends (:func:`true_end_offsets`: a fetch of each partition's last batch) are read only when the group
    has committed up to every *reported* end. The reported end is never past the true one, so while the group is
    behind it, the lag is known to be positive without them (the figure is then that lower bound). On the embedded
    broker a fetch inside a large partition costs it time that grows with what the partition holds (tens of ms
    at 100 000 households): reading every true end on every check of a long phase took a large share of the
    broker's time away from the engine it waits for."""
    tps = await partitions_of(bootstrap, list(topics))
    # A manually assigned consumer in the group reads its committed offsets without joining the group (the
    # admin client's OffsetFetch version is not understood by the embedded broker).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        committed = {tp: await consumer.committed(tp) or 0 for tp in tps}
        reported = await consumer.end_offsets(tps)
    finally:
        await asyncio.sleep(0)
        await consumer.stop()
    behind = sum(max(reported[tp] - committed[tp], 0) for tp in tps)
    if behind:
        return behind, sum(committed.values())
    try:
        ends = await true_end_offsets(bootstrap, tps, reported=reported)
    except asyncio.TimeoutError:
        return None, sum(committed.values())
    lag = sum(end - committed.get(tp, 0) for tp, end in ends.items())
    return max(lag, 0), sum(committed.values())


def pause(interval: float, elapsed: float, quiet: int) -> float:
    """Seconds until the next idle check: ``interval``, longer in a long phase (1 % of the time it has taken so
    far, at most ``MAX_INTERVAL``), so that checking costs the broker little; a check confirming a quiet one
    follows after ``interval``. ``interval=0``: no pause at all."""
    if not interval or quiet:
        return interval
    return max(interval, min(MAX_INTERVAL, elapsed / 100))


async def wait_until_idle(bootstrap: str, group: str, topics: Iterable[str], *, timeout: float = 600.0,
                          settle: int = 2, interval: float = 1.0, progress=None, stall: bool = False) -> float:
    """Wait until the group has committed everything on the topics, ``settle`` checks in a row; returns the
    seconds until the first of those checks (when the engine was seen idle).

    ``stall=True``: ``timeout`` counts from the last check that found the group's committed offsets further
    than before (the engine is making progress), not from the start: a replay of a large population may take
    hours, a stuck one fails. (Not from the lag: while the first agents run ahead, each record they commit adds
    messages for the agents behind them, so the lag of a working engine can grow for many minutes.)"""
    topics = list(topics)
    started = since = time.monotonic()
    quiet, idle_at, furthest = 0, None, None
    while quiet < settle:
        if time.monotonic() - since > timeout:
            what = "made no progress for" if stall else "did not become idle within"
            raise asyncio.TimeoutError(f"the engine {what} {timeout:.0f}s")
        checked = time.monotonic()
        try:
            lag, committed = await group_progress(bootstrap, group, topics)  # lag None: busy
        except asyncio.TimeoutError:  # the broker did not answer in time: busy too
            lag = committed = None
        if progress is not None and lag is not None:
            progress(lag)
        if stall and committed is not None and (furthest is None or committed > furthest):
            furthest, since = committed, checked
        if lag == 0:
            quiet, idle_at = quiet + 1, idle_at or checked
        else:
            quiet, idle_at = 0, None
        if quiet < settle:
            await asyncio.sleep(pause(interval, checked - started, quiet))
    return idle_at - started
