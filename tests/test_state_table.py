"""agents.state_table.HouseholdTable on real RocksDB partition DBs: a household's fact entries are read from the
current message's partition only (one seek), and from every partition outside a message."""
from __future__ import annotations

import weakref
from types import SimpleNamespace

import rocksdict
from faust.streams import _current_event

from agents.state_table import HouseholdTable
from tables.household import records_prefix


class CountingDB:
    """A partition DB that counts the iterators opened on it."""

    def __init__(self, path):
        self.db, self.seeks = rocksdict.Rdict(str(path), options=rocksdict.Options(raw_mode=True)), 0

    def items(self, from_key=None):
        self.seeks += 1
        return self.db.items(from_key=from_key)


def _table(tmp_path):
    dbs = {partition: CountingDB(tmp_path / f"p{partition}") for partition in range(4)}
    data = SimpleNamespace(_dbs=dbs, _encode_key=lambda key: f'"{key}"'.encode())
    for number, household in enumerate(["HH-A", "HH-B"]):  # HH-A in partition 1, HH-B in partition 3
        for subject in ("85010112345", "15020254321"):
            key = f'"{records_prefix(household)}{subject}"'.encode()
            dbs[1 + 2 * number].db[key] = f"{household}/{subject}".encode()
    return HouseholdTable(SimpleNamespace(data=data)), dbs


class Event:  # what the table reads of Faust's current event (weakly referenced, as Faust holds it)
    def __init__(self, partition: int):
        self.message = SimpleNamespace(partition=partition)


def _in_message_of(partition: int):
    event = Event(partition)
    return event, _current_event.set(weakref.ref(event))


def test_in_a_message_only_its_partition_is_read(tmp_path):
    table, dbs = _table(tmp_path)
    event, token = _in_message_of(3)
    try:
        assert sorted(table.fact_entries("HH-B")) == [b"HH-B/15020254321", b"HH-B/85010112345"]
    finally:
        _current_event.reset(token)
    assert [dbs[p].seeks for p in range(4)] == [0, 0, 0, 1]
    del event


def test_outside_a_message_every_partition_is_searched(tmp_path):
    table, dbs = _table(tmp_path)
    assert sorted(table.fact_entries("HH-B")) == [b"HH-B/15020254321", b"HH-B/85010112345"]
    assert sorted(table.fact_entries("HH-A")) == [b"HH-A/15020254321", b"HH-A/85010112345"]
    assert table.fact_entries("HH-C") == []
    assert sum(db.seeks for db in dbs.values()) == 4 + 2 + 4  # HH-B is found last, HH-A second, HH-C nowhere


def test_a_close_reads_every_head_of_a_partition_in_slices(tmp_path):
    """``each_head``: every household of the partition with its head, in key order, one iterator per slice of
    ``limit`` heads; the partition's meta keys (``__…``) and fact entries (``~…``) are not households."""
    table, dbs = _table(tmp_path)
    table.table.data._decode_key = lambda key: key.decode()[1:-1]
    db = dbs[1]
    for household in ("HH-E", "HH-A", "HH-D", "HH-C", "HH-B"):
        db.db[f'"{household}"'.encode()] = f"head of {household}".encode()
    db.db[b'"__closed__:1"'] = b"[24290, 24290, [24290]]"
    assert list(table.each_head(1, limit=2)) == [(h, f"head of {h}".encode())
                                                 for h in ("HH-A", "HH-B", "HH-C", "HH-D", "HH-E")]
    assert db.seeks == 3
    assert list(table.each_head(0)) == []
