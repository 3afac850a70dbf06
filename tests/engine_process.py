"""Run a script that builds the engine (agents.engine.build_engine) in a fresh Python process and read what it
printed last: each process has its own Prometheus registry, where the engine's metrics can be registered once."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def engine_printout(script: str, *args: str, env: dict | None = None) -> str:
    """The last line ``script`` printed (run with ``args``, in ``env``); fails the test when the script failed."""
    result = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]
