"""Run the engine's processes from Python: worker subprocesses, feeding, closing, waiting, reading results.

Used by ``groeipakket demo``, the benchmarks and the end-to-end tests, so all three drive the engine exactly as an
operator would (separate worker processes, the real broker, the contract's topics).
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from streams import topics as names
from streams.events import SOURCE_TOPICS
from streams.reader import read_topics, wait_until_idle


class WorkerProcess:
    """One ``groeipakket worker`` subprocess with its own data dir and web port."""

    def __init__(self, bootstrap: str, data_dir: Path, web_port: int, *, log_path: Path | None = None,
                 env: dict | None = None):
        self.bootstrap, self.data_dir, self.web_port = bootstrap, Path(data_dir), web_port
        self.log_path = log_path or self.data_dir.with_suffix(".log")
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "KAFKA_BOOTSTRAP": self.bootstrap}
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "worker", "--data-dir", str(self.data_dir), "--web-port",
             str(self.web_port)], env=env, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM), then SIGKILL when it does not stop in time."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.proc = None

    def kill(self) -> None:
        """kill -9: no shutdown at all (what a crash looks like)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self._log.close()
        self.proc = None

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-size:].decode(errors="replace")
        except OSError:
            return ""


def input_topics(app_id: str) -> list[str]:
    return [*SOURCE_TOPICS, names.CONTROL_TOPIC, names.person_events_topic(app_id),
            names.household_events_topic(app_id)]


def wait_idle(bootstrap: str, app_id: str = "groeipakket", *, timeout: float = 600.0, progress=None) -> float:
    return asyncio.run(wait_until_idle(bootstrap, app_id, input_topics(app_id), timeout=timeout, interval=0.25,
                                       progress=progress))


def read_payments(bootstrap: str) -> list:
    return asyncio.run(read_topics(bootstrap, list(names.PAYMENT_TOPICS.values())))


def read_dlq(bootstrap: str) -> list:
    return asyncio.run(read_topics(bootstrap, [names.DLQ_TOPIC]))


def wait_for(predicate, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
