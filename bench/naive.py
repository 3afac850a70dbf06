"""The naive Faust pipeline, measured on the same broker in the same run: the baseline of issue 3's speed target.

    python -m bench.naive        (its worker: started by :func:`naive_rate`, configured by the environment)

One agent (``concurrency=1``) reads a topic of source records and, per record, writes it to a RocksDB table
(the engine's ``rocksdb-capped://`` store, so with its changelog) and sends it to an output topic: one consume,
one table write and one send per event. The engine worker's Faust settings (``RUNTIME_TUNING``, the broker
kind's) and event loop. :func:`naive_rate` feeds it the first records of the replayed population (their subjects as
keys, as the source topics are keyed) and reports records/s from the first send until the pipeline committed
the last one (the same idle check as the chain's), so the engine's end-to-end rate can be given as a ratio to
it. The issue's own figure for this pipeline on this kind of machine is ~3 800 events/s.

``hops=2`` measures the same pipeline with a routing hop in front, the least the engine's design does per source
record (issue 3: "routing hop included"): a first agent writes the record to its own table and sends it on to
a middle topic (the engine's ingest: persons table, forward to the household-events topic); a second agent
writes it to a second table and sends it to the output (the household agent: state, instruction). No
validation, no state read, no calculation: what Faust and the broker cost for two hops, the engine's ceiling.
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
PARTITIONS = 4


def app_id(hops: int) -> str:
    """One consumer group and set of topics per variant, so both run on the same broker in the same run."""
    return APP_ID if hops == 1 else f"{APP_ID}-{hops}hops"


def topic_names(hops: int) -> tuple[str, str, str]:
    """(source, middle, output) of a variant (the middle topic unused with one hop)."""
    app = app_id(hops)
    return f"{app}-source", f"{app}-middle", f"{app}-output"


SOURCE_TOPIC, _, OUTPUT_TOPIC = topic_names(1)


def build_app():
    """The naive pipeline's Faust app (environment: ``GP_NAIVE_BROKER``, ``GP_NAIVE_DATADIR``,
    ``GP_NAIVE_HOPS``: 1 or 2)."""
    import faust

    import streams.rocksdb_store
    from agents.engine import RUNTIME_TUNING
    from streams.broker_compat import faust_app_settings

    hops = int(os.environ.get("GP_NAIVE_HOPS", "1"))
    source_name, middle_name, output_name = topic_names(hops)
    app = faust.App(app_id(hops), broker=f"kafka://{os.environ['GP_NAIVE_BROKER']}",
                    store=streams.rocksdb_store.STORE_URL, datadir=os.environ["GP_NAIVE_DATADIR"],
                    topic_partitions=PARTITIONS, web_enabled=False, autodiscover=False, key_serializer="raw",
                    value_serializer="raw", consumer_auto_offset_reset="earliest",
                    **{**RUNTIME_TUNING, **faust_app_settings(embedded=True)})  # (the engine's merge order)
    raw = {"key_type": bytes, "value_type": bytes}
    source = app.topic(source_name, partitions=PARTITIONS, **raw)
    output = app.topic(output_name, partitions=PARTITIONS, **raw)
    first_out = app.topic(middle_name, partitions=PARTITIONS, **raw) if hops == 2 else output
    latest = app.Table("latest", partitions=PARTITIONS, key_type=bytes, value_type=bytes)

    @app.agent(source, concurrency=1)
    async def naive(stream):
        async for event in stream.events():
            latest[event.key] = event.value
            await first_out.send(key=event.key, value=event.value)

    if hops == 2:
        routed = app.Table("routed", partitions=PARTITIONS, key_type=bytes, value_type=bytes)

        @app.agent(first_out, concurrency=1)
        async def second_hop(stream):
            async for event in stream.events():
                routed[event.key] = event.value
                await output.send(key=event.key, value=event.value)

    return app


async def _produce(bootstrap: str, lines: list[bytes], hops: int) -> None:
    """Send the records to the pipeline's source topic, keyed by subject as the source topics are."""
    from cli.engine_commands import send_records
    from cli.simulate import route

    source = topic_names(hops)[0]
    await send_records(bootstrap, ((source, route(line)[1], line) for line in lines))


def naive_rate(bootstrap: str, events_path: Path, workdir: Path, records: int = 50_000, hops: int = 1) -> dict:
    """Records/s of the naive pipeline (``hops``: 1, or 2 with the routing hop) over the first ``records`` valid
    source records of ``events_path``."""
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
    source, middle, output = topic_names(hops)
    topics = [source, middle] if hops == 2 else [source]
    ensure_topics(bootstrap, {name: PARTITIONS for name in (*topics, output)})
    env = {**os.environ, "GP_NAIVE_BROKER": bootstrap, "GP_NAIVE_DATADIR": str(workdir / f"naive-data-{hops}"),
           "GP_NAIVE_HOPS": str(hops)}
    log_path = workdir / f"naive-worker-{hops}.log"
    log = open(log_path, "ab")
    worker = subprocess.Popen([sys.executable, "-m", "bench.naive"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=Path(__file__).resolve().parent.parent)
    try:
        asyncio.run(_wait_joined(bootstrap, worker, hops, topics))
        started = time.monotonic()
        asyncio.run(_produce(bootstrap, lines, hops))
        sent = time.monotonic()
        # seconds from the end of the sends until the check that first found everything committed
        elapsed = sent - started + asyncio.run(wait_until_idle(bootstrap, app_id(hops), topics, timeout=600,
                                                                interval=0.1))
        if worker.poll() is not None:
            raise RuntimeError(f"the naive pipeline's worker stopped ({log_path})")
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    return {"records": len(lines), "hops": hops, "seconds": elapsed, "records_per_second": len(lines) / elapsed}


async def _wait_joined(bootstrap: str, worker: subprocess.Popen, hops: int, topics: list[str],
                       timeout: float = 120.0) -> None:
    """Until the pipeline's consumer group has committed a (first) offset: send one record and wait for it."""
    from streams.reader import wait_until_idle

    await _produce(bootstrap, [orjson.dumps({"subject": "warm-up"})], hops)
    waiting = asyncio.ensure_future(wait_until_idle(bootstrap, app_id(hops), topics, timeout=timeout,
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
