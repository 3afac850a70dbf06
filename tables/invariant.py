"""The ledger invariant of contract §4, checked from the outside (payer topics against ``calc``).

For every child, component and closed period, the sum of ``amount_cents`` over all distinct instructions equals
what the calculator computes from the complete event history; an instruction id seen twice must carry identical
content. Corrections are limited to 5 years back (arrears) and 3 years back (recoveries), counted from the
latest closed period: an amount outside those limits is reported separately, not as a difference.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

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


def distinct_instructions(values: list[bytes], report: InvariantReport) -> list[dict]:
    seen: dict[str, bytes] = {}
    result = []
    for value in values:
        instruction = orjson.loads(value)
        canonical = orjson.dumps(instruction, option=orjson.OPT_SORT_KEYS)
        iid = instruction["instruction_id"]
        if iid in seen:
            report.duplicates += 1
            if seen[iid] != canonical:
                report.conflicting_ids.append(iid)
            continue
        seen[iid] = canonical
        result.append(instruction)
    return result


def check(instruction_values: list[bytes], calculator: Calculator, closed_periods: list[str]) -> InvariantReport:
    report = InvariantReport()
    instructions = distinct_instructions(instruction_values, report)
    report.instructions = len(instructions)
    paid: dict[tuple, int] = defaultdict(int)
    by_payer: dict[str, int] = defaultdict(int)
    by_component: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    for instruction in instructions:
        by_kind[f"{instruction['payer']} {instruction['kind']}"] += 1
        for line in instruction["lines"]:
            paid[(line["child"], line["component"], line["period"])] += line["amount_cents"]
            by_payer[instruction["payer"]] += line["amount_cents"]
            by_component[line["component"]] += line["amount_cents"]
    months = sorted(parse_period(p) for p in closed_periods)
    due: dict[tuple, int] = defaultdict(int)
    for line in calculator.entitlements(months):
        due[(line.child, line.component, line.period)] += line.amount_cents
    closed = {period_text(m) for m in months}
    for key in sorted(set(due) | {k for k in paid if k[2] in closed}):
        report.checked_keys += 1
        if paid.get(key, 0) != due.get(key, 0):
            report.differences.append({"child": key[0], "component": key[1], "period": key[2],
                                       "instructed_cents": paid.get(key, 0), "calc_cents": due.get(key, 0)})
    for key in paid:
        if key[2] not in closed and paid[key]:
            report.differences.append({"child": key[0], "component": key[1], "period": key[2],
                                       "instructed_cents": paid[key], "calc_cents": 0, "note": "period not closed"})
    report.totals_by_payer = dict(sorted(by_payer.items()))
    report.totals_by_component = dict(sorted(by_component.items()))
    report.instructions_by_payer_kind = dict(sorted(by_kind.items()))
    return report
