"""Integration tests for the embedded broker, the reopen-safe RocksDB store and the end-offset workaround.

Each test starts its own ``EmbeddedBroker`` on a free loopback port and stops it.  Faust workers run as
subprocesses (``python -m tests.integration.faust_app worker``).

    .venv/bin/python -m pytest -m integration tests/integration -v

Running this module as a script replays the recovery scenario *without* the workaround (to see the defect):

    .venv/bin/python -m tests.integration.test_embedded_broker --no-compat
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

from streams.broker import EmbeddedBroker, ensure_topics, probe_metadata

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4
N_KEYS = 40
N_UPDATES = 100


# --------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------

async def _produce_updates(bootstrap: str, topic: str, n_keys: int, n_updates: int) -> float:
    """Send n_updates rounds over n_keys keys (value {"n": round}); default batching.  Returns seconds."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        t0 = time.monotonic()
        futures = []
        for n in range(1, n_updates + 1):
            for k in range(n_keys):
                futures.append(await producer.send(topic, json.dumps({"n": n}).encode(), key=f"k{k:03d}".encode()))
        await producer.flush()
        await asyncio.gather(*futures)
        return time.monotonic() - t0
    finally:
        await producer.stop()


@dataclass
class Worker:
    """A Faust worker subprocess running tests/integration/faust_app.py."""

    bootstrap: str
    workdir: Path
    app_id: str
    compat: bool = True
    extra: dict = field(default_factory=dict)
    name: str = "w"
    loglevel: str = "info"
    proc: Optional[subprocess.Popen] = None
    started_at: float = 0.0

    @property
    def datadir(self) -> Path:
        return self.workdir / f"data-{self.name}"

    @property
    def status_path(self) -> Path:
        return self.workdir / f"status-{self.name}.json"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"worker-{self.name}.log"

    def start(self) -> "Worker":
        if self.status_path.exists():
            self.status_path.unlink()
        env = dict(os.environ)
        env.update({
            "GP_IT_BROKER": self.bootstrap,
            "GP_IT_APP_ID": self.app_id,
            "GP_IT_DATADIR": str(self.datadir),
            "GP_IT_STATUS": str(self.status_path),
            "GP_IT_COMPAT": "1" if self.compat else "0",
            "GP_IT_PARTITIONS": str(PARTITIONS),
            "GP_IT_EXTRA": json.dumps(self.extra),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        })
        logf = open(self.log_path, "ab")
        logf.write(f"\n===== start {time.strftime('%X')} compat={self.compat} =====\n".encode())
        logf.flush()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.faust_app", "worker", "--without-web", "-l", self.loglevel],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        logf.close()
        return self

    def status(self) -> dict:
        try:
            return json.loads(self.status_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status()
            if st and predicate(st):
                return st
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"worker exited (code {self.proc.returncode}) while waiting for {what}:\n"
                                     f"{self.log_tail()}")
            time.sleep(0.1)
        raise AssertionError(f"timeout ({timeout}s) waiting for {what}; status={self.status()}\n{self.log_tail()}")

    def wait_recovered(self, timeout: float = 30.0) -> dict:
        return self.wait_for(lambda st: st.get("recovered"), timeout, "recovery")

    def stop(self, timeout: float = 20.0) -> Optional[int]:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        return proc.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])


def _expected() -> dict[str, int]:
    return {f"k{k:03d}": N_UPDATES for k in range(N_KEYS)}


@dataclass
class ScenarioResult:
    processed_table: dict
    recovered_table: dict
    restart_table: Optional[dict]
    restart_error: Optional[str]
    timings: dict


#: Worker settings for the recovery scenario: a 10 ms producer linger makes the changelog batches reliably
#: multi-record (the condition that triggers the broker defect; under real load it happens anyway).
SCENARIO_SETTINGS = {"producer_linger": 0.01}


def run_recovery_scenario(broker: EmbeddedBroker, workdir: Path, *, compat: bool,
                          app_id: str = "gp-it-recovery", extra: Optional[dict] = None) -> ScenarioResult:
    """Process N_KEYS x N_UPDATES, stop, delete the data dir, recover, then restart with the data dir kept."""
    timings: dict[str, float] = {}
    ensure_topics(broker.bootstrap, {f"{app_id}-updates": PARTITIONS, f"{app_id}-latest-changelog": PARTITIONS},
                  compacted={f"{app_id}-latest-changelog"})
    worker = Worker(broker.bootstrap, workdir, app_id, compat=compat,
                    extra=dict(SCENARIO_SETTINGS if extra is None else extra))
    try:
        # 1. first start: empty state; time to first join + recovery of nothing
        worker.start()
        worker.wait_recovered(timeout=30)
        timings["first_ready_s"] = time.monotonic() - worker.started_at

        # 2. process 40 keys x 100 updates
        timings["produce_s"] = asyncio.run(
            _produce_updates(broker.bootstrap, f"{app_id}-updates", N_KEYS, N_UPDATES))
        t0 = time.monotonic()
        st = worker.wait_for(lambda s: s.get("table") == _expected(), 40, "all updates processed")
        timings["process_s"] = time.monotonic() - t0
        processed_table = st["table"]
        assert worker.stop() == 0, worker.log_tail()

        # 3. delete the local state, recover from the changelog only
        shutil.rmtree(worker.datadir)
        worker.start()
        st = worker.wait_recovered(timeout=30)
        timings["recover_from_empty_s"] = time.monotonic() - worker.started_at
        recovered_table = st["table"]
        assert worker.stop() == 0, worker.log_tail()

        # 4. restart with the data dir kept: must not raise ConsistencyError
        worker.start()
        restart_table: Optional[dict] = None
        restart_error: Optional[str] = None
        try:
            st = worker.wait_recovered(timeout=30)
            restart_table = st["table"]
            timings["restart_kept_s"] = time.monotonic() - worker.started_at
            time.sleep(1.0)  # let it run a moment longer: a crash right after "ready" would show up here
            if worker.proc is not None and worker.proc.poll() is not None:
                restart_error = f"worker exited with {worker.proc.returncode}"
        except AssertionError as exc:
            restart_error = str(exc)
        if "ConsistencyError" in worker.log_text():
            restart_error = (restart_error or "") + " [ConsistencyError in worker log]"
        worker.stop()
        return ScenarioResult(processed_table, recovered_table, restart_table, restart_error, timings)
    finally:
        worker.stop()


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
    expected = _expected()
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


# --------------------------------------------------------------------------------------------------------------
# manual run: the same scenario without the workaround
# --------------------------------------------------------------------------------------------------------------

if __name__ == "__main__":
    compat = "--no-compat" not in sys.argv
    extra = json.loads(sys.argv[sys.argv.index("--extra") + 1]) if "--extra" in sys.argv else None
    with EmbeddedBroker() as b, tempfile.TemporaryDirectory() as d:
        r = run_recovery_scenario(b, Path(d), compat=compat, extra=extra)
        exp = _expected()
        print("compat:", compat)
        print("timings:", r.timings)
        print("processed exact:", r.processed_table == exp)
        wrong = {k: v for k, v in r.recovered_table.items() if exp.get(k) != v}
        missing = sorted(set(exp) - set(r.recovered_table))
        print("recovered exact:", r.recovered_table == exp, "wrong:", wrong, "missing:", missing)
        print("restart error:", r.restart_error)
        print("restart table exact:", r.restart_table == exp)
        if "--keep-log" in sys.argv:
            shutil.copy(Path(d) / "worker-w.log", "/tmp/gp-it-worker.log")
