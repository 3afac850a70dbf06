"""The households table read and written as household states (layout and write order: :mod:`tables.household`).

I/O only, no rules. A head is one key; a household's fact entries are one range of keys, read with a
seek in the partition DBs of this worker's RocksDB store (a household lives in exactly one partition); the
household ids of a partition are the keys before the ``~`` range. Writes go through the table's writer (inside
stream iteration: :mod:`streams.table_writer`), so each reaches the changelog of the current message's partition,
in the order made.
"""
from __future__ import annotations

from dataclasses import dataclass

import orjson
from faust import current_event

from agents.engine import stored
from tables.household import RECORDS, HouseholdState, records_prefix

CLOSED_PREFIX = "__closed__:"  # + partition: the periods whose close completed there


@dataclass(frozen=True)
class ClosedPeriods:
    """The closes completed in one partition: the first and latest closed period, and every month closed
    (implied regular runs are settled for exactly these: tables.settlement.settle_implied_runs)."""
    first: int
    latest: int
    months: tuple[int, ...]

    @property
    def span(self) -> tuple[int, int]:
        return self.first, self.latest


class HouseholdTable:
    def __init__(self, table, writer=None):
        """``writer``: the table's :class:`streams.table_writer.TableWriter` (only to write: not for the web
        views and gauges, which only read)."""
        self.table = table
        self.writer = writer

    def _encoded_prefix(self, text: str) -> bytes:
        """How the store spells keys that start with ``text`` (Faust encodes ``str`` keys as JSON strings)."""
        encoded, plain = self.table.data._encode_key(text), text.encode()
        if encoded == plain:
            return plain
        if encoded == b'"' + plain + b'"':
            return encoded[:-1]
        raise ValueError(f"unexpected key encoding {encoded!r}")

    def closed_periods(self, partition: int) -> ClosedPeriods | None:
        raw = stored(self.table, f"{CLOSED_PREFIX}{partition}")
        if not raw:
            return None
        first, latest, *months = orjson.loads(raw)  # (written before the months were kept: every month between)
        return ClosedPeriods(first, latest, tuple(months[0]) if months else tuple(range(first, latest + 1)))

    async def record_close(self, partition: int, period: int) -> ClosedPeriods:
        """Record that the close of ``period`` completed in the partition (written only when that is new)."""
        closed = self.closed_periods(partition)
        if closed is not None and period in closed.months:
            return closed
        months = tuple(sorted({*(closed.months if closed else ()), period}))
        updated = ClosedPeriods(closed.first if closed else period, max(period, closed.latest if closed else period),
                                months)
        record = orjson.dumps([updated.first, updated.latest, list(months)])
        await self.writer.put(f"{CLOSED_PREFIX}{partition}", record)
        return updated

    def partition_of(self, household: str) -> int | None:
        """The partition of this worker that holds the household (None: none does)."""
        key = self.table.data._encode_key(household)
        return next((partition for partition, db in list(self.table.data._dbs.items()) if db.get(key) is not None),
                    None)

    def head(self, household: str) -> bytes | None:
        return stored(self.table, household)

    def read(self, household: str, raw: bytes) -> HouseholdState:
        """The state of a head read back; its facts are read when first needed."""
        return HouseholdState.read(raw, lambda: self.fact_entries(household))

    def _partition_dbs(self) -> list:
        """The partition DBs that can hold a household of the current message: the message's own partition (a
        household's records are written there, as Faust's ``get`` reads them); every DB outside a message (the
        outbox timer). One seek instead of one per partition of the worker: 10 % of a September close's samples
        were these seeks (py-spy, 20 000 households, one worker holding four partitions)."""
        dbs = self.table.data._dbs
        event = current_event()
        if event is not None and event.message.partition in dbs:
            return [dbs[event.message.partition]]
        return list(dbs.values())

    def fact_entries(self, household: str) -> list[bytes]:
        prefix = self._encoded_prefix(records_prefix(household))
        entries: list[bytes] = []
        for db in self._partition_dbs():
            for key, value in db.items(from_key=prefix):
                if not key.startswith(prefix):
                    break
                entries.append(value)
            if entries:
                break
        return entries

    async def write(self, state: HouseholdState) -> bytes:
        """Write what changed in the state (head first); returns its head as now stored."""
        for key, value in state.writes():
            await self.writer.put(key, value)
        return state.head_written

    def _heads(self, partition: int, start: bytes | None = None, values: bool = False):
        """(encoded key, household, head or None) of a partition in key order from ``start`` (meta keys ``__…``
        left out); stops at the ``~`` range: the fact entries, then Faust's own keys."""
        db = self.table.data._dbs.get(partition)
        if db is None:
            return
        records, decode = self._encoded_prefix(RECORDS), self.table.data._decode_key
        for key, value in (db.items(from_key=start) if values else ((k, None) for k in db.keys(from_key=start))):
            if key.startswith(records):
                return
            household = decode(key)
            if not household.startswith("__"):
                yield key, household, value

    def each_head(self, partition: int, limit: int = 1_000):
        """(household, head) of every household of a partition, in key order, read ``limit`` at a time: a close
        reads each head with the iterator that finds it instead of a look-up per household (5 % of an October
        close's samples were those look-ups, py-spy). A head is as stored when the slice is read; only the agent
        that walks them writes heads, one household at a time, so the head of the household in hand is current.
        No iterator is held between two slices: a caller may wait in between (the outbox scan after a restart)."""
        start = None
        while True:
            heads, start = self.heads(partition, start, limit)
            yield from heads
            if start is None:
                return

    def household_ids(self, partition: int) -> list[str]:
        """The households held in one partition of this worker, in key order."""
        return [household for _, household, _ in self._heads(partition)]

    def heads(self, partition: int, start: bytes | None = None, limit: int = 1_000):
        """Up to ``limit`` (household, head) of a partition from key ``start`` on, and the key to go on from
        (None: the partition is done). In slices, so that a long scan can let the agents run in between
        without holding a RocksDB iterator across a rebalance."""
        found, after = [], None
        for key, household, value in self._heads(partition, start, values=True):
            if len(found) == limit:
                after = key
                break
            found.append((household, value))
        return found, after
