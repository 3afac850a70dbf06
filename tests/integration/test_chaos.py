"""Chaos: workers killed with SIGKILL in the middle of a replay and in the middle of a period close, then the
ledger invariant checked (the roadmap's chaos tests; the end-to-end test kills a worker only when it is idle).

Two workers share the embedded broker. The simulated population (faults included: invalid records of every kind,
re-sends) is sent in two halves; while the workers are still working through the first, worker 1 is killed
(kill -9) and started again on its data dir, and while they work through the second, worker 2, whose data dir is
deleted too (a lost disk: its tables come back
from their changelogs while the other worker goes on). January is closed and worker 1 is killed again while
the close is under way; then the records of February (late tax data and reports among them: corrections of
January) are sent and February is closed. Whatever the kills interrupted — a batch half handled, table
writes without their commit, sends not acknowledged, a commit in flight, a close half published — must come out
exactly once in effect: ``verify`` finds zero differences against ``calc`` on the same events, no instruction id
with two contents, and every invalid record in the DLQ with a reason.

Each kill asserts that there was still work to do when it came (else the test would check less than it says).
About 45 seconds here with the default 1 500 households (``GROEIPAKKET_CHAOS_HOUSEHOLDS``)."""
from __future__ import annotations

import asyncio
import os
import shutil
import time

import pytest

from bench.chain import Replay, engine_worker, recorded_month, wait_ready
from cli.runtime import WorkerProcess, input_topics
from cli.simulate import route
from cli.verify import collect, verify_topics
from config.settings import Settings
from rules.periods import parse_period
from sim.population import SimulationConfig
from sim.timeline import write_jsonl
from streams import topics as names
from streams.events import period_close
from streams.reader import group_progress
from tests.integration.test_scale import assert_verified, prepared

pytestmark = pytest.mark.integration

HOUSEHOLDS = int(os.environ.get("GROEIPAKKET_CHAOS_HOUSEHOLDS", "1500"))
KILL_AFTER = 0.5  # seconds of work before a kill (the first half is worked through in ~1.5 s here)


async def still_working(bootstrap: str, app_id: str) -> bool:
    """Whether the engine has messages it has not committed yet (a lag, or busy: None)."""
    lag, _ = await group_progress(bootstrap, app_id, input_topics(app_id))
    print(f"killed with {'a busy engine' if lag is None else f'{lag} messages to process'}")
    return lag is None or lag > 0


def crash_and_restart(workers: list[WorkerProcess], index: int, bootstrap: str, app_id: str,
                      lose_disk: bool = False) -> bool:
    """kill -9 worker ``index`` and start it again on its data dir — with ``lose_disk`` on an empty one: its
    tables then come back from their changelogs; returns whether the engine still had work when it was
    killed."""
    busy = asyncio.run(still_working(bootstrap, app_id))
    victim = workers[index]
    victim.kill()
    if lose_disk:
        shutil.rmtree(victim.data_dir)
    victim.start()
    return busy


def test_workers_killed_in_the_middle_of_a_replay_and_of_a_close_lose_and_duplicate_nothing(broker, tmp_path):
    bootstrap = prepared(broker)
    app_id = Settings().app_id
    events = tmp_path / "events.jsonl"
    simulated = write_jsonl(SimulationConfig(households=HOUSEHOLDS, seed=12, start="2024-01", end="2024-02",
                                             invalid_rate=0.004, duplicate_rate=0.02), events, ordered=True)
    with events.open("rb") as handle:  # (as the bench's replay reads it)
        lines = [line.rstrip(b"\r\n") for line in handle]
    february = parse_period("2024-02")
    before = [line for line in lines if (recorded_month(line) or 0) < february]  # (unreadable ones first)
    late = [line for line in lines if (recorded_month(line) or 0) >= february]  # corrections of January
    workers = [engine_worker(bootstrap, tmp_path, number).start() for number in (1, 2)]
    busy_at_kill = []
    try:
        wait_ready(workers)

        async def send_all(batch: list[bytes]) -> None:
            async with Replay(bootstrap, app_id, print) as replay:
                await asyncio.gather(*[await replay.producer.send(*destination(line)) for line in batch])

        def destination(line: bytes) -> tuple:
            topic, key = route(line)
            return topic, line, key

        half = len(before) // 2
        for index, part in enumerate((before[:half], before[half:])):  # each worker killed in turn while a half
            asyncio.run(send_all(part))  # of the records is being worked through; the second one's disk lost too
            time.sleep(KILL_AFTER)
            busy_at_kill.append(crash_and_restart(workers, index, bootstrap, app_id, lose_disk=index == 1))
            wait_ready(workers)

        async def close(period: str, kill_worker: int | None = None) -> None:
            async with Replay(bootstrap, app_id, print) as replay:
                await replay.idle()
                await replay.producer.send_and_wait(names.CONTROL_TOPIC, period_close(period))
                if kill_worker is not None:
                    await asyncio.sleep(0.3)  # the close marker reached the partitions; their runs under way
                    busy_at_kill.append(await asyncio.to_thread(crash_and_restart, workers, kill_worker,
                                                                bootstrap, app_id))
                    await asyncio.to_thread(wait_ready, workers)
                await replay.idle()

        asyncio.run(close("2024-01", kill_worker=0))
        asyncio.run(send_all(late))
        asyncio.run(close("2024-02"))
        report = verify_topics(asyncio.run(collect(bootstrap)))
    finally:
        for worker in workers:
            worker.stop()

    assert busy_at_kill == [True, True, True], busy_at_kill
    assert report.closed_periods == ["2024-01", "2024-02"]
    assert report.ledger.checked_keys > 0
    assert_verified({"report": report, "simulated": simulated, "latency_samples": 1})
