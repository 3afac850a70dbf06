"""The naive Faust pipeline, measured on the same broker in the same run: the baseline of issue 3's speed target.

    python -m bench.naive        (its worker: started by :func:`naive_rate`, configured by the environment)

One agent (``concurrency=1``) reads a topic of source records and, per record, writes it to a RocksDB table
(the engine's ``rocksdb-capped://`` store, so with its changelog) and sends it to an output topic: one consume,
one table write and one send per event. The engine worker's Faust settings (``RUNTIME_TUNING``, the broker
kind's) and event loop. :func:`naive_rate` feeds it the first records of the replayed population (their subjects as
keys, as the source topics are keyed) and reports records/s from the first send until the pipeline committed
the last one (the same idle check as the chain's), so the engine's end-to-end rate can be given as a ratio to
it. The issue's own figure for this pipeline on this kind of machine is ~3 800 events/s.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

APP_ID = "groeipakket-naive"
SOURCE_TOPIC, OUTPUT_TOPIC = f"{APP_ID}-source", f"{APP_ID}-output"
PARTITIONS = 4


def build_app():
    """The naive pipeline's Faust app (environment: ``GP_NAIVE_BROKER``, ``GP_NAIVE_DATADIR``)."""
    import faust

    import streams.rocksdb_store
    from agents.engine import RUNTIME_TUNING
    from streams.broker_compat import faust_app_settings

    app = faust.App(APP_ID, broker=f"kafka://{os.environ['GP_NAIVE_BROKER']}",
                    store=streams.rocksdb_store.STORE_URL, datadir=os.environ["GP_NAIVE_DATADIR"],
                    topic_partitions=PARTITIONS, web_enabled=False, autodiscover=False, key_serializer="raw",
                    value_serializer="raw", consumer_auto_offset_reset="earliest",
                    **{**RUNTIME_TUNING, **faust_app_settings(embedded=True)})  # (the engine's merge order)
    raw = {"key_type": bytes, "value_type": bytes}
    source = app.topic(SOURCE_TOPIC, partitions=PARTITIONS, **raw)
    output = app.topic(OUTPUT_TOPIC, partitions=PARTITIONS, **raw)
    latest = app.Table("latest", partitions=PARTITIONS, key_type=bytes, value_type=bytes)

    @app.agent(source, concurrency=1)
    async def naive(stream):
        async for event in stream.events():
            latest[event.key] = event.value
            await output.send(key=event.key, value=event.value)

    return app


async def _produce(bootstrap: str, lines: list[bytes]) -> None:
    """Send the records to the pipeline's source topic, keyed by subject as the source topics are."""
    from cli.engine_commands import send_records
    from cli.simulate import route

    await send_records(bootstrap, ((SOURCE_TOPIC, route(line)[1], line) for line in lines))


def naive_rate(bootstrap: str, events_path: Path, workdir: Path, records: int = 50_000) -> dict:
    """Records/s of the naive pipeline over the first ``records`` valid source records of ``events_path``."""
    from streams.broker import ensure_topics
    from streams.reader import wait_until_idle

    lines = []
    with events_path.open("rb") as handle:
        for line in handle:
            line = line.rstrip(b"\r\n")
            try:
                if orjson.loads(line).get("subject"):
                    lines.append(line)
            except (orjson.JSONDecodeError, AttributeError):
                continue  # an injected invalid record: the naive pipeline does not validate
            if len(lines) == records:
                break
    ensure_topics(bootstrap, {SOURCE_TOPIC: PARTITIONS, OUTPUT_TOPIC: PARTITIONS})
    env = {**os.environ, "GP_NAIVE_BROKER": bootstrap, "GP_NAIVE_DATADIR": str(workdir / "naive-data")}
    log = open(workdir / "naive-worker.log", "ab")
    worker = subprocess.Popen([sys.executable, "-m", "bench.naive"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=Path(__file__).resolve().parent.parent)
    try:
        asyncio.run(_wait_joined(bootstrap, worker))
        started = time.monotonic()
        asyncio.run(_produce(bootstrap, lines))
        sent = time.monotonic()
        # seconds from the end of the sends until the check that first found everything committed
        elapsed = sent - started + asyncio.run(wait_until_idle(bootstrap, APP_ID, [SOURCE_TOPIC], timeout=600,
                                                                interval=0.1))
        if worker.poll() is not None:
            raise RuntimeError(f"the naive pipeline's worker stopped ({workdir / 'naive-worker.log'})")
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    return {"records": len(lines), "seconds": elapsed, "records_per_second": len(lines) / elapsed}


async def _wait_joined(bootstrap: str, worker: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until the pipeline's consumer group has committed a (first) offset: send one record and wait for it."""
    from streams.reader import wait_until_idle

    await _produce(bootstrap, [orjson.dumps({"subject": "warm-up"})])
    waiting = asyncio.ensure_future(wait_until_idle(bootstrap, APP_ID, [SOURCE_TOPIC], timeout=timeout,
                                                    interval=0.2))
    while not waiting.done():
        if worker.poll() is not None:
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            raise RuntimeError(f"the naive pipeline's worker stopped (exit {worker.returncode}); see its log")
        await asyncio.sleep(0.2)
    waiting.result()


def main() -> None:
    """Run the pipeline's worker the way ``groeipakket worker`` runs the engine's: its event loop, no spinner."""
    from faust.worker import Worker

    from cli.engine_commands import use_event_loop
    from config.settings import load_settings

    use_event_loop(load_settings().event_loop)
    worker = Worker(build_app(), loglevel="warning", quiet=True)
    worker.spinner = None  # as in run_worker: with the spinner every library debug call builds a log record
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
