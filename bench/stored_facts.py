"""What reading a stored fact back costs, checked as at ingest against decoded as a stored fact, no Kafka.

    python -m bench.stored_facts --households 3000

Every fact of the simulated families is decoded twice per round: with ``decode_event`` (what ingest does: every
field validated, the INSZ and IBAN check digits computed) and with ``decode_stored`` (what the households agent
and a state read back do: the same, the check digits verified at ingest not computed again). The identifier
checks are cached per process; at 100 000 households a worker meets more persons and accounts than the caches
hold, so each round starts with the caches empty ("cold", the population's regime) and a second round of
``decode_event`` runs with them full ("warm", a small population's regime). Prints µs per fact and the ratios.
"""
from __future__ import annotations

import argparse
import time

from bench.corrections import simulated_households
from streams.events import decode_event, decode_stored
from streams.identifiers import is_valid_insz, normalize_iban


def clear_identifier_caches() -> None:
    is_valid_insz.cache_clear()
    normalize_iban.cache_clear()


def microseconds_per_fact(decode, raws: list[bytes], cold: bool) -> float:
    best = float("inf")
    for _ in range(3):  # the best of three (the machine varies)
        if cold:
            clear_identifier_caches()
        started = time.perf_counter()
        for raw in raws:
            decode(raw)
        best = min(best, time.perf_counter() - started)
    return 1e6 * best / len(raws)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args(argv)
    raws = [raw for _, events in simulated_households(args.households, args.seed, "2019-01", "2024-09")
            for _, raw in events]
    checked_cold = microseconds_per_fact(decode_event, raws, cold=True)
    checked_warm = microseconds_per_fact(decode_event, raws, cold=False)
    stored = microseconds_per_fact(decode_stored, raws, cold=True)
    print(f"{len(raws):,} facts of {args.households:,} simulated families")
    print(f"  decode_event, identifier caches cold (baseline) {checked_cold:6.1f} µs per fact")
    print(f"  decode_event, identifier caches warm           {checked_warm:6.1f} µs per fact")
    print(f"  decode_stored                                  {stored:6.1f} µs per fact")
    print(f"  ratio: decode_stored is {checked_cold / stored:.2f}x as fast as the cold check, "
          f"{checked_warm / stored:.2f}x the warm one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
