"""streams.table_writer: a write lands where Faust's own table write puts it — the RocksDB database of the
message's partition, a changelog record with the same key and value bytes to the same partition — and the
record's acknowledged offset becomes the partition's persisted offset; outside a message it is refused."""
from __future__ import annotations

import asyncio
import weakref
from types import SimpleNamespace

import pytest
from aiokafka.structs import RecordMetadata, TopicPartition
from faust.streams import _current_event

import streams.rocksdb_store
from agents.engine import stored
from streams.table_writer import TableWriter


class Producer:
    def __init__(self):
        self.sent, self.deliveries = [], []

    async def send(self, topic, key, value, partition, timestamp, headers):
        self.sent.append((topic, key, value, partition))
        self.deliveries.append(asyncio.get_running_loop().create_future())
        return self.deliveries[-1]


class Event:  # what the writer reads of Faust's current event (weakly referenced, as Faust holds it)
    def __init__(self, partition: int):
        self.message = SimpleNamespace(partition=partition)


@pytest.fixture
def engine(tmp_path):
    """The engine's two tables as agents.engine.build_engine declares them (on the engine's store), with their
    writers (the Prometheus registry allows one build_engine per process)."""
    import faust

    app = faust.App("groeipakket", broker="kafka://127.0.0.1:1", store=streams.rocksdb_store.STORE_URL,
                    datadir=str(tmp_path), autodiscover=False, web_enabled=False, key_serializer="raw",
                    value_serializer="raw")
    tables = {name: app.Table(name, partitions=4, key_type=str, value_type=bytes) for name in ("persons",
                                                                                              "households")}
    yield SimpleNamespace(**tables, **{f"{name}_writer": TableWriter(table, app.producer)
                                       for name, table in tables.items()})
    for table in tables.values():
        table.data._dbs.clear()


def test_a_write_goes_to_the_messages_partition_and_its_changelog_as_faust_would_write_it(engine):
    table, writer = engine.households, engine.households_writer
    producer = writer.producer = Producer()

    async def scenario():
        event = Event(2)
        token = _current_event.set(weakref.ref(event))
        try:
            await writer.put("H-000123", b'{"outbox":[]}')
            assert stored(table, "H-000123") == b'{"outbox":[]}'  # read back as the agents read
            assert stored(table, "H-000123") == table.data.get("H-000123")  # as Faust reads it
            assert stored(table, "H-000999") is None
            topic = table.changelog_topic
            faust_key, _ = topic.prepare_key("H-000123", table.key_serializer, None, None)
            faust_value, _ = topic.prepare_value(b'{"outbox":[]}', table.value_serializer, None, None)
            assert producer.sent == [("groeipakket-households-changelog", faust_key, faust_value, 2)]
            assert table.data._dbs[2][faust_key] == faust_value
            assert set(table.data._dbs) == {2}
            tp = TopicPartition("groeipakket-households-changelog", 2)
            producer.deliveries[0].set_result(RecordMetadata(tp.topic, tp.partition, tp, 41, 0, 0, None))
            await asyncio.sleep(0)
            assert table.data.persisted_offset(tp) == 41
        finally:
            _current_event.reset(token)

    asyncio.run(scenario())


def test_a_write_outside_a_message_is_refused(engine):
    engine.households_writer.producer = Producer()
    with pytest.raises(RuntimeError, match="outside stream iteration"):
        asyncio.run(engine.households_writer.put("H-1", b"{}"))
