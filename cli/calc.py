"""``groeipakket calc``: the offline calculation of contract §6, and ``--explain`` for one child and month."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import orjson

from rules.calculator import COMPONENTS, Calculator
from rules.parameters import load_parameters
from rules.periods import parse_period
from rules.trace import render_text
from streams.events import InvalidEvent, decode_event
from tables.facts import FactStore


def read_events(path: Path, report=None) -> tuple[FactStore, int]:
    """Fold the valid lines of a JSON Lines file; each invalid line is reported with its number and reason."""
    store, invalid = FactStore(), 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                store.add(decode_event(line))
            except InvalidEvent as exc:
                invalid += 1
                if report is not None:
                    report(f"line {number}: {exc.reason_class}: {exc.reason}")
    return store, invalid


def _order(line) -> tuple:
    return line.household_id, line.month, line.child, COMPONENTS.index(line.component)


def iter_json(lines) -> Iterator[bytes]:
    yield b'{"entitlements": ['
    for i, line in enumerate(lines):
        yield (b"\n  " if i == 0 else b",\n  ") + orjson.dumps(line.row())
    yield b"\n]}\n"


def run(args) -> int:
    def report(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        first, last = parse_period(args.from_period), parse_period(args.to_period)
    except ValueError as exc:
        report(f"error: {exc}")
        return 2
    if last < first:
        report("error: --to is before --from")
        return 2
    path = Path(args.events)
    if not path.is_file():
        report(f"error: no such file: {path}")
        return 2
    parameters = load_parameters(args.parameters) if args.parameters else None
    store, invalid = read_events(path, report)
    if invalid:
        report(f"{invalid} invalid line(s) skipped; {len(store)} facts used")
    calculator = Calculator.from_events(store, parameters)
    if args.explain:
        child, period = args.explain
        lines, note = calculator.child_entitlements(child, parse_period(period))
        lines.sort(key=_order)
        if args.json:
            document = {"child": child, "period": period, "entitlement": note,
                        "total_cents": sum(line.amount_cents for line in lines),
                        "lines": [line.explanation() for line in lines]}
            sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        else:
            print(render_text(child, period, lines, entitlement_note=note))
        return 0
    lines = sorted(calculator.entitlements(range(first, last + 1)), key=_order)
    out = sys.stdout.buffer
    for chunk in iter_json(lines):
        out.write(chunk)
    out.flush()
    return 0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("calc", help="compute every entitlement of an events file (contract §6)")
    parser.add_argument("events", help="JSON Lines file of source events")
    parser.add_argument("--from", dest="from_period", required=True, metavar="YYYY-MM")
    parser.add_argument("--to", dest="to_period", required=True, metavar="YYYY-MM")
    parser.add_argument("--explain", nargs=2, metavar=("CHILD", "PERIOD"),
                        help="print the derivation of one child's amounts for one month")
    parser.add_argument("--json", action="store_true", help="with --explain: machine-readable JSON")
    parser.add_argument("--parameters", help="parameter directory (default: the bundled config/parameters)")
    parser.set_defaults(handler=run)
