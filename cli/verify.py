"""``groeipakket verify``: check what the payers received against ``calc`` on the same events (contract §4).

It reads, from the broker, every source topic, the DLQ, ``control.periods`` and the five payer topics, and checks:

- the **ledger invariant** for every child, component and closed period: the sum of ``amount_cents`` over all
  distinct instructions equals what the calculator computes from the complete event history (the valid records
  of the source topics, or ``--events FILE``);
- no instruction id with two different contents (a repeated delivery must be identical);
- every invalid source record is in the DLQ (matched by original topic, partition and offset) with a reason, and
  no valid record is there;
- totals per payer and component, for the report.

Exit status 0 when everything holds, 1 on any difference (the report says which), 2 on a usage error.
"""
from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from config.settings import load_settings
from rules.calculator import Calculator
from rules.money import euro
from rules.periods import period_text
from streams import topics as names
from streams.events import SOURCE_TOPICS, InvalidEvent, decode_event, decode_record, parse_period_close
from streams.reader import read_topics
from tables.facts import FactStore
from tables.invariant import InvariantReport, check


@dataclass
class DlqReport:
    source_records: int = 0
    valid: int = 0
    invalid: int = 0
    dlq_records: int = 0
    missing_from_dlq: list[dict] = field(default_factory=list)  # invalid source records not in the DLQ
    without_reason: list[dict] = field(default_factory=list)  # DLQ records with no reason header
    valid_in_dlq: list[dict] = field(default_factory=list)  # valid source records the engine refused
    reason_classes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing_from_dlq or self.without_reason or self.valid_in_dlq)


@dataclass
class VerifyReport:
    closed_periods: list[str]
    dlq: DlqReport
    ledger: InvariantReport
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.closed_periods) and self.dlq.ok and self.ledger.ok

    def to_dict(self) -> dict:
        result = {"ok": self.ok, "closed_periods": self.closed_periods, "seconds": round(self.seconds, 2),
                  "dlq": {**asdict(self.dlq), "ok": self.dlq.ok}, "ledger": {**asdict(self.ledger),
                                                                             "ok": self.ledger.ok}}
        return result


def _headers(record) -> dict[str, bytes]:
    return {key: value for key, value in (record.headers or ())}


def _position(record) -> dict:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def accepted_events(source_records, dlq_records) -> tuple[FactStore, DlqReport]:
    """Fold the valid source records (what the engine must have accepted) and match the invalid ones to the DLQ.

    A record is valid by the ingest agent's own rule (``decode_record``): it decodes under the event models and
    its key is its subject."""
    report = DlqReport(source_records=len(source_records), dlq_records=len(dlq_records))
    in_dlq: dict[tuple, bytes] = {}
    reasons: Counter = Counter()
    for record in dlq_records:
        headers = _headers(record)
        try:
            position = (headers["gp-original-topic"].decode(), int(headers["gp-original-partition"]),
                        int(headers["gp-original-offset"]))
        except (KeyError, ValueError):
            report.without_reason.append({**_position(record), "problem": "no original position"})
            continue
        in_dlq[position] = headers.get("gp-reason", b"")
        reasons[headers.get("gp-reason-class", b"?").decode()] += 1
        if not headers.get("gp-reason") or not headers.get("gp-reason-class"):
            report.without_reason.append(_position(record))
    store = FactStore()
    for record in source_records:
        position = (record.topic, record.partition, record.offset)
        try:
            event = decode_record(record.key, record.value)
        except InvalidEvent as exc:
            report.invalid += 1
            if position not in in_dlq:
                report.missing_from_dlq.append({**_position(record), "reason_class": exc.reason_class})
            continue
        report.valid += 1
        store.add(event, record.value)
        if position in in_dlq:
            report.valid_in_dlq.append(_position(record))
    report.reason_classes = dict(sorted(reasons.items()))
    return store, report


def events_from_file(path: Path) -> FactStore:
    store = FactStore()
    with path.open("rb") as handle:
        for line in handle:
            try:
                store.add(decode_event(line.rstrip(b"\r\n")))
            except InvalidEvent:
                continue
    return store


def closed_periods(control_records) -> list[str]:
    months = set()
    for record in control_records:
        try:
            months.add(parse_period_close(record.value))
        except (ValueError, TypeError):  # the periods agent refuses it too (orjson's error is a ValueError)
            continue
    return [period_text(m) for m in sorted(months)]


TOPIC_GROUPS = {"sources": list(SOURCE_TOPICS), "dlq": [names.DLQ_TOPIC], "control": [names.CONTROL_TOPIC],
                "payments": list(names.PAYMENT_TOPICS.values())}


async def collect(bootstrap: str, only=tuple(TOPIC_GROUPS), client: dict | None = None) -> dict[str, list]:
    """Every record of the topics verify reads, to their true end, by group."""
    return {group: await read_topics(bootstrap, TOPIC_GROUPS[group], timeout=1800, client=client)
            for group in only}


def verify_topics(topics: dict[str, list], events: Path | None = None) -> VerifyReport:
    """The report on the records of :func:`collect`. The source and DLQ records are taken out of ``topics`` once
    folded (a year of 100 000 households: 2.5 million records); the control and payment records stay."""
    started = time.monotonic()
    store, dlq = accepted_events(topics.pop("sources"), topics.pop("dlq"))
    if events is not None:
        store = events_from_file(events)
    periods = closed_periods(topics["control"])
    ledger = check((record.value for record in topics["payments"]), Calculator.from_events(store), periods)
    return VerifyReport(periods, dlq, ledger, time.monotonic() - started)


def verify(bootstrap: str, events: Path | None = None, client: dict | None = None) -> VerifyReport:
    started = time.monotonic()
    report = verify_topics(asyncio.run(collect(bootstrap, client=client)), events)
    report.seconds = time.monotonic() - started
    return report


def render(report: VerifyReport, limit: int = 20) -> str:
    d, l = report.dlq, report.ledger
    out = [f"Closed periods: {report.closed_periods[0]} .. {report.closed_periods[-1]} ({len(report.closed_periods)})"
           if report.closed_periods else "Closed periods: none (nothing can be checked)",
           f"Source records: {d.source_records} ({d.valid} valid, {d.invalid} invalid); DLQ: {d.dlq_records} "
           f"records ({', '.join(f'{k} {v}' for k, v in d.reason_classes.items()) or 'none'})",
           f"  invalid records missing from the DLQ: {len(d.missing_from_dlq)}; DLQ records without a reason: "
           f"{len(d.without_reason)}; valid records refused: {len(d.valid_in_dlq)}",
           f"Instructions: {l.instructions} distinct, {l.duplicates} repeated deliveries, "
           f"{len(l.conflicting_ids)} ids with two different contents",
           f"Ledger invariant: {l.checked_keys} child/component/period sums checked, {len(l.differences)} differences",
           "", "Totals per payer (EUR):"]
    out += [f"  {payer:<10}{euro(cents):>18}" for payer, cents in l.totals_by_payer.items()]
    out += ["Totals per component (EUR):"]
    out += [f"  {component:<20}{euro(cents):>18}" for component, cents in l.totals_by_component.items()]
    problems = ([("missing from the DLQ", x) for x in d.missing_from_dlq] + [("no reason", x) for x in d.without_reason]
                + [("valid but refused", x) for x in d.valid_in_dlq]
                + [("conflicting id", {"instruction_id": x}) for x in l.conflicting_ids]
                + [("difference", x) for x in l.differences])
    if problems:
        out += ["", f"Differences (first {min(limit, len(problems))} of {len(problems)}):"]
        out += [f"  {kind}: {orjson.dumps(detail).decode()}" for kind, detail in problems[:limit]]
    out += ["", f"VERIFIED: zero differences ({report.seconds:.1f}s)" if report.ok else
            f"FAILED ({report.seconds:.1f}s)"]
    return "\n".join(out)


def run(args) -> int:
    settings = load_settings()
    events = Path(args.events) if args.events else None
    if events is not None and not events.is_file():
        print(f"error: no such file: {events}", file=sys.stderr)
        return 2
    report = verify(settings.kafka_bootstrap, events, settings.aiokafka_security())
    print(render(report))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))
    return 0 if report.ok else 1


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("verify", help="check the payer topics and the DLQ against calc on the same "
                                                  "events (ledger invariant)")
    parser.add_argument("--events", help="compute with this JSON Lines file instead of the source topics' records")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.set_defaults(handler=run)
