"""JSON Lines output and the globally time-ordered feed, with memory that does not grow with the population.

:func:`generate_timeline` orders every item (valid events, re-sends, invalid records) by its *arrival* instant:
a valid event arrives at its ``recorded_at``, a re-send some minutes to days later, an invalid record near the
event it was derived from; ties go to the event id. It is an external merge sort: the households are generated
in blocks of ``block_households``; each block's items are sorted in memory and written to a temporary *run* file
(one line per item: a fixed-width sort key, a tab, a flag and the record); the runs are then merged lazily with
:func:`heapq.merge`, which holds one line per run. Memory is bounded by the block size, and the number of open
runs by ``max_open_runs`` (more runs are first merged in groups into longer runs). A population that fits in
one block is sorted in memory without temporary files.
"""
from __future__ import annotations

import heapq
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson

from sim.dates import format_instant
from sim.population import SimulationConfig, generate_events, household_blocks

BLOCK_HOUSEHOLDS = 2_000  # ≈ 50 000 lines (≈ 20 MB) per year of span
MAX_OPEN_RUNS = 64
_FLAGS = (b"V", b"D", b"R")  # valid event, re-send, invalid record (by item kind 0, 1, 2)


class _Tally:
    """Counts of what was generated (the records are tallied when they are produced, not when merged)."""

    def __init__(self) -> None:
        self.by_type: Counter = Counter()
        self.kinds = [0, 0, 0]
        self.stats: dict = {}

    def add(self, kind: int, payload) -> None:
        self.kinds[kind] += 1
        if kind == 0:
            self.by_type[payload["type"]] += 1

    def result(self) -> dict:
        events, duplicates, invalid = self.kinds
        return {"lines": events + duplicates + invalid, "events": events, "duplicates": duplicates,
                "invalid": invalid, "households": self.stats.get("households"),
                "by_type": dict(sorted(self.by_type.items()))}


def generate_lines(config: SimulationConfig) -> Iterator[bytes]:
    """The records of :func:`generate_events` as JSON Lines, household by household."""
    dumps = orjson.dumps
    for item in generate_events(config):
        yield (item if isinstance(item, bytes) else dumps(item)) + b"\n"


def _block_lines(items: list[tuple], tally: _Tally | None) -> list[bytes]:
    """``key \\t flag record`` lines, where the key (instant + event id) has a fixed width and sorts as text."""
    dumps = orjson.dumps
    lines = []
    for instant, event_id, kind, payload in items:
        if tally is not None:
            tally.add(kind, payload)
        record = payload if kind == 2 else dumps(payload)
        lines.append(b"%s%s\t%s%s\n" % (format_instant(instant).encode(), event_id.encode(), _FLAGS[kind], record))
    return lines


def _merged_lines(config: SimulationConfig, block_households: int = BLOCK_HOUSEHOLDS,
                  max_open_runs: int = MAX_OPEN_RUNS, tally: _Tally | None = None) -> Iterator[bytes]:
    stats = tally.stats if tally is not None else None
    with tempfile.TemporaryDirectory(prefix="groeipakket-sim-") as tmp:
        runs: list[Path] = []
        pending: list[bytes] = []
        count = 0
        for items in household_blocks(config, stats):
            pending.extend(_block_lines(items, tally))  # as compact lines at once: no dicts kept
            count += 1
            if count == block_households:
                pending.sort()
                runs.append(_write_run(Path(tmp), len(runs), pending))
                pending, count = [], 0
        pending.sort()
        if not runs:  # everything fits in one block: no temporary files
            yield from pending
            return
        if pending:
            runs.append(_write_run(Path(tmp), len(runs), pending))
        pending = []
        generation = 0
        while len(runs) > max_open_runs:  # merge in groups until few enough runs remain
            generation += 1
            merged = []
            for i in range(0, len(runs), max_open_runs):
                group = runs[i:i + max_open_runs]
                path = Path(tmp) / f"merge-{generation}-{i:06d}.run"
                with open(path, "wb") as out:
                    out.writelines(_merge_files(group))
                for old in group:
                    os.unlink(old)
                merged.append(path)
            runs = merged
        yield from _merge_files(runs)


def _write_run(directory: Path, number: int, lines: list[bytes]) -> Path:
    path = directory / f"run-{number:06d}.run"
    with open(path, "wb") as out:
        out.writelines(lines)
    return path


def _merge_files(paths: list[Path]) -> Iterator[bytes]:
    files = [open(path, "rb", buffering=1 << 16) for path in paths]
    try:
        yield from heapq.merge(*files)
    finally:
        for handle in files:
            handle.close()


def generate_timeline_lines(config: SimulationConfig, block_households: int = BLOCK_HOUSEHOLDS,
                            max_open_runs: int = MAX_OPEN_RUNS) -> Iterator[bytes]:
    """The JSON Lines of every record, globally in arrival order (see the module docstring)."""
    for line in _merged_lines(config, block_households, max_open_runs):
        yield line[line.index(b"\t") + 2:]


def generate_timeline(config: SimulationConfig, block_households: int = BLOCK_HOUSEHOLDS,
                      max_open_runs: int = MAX_OPEN_RUNS) -> Iterator[dict | bytes]:
    """The items of :func:`sim.population.generate_events` (dicts, and ``bytes`` for invalid records), globally
    in arrival order: valid events by ``recorded_at`` (ties by ``event_id``), re-sends and invalid records at
    the moment they arrive."""
    loads = orjson.loads
    for line in _merged_lines(config, block_households, max_open_runs):
        tab = line.index(b"\t")
        record = line[tab + 2:-1]
        yield record if line[tab + 1:tab + 2] == b"R" else loads(record)


def write_jsonl(config: SimulationConfig, path: str | os.PathLike, ordered: bool = False) -> dict:
    """Write every record to ``path`` as JSON Lines — household by household, or globally in arrival order with
    ``ordered`` — and return the counts: ``{"lines", "events" (valid, first sends), "duplicates", "invalid",
    "households" (ids used, spawned ones included), "by_type": {type: valid events}}``."""
    tally = _Tally()
    dumps = orjson.dumps
    with open(path, "wb", buffering=1 << 20) as out:
        if ordered:
            for line in _merged_lines(config, BLOCK_HOUSEHOLDS, MAX_OPEN_RUNS, tally):
                out.write(line[line.index(b"\t") + 2:])
        else:
            for items in household_blocks(config, tally.stats):
                for _, _, kind, payload in items:
                    tally.add(kind, payload)
                    out.write((payload if kind == 2 else dumps(payload)) + b"\n")
    return tally.result()
