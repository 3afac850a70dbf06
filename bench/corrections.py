"""Benchmark of the households agent's own work, no Kafka: folding facts, corrections and regular runs.

    python -m bench.corrections --households 1000

What the engine does per household, on one core, with the real state and settlement code (``tables/``): the
facts recorded before the first month are folded, the first month is closed (its regular run), then month by
month the facts recorded in that month are folded one by one — each one that changes a closed month makes a
correction, computed on a calculator rebuilt for the new facts, exactly as in the engine
(``tables.settlement.fold_and_correct``) — and the month is closed. Prints facts/s of the monthly phase, the
time per correction made, children/s of the regular runs and the cost per event type. The population is the
simulator's (seeded), one state per simulated family.
"""
from __future__ import annotations

import argparse
import time

import orjson

from rules.parameters import default_parameters
from rules.periods import parse_period, period_text
from streams.events import decode_event
from tables.household import HouseholdState, read_back
from tables.settlement import fold_and_correct, regular_run


def families(households: int, seed: int, first: str, last: str):
    """Per simulated family: its valid events as (recorded month, raw JSON), in arrival order."""
    from sim.population import SimulationConfig, household_blocks

    config = SimulationConfig(households=households, seed=seed, start=first, end=last)
    for items in household_blocks(config):
        events = [item[3] for item in items if isinstance(item[3], dict)]
        if events:
            yield [(parse_period(e["recorded_at"][:7]), orjson.dumps(e)) for e in events]


def simulated_households(count: int, seed: int, first: str, last: str):
    """(household id, its family's events) for the simulated families that have a household (the others have
    nothing to pay)."""
    for events in families(count, seed, first, last):
        household = first_household(events)
        if household is not None:
            yield household, events


def first_household(events) -> str | None:
    for _, raw in events:
        data = orjson.loads(raw)
        if data["type"] in ("person.registered", "person.born") and data["data"].get("household_id"):
            return data["data"]["household_id"]
    return None


def state_before(events, first_month: int) -> HouseholdState:
    """A family's state (of its first household) with the facts recorded before ``first_month`` folded."""
    state = HouseholdState(first_household(events))
    for month, raw in events:
        if month < first_month:
            state.add_fact(decode_event(raw), raw)
    return state


def _per_100k(seconds: float, children: int) -> float | None:
    """Seconds per 100 000 children paid (None when none was paid: a span of one month has no earlier close)."""
    return round(1e5 * seconds / children, 1) if children else None


def run(households: int, seed: int, first: str, last: str) -> dict:
    parameters = default_parameters()
    first_month, last_month = parse_period(first), parse_period(last)
    figures = {"facts": 0, "corrections": 0, "fact_seconds": 0.0, "regular_seconds": 0.0, "children": 0,
               "last_close_seconds": 0.0, "last_close_children": 0, "households": 0}
    by_type: dict[str, list] = {}  # event type -> [accepted facts, seconds of folding and correcting them]
    for household, events in simulated_households(households, seed, period_text(first_month - 12), last):
        figures["households"] += 1
        state = state_before(events, first_month)
        for month in range(first_month, last_month + 1):
            closed = (first_month, month - 1) if month > first_month else None
            for recorded, raw in events:
                if recorded != month:
                    continue
                started = time.perf_counter()
                event = decode_event(raw)
                outcome, corrections = fold_and_correct(state, event, raw, closed, parameters)
                elapsed = time.perf_counter() - started
                figures["facts"] += 1
                figures["fact_seconds"] += elapsed
                figures["corrections"] += len(corrections)
                if outcome.name == "ACCEPTED":
                    cost = by_type.setdefault(event.type, [0, 0.0])
                    cost[0] += 1
                    cost[1] += elapsed
            last = month == last_month
            if last:  # the last close reads each state back from its table value, as a worker's close does
                state = read_back(state, {})
            started = time.perf_counter()
            for instruction, _ in regular_run(state, month, parameters):
                figures["last_close_children" if last else "children"] += len(
                    {line["child"] for line in instruction["lines"]})
            figures["last_close_seconds" if last else "regular_seconds"] += time.perf_counter() - started
            state.outbox.clear()
    monthly = figures["fact_seconds"]
    figures.update({
        "facts_per_second": round(figures["facts"] / monthly) if monthly else None,
        "ms_per_correction": round(1000 * monthly / max(figures["corrections"], 1), 2),
        "regular_children_per_second": (round(figures["children"] / figures["regular_seconds"])
                                        if figures["children"] else None),
        "last_close_s_per_100k_children": _per_100k(figures["last_close_seconds"], figures["last_close_children"]),
    })
    # The same work per child on a state kept in memory (the earlier closes): what reading back costs
    warm, read_back_close = (_per_100k(figures["regular_seconds"], figures["children"]),
                             figures["last_close_s_per_100k_children"])
    figures["last_close_ratio_to_warm_states"] = round(read_back_close / warm, 2) if warm and read_back_close else None
    figures["by_type"] = {kind: {"facts": n, "ms_per_fact": round(1000 * seconds / n, 2)}
                          for kind, (n, seconds) in sorted(by_type.items(), key=lambda item: -item[1][1])}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--from", dest="first", default="2024-01")
    parser.add_argument("--to", dest="last", default="2024-12")
    args = parser.parse_args(argv)
    figures = run(args.households, args.seed, args.first, args.last)
    by_type = figures.pop("by_type")
    for name, value in figures.items():
        print(f"{name:>28}: {round(value, 2) if isinstance(value, float) else value}")
    print("  per event type (monthly phase, accepted facts: folding and correcting):")
    for kind, cost in by_type.items():
        print(f"    {kind:<26} {cost['facts']:>7} facts  {cost['ms_per_fact']:>7.2f} ms each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
