"""Benchmark of the calculator alone (no Kafka, no I/O): child-months per second on one core.

    python -m bench.calculator --households 20000 --months 12

Generates a population with the simulator (seeded), folds it, builds the situation, then computes every
entitlement of every child for the months of a year and prints child-months/s (target: 50 000/s, a full month for
1.6 million children in about 30 s). The baseline measured in the same run is the simplest possible rule over the
same situation: entitlement plus the `basic` amount only — the ratio shows what the whole ruleset costs on top.
"""
from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

import orjson

from config.runtime import tune_garbage_collector
from rules.calculator import Calculator
from rules.periods import parse_period
from rules.situation import Situation
from streams.events import decode_event
from tables.facts import FactStore

TARGET = 50_000


def population(households: int, seed: int, start: str, end: str) -> FactStore:
    from sim.population import SimulationConfig, generate_events

    store = FactStore()
    for event in generate_events(SimulationConfig(households=households, seed=seed, start=start, end=end)):
        store.add(decode_event(orjson.dumps(event)))
    return store


def child_months(calc: Calculator, months: list[int]) -> int:
    return sum(len(calc.household_month(h, m).children) for h in calc.situation.members_ever for m in months)


def baseline(situation: Situation, months: list[int]) -> tuple[float, int]:
    """Entitlement and `basic` only, over the same households and months (fresh caches)."""
    calc = Calculator(situation)
    basic = calc.parameter["basic"]
    started = time.perf_counter()
    total = 0
    for household in situation.members_ever:
        for month in months:
            hm = calc.household_month(household, month)
            for child in hm.entitled:
                total += basic.at_month(month).value
    return time.perf_counter() - started, total


def run(households: int, seed: int, first: str, months_count: int, worker_gc: bool = True) -> dict:
    if worker_gc:  # the collector settings a worker runs with, set at its start (config/runtime.py)
        tune_garbage_collector()
    first_month = parse_period(first)
    months = list(range(first_month, first_month + months_count))
    t0 = time.perf_counter()
    store = population(households, seed, f"{first_month // 12 - 1}-09", first)
    t1 = time.perf_counter()
    situation = Situation(store)
    t2 = time.perf_counter()
    gc.collect()
    calc = Calculator(situation)
    started = time.perf_counter()
    lines = calc.entitlements(months)
    elapsed = time.perf_counter() - started
    count = child_months(calc, months)
    base_elapsed, _ = baseline(situation, months)
    result = {
        "garbage_collector": "worker settings" if worker_gc else "CPython defaults",
        "households": households, "persons": len(situation.persons), "facts": len(store), "months": months_count,
        "child_months": count, "entitlements": len(lines), "seconds": round(elapsed, 3),
        "child_months_per_s": round(count / elapsed), "target_per_s": TARGET,
        "ratio_to_target": round(count / elapsed / TARGET, 2),
        "baseline_basic_only_per_s": round(count / base_elapsed),
        "ratio_full_ruleset_to_baseline": round(base_elapsed / elapsed, 2),
        "situation_build_s": round(t2 - t1, 3), "generate_and_fold_s": round(t1 - t0, 3),
        "full_month_for_1_62_million_children_s": round(1_620_000 / (count / elapsed), 1),
    }
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", default="2024-01", help="first month computed")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--json", default="bench/results/calculator.json")
    parser.add_argument("--default-gc", action="store_true",
                        help="CPython's default collector thresholds instead of the worker's")
    args = parser.parse_args(argv)
    result = run(args.households, args.seed, args.first, args.months, worker_gc=not args.default_gc)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
