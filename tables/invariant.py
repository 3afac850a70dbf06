"""The ledger invariant of contract §4, checked from the outside (payer topics against ``calc``).

For every child, component and closed period, the sum of ``amount_cents`` over all distinct instructions equals
what the calculator computes from the complete event history; an instruction id seen twice must carry identical
content. Corrections are limited to 5 years back (arrears) and 3 years back (recoveries), counted from the
latest closed period: an amount outside those limits is reported separately, not as a difference.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from sys import intern

import orjson

from rules.calculator import Calculator
from rules.periods import parse_period, period_text


@dataclass
class InvariantReport:
    instructions: int = 0
    duplicates: int = 0
    conflicting_ids: list[str] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)
    totals_by_payer: dict[str, int] = field(default_factory=dict)
    totals_by_component: dict[str, int] = field(default_factory=dict)
    instructions_by_payer_kind: dict[str, int] = field(default_factory=dict)
    checked_keys: int = 0

    @property
    def ok(self) -> bool:
        return not self.conflicting_ids and not self.differences


def distinct_instructions(values: Iterable[bytes], report: InvariantReport) -> Iterator[dict]:
    """The instructions, each id once; a repeated id is counted, and reported when its content differs. Only a
    16-byte digest of each id's canonical content is kept (a year of 100 000 households: ~1.5 million ids)."""
    seen: dict[str, bytes] = {}
    for value in values:
        instruction = orjson.loads(value)
        digest = hashlib.blake2b(orjson.dumps(instruction, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()
        iid = instruction["instruction_id"]
        if iid in seen:
            report.duplicates += 1
            if seen[iid] != digest:
                report.conflicting_ids.append(iid)
            continue
        seen[iid] = digest
        report.instructions += 1
        yield instruction


def check(instruction_values: Iterable[bytes], calculator: Calculator, closed_periods: list[str]) -> InvariantReport:
    """Streams both sides into sums per (child, component, period); the key strings are interned, so that the
    ~9 million keys of a year of 100 000 households share them."""
    report = InvariantReport()
    paid: dict[tuple, int] = defaultdict(int)
    by_payer: dict[str, int] = defaultdict(int)
    by_component: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    for instruction in distinct_instructions(instruction_values, report):
        by_kind[f"{instruction['payer']} {instruction['kind']}"] += 1
        for line in instruction["lines"]:
            paid[(intern(line["child"]), intern(line["component"]), intern(line["period"]))] += line["amount_cents"]
            by_payer[instruction["payer"]] += line["amount_cents"]
            by_component[line["component"]] += line["amount_cents"]
    months = sorted(parse_period(p) for p in closed_periods)
    due: dict[tuple, int] = defaultdict(int)
    for line in calculator.each_entitlement(months):
        due[(intern(line.child), intern(line.component), intern(line.period))] += line.amount_cents
    closed = {period_text(m) for m in months}
    differences, not_closed = [], []
    for key, amount in due.items():
        report.checked_keys += 1
        if paid.get(key, 0) != amount:
            differences.append(_difference(key, paid.get(key, 0), amount))
    for key, amount in paid.items():
        if key in due:
            continue
        if key[2] in closed:
            report.checked_keys += 1
            if amount:
                differences.append(_difference(key, amount, 0))
        elif amount:
            not_closed.append({**_difference(key, amount, 0), "note": "period not closed"})
    report.differences = sorted(differences, key=_key) + sorted(not_closed, key=_key)
    report.totals_by_payer = dict(sorted(by_payer.items()))
    report.totals_by_component = dict(sorted(by_component.items()))
    report.instructions_by_payer_kind = dict(sorted(by_kind.items()))
    return report


def _difference(key: tuple, instructed: int, calc: int) -> dict:
    return {"child": key[0], "component": key[1], "period": key[2], "instructed_cents": instructed,
            "calc_cents": calc}


def _key(difference: dict) -> tuple:
    return difference["child"], difference["component"], difference["period"]
