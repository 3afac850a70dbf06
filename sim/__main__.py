"""``python -m sim``: write a synthetic population's source events as JSON Lines and print the counts (JSON).

    python -m sim --households 10000 --seed 1 --start 2024-01 --end 2024-12 -o events.jsonl
    python -m sim --households 500 --seed 7 --start 2024-01 --end 2024-12 --invalid-rate 0.01 \
        --duplicate-rate 0.01 --ordered -o feed.jsonl
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import orjson

from sim.population import SimulationConfig
from sim.timeline import generate_lines, generate_timeline_lines, write_jsonl


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__.splitlines()[0].strip("`: "))
    parser.add_argument("--households", type=int, required=True, help="families with children on the first day")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", required=True, help="first month YYYY-MM")
    parser.add_argument("--end", required=True, help="last month YYYY-MM")
    parser.add_argument("--invalid-rate", type=float, default=0.0, help="extra invalid records per valid event")
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="exact re-sends per valid event")
    parser.add_argument("--late-tax-rate", type=float, default=None)
    parser.add_argument("--revised-tax-rate", type=float, default=None)
    parser.add_argument("--ordered", action="store_true",
                        help="globally in arrival (recorded_at) order instead of household by household")
    parser.add_argument("-o", "--output", default="-", help="the .jsonl file to write ('-': standard output)")
    return parser


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    extra = {name: getattr(args, name) for name in ("late_tax_rate", "revised_tax_rate")
             if getattr(args, name) is not None}
    return SimulationConfig(households=args.households, seed=args.seed, start=args.start, end=args.end,
                            invalid_rate=args.invalid_rate, duplicate_rate=args.duplicate_rate, **extra)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.output == "-":
        lines = generate_timeline_lines(config) if args.ordered else generate_lines(config)
        out = sys.stdout.buffer
        count = 0
        try:
            for line in lines:
                out.write(line)
                count += 1
            out.flush()
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        counts = {"lines": count}
    else:
        counts = write_jsonl(config, args.output, ordered=args.ordered)
    elapsed = time.perf_counter() - started
    counts["seconds"] = round(elapsed, 3)
    counts["lines_per_second"] = round(counts["lines"] / elapsed) if elapsed else None
    report = orjson.dumps(counts, option=orjson.OPT_INDENT_2).decode()
    print(report, file=sys.stderr if args.output == "-" else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
