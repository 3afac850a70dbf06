"""streams/reader.py: waiting until the engine is idle."""
from __future__ import annotations

import asyncio

from streams import reader


def test_a_partition_that_cannot_be_read_to_its_end_counts_as_busy_not_as_a_failure(monkeypatch):
    """At 100 000 households a partition the worker kept writing could not be read to its end within the end
    offset check's 10 s; the idle wait then failed the whole replay. It is a busy engine: look again."""
    answers = iter([asyncio.TimeoutError("could not read to the end"), 3, 0, asyncio.TimeoutError("again"), 0, 0])
    seen = []

    async def group_progress(bootstrap, group, topics):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer, 0

    monkeypatch.setattr(reader, "group_progress", group_progress)
    asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], interval=0, progress=seen.append))
    assert seen == [3, 0, 0, 0]  # idle only after two quiet checks in a row; the time-outs reset the count
    assert next(answers, None) is None


def fake_clock(monkeypatch, lags, step: float, committed=None):
    """The group's (lag, committed) are ``lags`` and ``committed`` in turn (committed by default: the records the
    lags went down by), and every check takes ``step`` seconds of a fake clock."""
    clock = {"now": 0.0}
    committed = committed or [lags[0] - lag for lag in lags]
    answers = iter(zip(lags, committed))

    async def group_progress(bootstrap, group, topics):
        clock["now"] += step
        return next(answers)

    monkeypatch.setattr(reader, "group_progress", group_progress)
    monkeypatch.setattr(reader.time, "monotonic", lambda: clock["now"])


def test_a_replay_that_keeps_making_progress_is_waited_for_beyond_the_timeout(monkeypatch):
    """100 000 households took over an hour for one month; the fixed hour of the bench failed it. With
    ``stall`` the timeout counts from the last progress."""
    fake_clock(monkeypatch, [900, 800, 700, 600, 500, 400, 300, 200, 100, 0, 0], step=60)
    seconds = asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], timeout=100, interval=0, stall=True))
    assert seconds == 540  # when the first of the two quiet checks began (the tenth, after 9 × 60 s)


def test_a_growing_lag_is_progress_while_the_group_commits(monkeypatch):
    """100 000 households, second try: the ingest agents committed source records faster than the agents behind
    them could take the messages they sent, so the lag stayed above its first value for 15 minutes, and a wait
    that took less lag for progress failed a working replay."""
    lags = [900, 950, 1000, 1050, 1100, 1000, 600, 200, 0, 0]
    fake_clock(monkeypatch, lags, step=60, committed=[0, 100, 200, 300, 400, 500, 900, 1300, 1500, 1500])
    seconds = asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], timeout=100, interval=0, stall=True))
    assert seconds == 480  # when the first of the two quiet checks began (the ninth, after 8 × 60 s)


def test_an_engine_too_busy_for_its_ends_to_be_read_makes_progress_while_it_commits(monkeypatch):
    """100 000 households, third try: for many minutes every check found a partition written faster than it
    could be read to its end (no lag known), while the group kept committing."""
    lags = [800, None, None, None, None, None, None, 0, 0]
    fake_clock(monkeypatch, lags, step=60, committed=[0, 100, 200, 300, 400, 500, 600, 900, 900])
    seconds = asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], timeout=100, interval=0, stall=True))
    assert seconds == 420


def test_a_stuck_engine_still_fails_with_stall(monkeypatch):
    fake_clock(monkeypatch, [900, 800] + [800] * 10, step=60)
    try:
        asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], timeout=100, interval=0, stall=True))
    except asyncio.TimeoutError as exc:
        assert "no progress for 100s" in str(exc)
    else:
        raise AssertionError("a stuck engine must fail")
    fake_clock(monkeypatch, [900, 800, 700, 600], step=60)  # without stall: the timeout counts from the start
    try:
        asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], timeout=100, interval=0))
    except asyncio.TimeoutError as exc:
        assert "within 100s" in str(exc)
    else:
        raise AssertionError("without stall the timeout counts from the start")


def test_a_long_phase_is_checked_less_often_and_a_quiet_check_is_confirmed_soon():
    assert reader.pause(0.25, 2.0, quiet=0) == 0.25
    assert reader.pause(0.25, 200.0, quiet=0) == 2.0  # 1 % of the phase so far
    assert reader.pause(0.25, 3600.0, quiet=0) == reader.MAX_INTERVAL
    assert reader.pause(0.25, 3600.0, quiet=1) == 0.25
    assert reader.pause(0, 3600.0, quiet=0) == 0


class FakeConsumer:
    """Committed offsets and reported ends of one partition per topic, as the embedded broker gives them."""
    committed_offsets: dict = {}
    reported_ends: dict = {}

    def __init__(self, *args, **kwargs):
        pass

    async def start(self):
        pass

    async def stop(self):
        pass

    def assign(self, tps):
        self.tps = tps

    async def committed(self, tp):
        return self.committed_offsets[tp.topic]

    async def end_offsets(self, tps):
        return {tp: self.reported_ends[tp.topic] for tp in tps}


def test_the_true_ends_are_read_only_once_the_group_has_committed_up_to_the_reported_ones(monkeypatch):
    """At 100 000 households every check read the last batch of every input partition, a fetch the embedded
    broker pays for with time that grows with the partition: while the group is behind the reported ends (never
    past the true ones), the lag is known to be positive without it."""
    from aiokafka import TopicPartition

    fetched = []

    async def partitions_of(bootstrap, topics):
        return [TopicPartition(topic, 0) for topic in topics]

    async def true_end_offsets(bootstrap, tps, reported=None):
        fetched.append(sorted(tp.topic for tp in tps))
        return {tp: reported[tp] + (2 if tp.topic == "b" else 0) for tp in tps}  # "b": a multi-record batch

    monkeypatch.setattr(reader, "AIOKafkaConsumer", FakeConsumer)
    monkeypatch.setattr(reader, "partitions_of", partitions_of)
    monkeypatch.setattr(reader, "true_end_offsets", true_end_offsets)
    FakeConsumer.committed_offsets, FakeConsumer.reported_ends = {"a": 10, "b": 3}, {"a": 50, "b": 5}
    assert asyncio.run(reader.group_progress("127.0.0.1:1", "g", ["a", "b"])) == (42, 13)  # a lower bound
    assert fetched == []
    FakeConsumer.committed_offsets = {"a": 50, "b": 5}
    assert asyncio.run(reader.group_progress("127.0.0.1:1", "g", ["a", "b"])) == (2, 55)  # the true lag
    assert fetched == [["a", "b"]]
    FakeConsumer.committed_offsets = {"a": 50, "b": 7}
    assert asyncio.run(reader.group_progress("127.0.0.1:1", "g", ["a", "b"])) == (0, 57)
