"""The Faust application of the streaming engine: app, topics, tables and the agents' shared plumbing.

Flow (every arrow a Kafka topic, every box a consumer of it that handles one message or batch at a time: the
periods agent is a Faust agent with ``concurrency=1``, the others batch handlers, :mod:`streams.consumer`)::

    src.* ──> [ingest, one per source topic] ──> <app>-person-events ──> [routing] ──> <app>-household-events
                   │ invalid: dlq                  (facts, links)        persons table     │ (facts, related,
                   └─ payer.chosen / receiver.designated (keyed by household) ──────────────┤
    control.periods ──> [periods] ── one close marker per partition ─────────────────────────┤  closes)
                                                                                           [households]
                                                      households table (facts, ledger, outbox)  │
                                                   payments.<payer> (instructions), <app>-audit (traces)

Agents only move data between topics, tables and the pure code in ``rules/`` and ``tables/``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

import streams.rocksdb_store  # noqa: F401  (registers the rocksdb-capped:// store)
from agents import faust_monitor, metrics
from config.settings import Settings
from streams import consumer, topics as names
from streams.broker_compat import faust_app_settings
from streams.dlq import send_to_dlq
from streams.partitioner import partition_for_key
from streams.table_writer import TableWriter

log = logging.getLogger("groeipakket")

FACT, FACTS, LINK, LEGACY, RELATED, CLOSE = b"fact", b"facts", b"link", b"legacy", b"related", b"close"

RUNTIME_TUNING = {  # Faust settings of the engine's worker that are not about the broker kind
    "stream_buffer_maxsize": 8192,
    # Producer batching: a household state is ~7 KiB, so Faust's default 16 KiB batches held two changelog
    # records and the worker sent about one produce request per two messages; 256 KiB batches and a 20 ms
    # linger let one request carry a whole burst (delivery semantics unchanged: acks=all, at-least-once).
    "producer_linger_ms": 20,
    "producer_max_batch_size": 256 * 1024,
    "broker_commit_every": 2000,
    "broker_commit_interval": 1.0,
    "producer_partitioner": partition_for_key,  # Kafka's default partitioning, the keys' hashes cached
}


async def refuse(dlq_topic, record, reason_class: str, reason: str) -> None:
    """A record the engine cannot accept or process goes to the DLQ unchanged, with the reason, and is counted."""
    metrics.labelled(metrics.REJECTED, record.message.topic, reason_class).inc()
    await send_to_dlq(dlq_topic, record, reason_class, reason)


async def refuse_unknown_kind(dlq_topic, record, topic: str) -> None:
    """A message on one of the engine's own topics with a kind (``gp-kind`` header) its handler does not know."""
    log.error("unknown message kind on the %s topic (offset %s)", topic, record.message.offset)
    await refuse(dlq_topic, record, "unknown_type", f"unknown message kind on the {topic} topic")


def refuse_batch(dlq_topic, handler_name: str):
    """A batch handler's last resort (streams.consumer.BatchHandler.failed): every record of the slice goes to
    the DLQ with the error, so nothing is lost and the loop goes on."""
    async def failed(records, exc: Exception) -> None:
        for record in records:
            await refuse(dlq_topic, record, "internal_error", f"{handler_name} failed: {type(exc).__name__}")
    return failed


def stored(table, key: str) -> bytes | None:
    """A table's value for ``key`` with one store look-up, as stored (the engine's tables hold raw bytes: the
    value Faust would decode is the same). ``table.get`` asks the store whether it holds the key and then for
    its value, two RocksDB reads per look-up on the hot path (Faust's ``FastUserDict``), and ``store.get``
    raises and catches a ``KeyError`` for a missing key and decodes the value: 10 % of the ingest's samples. A
    plain mapping (tests) is read as it is."""
    store = getattr(table, "data", None)
    if store is None:
        return table.get(key)
    return store._get(store._encode_key(key))


def header(event, name: str) -> bytes | None:
    headers = event.headers or {}
    if isinstance(headers, dict):
        value = headers.get(name)
    else:
        value = next((v for k, v in headers if k == name), None)
    return value.encode() if isinstance(value, str) else value


@dataclass
class Engine:
    settings: Settings
    embedded: bool
    app: faust.App = None
    topics: dict = field(default_factory=dict)
    persons: object = None
    households: object = None
    persons_writer: TableWriter = None  # the tables' writes (streams.table_writer)
    households_writer: TableWriter = None
    households_held: object = None  # agents.gauges.HouseholdsHeld

    def topic(self, name: str) -> faust.TopicT:
        return self.topics[name]

    def household_partitions(self) -> set[int]:
        """The partitions of the households table this worker holds as active (not standby)."""
        topic = self.households.changelog_topic_name
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == topic}

    async def send(self, topic: str, key: bytes, value: bytes, headers: dict | None = None,
                   partition: int | None = None):
        """Send one message through the app's producer; returns the delivery future.

        The same producer as Faust's ``Topic.send`` (partitioned by key alike, flushed by Faust before every
        offset commit, so at-least-once holds), without the channel layer's per-message futures, serializer
        look-ups and sensor calls: about a third of the cost of a send on the hot path. A failed delivery is still
        counted in Faust's ``total_error_messages_sent`` (the producer-errors alert). ``partition``: this one
        instead of the key's."""
        monitor = self.app.monitor
        started = monitor.time()
        delivery = await self.app.producer.send(topic, key, value, partition, None, headers)

        def count_failure(future) -> None:
            if not future.cancelled() and future.exception() is not None:
                monitor.on_send_error(self.app.producer, future.exception(), started)

        delivery.add_done_callback(count_failure)
        return delivery


def build_engine(settings: Settings, *, embedded: bool) -> Engine:
    """Create the Faust app with every topic, table and agent of the engine."""
    engine = Engine(settings, embedded)
    app_settings = {
        "broker": f"kafka://{settings.kafka_bootstrap}",
        "store": streams.rocksdb_store.STORE_URL,
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.partitions,
        "web_port": settings.web_port,
        "web_host": settings.web_host,
        "web_tables_enabled": False,  # no raw table dumps over HTTP (personal data)
        "autodiscover": False,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "consumer_auto_offset_reset": "earliest",
        **RUNTIME_TUNING,
        "producer_compression_type": settings.compression_type,
        **faust_app_settings(embedded, replication_factor=settings.replication_factor,
                             session_timeout=settings.group_session_timeout),
    }
    if (credentials := settings.faust_credentials()) is not None:
        app_settings["broker_credentials"] = credentials
    app = engine.app = faust.App(settings.app_id, **app_settings)
    consumer.install(app)  # hands fetched messages to the agents without a race per message (streams.consumer)
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    for name, partitions in names.all_topics(settings.app_id, settings.partitions).items():
        engine.topics[name] = app.topic(name, partitions=partitions, internal=False, **raw)
    block_cache = {"block_cache_size": settings.table_block_cache_mb * 1024 * 1024}
    engine.persons = app.Table("persons", partitions=settings.partitions, key_type=str, value_type=bytes,
                               options=block_cache)
    engine.households = app.Table("households", partitions=settings.partitions, key_type=str, value_type=bytes,
                                  options=block_cache)
    engine.persons_writer = TableWriter(engine.persons, app.producer)
    engine.households_writer = TableWriter(engine.households, app.producer)
    setup_prometheus_sensors(app, pattern="/metrics", name_prefix="groeipakket_faust")  # + our own metrics
    faust_monitor.install(app, prefix="groeipakket_faust")  # same metrics, no per-record label look-ups
    from agents import gauges, households, ingest, pauses, periods, routing, web

    engine.households_held = gauges.HouseholdsHeld()
    router = routing.Router(engine)
    ingest.register(engine, router)
    routing.register(engine, router)
    households.register(engine, router.send_link)
    periods.register(engine)
    gauges.register(engine)
    pauses.register(engine)  # event-loop lag and collector pauses (a blocked worker loses its partitions)
    web.register(engine)  # the explanation API, only when GROEIPAKKET_API_ENABLED
    return engine

