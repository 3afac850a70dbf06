"""The bench's figures table: issue 3's target is per worker, so the rate is set per worker against the naive
pipeline, which runs on one."""
from cli.bench import table


def test_the_bench_table_sets_the_rate_per_worker_against_the_one_worker_naive_pipeline():
    figures = {
        "households": 100_000, "workers": 2, "source_records": 1_000_000, "source_events_per_second": 2_400.0,
        "ceiling": {"records_per_second": 300_000.0}, "naive": {"records_per_second": 2_000.0},
        "naive_routed": {"records_per_second": 1_000.0}, "worker_cpu_ms_per_record": 0.8,
        "broker_cpu_ms_per_record": 0.06, "instructions": 10, "instructions_per_second_in_closes": 1.0,
        "close_seconds_per_100k_children": 30.0, "first_close_seconds_per_100k_children": 50.0,
        "later_close_seconds_per_100k_children": 20.0, "regular_run_seconds_per_100k_children": 25.0,
        "latency_p50_ms": 250, "latency_p99_ms": 320, "latency_samples": 100, "peak_rss_mib": [600.0, 610.0],
        "broker_peak_rss_mib": 1400.0, "verify": {"ok": True},
    }
    text = table(figures)
    assert "1,200/s per worker: 0.60x the naive Faust pipeline measured in this run" in text
    assert "the engine at 1.20x per worker" in text
    one_worker = table({**figures, "workers": 1})
    assert "per worker:" not in one_worker and "1.20x the naive Faust pipeline measured in this run" in one_worker
