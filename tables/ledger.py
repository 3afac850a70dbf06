"""The payment ledger (betalingsgrootboek): what was instructed per child, component and period.

The ledger invariant of contract §4: for every child, component and closed period, the sum of ``amount_cents``
over all distinct instructions equals what the calculator computes from the complete event history (within the
arrears and recovery limits). The ledger is the running sum of the lines of every instruction this household
has issued, so the next correction is simply "now due − already instructed".

Kept by calendar year, each year encoded on its own (:meth:`Ledger.encoded_years`): a household's ledger grows
by a month of rows every month (five years of a two-child family: ~500 rows), but a regular run reads and writes
one month, a correction a few. A year is decoded when a month of it is first read and encoded again only when it
changed; the other years go back to the table as the bytes they were read as. A close that computes, on
households paid for 60 months: 903 µs a household against 1 075–1 091 µs with the ledger as one document, whose
reading and writing cost grew with every month paid (``bench.ledger_depth``; the budget is ~600 µs, issue 4).
"""
from __future__ import annotations

from collections.abc import Iterable

import orjson

Key = tuple[str, str, int]  # (child, component, month)


class Ledger:
    __slots__ = ("_years", "_encoded")

    def __init__(self, amounts: dict[Key, int] | None = None):
        self._years: dict[int, dict[Key, int]] = {}  # decoded years
        self._encoded: dict[int, bytes] = {}  # years as read or last encoded, unchanged since
        for key, cents in (amounts or {}).items():
            if cents:
                self._years.setdefault(key[2] // 12, {})[key] = cents

    def _year(self, year: int) -> dict[Key, int]:
        rows = self._years.get(year)
        if rows is None:
            raw = self._encoded.get(year)
            rows = {(child, component, month): cents for child, component, month, cents in orjson.loads(raw)} \
                if raw is not None else {}
            self._years[year] = rows
        return rows

    def _all_years(self) -> list[int]:
        return sorted({*self._years, *self._encoded})

    def instructed(self, child: str, component: str, month: int) -> int:
        return self._year(month // 12).get((child, component, month), 0)

    def record(self, child: str, component: str, month: int, cents: int) -> None:
        year = month // 12
        rows, key = self._year(year), (child, component, month)
        total = rows.get(key, 0) + cents
        if total:
            rows[key] = total
        else:
            rows.pop(key, None)
        self._encoded.pop(year, None)  # changed: encoded again when written

    def entries_for(self, months: Iterable[int]) -> dict[Key, int]:
        months = set(months)
        return {key: cents for year in sorted({month // 12 for month in months})
                for key, cents in self._year(year).items() if key[2] in months}

    def items(self):
        return [item for year in self._all_years() for item in self._year(year).items()]

    def total(self) -> int:
        return sum(cents for _, cents in self.items())

    def encoded_years(self) -> list[tuple[int, bytes]]:
        """(year, rows as JSON) of every year that has rows, in year order; a year unchanged since it was read
        or last encoded is not encoded again."""
        years = []
        for year in self._all_years():
            raw = self._encoded.get(year)
            if raw is None:
                rows = self._years[year]
                if not rows:
                    continue
                raw = self._encoded[year] = orjson.dumps(
                    [[child, component, month, cents] for (child, component, month), cents in sorted(rows.items())])
            years.append((year, raw))
        return years

    @classmethod
    def from_encoded_years(cls, years: Iterable[tuple[int, bytes]]) -> "Ledger":
        """The ledger of :meth:`encoded_years` read back; each year decoded when first read."""
        ledger = cls()
        ledger._encoded = dict(years)
        return ledger

    def to_document(self) -> list:
        return [[child, component, month, cents] for (child, component, month), cents in sorted(self.items())]

    @classmethod
    def from_document(cls, rows: list) -> "Ledger":
        return cls({(child, component, month): cents for child, component, month, cents in rows})
