"""The payment ledger (betalingsgrootboek): what was instructed per child, component and period.

The ledger invariant of contract §4: for every child, component and closed period, the sum of ``amount_cents``
over all distinct instructions equals what the calculator computes from the complete event history (within the
arrears and recovery limits). The ledger is the running sum of the lines of every instruction this household
has issued, so the next correction is simply "now due − already instructed".
"""
from __future__ import annotations


class Ledger:
    __slots__ = ("_amounts",)

    def __init__(self, amounts: dict[tuple[str, str, int], int] | None = None):
        self._amounts = amounts or {}

    def instructed(self, child: str, component: str, month: int) -> int:
        return self._amounts.get((child, component, month), 0)

    def record(self, child: str, component: str, month: int, cents: int) -> None:
        key = (child, component, month)
        total = self._amounts.get(key, 0) + cents
        if total:
            self._amounts[key] = total
        else:
            self._amounts.pop(key, None)

    def entries_for(self, months: set[int]) -> dict[tuple[str, str, int], int]:
        return {key: cents for key, cents in self._amounts.items() if key[2] in months}

    def items(self):
        return self._amounts.items()

    def total(self) -> int:
        return sum(self._amounts.values())

    def to_document(self) -> list:
        return [[child, component, month, cents] for (child, component, month), cents in sorted(self._amounts.items())]

    @classmethod
    def from_document(cls, rows: list) -> "Ledger":
        return cls({(child, component, month): cents for child, component, month, cents in rows})
