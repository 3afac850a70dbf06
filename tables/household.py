"""Household state (gezinsdossier) kept per household in a RocksDB-backed table.

A household's state holds every fact about its members (and about persons linked to it: parents living
elsewhere, a designated receiver, foster children), the ledger of what was instructed, the periods whose
regular run is done, and the outbox: instructions recorded in the ledger that still have to reach their payer
topic. Ledger and outbox are written in the same table value, so an instruction the ledger records is never
lost: after a crash it is still in the outbox and is sent again (with the same id).
"""
from __future__ import annotations

from collections import OrderedDict

import orjson

from rules.calculator import Calculator
from rules.parameters import Parameters, default_parameters
from rules.situation import Situation
from tables.facts import FactStore, Outcome
from tables.ledger import Ledger


SEPARATOR = b"\n"  # between the state's head and its facts in a table value (JSON holds no raw newline)


class HouseholdState:
    """A household's state. Its table value is two JSON documents, the head (ledger, outbox, forecast, ...) and
    the facts, so that a state read back whose facts are not needed (a close re-dating the last run, an outbox
    settled) neither parses its facts nor encodes them again: they stay the bytes they were read as."""

    __slots__ = ("household_id", "_facts", "_facts_raw", "_facts_raw_version", "ledger", "regular_done", "outbox",
                 "forecast", "_calculator", "_calculator_version")

    def __init__(self, household_id: str):
        self.household_id = household_id
        self._facts: FactStore | None = FactStore()
        self._facts_raw: bytes | None = None  # the facts as read back (or last written), for the version below
        self._facts_raw_version = -1
        self.ledger = Ledger()
        self.regular_done: set[int] = set()  # periods whose regular run was made for this household
        self.outbox: list[dict] = []  # instructions recorded in the ledger, not yet confirmed sent
        self.forecast: dict | None = None  # the last regular run, to re-date while nothing changes (tables.forecast)
        self._calculator: Calculator | None = None
        self._calculator_version = -1

    @property
    def facts(self) -> FactStore:
        if self._facts is None:  # read back, first needed now
            self._facts = FactStore.from_bytes(self._facts_raw)
            self._facts_raw_version = self._facts.version
        return self._facts

    def add_fact(self, event, raw: bytes | None = None, changes_lines: bool = True) -> Outcome:
        """Fold one fact. ``changes_lines=False``: the caller knows it changes no line nor trace of a month the
        forecast serves (tables.settlement.attendance_changes_no_amount), which then still holds."""
        outcome = self.facts.add(event, raw)
        if outcome is Outcome.ACCEPTED and changes_lines:
            self.forecast = None  # made from the facts before this one
        return outcome

    def calculator(self, parameters: Parameters | None = None) -> Calculator:
        """A calculator over this household's facts (rebuilt when the facts changed)."""
        if self._calculator is None or self._calculator_version != self.facts.version or (
                parameters is not None and self._calculator.params is not parameters):
            self._calculator = Calculator(Situation(self.facts), parameters or default_parameters())
            self._calculator_version = self.facts.version
        return self._calculator

    # --- serialisation ------------------------------------------------------------------------------------
    def _facts_bytes(self) -> bytes:
        if self._facts is None or (self._facts_raw is not None and self._facts.version == self._facts_raw_version):
            return self._facts_raw
        self._facts_raw, self._facts_raw_version = self._facts.to_bytes(), self._facts.version
        return self._facts_raw

    def to_bytes(self) -> bytes:
        head = orjson.dumps({
            "household_id": self.household_id,
            "ledger": self.ledger.to_document(),
            "regular_done": sorted(self.regular_done),
            "outbox": self.outbox,
            "forecast": self.forecast,
        })
        return head + SEPARATOR + self._facts_bytes()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "HouseholdState":
        head, separator, facts = raw.partition(SEPARATOR)
        document = orjson.loads(head)
        state = cls(document["household_id"])
        if separator:
            state._facts, state._facts_raw = None, facts
        else:  # a value written before the split: one document, facts inside
            state._facts = FactStore.from_document(document["facts"])
        state.ledger = Ledger.from_document(document["ledger"])
        state.regular_done = set(document["regular_done"])
        state.outbox = document["outbox"]
        state.forecast = document.get("forecast")  # (absent in states written before forecasts)
        return state


class StateCache:
    """Decoded household states in front of the table: a hit skips JSON decoding and re-validation.

    Entries are keyed by household and the serialized value they were decoded from or encoded to, so a value
    restored from the changelog by another worker is never shadowed by a stale copy.
    """

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[bytes, HouseholdState]] = OrderedDict()
        self.hits = self.misses = 0

    def load(self, household_id: str, raw: bytes | None, keep: bool = True) -> HouseholdState:
        """The decoded state of ``raw``; ``keep=False`` for a scan over every household (a period close):
        such a scan would only push out the households that receive facts, and hit nothing itself."""
        entry = self._entries.get(household_id)
        if entry is not None and entry[0] == (raw or b""):
            self._entries.move_to_end(household_id)
            self.hits += 1
            return entry[1]
        self.misses += 1
        state = HouseholdState.from_bytes(raw) if raw else HouseholdState(household_id)
        if keep:
            self.remember(household_id, raw or b"", state)
        return state

    def remember(self, household_id: str, raw: bytes, state: HouseholdState, keep: bool = True) -> None:
        """The state as just written; with ``keep=False`` only an entry already held is brought up to date."""
        if not keep and household_id not in self._entries:
            return
        self._entries[household_id] = (raw, state)
        self._entries.move_to_end(household_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
