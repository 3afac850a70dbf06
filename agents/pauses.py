"""Pauses of the worker process: how long the event loop was blocked, and how long the cycle collector ran.

Why: a worker whose event loop (or whose whole process) stops for longer than the group session loses its
partitions. On the embedded broker the session is 4 s (streams.broker_compat.FAST_JOIN_SETTINGS). In the
September close of a 100 000-household year the group rebalanced and the close was delivered again (exact, but
late); these measurements found the cause: a full collection of the cycle collector of 3.0-3.5 s right after
the close (fixed: rules.calculator.HouseholdMonth refers to its calculator weakly). What stops a whole process
is not always visible afterwards: the cycle collector holds the GIL, and so does a RocksDB write (rocksdict
does not release the GIL around ``put``, so a write stall of RocksDB stops every thread, the consumer's
heartbeats included; its ``LOG`` reports stalls).

- ``groeipakket_event_loop_lag_seconds``: how much later than asked a short sleep of the main event loop woke up
  (sampled every ``SAMPLE_SECONDS``). A lag of seconds means that the loop ran one long step or that the process
  stood still; a lag above ``WARN_LAG_SECONDS`` is logged with the collector's time in the same interval.
- ``groeipakket_gc_pause_seconds{generation}``: the duration of every collection of the cycle collector; one
  above ``WARN_GC_SECONDS`` is logged.

Both are read-only measurements (no table, no topic), for operators (alert ``GroeipakketWorkerBlocked``).
"""
from __future__ import annotations

import asyncio
import gc
import logging
import time

from agents import metrics

log = logging.getLogger("groeipakket.pauses")
SAMPLE_SECONDS = 0.25
WARN_LAG_SECONDS = 2.0
WARN_GC_SECONDS = 1.0


class CollectorPauses:
    """Times every collection of the cycle collector (``gc.callbacks``) into the histogram."""

    def __init__(self, warn_seconds: float = WARN_GC_SECONDS):
        self.warn_seconds = warn_seconds
        self.total_seconds = 0.0  # all collections so far (to attribute a loop lag)
        self._started: float | None = None

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        seconds, self._started = time.perf_counter() - self._started, None
        self.total_seconds += seconds
        metrics.GC_PAUSE.labels(str(info.get("generation"))).observe(seconds)
        if seconds > self.warn_seconds:
            log.warning("the cycle collector ran %.1fs (generation %s, %s objects collected)", seconds,
                        info.get("generation"), info.get("collected"))

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


async def watch_event_loop(collector: CollectorPauses, interval: float = SAMPLE_SECONDS,
                           warn_seconds: float = WARN_LAG_SECONDS, samples: int | None = None) -> None:
    """Sleep ``interval`` again and again and observe how much later than that the loop woke up (``samples``:
    stop after that many, for tests; None: until cancelled)."""
    taken = 0
    while samples is None or taken < samples:
        gc_before, asked = collector.total_seconds, time.perf_counter()
        await asyncio.sleep(interval)
        lag = max(time.perf_counter() - asked - interval, 0.0)
        metrics.EVENT_LOOP_LAG.observe(lag)
        if lag > warn_seconds:
            log.warning("the event loop was blocked for %.1fs (of which %.1fs in the cycle collector)", lag,
                        collector.total_seconds - gc_before)
        taken += 1


def register(engine) -> None:
    collector = CollectorPauses()
    collector.install()

    @engine.app.task
    async def event_loop_lag() -> None:
        await watch_event_loop(collector)
