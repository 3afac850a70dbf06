"""The whole chain at a chosen scale, measured: simulate → produce → N workers → close periods → verify.

Used by ``groeipakket bench`` (figures) and by the scale test in ``.ci/run`` (zero differences). Phases:

1. **simulate** a seeded population with faults (duplicates, invalid records, late and revised tax data) into a
   JSON Lines file in arrival order;
2. **replay** it month by month, as the sources would deliver it: the records recorded in a month are sent, the
   engine drains them (*source events/s* = records / time from the first send to an idle engine), then the month
   is closed (*close time*, and per 100 000 children paid in it). Data recorded after a month closed (late tax,
   revisions, the last month's childcare reports) becomes corrections;
3. **recovery**: one worker is stopped, its data dir deleted and started again: the time until it has restored
   its tables from the changelog and is idle again (what follows is then computed from the recovered state);
4. **latency**: late childcare reports for children paid childcare in the last closed month, sent at a steady
   pace well below capacity; the time from each source record to the correction instruction it causes
   (both Kafka record timestamps) gives p50/p99;
5. **ceiling**: a plain consumer reads every source record from the same broker (*raw consume rate*), and the
   **naive Faust pipeline** (``bench/naive.py``: one consume, one table write and one send per record) takes
   the first records of the population, the baseline of issue 3's target, and the same pipeline with a
   routing hop in front (two agents, ``hops=2``): what two Faust hops cost with no logic, the engine's ceiling;
6. **verify** (``cli/verify.py``): ledger invariant, ids, DLQ.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.naive import naive_rate
from cli.runtime import WorkerProcess, input_topics
from cli.simulate import route
from cli.verify import collect, verify_topics
from config.settings import Settings
from rules.periods import parse_period, period_text
from sim.population import SimulationConfig
from sim.timeline import write_jsonl
from streams import topics as names
from streams.broker import free_port
from streams.broker_compat import true_end_offsets
from streams.events import SOURCE_TOPICS, period_close
from streams.reader import consume_to, partitions_of, wait_until_idle


PROGRESS_EVERY = 60.0  # seconds between two progress lines while the engine works through a phase


@dataclass
class ChainOptions:
    households: int = 2_000
    seed: int = 1
    first: str = "2024-01"
    last: str = "2024-12"
    workers: int = 1
    invalid_rate: float = 0.002
    duplicate_rate: float = 0.01
    latency_events: int = 200
    latency_rate: float = 40.0  # records per second in the latency phase
    recovery: bool = True
    app_id: str = "groeipakket"
    naive_records: int = 50_000  # records through the naive Faust pipeline (0: not measured)


def recorded_month(line: bytes) -> int | None:
    try:
        return parse_period(orjson.loads(line)["recorded_at"][:7])
    except Exception:  # not JSON, no recorded_at: sent with the month it arrives in
        return None


def metric(port: int, name: str) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def engine_worker(bootstrap: str, workdir: Path, number: int) -> WorkerProcess:
    """Worker ``number`` of a run on the embedded broker: its data dir and log in ``workdir``, a free web port."""
    return WorkerProcess(bootstrap, workdir / f"worker-{number}", free_port(),
                         log_path=workdir / f"worker-{number}.log", env={"GROEIPAKKET_BROKER_KIND": "embedded"})


def wait_ready(workers: list[WorkerProcess], timeout: float = 180.0) -> float:
    """Until every worker finished a rebalance (recovery included) and none is recovering; returns seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if any(not w.alive() for w in workers):
            raise RuntimeError("a worker stopped:\n" + next(w for w in workers if not w.alive()).log_tail())
        done = [metric(w.web_port, "groeipakket_faust_rebalance_done_latency_count") or 0 for w in workers]
        recovering = [metric(w.web_port, "groeipakket_faust_total_rebalances_recovering") or 0 for w in workers]
        if all(d >= 1 for d in done) and all(r <= 0 for r in recovering):
            return time.monotonic() - started
        time.sleep(0.2)
    raise TimeoutError("the workers did not become ready")


def peak_rss_mib(pid: int | None) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Replay:
    """Sends records and closes over one producer and measures each phase until the engine is idle again."""

    def __init__(self, bootstrap: str, app_id: str, say):
        self.bootstrap, self.app_id, self.say = bootstrap, app_id, say
        self.topics = input_topics(app_id)
        self.producer = None

    async def __aenter__(self):
        from aiokafka import AIOKafkaProducer

        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
                                         max_batch_size=256 * 1024, compression_type=Settings().compression_type)
        await self.producer.start()
        return self

    async def __aexit__(self, *exc):
        await self.producer.stop()

    async def idle(self) -> float:
        """Wait until the engine is idle; returns the time (``time.monotonic``) of the first check that found
        it idle, as the naive pipeline's rate is measured (bench.naive): the checks after it only confirm."""
        started, shown = time.monotonic(), [time.monotonic()]

        def progress(lag: int) -> None:  # a long phase (a large population) says how far it is, once a minute
            if lag and time.monotonic() - shown[0] >= PROGRESS_EVERY:
                shown[0] = time.monotonic()
                self.say(f"    … {time.monotonic() - started:,.0f}s: {lag:,} messages still to process")

        return started + await wait_until_idle(self.bootstrap, self.app_id, self.topics, timeout=900,
                                               interval=0.1, stall=True, progress=progress)

    async def send(self, lines: list[bytes]) -> float:
        started = time.monotonic()
        futures = []
        for line in lines:
            topic, key = route(line)
            futures.append(await self.producer.send(topic, value=line, key=key))
        await asyncio.gather(*futures)
        return await self.idle() - started

    async def close(self, period: str) -> float:
        started = time.monotonic()
        await self.producer.send_and_wait(names.CONTROL_TOPIC, period_close(period))
        return await self.idle() - started


async def replay_file(replay: Replay, path: Path, first: int, last: int) -> dict:
    """Month by month: the records recorded in a month (the file is in arrival order), then the close."""
    sent = send_seconds = 0.0
    closes: dict[str, float] = {}
    batch: list[bytes] = []
    current = first - 1

    async def finish(month: int) -> None:
        nonlocal sent, send_seconds
        seconds = await replay.send(batch)
        sent += len(batch)
        send_seconds += seconds
        label = "initial load" if month < first else f"recorded in {period_text(month)}"
        message = f"  {label}: {len(batch)} records in {seconds:.1f}s ({len(batch) / seconds:,.0f}/s)"
        if first <= month <= last:
            closes[period_text(month)] = await replay.close(period_text(month))
            message += f"; closed {period_text(month)} in {closes[period_text(month)]:.1f}s"
        replay.say(message)
        batch.clear()

    with path.open("rb") as handle:
        for line in handle:
            line = line.rstrip(b"\r\n")
            month = max(recorded_month(line) or current, first - 1)
            while month > current:
                await finish(current)
                current += 1
            batch.append(line)
    while current <= last or batch:
        await finish(current)
        current += 1
    return {"records": int(sent), "send_seconds": send_seconds, "closes": closes}


def childcare_revisions(payments, period: str, count: int, seed: int) -> list[bytes]:
    """Late childcare reports (1 full day) for children paid childcare for ``period``: each changes a closed
    month, so each must cause a correction."""
    children = sorted({line["child"] for record in payments for line in orjson.loads(record.value)["lines"]
                       if line["component"] == "childcare" and line["period"] == period})
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = []
    for child in children[:count]:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"groeipakket-bench/{seed}/{child}/{period}/{now}"))
        events.append(orjson.dumps({"event_id": event_id, "type": "childcare.attendance", "schema_version": 1,
                                    "subject": child, "occurred_on": f"{period}-01", "recorded_at": now,
                                    "data": {"month": period, "full_days": 1, "half_days": 0,
                                             "income_related": False}}))
    return events


async def latency_phase(replay: Replay, events: list[bytes], rate: float) -> dict:
    started = time.monotonic()
    for number, event in enumerate(events):
        await asyncio.sleep(max(0.0, started + number / rate - time.monotonic()))
        await replay.producer.send_and_wait("src.childcare", value=event, key=orjson.loads(event)["subject"].encode())
    await replay.idle()
    return {"sent": len(events), "seconds": time.monotonic() - started}


def latencies_ms(sources, payments, event_ids: set[str]) -> list[float]:
    """Milliseconds from each of the late records ``event_ids`` (on its source topic) to the instruction it caused.
    The source topic also holds the simulator's invalid records (no JSON, no event id): those are passed over."""
    sent_at = {}
    for record in sources:
        if record.topic == "src.childcare" and b'"childcare.attendance"' in record.value:
            try:
                event_id = orjson.loads(record.value).get("event_id")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if event_id in event_ids:
                sent_at[event_id] = record.timestamp
    result = []
    for record in payments:
        instruction = orjson.loads(record.value)
        for cause in instruction.get("caused_by") or ():
            if cause in sent_at:
                result.append(record.timestamp - sent_at.pop(cause))
    return sorted(result)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def raw_consume_rate(bootstrap: str) -> dict:
    """Every source record read by one plain consumer: the ceiling of what any consumer gets from this broker
    (timed from the consumer's start to the last record)."""
    ends = await true_end_offsets(bootstrap, await partitions_of(bootstrap, SOURCE_TOPICS))
    started, count = time.monotonic(), 0
    async for batch in consume_to(bootstrap, ends, timeout=600):
        count += len(batch)
    seconds = time.monotonic() - started
    return {"records": count, "seconds": seconds, "records_per_second": count / seconds}


async def changelog_records(bootstrap: str, app_id: str) -> int:
    tps = await partitions_of(bootstrap, [f"{app_id}-persons-changelog", f"{app_id}-households-changelog"])
    return sum((await true_end_offsets(bootstrap, tps)).values())


def recover(workers: list[WorkerProcess], bootstrap: str, app_id: str) -> dict:
    """Stop worker 1, delete its data dir, start it again: seconds until it restored its tables and is idle."""
    victim = workers[0]
    records = asyncio.run(changelog_records(bootstrap, app_id))
    victim.stop()
    shutil.rmtree(victim.data_dir, ignore_errors=True)
    restarted = time.monotonic()
    victim.start()
    wait_ready(workers)
    asyncio.run(wait_until_idle(bootstrap, app_id, input_topics(app_id), interval=0.25))
    return {"changelog_records": records, "recovery_seconds": time.monotonic() - restarted}


def run_chain(options: ChainOptions, bootstrap: str, workdir: Path, say=print, broker_pid: int | None = None) -> dict:
    """Run every phase against the broker at ``bootstrap`` (topics prepared) and return the figures; with the
    broker's process id (the embedded broker) also the CPU time it took during the replay."""
    figures: dict = {"households": options.households, "workers": options.workers, "span": [options.first,
                                                                                           options.last]}
    events_path = workdir / "events.jsonl"
    started = time.monotonic()
    config = SimulationConfig(households=options.households, seed=options.seed, start=options.first,
                              end=options.last, invalid_rate=options.invalid_rate,
                              duplicate_rate=options.duplicate_rate)
    figures["simulated"] = write_jsonl(config, events_path, ordered=True)
    figures["simulate_seconds"] = time.monotonic() - started
    say(f"Simulated {options.households} households: {figures['simulated']['lines']} records "
        f"({figures['simulated']['invalid']} invalid, {figures['simulated']['duplicates']} re-sent) in "
        f"{figures['simulate_seconds']:.1f}s")
    workers = [engine_worker(bootstrap, workdir, n).start() for n in range(1, options.workers + 1)]
    try:
        say(f"Started {len(workers)} worker(s); ready in {wait_ready(workers):.1f}s")

        async def feed() -> dict:
            async with Replay(bootstrap, options.app_id, say) as replay:
                return await replay_file(replay, events_path, parse_period(options.first),
                                         parse_period(options.last))

        cpu_before, broker_before = sum(cpu_seconds(w.pid) for w in workers), cpu_seconds(broker_pid)
        replayed = asyncio.run(feed())
        replayed["worker_cpu_seconds"] = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
        replayed["broker_cpu_seconds"] = cpu_seconds(broker_pid) - broker_before if broker_pid else None
        peak = [peak_rss_mib(w.pid) for w in workers]  # before a restart resets a worker's high-water mark
        replayed["regular_run_seconds"] = sum(metric(w.web_port, "groeipakket_period_close_seconds_sum") or 0
                                              for w in workers)  # the engine's own time, without the wait
        if options.recovery:  # before the late data: the corrections then come from the recovered state
            figures.update(recover(workers, bootstrap, options.app_id))
            say(f"Recovery: worker 1 restarted with an empty data dir, {figures['changelog_records']} changelog "
                f"records restored and consuming again in {figures['recovery_seconds']:.1f}s")

        async def late_data() -> list[str]:
            async with Replay(bootstrap, options.app_id, say) as replay:
                payments = (await collect(bootstrap, only=("payments",)))["payments"]
                revisions = childcare_revisions(payments, options.last, options.latency_events, options.seed)
                if revisions:
                    say(f"Latency: {len(revisions)} late childcare reports at {options.latency_rate:.0f}/s")
                    replayed["latency_phase"] = await latency_phase(replay, revisions, options.latency_rate)
                return [orjson.loads(e)["event_id"] for e in revisions]

        latency_ids = asyncio.run(late_data())
        figures["peak_rss_mib"] = [max(filter(None, (a, peak_rss_mib(w.pid))), default=None)
                                   for a, w in zip(peak, workers)]
    finally:
        for worker in workers:
            worker.stop()
    figures["ceiling"] = asyncio.run(raw_consume_rate(bootstrap))
    say(f"Raw consume rate of the broker: {figures['ceiling']['records_per_second']:,.0f} records/s")
    if options.naive_records:
        figures["naive"] = naive_rate(bootstrap, events_path, workdir, options.naive_records)
        say(f"Naive Faust pipeline (one table write and one send per record): {figures['naive']['records']:,} "
            f"records at {figures['naive']['records_per_second']:,.0f}/s")
        figures["naive_routed"] = naive_rate(bootstrap, events_path, workdir, options.naive_records, hops=2)
        say(f"The same with a routing hop (two agents, each one table write and one send per record): "
            f"{figures['naive_routed']['records_per_second']:,.0f}/s")
    topics = asyncio.run(collect(bootstrap))
    latencies = latencies_ms(topics["sources"], topics["payments"], set(latency_ids))
    report = verify_topics(topics)
    figures.update(summarise(replayed, topics["payments"], latencies, report))
    figures["verify"] = {"ok": report.ok, "differences": len(report.ledger.differences),
                         "conflicting_ids": len(report.ledger.conflicting_ids), "dlq_ok": report.dlq.ok,
                         "checked_sums": report.ledger.checked_keys, "seconds": report.seconds}
    figures["report"] = report
    return figures


def summarise(replayed: dict, payments, latencies: list[float], report) -> dict:
    children: dict[str, set] = {}
    regular = 0
    for record in payments:
        instruction = orjson.loads(record.value)
        if instruction["kind"] == "regular":
            regular += 1
            children.setdefault(instruction["period"], set()).update(l["child"] for l in instruction["lines"])
    closes = replayed["closes"]
    per_100k = [seconds * 100_000 / len(children[p]) for p, seconds in closes.items() if children.get(p)]
    close_total = sum(closes.values())
    paid = sum(len(children[p]) for p in closes if children.get(p))
    return {
        "source_records": replayed["records"], "replay_seconds": replayed["send_seconds"],
        "source_events_per_second": replayed["records"] / replayed["send_seconds"],
        "worker_cpu_ms_per_record": 1000 * replayed["worker_cpu_seconds"] / replayed["records"],
        "broker_cpu_ms_per_record": (1000 * replayed["broker_cpu_seconds"] / replayed["records"]
                                     if replayed.get("broker_cpu_seconds") is not None else None),
        "closes": {p: round(s, 2) for p, s in closes.items()},
        "children_paid_per_period": {p: len(c) for p, c in sorted(children.items())},
        "close_seconds_per_100k_children": sum(per_100k) / len(per_100k) if per_100k else None,
        # The first close computes every household; later ones re-date most (tables.forecast, implied runs).
        "first_close_seconds_per_100k_children": per_100k[0] if per_100k else None,
        "later_close_seconds_per_100k_children": sum(per_100k[1:]) / len(per_100k[1:]) if per_100k[1:] else None,
        "regular_run_seconds_per_100k_children": replayed["regular_run_seconds"] * 100_000 / paid if paid else None,
        "instructions": report.ledger.instructions, "regular_instruction_records": regular,
        "instructions_per_second_in_closes": regular / close_total if close_total else None,
        "latency_samples": len(latencies), "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p99_ms": percentile(latencies, 0.99),
    }
