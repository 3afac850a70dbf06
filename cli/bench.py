"""``groeipakket bench``: the whole chain at a chosen scale on the embedded broker, with a table of figures.

    groeipakket bench --households 20000 --workers 1 --json bench.json

simulate → produce (month by month, in arrival order) → N workers → close every month → late data → verify;
see ``bench/chain.py`` for what each figure measures. Uses ``KAFKA_BOOTSTRAP`` when set (the topics must be
empty), otherwise starts the embedded broker on a free loopback port and stops it afterwards. Exits 1 when
verify finds a difference.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import orjson

from bench.chain import ChainOptions, peak_rss_mib, run_chain
from cli.engine_commands import prepare_topics
from cli.verify import render
from config.settings import load_settings
from streams import topics as names
from streams.broker import EmbeddedBroker, ensure_topics, free_port

NAIVE_FAUST_EVENTS_PER_SECOND = 3_800  # issue 3's figure for the naive pipeline on this kind of machine


def table(figures: dict) -> str:
    ceiling = figures["ceiling"]["records_per_second"]
    rate = figures["source_events_per_second"]
    naive = (figures.get("naive") or {}).get("records_per_second")
    routed = (figures.get("naive_routed") or {}).get("records_per_second")
    per_worker = rate / figures["workers"]  # the target is per worker; the naive pipeline runs on one
    baseline = (f"{per_worker / naive:.2f}x the naive Faust pipeline measured in this run" if naive else
                f"{per_worker / NAIVE_FAUST_EVENTS_PER_SECOND:.2f}x the issue's naive Faust pipeline, 3 800/s")
    if figures["workers"] > 1:
        baseline = f"{per_worker:,.0f}/s per worker: {baseline}"
    rss = ", ".join(f"{r:,.0f}" for r in figures["peak_rss_mib"] if r is not None)

    def ms(value):
        return "n/a" if value is None else f"{value:,.0f} ms"

    rows = [
        ("households / workers", f"{figures['households']:,} / {figures['workers']}"),
        ("source records (replayed)", f"{figures['source_records']:,}"),
        ("source events/s (end to end)", f"{rate:,.0f}  ({rate / ceiling:.1%} of the raw consume rate, {baseline})"),
        ("worker CPU per source record", f"{figures['worker_cpu_ms_per_record']:.2f} ms (replay and closes, all "
                                         "workers)"),
        ("embedded broker CPU per source record", "n/a (external broker)" if figures.get("broker_cpu_ms_per_record")
         is None else f"{figures['broker_cpu_ms_per_record']:.2f} ms (the same span)"),
        ("raw consume rate (same broker)", f"{ceiling:,.0f} records/s"),
        ("naive Faust pipeline (same broker)", "not measured" if not naive else
         f"{naive:,.0f} records/s (one consume, table write and send per record, one worker; target 2x)"),
        ("  with a routing hop (the ceiling)", "not measured" if not routed else
         f"{routed:,.0f} records/s (the same twice, two agents, no logic; the engine at {per_worker / routed:.2f}x "
         "per worker)"),
        ("instructions (distinct)", f"{figures['instructions']:,}"),
        ("instructions/s in period closes", f"{figures['instructions_per_second_in_closes'] or 0:,.0f}"),
        ("period close per 100 000 children", f"{figures['close_seconds_per_100k_children'] or 0:,.1f} s"
                                              f"  (1.62 M children: "
                                              f"{(figures['close_seconds_per_100k_children'] or 0) * 16.2 / 60:,.1f}"
                                              f" min)"),
        ("  the first close / the later ones", f"{figures['first_close_seconds_per_100k_children'] or 0:,.1f} s / "
                                               + ("n/a (one close)" if figures.get("later_close_seconds_per_100k_"
                                                                                     "children") is None else
                                                  f"{figures['later_close_seconds_per_100k_children']:,.1f} s")
                                               + " (the first computes every household)"),
        ("  of which the regular runs", f"{figures['regular_run_seconds_per_100k_children'] or 0:,.1f} s per "
                                        "100 000 children (the workers' own time, period_close_seconds)"),
        ("source → instruction latency", f"p50 {ms(figures['latency_p50_ms'])}, p99 {ms(figures['latency_p99_ms'])}"
                                         f" ({figures['latency_samples']} late records)"),
        ("peak RSS per worker", f"{rss} MiB"),
        ("peak RSS of the embedded broker", "n/a (external broker)" if figures.get("broker_peak_rss_mib") is None
         else f"{figures['broker_peak_rss_mib']:,.0f} MiB (every record in memory)"),
        ("recovery from the changelog", f"{figures.get('recovery_seconds', 0):,.1f} s for "
                                        f"{figures.get('changelog_records', 0):,} records"),
        ("verify", "zero differences" if figures["verify"]["ok"] else
         f"{figures['verify']['differences']} differences, {figures['verify']['conflicting_ids']} conflicting ids"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


def run(args) -> int:
    options = ChainOptions(households=args.households, seed=args.seed, first=args.first, last=args.last,
                           workers=args.workers, invalid_rate=args.invalid_rate, duplicate_rate=args.duplicate_rate,
                           latency_events=args.latency_events, recovery=not args.no_recovery,
                           naive_records=args.naive_records)
    external = os.environ.get("KAFKA_BOOTSTRAP")
    workdir = Path(args.work_dir or tempfile.mkdtemp(prefix="groeipakket-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    broker = None if external else EmbeddedBroker(free_port()).start()
    bootstrap = external or broker.bootstrap
    try:
        if broker is not None:
            ensure_topics(bootstrap, {names.EMBEDDED_MARKER_TOPIC: 1})
        settings = load_settings(kafka_bootstrap=bootstrap)
        asyncio.run(prepare_topics(settings, embedded=broker is not None))
        figures = run_chain(options, bootstrap, workdir, say=lambda m: print(m, flush=True),
                            broker_pid=broker.proc.pid if broker is not None else None)
        # the embedded broker keeps every record in memory: what a replay of this size needs of it
        figures["broker_peak_rss_mib"] = peak_rss_mib(broker.proc.pid) if broker is not None else None
    finally:
        if broker is not None:
            broker.stop()
    report = figures.pop("report")
    print("\n" + render(report, limit=10))
    print("\nFigures:\n" + table(figures))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
        print(f"\nwritten to {args.json}")
    if not args.work_dir and report.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if report.ok else 1


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="the whole chain at scale on the embedded broker, measured")
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--from", dest="first", default="2024-01", metavar="YYYY-MM")
    parser.add_argument("--to", dest="last", default="2024-12", metavar="YYYY-MM")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--invalid-rate", type=float, default=0.002)
    parser.add_argument("--duplicate-rate", type=float, default=0.01)
    parser.add_argument("--latency-events", type=int, default=200)
    parser.add_argument("--no-recovery", action="store_true", help="skip the recovery measurement")
    parser.add_argument("--naive-records", type=int, default=50_000,
                        help="records through the naive Faust pipeline, the baseline (0: not measured)")
    parser.add_argument("--work-dir", help="keep the events, worker data and logs here")
    parser.add_argument("--json", help="write the figures as JSON to this file")
    parser.set_defaults(handler=run)
