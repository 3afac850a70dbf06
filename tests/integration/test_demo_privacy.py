"""Data protection on a whole demo run: no INSZ (subjects, parents, receivers) and no IBAN of the demo's events
appears in what the demo prints (including the explained instruction) or in any log file it leaves behind, with
the worker logging at level info."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLD_SUBJECT = {"payer.chosen", "receiver.designated"}  # their subject is a household id
FIELD = re.compile(rb'"(subject|receiver|iban)"\s*:\s*"([^"]*)"|"parents"\s*:\s*\[([^\]]*)\]')


def personal_identifiers(events: Path) -> dict[str, str]:
    """Every INSZ and IBAN in the events file, of valid records and of broken ones (read as text) alike."""
    found: dict[str, str] = {}
    for line in events.read_bytes().splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            document = None
        if isinstance(document, dict):
            data = document.get("data") if isinstance(document.get("data"), dict) else {}
            if document.get("type") not in HOUSEHOLD_SUBJECT:
                found[document.get("subject")] = "insz"
            parents = data.get("parents") if isinstance(data.get("parents"), list) else []
            found.update({parent: "insz" for parent in parents})
            found[data.get("receiver")] = "insz"
            found[data.get("iban")] = "iban"
            continue
        for match in FIELD.finditer(line):
            if match.group(2) is not None:
                found[match.group(2).decode()] = "iban" if match.group(1) == b"iban" else "insz"
            else:
                found.update({p.decode(): "insz" for p in re.findall(rb'"([^"]*)"', match.group(3))})
    # Short values (a fault's empty or cut-off field) would match any number in a log line.
    return {value: kind for value, kind in found.items() if isinstance(value, str) and len(value) >= 8}


def log_files(work_dir: Path) -> list[Path]:
    """Every *.log file, except RocksDB's write-ahead logs inside the table directories (*.db): those hold the
    tables themselves, which keep INSZ by design (the fact store), and are no logs anyone reads."""
    return [path for path in work_dir.rglob("*.log")
            if not any(part.endswith(".db") for part in path.relative_to(work_dir).parts)]


def test_demo_output_and_logs_contain_no_insz_or_iban(tmp_path):
    work_dir = tmp_path / "demo"
    env = {**os.environ, "GROEIPAKKET_LOG_LEVEL": "info"}
    env.pop("KAFKA_BOOTSTRAP", None)  # the demo starts its own embedded broker
    result = subprocess.run([sys.executable, "-m", "cli", "demo", "--households", "60", "--first", "2024-01",
                             "--last", "2024-03", "--work-dir", str(work_dir)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=420)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "One instruction explained" in output and "rule:" in output, output[-3000:]

    identifiers = personal_identifiers(work_dir / "events.jsonl")
    assert sum(kind == "insz" for kind in identifiers.values()) > 100
    assert sum(kind == "iban" for kind in identifiers.values()) > 20
    logs = log_files(work_dir)
    worker_log = work_dir / "worker-1.log"
    assert worker_log in logs and "[INFO]" in worker_log.read_text(errors="replace")  # really at level info
    for name, text in [("demo output", output)] + [(str(p), p.read_text(errors="replace")) for p in logs]:
        leaked = sorted({identifiers[v] for v in identifiers if v in text})
        assert not leaked, f"{name} contains {leaked} in clear"
