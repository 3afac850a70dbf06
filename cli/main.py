"""The ``groeipakket`` console command and its subcommands."""
from __future__ import annotations

import argparse
import signal
import sys

from cli import bench, calc, demo, engine_commands, explain, simulate, verify


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="groeipakket", description="Groeipakket streaming engine")
    subparsers = parser.add_subparsers(dest="command", required=True)
    calc.add_parser(subparsers)
    engine_commands.add_parsers(subparsers)
    explain.add_parser(subparsers)
    demo.add_parser(subparsers)
    simulate.add_parser(subparsers)
    verify.add_parser(subparsers)
    bench.add_parser(subparsers)
    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM ends a command as Ctrl-C does: the commands that start processes (bench, demo: a broker and
    # workers) stop them in their ``finally``. Commands that handle signals themselves (worker, broker) install
    # their own handlers, which replace this one.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return args.handler(args) or 0
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
