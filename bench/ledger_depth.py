"""What a computed close costs a household as its ledger deepens, no Kafka: the state's own read, run and write.

    python -m bench.ledger_depth --households 300 --from 2019-09 --to 2024-09

A real household's ledger holds a month of rows for every month it was paid (five years of a two-child family:
~500 rows), while ``groeipakket bench`` replays a few months. Per simulated family: every fact folded, the
regular run of every month from ``--from`` on made in memory, the state written to a dict standing for its
table; then the last month is closed on each state as a worker's close does when it computes (the run is not
implied: the forecast is dropped): the head read back, the facts read when needed, the run, the writes. Prints
µs per household for that close at two ledger depths measured in the same run — the whole span, and only its
last two months (the same families, the same last month) — with head sizes and the ratio, so the cost of the
ledger's depth shows against the same work on a shallow one.
"""
from __future__ import annotations

import argparse
import statistics
import time

from bench.corrections import simulated_households
from rules.parameters import default_parameters
from rules.periods import parse_period, period_text
from tables.household import HouseholdState, read_back, records_prefix
from tables.settlement import regular_run
from streams.events import decode_event


def stored_states(households: int, seed: int, first: int, last: int) -> list[tuple[str, dict]]:
    """(household, table) per family: paid every month from ``first`` to ``last - 1``, written."""
    parameters, states = default_parameters(), []
    history = period_text(max(first - 12, parse_period("2019-01")))  # (the simulator starts in 2019)
    for household, events in simulated_households(households, seed, history, period_text(last)):
        state = HouseholdState(household)
        for _, raw in events:
            state.add_fact(decode_event(raw), raw)
        for month in range(first, last):
            regular_run(state, month, parameters)
            state.outbox.clear()  # acknowledged
        table: dict = {}
        read_back(state, table)
        states.append((household, table))
    return states


def close_microseconds(states: list[tuple[str, dict]], month: int) -> tuple[list[float], list[int]]:
    """Per household: µs of reading its head back, the computed run of ``month`` and the writes; head bytes."""
    parameters, times, sizes = default_parameters(), [], []
    for household, table in states:
        prefix = records_prefix(household)
        head = table[household]
        started = time.perf_counter()
        state = HouseholdState.read(head, lambda: [v for k, v in table.items() if k.startswith(prefix)])
        state.forecast = None  # a computed run (a change month), not a re-dated one
        regular_run(state, month, parameters)
        writes = state.writes()
        times.append(1e6 * (time.perf_counter() - started))
        sizes.append(len(head))
        assert writes and writes[0][0] == household
    return times, sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--from", dest="first", default="2019-09", metavar="YYYY-MM")
    parser.add_argument("--to", dest="last", default="2024-09", metavar="YYYY-MM", help="the month closed")
    args = parser.parse_args(argv)
    first, last = parse_period(args.first), parse_period(args.last)
    spans = {"deep": first, "shallow": last - 2}
    results = {}
    for name, start in spans.items():
        states = stored_states(args.households, args.seed, start, last)
        rounds = [close_microseconds(states, last) for _ in range(3)]  # the best of three (the machine varies)
        times = min((r[0] for r in rounds), key=statistics.mean)
        results[name] = (statistics.mean(times), statistics.mean(rounds[0][1]), last - start)
        print(f"{name:>8}: ledger of {last - start:3d} months, {len(states)} households, head "
              f"{results[name][1]:8,.0f} B, close {results[name][0]:7.0f} µs per household "
              f"(p50 {statistics.median(times):.0f}, max {max(times):.0f})")
    print(f"   ratio: the deep ledger's close costs {results['deep'][0] / results['shallow'][0]:.2f}x the shallow one's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
