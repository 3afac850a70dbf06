"""The ledger invariant as ``verify`` checks it (tables.invariant): streamed sums per child, component and period."""
from __future__ import annotations

from dataclasses import dataclass

import orjson

from rules.periods import parse_period, period_text
from tables.invariant import check


@dataclass(frozen=True)
class Line:
    child: str
    component: str
    period: str
    amount_cents: int


class FixedCalculator:
    """What the calculator says is due: fixed lines, only those of the months asked."""

    def __init__(self, *lines: Line):
        self.lines = lines
        self.asked: list[int] = []

    def each_entitlement(self, months):
        self.asked = list(months)
        wanted = {period_text(month) for month in self.asked}
        return (line for line in self.lines if line.period in wanted)


def instruction(iid: str, *lines: tuple[str, str, str, int], payer: str = "FONS", kind: str = "regular") -> bytes:
    return orjson.dumps({"instruction_id": iid, "payer": payer, "kind": kind,
                         "lines": [{"child": c, "component": k, "period": p, "amount_cents": a}
                                   for c, k, p, a in lines]})


CLOSED = ["2024-01", "2024-02"]


def test_exact_payments_have_no_difference_and_totals_add_up():
    due = FixedCalculator(Line("A", "basic", "2024-01", 17_000), Line("A", "basic", "2024-02", 17_000),
                          Line("B", "social", "2024-02", 5_000))
    paid = [instruction("i1", ("A", "basic", "2024-01", 17_000)),
            instruction("i2", ("A", "basic", "2024-02", 20_000), ("B", "social", "2024-02", 5_000), payer="INFINO"),
            instruction("i3", ("A", "basic", "2024-02", -3_000), kind="correction")]
    report = check(iter(paid), due, CLOSED)
    assert report.ok, report.differences
    assert due.asked == [parse_period(p) for p in CLOSED]
    assert (report.instructions, report.duplicates, report.checked_keys) == (3, 0, 3)
    assert report.totals_by_payer == {"FONS": 14_000, "INFINO": 25_000}
    assert report.totals_by_component == {"basic": 34_000, "social": 5_000}
    assert report.instructions_by_payer_kind == {"FONS correction": 1, "FONS regular": 1, "INFINO regular": 1}


def test_a_repeated_delivery_counts_once_and_a_changed_one_is_a_conflict():
    due = FixedCalculator(Line("A", "basic", "2024-01", 17_000))
    same = instruction("i1", ("A", "basic", "2024-01", 17_000))
    changed = instruction("i1", ("A", "basic", "2024-01", 18_000))
    report = check([same, same], due, CLOSED)
    assert report.ok and (report.instructions, report.duplicates) == (1, 1)
    report = check([same, changed], due, CLOSED)
    assert report.conflicting_ids == ["i1"] and not report.ok
    assert report.differences == []  # the first content counts; the conflict is the finding


def test_every_kind_of_difference_is_reported_in_key_order():
    due = FixedCalculator(Line("A", "basic", "2024-01", 17_000), Line("C", "care", "2024-02", 9_000))
    paid = [instruction("i1", ("A", "basic", "2024-01", 16_000), ("B", "start", "2024-02", 120_000),
                        ("B", "start", "2024-03", 500), ("D", "basic", "2024-01", 0))]
    report = check(paid, due, CLOSED)
    assert not report.ok
    assert report.differences == [
        {"child": "A", "component": "basic", "period": "2024-01", "instructed_cents": 16_000, "calc_cents": 17_000},
        {"child": "B", "component": "start", "period": "2024-02", "instructed_cents": 120_000, "calc_cents": 0},
        {"child": "C", "component": "care", "period": "2024-02", "instructed_cents": 0, "calc_cents": 9_000},
        {"child": "B", "component": "start", "period": "2024-03", "instructed_cents": 500, "calc_cents": 0,
         "note": "period not closed"},
    ]
    assert report.checked_keys == 4  # A, C due; B-02 and D (zero) paid in closed periods
