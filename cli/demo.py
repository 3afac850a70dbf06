"""``groeipakket demo``: the main job end to end on the embedded broker with a bundled sample population.

Starts the embedded broker (unless ``KAFKA_BOOTSTRAP`` is set) and a worker, feeds a seeded sample of a few
hundred households with a year of changes (late and revised tax data, a few invalid records, duplicates), closes
each month after the changes recorded in it went through, then shows what each payer received, one explained
instruction and the DLQ, checks the ledger invariant against ``calc`` on the same events, and stops cleanly.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import orjson

from cli.engine_commands import prepare_topics, produce_file, publish_close, send_records
from cli.explain import find_audit, render_audit
from cli.runtime import WorkerProcess, read_dlq, read_payments, wait_idle
from config.settings import load_settings
from rules.calculator import Calculator
from rules.money import euro
from rules.periods import parse_period, period_text
from streams import topics as names
from streams.broker import EmbeddedBroker, ensure_topics, free_port
from streams.events import InvalidEvent, decode_event
from tables.facts import FactStore
from tables.invariant import check


def say(message: str = "") -> None:
    print(message, flush=True)


def sample_lines(households: int, seed: int, first: str, last: str) -> list[bytes]:
    from sim.population import SimulationConfig
    from sim.timeline import generate_timeline_lines as generate_lines

    config = SimulationConfig(households=households, seed=seed, start=first, end=last, invalid_rate=0.004,
                              duplicate_rate=0.01)
    return [line.rstrip(b"\n") for line in generate_lines(config)]


def by_recorded_month(lines: list[bytes], first: int) -> tuple[dict[int, list[bytes]], list[bytes]]:
    """Lines grouped by the month they were recorded in (before ``first``: the initial load); unparseable ones
    apart (they are sent as raw records, as a broken source would)."""
    groups: dict[int, list[bytes]] = defaultdict(list)
    broken = []
    for line in lines:
        try:
            recorded = orjson.loads(line)["recorded_at"]
            month = parse_period(recorded[:7])
        except Exception:
            broken.append(line)
            continue
        groups[max(month, first - 1)].append(line)
    return groups, broken


def run(args) -> int:
    started = time.monotonic()
    external = os.environ.get("KAFKA_BOOTSTRAP")
    broker = None
    workdir = Path(args.work_dir or tempfile.mkdtemp(prefix="groeipakket-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if external:
        bootstrap = external
        say(f"Using the broker at {bootstrap} (KAFKA_BOOTSTRAP)")
    else:
        broker = EmbeddedBroker(free_port()).start()
        bootstrap = broker.bootstrap
        ensure_topics(bootstrap, {names.EMBEDDED_MARKER_TOPIC: 1})
        say(f"Started the embedded Kafka-compatible broker on {bootstrap}")
    worker = None
    try:
        settings = load_settings(kafka_bootstrap=bootstrap)
        asyncio.run(prepare_topics(settings, embedded=broker is not None))
        first, last = parse_period(args.first), parse_period(args.last)
        say(f"Generating the sample: {args.households} households, changes {args.first} .. {args.last} "
            f"(seed {args.seed})")
        lines = sample_lines(args.households, args.seed, args.first, args.last)
        groups, broken = by_recorded_month(lines, first)
        (workdir / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
        say(f"  {len(lines)} records, {len(broken)} of them not even JSON")
        worker = WorkerProcess(bootstrap, workdir / "worker-1", free_port(), log_path=workdir / "worker-1.log",
                               env={"GROEIPAKKET_BROKER_KIND": "embedded" if broker else "auto"}).start()
        say(f"Started a worker (pid {worker.pid}, log {workdir / 'worker-1.log'})")
        asyncio.run(send_records(bootstrap, (("src.population", b"unknown", line) for line in broken)))
        for month in range(first - 1, max(last, *groups) + 1):  # after the last close: late data, corrections
            batch = groups.get(month, [])
            path = workdir / f"batch-{month}.jsonl"
            path.write_bytes(b"".join(line + b"\n" for line in batch))
            sent, _ = asyncio.run(produce_file(bootstrap, path, report=lambda _m: None))
            label = "initial load" if month < first else f"changes recorded in {period_text(month)}"
            waited = wait_idle(bootstrap, timeout=900)
            if first <= month <= last:
                asyncio.run(publish_close(bootstrap, period_text(month)))
                wait_idle(bootstrap, timeout=900)
            closed = f"; closed {period_text(month)}" if first <= month <= last else ""
            say(f"  {label}: {sent} records in {waited:.1f}s{closed}")
            if not worker.alive():
                say("the worker stopped unexpectedly:\n" + worker.log_tail())
                return 1
        show_results(bootstrap, settings.app_id, lines, first, last)
    finally:
        if worker is not None:
            worker.stop()
            say("Stopped the worker")
        if broker is not None:
            broker.stop()
            say("Stopped the embedded broker")
    say(f"Demo finished in {time.monotonic() - started:.0f}s; files in {workdir}")
    return 0


def show_results(bootstrap: str, app_id: str, lines: list[bytes], first: int, last: int) -> None:
    payments = read_payments(bootstrap)
    instructions = [orjson.loads(r.value) for r in payments]
    say("\nWhat each payer received (distinct instructions):")
    say(f"  {'payer':<10}{'regular':>9}{'corrections':>13}{'lines':>8}{'total EUR':>16}")
    seen = {}
    for instruction in instructions:
        seen[instruction["instruction_id"]] = instruction
    per_payer: dict[str, Counter] = defaultdict(Counter)
    for instruction in seen.values():
        counter = per_payer[instruction["payer"]]
        counter[instruction["kind"]] += 1
        counter["lines"] += len(instruction["lines"])
        counter["cents"] += instruction["total_cents"]
    for payer in ("FONS", "INFINO", "KIDSLIFE", "MYFAMILY", "PARENTIA"):
        c = per_payer.get(payer, Counter())
        say(f"  {payer:<10}{c['regular']:>9}{c['correction']:>13}{c['lines']:>8}{euro(c['cents']):>16}")
    corrections = [i for i in seen.values() if i["kind"] == "correction"]
    example = max(corrections or list(seen.values()), key=lambda i: (len(i["lines"]) <= 6, i["total_cents"]),
                  default=None)
    if example is not None:
        say(f"\nOne instruction explained (`groeipakket explain {example['instruction_id']}`):")
        audit = asyncio.run(find_audit(bootstrap, app_id, example["instruction_id"]))
        say(render_audit(audit) if audit else "  (trace not found)")
    dlq = read_dlq(bootstrap)
    reasons = Counter(dict(r.headers).get("gp-reason-class", b"?").decode() for r in dlq)
    say(f"\nDLQ: {len(dlq)} records refused: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    store = FactStore()
    for line in lines:
        try:
            store.add(decode_event(line))
        except InvalidEvent:
            continue
    report = check([r.value for r in payments], Calculator.from_events(store),
                   [period_text(m) for m in range(first, last + 1)])
    verdict = "holds" if report.ok else f"FAILS ({len(report.differences)} differences)"
    say(f"\nLedger invariant against `groeipakket calc` on the same events: {verdict} "
        f"({report.checked_keys} child/component/period sums checked, {report.duplicates} repeated deliveries)")
    if not report.ok:
        for difference in report.differences[:10]:
            say(f"  {difference}")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the main job end to end on the embedded broker")
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--first", default="2024-01", help="first period closed")
    parser.add_argument("--last", default="2024-12", help="last period closed")
    parser.add_argument("--work-dir", help="where the sample and the worker's data go (default: a temp dir)")
    parser.set_defaults(handler=run)

