"""``groeipakket simulate``: a seeded synthetic Flemish population and its change events (contract v1 records).

    groeipakket simulate --households 20000 --seed 1 --from 2024-01 --to 2024-12 --out events.jsonl \
        --invalid-rate 0.002 --duplicate-rate 0.01
    groeipakket simulate --households 1000 --from 2024-01 --to 2024-12 --to-kafka

The records come in arrival order (``recorded_at``; re-sends and invalid records when they arrive), as a replay
would deliver them; ``--by-household`` writes them household by household instead (faster, same records).
Memory does not grow with ``--households`` (see ``sim/timeline.py``). The model is documented in
``sim/population.py``, the defaults and their public basis in ``sim/config.py``.
"""
from __future__ import annotations

import asyncio
import sys
import time

import orjson

from cli.engine_commands import send_records
from config.settings import load_settings
from sim.population import SimulationConfig
from sim.timeline import generate_lines, generate_timeline_lines, write_jsonl
from streams.events import TOPIC_OF_TYPE


def config_from_args(args) -> SimulationConfig:
    extra = {name: getattr(args, name) for name in ("late_tax_rate", "revised_tax_rate")
             if getattr(args, name) is not None}
    return SimulationConfig(households=args.households, seed=args.seed, start=args.first, end=args.last,
                            invalid_rate=args.invalid_rate, duplicate_rate=args.duplicate_rate, **extra)


def route(line: bytes) -> tuple[str, bytes]:
    """(source topic, key) of a record, as a source system would send it; records that are not even routable
    JSON go to ``src.population`` keyed ``unknown`` (a broken sender), where ingest sends them to the DLQ."""
    try:
        document = orjson.loads(line)
        return TOPIC_OF_TYPE[document["type"]], str(document["subject"]).encode()
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return "src.population", b"unknown"


def run(args) -> int:
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.to_kafka:
        settings = load_settings()
        lines = generate_lines(config) if args.by_household else generate_timeline_lines(config)
        records = ((*route(line.rstrip(b"\r\n")), line.rstrip(b"\r\n")) for line in lines)
        sent = asyncio.run(send_records(settings.kafka_bootstrap, records, settings.producer_options(),
                                        lambda n: print(f"  {n} records sent", file=sys.stderr, flush=True)))
        counts = {"lines": sent, "topic": "src.*", "bootstrap": settings.kafka_bootstrap}
    else:
        counts = write_jsonl(config, args.out, ordered=not args.by_household)
        counts["file"] = args.out
    elapsed = time.perf_counter() - started
    counts["seconds"] = round(elapsed, 2)
    counts["lines_per_second"] = round(counts["lines"] / elapsed) if elapsed else None
    print(orjson.dumps(counts, option=orjson.OPT_INDENT_2).decode())
    return 0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("simulate", help="generate a synthetic population's source events (seeded)")
    parser.add_argument("--households", type=int, required=True, help="families with children on the first day")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM", help="first month of the span")
    parser.add_argument("--to", dest="last", required=True, metavar="YYYY-MM", help="last month of the span")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="the JSON Lines file to write")
    target.add_argument("--to-kafka", action="store_true", help="send to the source topics on KAFKA_BOOTSTRAP")
    parser.add_argument("--invalid-rate", type=float, default=0.0, help="invalid records per valid event")
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="exact re-sends per valid event")
    parser.add_argument("--late-tax-rate", type=float, help="assessments recorded after the allocation year began")
    parser.add_argument("--revised-tax-rate", type=float, help="second assessments of the same income year")
    parser.add_argument("--by-household", action="store_true",
                        help="household by household instead of arrival order (faster; same records)")
    parser.set_defaults(handler=run)
