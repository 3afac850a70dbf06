"""The ``groeipakket`` console command and its subcommands."""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
