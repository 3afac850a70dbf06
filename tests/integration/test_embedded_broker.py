"""Integration tests for the embedded broker, the reopen-safe RocksDB store and the end-offset workaround.

Each test starts its own ``EmbeddedBroker`` on a free loopback port and stops it.  Faust workers run as
subprocesses (``python -m tests.integration.faust_app worker``); the recovery scenario is in
``tests/integration/recovery_scenario.py`` (run it as a script to see the defect without the workaround).

    .venv/bin/python -m pytest -m integration tests/integration -v
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from streams.broker import EmbeddedBroker, ensure_topics, probe_metadata
from tests.integration.recovery_scenario import (PARTITIONS, ROOT, SCENARIO_SETTINGS, expected_table,
                                              run_recovery_scenario)

pytestmark = pytest.mark.integration


# --------------------------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------------------------

def test_broker_start_stop_and_roundtrip():
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    broker = EmbeddedBroker()
    with broker:
        assert broker.running
        host, port = broker.bootstrap.rsplit(":", 1)
        assert host == "127.0.0.1"
        assert probe_metadata(host, int(port))[0][1:] == (host, int(port))
        assert ensure_topics(broker.bootstrap, {"rt": 2, "rt-log": 2}, compacted={"rt-log"}) == {
            "rt": "created", "rt-log": "created"}
        assert ensure_topics(broker.bootstrap, {"rt": 2}) == {"rt": "exists"}

        async def roundtrip() -> list[tuple[bytes, bytes]]:
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
            await producer.start()
            try:
                for i in range(50):
                    await producer.send("rt", f"v{i}".encode(), key=f"k{i % 5}".encode())
                await producer.flush()
            finally:
                await producer.stop()
            consumer = AIOKafkaConsumer("rt", bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
                                        group_id=None, enable_auto_commit=False)
            await consumer.start()
            got: list[tuple[bytes, bytes]] = []
            try:
                deadline = time.monotonic() + 15
                while len(got) < 50 and time.monotonic() < deadline:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        got.extend((r.key, r.value) for r in records)
            finally:
                await consumer.stop()
            return got

        got = asyncio.run(roundtrip())
        assert sorted(v for _, v in got) == sorted(f"v{i}".encode() for i in range(50))
        # per key order is preserved
        for k in range(5):
            vals = [int(v[1:]) for key, v in got if key == f"k{k}".encode()]
            assert vals == sorted(vals)
        proc = broker.proc
    assert not broker.running
    assert proc.returncode is not None           # reaped
    with pytest.raises(OSError):
        probe_metadata(host, int(port), timeout=0.5)
    broker.stop()                                # idempotent


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_forever_stops_on_signal(sig):
    code = ("import sys; from streams.broker import EmbeddedBroker; "
            "sys.exit(EmbeddedBroker().run_forever(topics={'rf': 2}, "
            "announce=lambda m: print(m.rsplit(' ', 1)[1], flush=True)))")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        bootstrap = proc.stdout.readline().strip()
        assert bootstrap.startswith("127.0.0.1:"), proc.stderr.read()
        host, port = bootstrap.rsplit(":", 1)
        probe_metadata(host, int(port))
        assert ensure_topics(bootstrap, {"rf": 2}) == {"rf": "exists"}
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
        with pytest.raises(OSError):
            probe_metadata(host, int(port), timeout=0.5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("compression", [None, "zstd", "lz4"])
def test_true_end_offsets_corrects_listoffsets(broker, compression):
    """The defect and its correction at aiokafka level: 100 records in one batch (compressed or not)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from streams.broker_compat import true_end_offsets

    topic = f"eo-{compression}"
    ensure_topics(broker.bootstrap, {topic: 1})
    tp = TopicPartition(topic, 0)

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=100, compression_type=compression)
        await producer.start()
        try:
            futures = [await producer.send(topic, b"x", partition=0) for _ in range(100)]  # one batch
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
        await consumer.start()
        try:
            reported = (await consumer.end_offsets([tp]))[tp]
        finally:
            await consumer.stop()
        return reported, await true_end_offsets(broker.bootstrap, [tp]), await true_end_offsets(
            broker.bootstrap, [TopicPartition("eo-empty", 0)])

    ensure_topics(broker.bootstrap, {"eo-empty": 1})
    reported, corrected, empty = asyncio.run(scenario())
    assert reported < 100          # the broker defect (reports 1 = base offset of the only batch + 1)
    assert corrected == {tp: 100}
    assert empty == {TopicPartition("eo-empty", 0): 0}


def test_rocksdb_store_options_survive_reopen(tmp_path):
    """Open a partition DB through the Faust store, reopen it, and check cache capacity + bloom filter."""
    import faust

    from streams.rocksdb_store import STORE_URL, Store, read_db_options_file

    app = faust.App("gp-store-test", broker="kafka://127.0.0.1:1", store=STORE_URL, datadir=str(tmp_path),
                    autodiscover=False)
    cache = 24 * 1024 * 1024
    table = app.Table("hh", partitions=2, options={"block_cache_size": cache, "write_buffer_size": 4 << 20})
    store = table.data
    assert isinstance(store, Store)

    db0 = store._db_for_partition(0)
    db1 = store._db_for_partition(1)
    for i in range(20_000):
        db0.put(f"key-{i}".encode(), b"v" * 64)
    db0.flush()
    first = read_db_options_file(store.partition_path(0))
    assert db0.property_int_value("rocksdb.block-cache-capacity") == cache
    assert db1.property_int_value("rocksdb.block-cache-capacity") == cache   # one shared cache per table
    assert first["filter_policy"] == "bloomfilter"
    assert first["write_buffer_size"] == str(4 << 20)

    # close and reopen (what a restart / rebalance does) -- with a *new* store instance
    db0.close()
    db1.close()
    store._dbs.clear()
    table2 = faust.App("gp-store-test2", broker="kafka://127.0.0.1:1", store=STORE_URL, datadir=str(tmp_path),
                       autodiscover=False).Table("hh", partitions=2, options={"block_cache_size": cache,
                                                                              "write_buffer_size": 4 << 20})
    store2 = table2.data
    # same tabledir layout as app 1 (datadir/v1/tables)
    assert store2.partition_path(0) == store.partition_path(0)
    reopened = store2._db_for_partition(0)
    after = read_db_options_file(store2.partition_path(0))
    assert after["__file__"] != first["__file__"]          # RocksDB wrote a new OPTIONS file on reopen
    assert reopened.property_int_value("rocksdb.block-cache-capacity") == cache
    assert after["filter_policy"] == "bloomfilter"
    assert after["write_buffer_size"] == str(4 << 20)
    assert reopened.get(b"key-19999") == b"v" * 64
    reopened.close()


def test_persisted_offsets_lag_the_data_by_a_bounded_amount_and_are_written_on_close(tmp_path):
    """A partition's persisted offset (where its recovery starts) is written every PERSIST_OFFSET_EVERY
    acknowledged changelog records and when the partition is revoked or the store stops: never ahead of what the
    DB holds, at most that many records behind."""
    import asyncio

    import faust
    from faust.types import TP

    from streams.rocksdb_store import PERSIST_OFFSET_EVERY, STORE_URL

    app = faust.App("gp-offset-test", broker="kafka://127.0.0.1:1", store=STORE_URL, datadir=str(tmp_path),
                    autodiscover=False)
    table = app.Table("hh", partitions=2)
    store = table.data
    tp0, tp1 = (TP(table.changelog_topic_name, p) for p in (0, 1))
    on_disk = {}
    for offset in range(3 * PERSIST_OFFSET_EVERY + 7):
        store.set_persisted_offset(tp0, offset)
        on_disk[offset] = store.persisted_offset(tp0)
        assert on_disk[offset] <= offset and offset - on_disk[offset] < PERSIST_OFFSET_EVERY
    assert store.persisted_offset(tp0) == 3 * PERSIST_OFFSET_EVERY
    store.set_persisted_offset(tp1, 41)
    store.set_persisted_offset(tp1, 42)
    assert store.persisted_offset(tp1) == 41

    store.revoke_partitions(table, {tp0})  # partition 0 handed to another worker: its newest offset is written
    assert store._db_for_partition(0).get(store.offset_key) == str(3 * PERSIST_OFFSET_EVERY + 6).encode()
    asyncio.run(store.stop())  # and the others at shutdown
    assert store._db_for_partition(1).get(store.offset_key) == b"42"


def test_stock_faust_rocksdb_loses_options_on_reopen(tmp_path):
    """Guard: documents the upstream defect the store works around (fails if rocksdict/faust fix it)."""
    from faust.stores.rocksdb import RocksDBOptions

    from streams.rocksdb_store import read_db_options_file

    opts = RocksDBOptions(block_cache_size=24 * 1024 * 1024)
    path = tmp_path / "stock.db"
    db = opts.open(path)
    db.put(b"a", b"b")
    db.close()
    db = opts.open(path)
    lost = (db.property_int_value("rocksdb.block-cache-capacity") != 24 * 1024 * 1024
            and read_db_options_file(path)["filter_policy"] == "nullptr")
    db.close()
    assert lost


@pytest.mark.parametrize("compression", [None, "zstd"])
def test_faust_table_recovers_exactly_from_changelog(broker, tmp_path, compression):
    """Also with the engine's compressed batches (config.settings.compression): the broker stores a compressed
    batch as it came, so its end-offset defect and the correction must hold for those too."""
    result = run_recovery_scenario(broker, tmp_path, compat=True, app_id=f"gp-it-recovery-{compression}",
                                   extra={**SCENARIO_SETTINGS, "producer_compression_type": compression})
    expected = expected_table()
    assert result.processed_table == expected
    assert result.recovered_table == expected, {
        k: v for k, v in result.recovered_table.items() if expected.get(k) != v}
    assert result.restart_error is None, result.restart_error
    assert result.restart_table == expected
    assert result.timings["first_ready_s"] < 15, result.timings
    # the worker's partition DBs were reopened on the last start: tuning must still be in force
    from streams.rocksdb_store import read_db_options_file

    dbs = sorted((tmp_path / "data-w").glob("v*/tables/latest-*.db"))
    assert len(dbs) == PARTITIONS, dbs
    for db in dbs:
        opts = read_db_options_file(db)
        assert opts["filter_policy"] == "bloomfilter", (db, opts["__file__"])
        assert opts["write_buffer_size"] == str(8 * 1024 * 1024)
    print("timings", result.timings)
