"""``groeipakket broker | worker | produce | close-period``: run and feed the streaming engine."""
from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import orjson

from config.runtime import tune_garbage_collector
from config.settings import load_settings
from streams import topics as names
from streams.broker import EmbeddedBroker, ensure_topics_async
from streams.events import TOPIC_OF_TYPE, period_close

log = logging.getLogger("groeipakket")


async def detect_embedded(bootstrap: str) -> bool:
    """The embedded broker carries the marker topic that ``groeipakket broker`` creates (listing topics does not
    auto-create anything, unlike a Metadata request for a named topic)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        return names.EMBEDDED_MARKER_TOPIC in set(await admin.list_topics())
    finally:
        await admin.close()


async def prepare_topics(settings, embedded: bool) -> None:
    replication = settings.replication_factor or (1 if embedded else 3)
    await ensure_topics_async(settings.kafka_bootstrap, names.all_topics(settings.app_id, settings.partitions),
                              names.compacted_topics(settings.app_id), replication_factor=replication)


def run_broker(args) -> int:
    settings = load_settings()
    host, _, port = settings.kafka_bootstrap.rpartition(":")
    broker = EmbeddedBroker(int(port), host=host or "127.0.0.1")
    topics = {names.EMBEDDED_MARKER_TOPIC: 1, **names.all_topics(settings.app_id, settings.partitions)}
    return broker.run_forever(topics=topics, compacted=names.compacted_topics(settings.app_id))


def use_event_loop(name: str) -> str:
    """Make ``name`` the event loop of this process (every loop created from now on, the consumer thread's too);
    returns the loop in use. uvloop falls back to asyncio's own where it is not installed."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("uvloop is not installed: the worker runs on asyncio's event loop")
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop"
    asyncio.set_event_loop_policy(None)
    return "asyncio"


def run_worker(args) -> int:
    overrides = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if args.web_port:
        overrides["web_port"] = args.web_port
    settings = load_settings(**overrides)
    use_event_loop(settings.event_loop)
    embedded = {"embedded": True, "kafka": False}.get(settings.broker_kind)
    if embedded is None:
        embedded = asyncio.run(detect_embedded(settings.kafka_bootstrap))
    asyncio.run(prepare_topics(settings, embedded))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from agents.engine import build_engine
    from faust.worker import Worker
    from streams.identifiers import install_log_redaction

    install_log_redaction()  # no INSZ/IBAN in the worker's log, even in a library's exception text
    engine = build_engine(settings, embedded=embedded)
    tune_garbage_collector()
    if os.environ.get("GP_NO_SENSORS"):
        engine.app.sensors._sensors.clear()
    worker = Worker(engine.app, loglevel=args.log_level or settings.log_level, quiet=True)
    # No terminal spinner: at level WARNING and above Faust's spinner sets the root logger to DEBUG (to spin on
    # every record), so every library debug call in the hot path (one per send) built a log record and ran the
    # redaction regex on it. The worker's output is a log file; without the spinner the root stays at the level.
    worker.spinner = None
    if os.environ.get("GP_PROFILE"):  # developer aid: cProfile the whole worker, written at shutdown
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        try:
            worker.execute_from_commandline()
        finally:
            profiler.disable()
            profiler.dump_stats(os.environ["GP_PROFILE"])
        return 0
    worker.execute_from_commandline()
    return 0


async def send_records(bootstrap: str, records, client: dict | None = None, progress=None) -> int:
    """Send ``(topic, key, value)`` records; returns the count once the broker acknowledged every one."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024,
                                **(client or {}))
    await producer.start()
    sent = 0
    futures = []
    try:
        for topic, key, value in records:
            futures.append(await producer.send(topic, value=value, key=key))
            sent += 1
            if len(futures) >= 10_000:
                await asyncio.gather(*futures)
                futures.clear()
                if progress is not None:
                    progress(sent)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def produce_file(bootstrap: str, path: Path, report=print, client: dict | None = None) -> tuple[int, int]:
    """Send every line to its source topic (by event type), keyed by ``subject``; returns (sent, unroutable)."""
    unroutable = 0

    def records():
        nonlocal unroutable
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip(b"\r\n")
                if not line.strip():
                    continue
                try:
                    document = orjson.loads(line)
                    topic = TOPIC_OF_TYPE[document["type"]]
                    key = document["subject"]
                    if not isinstance(key, str):
                        raise TypeError
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    unroutable += 1
                    report(f"line {number}: cannot route (no valid JSON with a known type and a subject)")
                    continue
                yield topic, key.encode(), line

    sent = await send_records(bootstrap, records(), client)
    return sent, unroutable


def run_produce(args) -> int:
    settings = load_settings()
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    sent, unroutable = asyncio.run(produce_file(settings.kafka_bootstrap, path,
                                                lambda m: print(m, file=sys.stderr), settings.producer_options()))
    print(f"{sent} records sent and acknowledged; {unroutable} line(s) could not be routed")
    return 0


async def publish_close(bootstrap: str, period: str, client: dict | None = None) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **(client or {}))
    await producer.start()
    try:
        await producer.send_and_wait(names.CONTROL_TOPIC, period_close(period))
    finally:
        await producer.stop()


def run_close_period(args) -> int:
    from rules.periods import parse_period

    try:
        parse_period(args.period)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    asyncio.run(publish_close(settings.kafka_bootstrap, args.period, settings.producer_options()))
    print(f"period {args.period} closed")
    return 0


def add_parsers(subparsers) -> None:
    broker = subparsers.add_parser("broker", help="run the embedded Kafka-compatible broker on KAFKA_BOOTSTRAP")
    broker.set_defaults(handler=run_broker)
    worker = subparsers.add_parser("worker", help="run one worker of the streaming engine")
    worker.add_argument("--data-dir", help="RocksDB tables of this worker (one per worker)")
    worker.add_argument("--web-port", type=int, help="port of the worker's web server (metrics)")
    worker.add_argument("--log-level", help="debug, info, warning (default) or error")
    worker.set_defaults(handler=run_worker)
    produce = subparsers.add_parser("produce", help="send source events of a JSON Lines file to their topics")
    produce.add_argument("file")
    produce.set_defaults(handler=run_produce)
    close = subparsers.add_parser("close-period", help="close a period: triggers its regular payment run")
    close.add_argument("period", metavar="YYYY-MM")
    close.set_defaults(handler=run_close_period)


logging.getLogger("aiokafka").setLevel(logging.WARNING)
