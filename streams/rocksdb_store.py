"""Faust RocksDB table store (rocksdict) whose tuning survives a reopen, with a capped per-table block cache.

Why: Faust 0.15.3 opens each partition DB as ``Rdict(path, options=...)`` without ``column_families=``.  With
rocksdict 0.3.29 a reopen of an existing DB (every restart, every rebalance that hands a partition back) then
loads the column-family options from the DB's OPTIONS file *without* the table factory: the bloom filter is
dropped (``filter_policy=nullptr``) and the block cache falls back to RocksDB's 8 MiB default.  Faust also
creates a new 2 GiB LRU cache for *every* partition DB.  (Field guide, finding 3 and §7.2.)

This store:

* opens with ``column_families={"default": opts}`` so the bloom filter and block cache are applied on every
  open, first or not;
* shares **one** LRU block cache between all partition DBs of a table in this process, capped at
  ``block_cache_size`` (default 32 MiB) -- so the cap is per table, not per partition;
* uses modest memtables (8 MiB x 2 per partition DB), a 10 bits/key bloom filter, and a bounded
  ``max_open_files``;
* writes a partition's *persisted offset* (the changelog offset its DB holds data up to, where a recovery
  starts reading) every ``PERSIST_OFFSET_EVERY`` changelog records and when the partition is closed, not on
  every acknowledged changelog record (Faust: one extra RocksDB write per table write).  The offset on disk can
  only lag the data, never lead it (a value is in the DB before its changelog record is acknowledged), so a
  recovery after a crash reads at most that many records more and ends with the same values: changelog
  records are whole values, applied in order.

Use it::

    import streams.rocksdb_store            # registers the "rocksdb-capped://" store URL with Faust
    app = faust.App("gp", store="rocksdb-capped://", ...)
    table = app.Table("household_state", partitions=12,
                      options={"block_cache_size": 64 * 1024**2})   # optional per-table overrides

or per table only: ``app.Table(..., store="rocksdb-capped://")``.  Every ``faust.stores.rocksdb.RocksDBOptions``
keyword is accepted in ``options=`` (``write_buffer_size``, ``max_write_buffer_number``,
``target_file_size_base``, ``bloom_filter_size`` (bits per key), ``max_open_files``, ``ttl``) plus
``share_block_cache`` (default True).
"""
from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any, Optional

import rocksdict
from faust.stores import STORES
from faust.stores import rocksdb as faust_rocksdb

__all__ = [
    "CappedRocksDBOptions",
    "Store",
    "STORE_SCHEME",
    "STORE_URL",
    "register",
    "read_db_options_file",
]

STORE_SCHEME = "rocksdb-capped"
STORE_URL = f"{STORE_SCHEME}://"

MiB = 1024 * 1024
DEFAULT_BLOCK_CACHE_SIZE = 32 * MiB          # per table (shared by its partition DBs in this process)
DEFAULT_WRITE_BUFFER_SIZE = 8 * MiB          # per partition DB memtable
DEFAULT_MAX_WRITE_BUFFER_NUMBER = 2
DEFAULT_TARGET_FILE_SIZE_BASE = 32 * MiB
DEFAULT_BLOOM_FILTER_BITS = 10               # ~1 % false positives (faust's default of 3 gives ~14 %)
DEFAULT_MAX_OPEN_FILES = 256                 # per partition DB (faust: 90 % of the ulimit, per DB)
PERSIST_OFFSET_EVERY = 500                   # changelog records between two writes of a partition's offset


class CappedRocksDBOptions(faust_rocksdb.RocksDBOptions):
    """``RocksDBOptions`` with modest defaults, a shared capped block cache, and a reopen-safe ``open``."""

    max_open_files: Optional[int] = DEFAULT_MAX_OPEN_FILES
    write_buffer_size: int = DEFAULT_WRITE_BUFFER_SIZE
    max_write_buffer_number: int = DEFAULT_MAX_WRITE_BUFFER_NUMBER
    target_file_size_base: int = DEFAULT_TARGET_FILE_SIZE_BASE
    block_cache_size: int = DEFAULT_BLOCK_CACHE_SIZE
    bloom_filter_size: int = DEFAULT_BLOOM_FILTER_BITS

    def __init__(self, *args: Any, share_block_cache: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.use_rocksdict:
            raise ValueError(f"{STORE_URL} store requires the rocksdict driver")
        self.share_block_cache = share_block_cache
        self._cache: Optional[rocksdict.Cache] = None

    def block_cache(self) -> rocksdict.Cache:
        """The LRU cache for the next DB: one shared object per options instance (= per table store)."""
        if not self.share_block_cache:
            return rocksdict.Cache(self.block_cache_size)
        if self._cache is None:
            self._cache = rocksdict.Cache(self.block_cache_size)
        return self._cache

    def as_options(self) -> rocksdict.Options:
        opts = rocksdict.Options(raw_mode=True)
        opts.create_if_missing(True)
        if self.max_open_files is not None:
            opts.set_max_open_files(self.max_open_files)
        opts.set_write_buffer_size(self.write_buffer_size)
        opts.set_max_write_buffer_number(self.max_write_buffer_number)
        opts.set_target_file_size_base(self.target_file_size_base)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, False)   # full (not block-based) filter
        table.set_block_cache(self.block_cache())
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        opts.set_block_based_table_factory(table)
        return opts

    def open(self, path: Path, *, read_only: bool = False) -> rocksdict.Rdict:
        """Open (or create) the DB at *path*; CF options are passed explicitly so they survive a reopen."""
        opts = self.as_options()
        opts.set_db_paths([rocksdict.DBPath(str(path), self.target_file_size_base)])
        if read_only:
            access = rocksdict.AccessType.read_only()
        elif self.ttl is not None:
            access = rocksdict.AccessType.with_ttl(self.ttl)
        else:
            access = rocksdict.AccessType.read_write()
        db = rocksdict.Rdict(str(path), options=opts, column_families={"default": opts}, access_type=access)
        db.set_read_options(rocksdict.ReadOptions())
        return db


class Store(faust_rocksdb.Store):
    """Faust RocksDB store using :class:`CappedRocksDBOptions` (rocksdict only)."""

    def __init__(self, url: Any, app: Any, table: Any, *, options: Optional[dict] = None, **kwargs: Any) -> None:
        opts = dict(options or {})
        share = opts.pop("share_block_cache", True)
        if opts.get("driver", "rocksdict") != "rocksdict":
            raise ValueError(f"{STORE_URL} store supports only driver='rocksdict'")
        opts["driver"] = "rocksdict"
        super().__init__(url, app, table, options=opts, **kwargs)
        self.rocksdb_options = CappedRocksDBOptions(
            **self.options, use_rocksdict=True, share_block_cache=share)
        self._offsets_written: dict[Any, int] = {}  # changelog partition -> offset on disk
        self._offsets_pending: dict[Any, int] = {}  # changelog partition -> newer offset, not yet on disk

    def set_persisted_offset(self, tp: Any, offset: int) -> None:
        """Remember that the DB holds the changelog up to ``offset``; on disk every PERSIST_OFFSET_EVERY records."""
        written = self._offsets_written.get(tp)
        if written is not None and 0 <= offset - written < PERSIST_OFFSET_EVERY:
            self._offsets_pending[tp] = offset
        else:
            self._write_offset(tp, offset)

    def _write_offset(self, tp: Any, offset: int) -> None:
        super().set_persisted_offset(tp, offset)
        self._offsets_written[tp] = offset
        self._offsets_pending.pop(tp, None)

    def flush_persisted_offsets(self, partitions: Optional[set[int]] = None) -> None:
        """Write the newest offset of every partition (of ``partitions``) whose DB is still open."""
        for tp, offset in list(self._offsets_pending.items()):
            if (partitions is None or tp.partition in partitions) and tp.partition in self._dbs:
                self._write_offset(tp, offset)

    def revoke_partitions(self, table: Any, tps: set) -> None:
        closing = {tp.partition for tp in tps if tp.topic in table.changelog_topic.topics}
        self.flush_persisted_offsets(closing)
        for tp in [tp for tp in self._offsets_written if tp.partition in closing]:
            self._offsets_written.pop(tp, None)
            self._offsets_pending.pop(tp, None)
        super().revoke_partitions(table, tps)

    async def stop(self) -> None:
        self.flush_persisted_offsets()
        await super().stop()

    def _open_for_partition(self, partition: int) -> rocksdict.Rdict:
        # Faust passes read_only only when the path is a *file* (never true for a DB directory); keep that.
        path = self.partition_path(partition)
        return self.rocksdb_options.open(path, read_only=self.read_only if os.path.isfile(path) else False)


def register(scheme: str = STORE_SCHEME) -> str:
    """Register :class:`Store` with Faust's store registry under *scheme*; returns the URL to use."""
    STORES.aliases[scheme] = f"{__name__}:Store"
    return f"{scheme}://"


register()


_OPTION_LINE = re.compile(r"^\s*([A-Za-z0-9_.]+)=(.*)$")


def read_db_options_file(db_path: os.PathLike | str, section: str = 'CFOptions "default"') -> dict[str, str]:
    """Parse the newest ``OPTIONS-*`` file of a RocksDB directory (what RocksDB actually applied).

    Returns ``key=value`` pairs from *section* and its table-options section, e.g. ``filter_policy``,
    ``write_buffer_size``, ``block_size``.  Used by tests to prove the options survive a reopen.
    """
    files = sorted((p for p in glob.glob(os.path.join(str(db_path), "OPTIONS-*"))
                    if p.rsplit("-", 1)[1].isdigit()),          # skip OPTIONS-NNN.dbtmp being written
                   key=lambda p: int(p.rsplit("-", 1)[1]))
    if not files:
        raise FileNotFoundError(f"no OPTIONS file in {db_path}")
    wanted = {f"[{section}]", f'[TableOptions/BlockBasedTable "{section.split(chr(34))[1]}"]'}
    result: dict[str, str] = {}
    current = None
    with open(files[-1]) as fh:
        for line in fh:
            stripped = line.strip()
            if stripped.startswith("["):
                current = stripped
                continue
            if current in wanted:
                m = _OPTION_LINE.match(line)
                if m:
                    result[m.group(1)] = m.group(2)
    result["__file__"] = os.path.basename(files[-1])
    return result
