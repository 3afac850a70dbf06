"""The changelog-recovery scenario on the embedded broker: a Faust table fed N_KEYS x N_UPDATES, the worker
stopped, its data dir deleted and the table recovered from the changelog, then a restart with the data dir kept.

Used by tests/integration/test_embedded_broker.py. Run as a script it replays the scenario *without* the
workaround for the broker's end-offset defect (to see the defect):

    .venv/bin/python -m tests.integration.recovery_scenario --no-compat
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

from streams.broker import EmbeddedBroker, ensure_topics

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


def expected_table() -> dict[str, int]:
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
        st = worker.wait_for(lambda s: s.get("table") == expected_table(), 40, "all updates processed")
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
# manual run: the same scenario without the workaround
# --------------------------------------------------------------------------------------------------------------

if __name__ == "__main__":
    compat = "--no-compat" not in sys.argv
    extra = json.loads(sys.argv[sys.argv.index("--extra") + 1]) if "--extra" in sys.argv else None
    with EmbeddedBroker() as b, tempfile.TemporaryDirectory() as d:
        r = run_recovery_scenario(b, Path(d), compat=compat, extra=extra)
        exp = expected_table()
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
