"""Household state (gezinsdossier) kept per household in a RocksDB-backed table.

A household's state holds every fact about its members (and about persons linked to it: parents living
elsewhere, a designated receiver, foster children), the ledger of what was instructed, the periods whose
regular run is done, and the outbox: instructions recorded in the ledger that still have to reach their payer
topic. Ledger and outbox are written in the same table value, so an instruction the ledger records is never
lost: after a crash it is still in the outbox and is sent again (with the same id).

Table layout (:func:`writes` says what a change writes):

- ``<household>``: the *head* — periods done, outbox, forecast (:mod:`tables.forecast`) and related
  households (:mod:`tables.lineage`) in a JSON document, then the ledger, a line per year (:mod:`tables.ledger`:
  a run decodes and encodes only the year it writes);
- ``~<household>|<subject>``: the facts about one person (or the household itself), one entry per subject
  (:meth:`FactStore.entry`).

A fact thus rewrites its subject's entry, not every fact of the household, and the head only when the ledger,
outbox or forecast changed; a person's history forwarded at once is one entry; a close writes only the head, and nothing for a run
that re-dates the forecast (an implied run: :func:`tables.settlement.implied_run`).
(Messages cost more than bytes here: a forecast apart from the head would add a write to every computed run.)
Household ids start with a letter or digit (contract), so every ``~`` key sorts after every head. The writes of one message go to one changelog partition, in order, the head (when it changed)
first: after a crash the changelog holds a prefix of them. A head without the entries written after it means a
fact folded (its correction in the ledger and outbox) but not stored; the message was not committed either, so
it comes again and folds the fact again, which then corrects nothing more (``tests/test_household_records.py``).
The other order would be unsafe: an entry stored without its correction, the fact then taken for a duplicate.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import partial

import orjson

from rules.calculator import Calculator
from rules.parameters import Parameters, default_parameters
from rules.situation import Situation
from rules.yearly_facts import YEARLY_TYPES, StoredYearlyFact, year_of
from tables import lineage
from tables.facts import FactStore, Outcome
from tables.ledger import Ledger

RECORDS = "~"  # first character of the keys of a household's fact entries
SEPARATOR = b"\n"  # between the head's document and its ledger years (JSON holds no raw newline); in a value
# written before fact entries, between head and facts


def head_document(raw: bytes) -> dict:
    """The JSON document of a head (without the ledger's years after it)."""
    return orjson.loads(raw.partition(SEPARATOR)[0])


def records_prefix(household_id: str) -> str:
    """The key prefix of a household's fact entries."""
    return f"{RECORDS}{household_id}|"


def facts_key(household_id: str, subject: str) -> str:
    return records_prefix(household_id) + subject


class HouseholdState:
    """A household's state, read back lazily: the facts are read from the table only when needed (a close
    re-dating the last run reads only the head)."""

    __slots__ = ("household_id", "_facts", "_read_facts", "ledger", "regular_done", "outbox", "forecast",
                 "related", "_head", "_calculator", "_calculator_version")

    def __init__(self, household_id: str, read_facts: Callable[[], Iterable[bytes]] | None = None):
        self.household_id = household_id
        self._facts: FactStore | None = None if read_facts else FactStore()
        self._read_facts = read_facts
        self.ledger = Ledger()
        self.regular_done: set[int] = set()  # periods whose regular run was made for this household
        self.outbox: list[dict] = []  # instructions recorded in the ledger, not yet confirmed sent
        self.forecast: dict | None = None  # the last regular run, to re-date while nothing changes
        self.related: list[str] = []  # households that share a member with this one (tables.lineage)
        self._head = b""  # the head as read back or last written
        self._calculator: Calculator | None = None
        self._calculator_version = -1

    @property
    def facts(self) -> FactStore:
        if self._facts is None:  # read back, first needed now
            self._facts = FactStore.from_entries(self._read_facts())
            self._read_facts = None
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
            self._calculator = Calculator(Situation(self._situation_facts()), parameters or default_parameters())
            self._calculator_version = self.facts.version
        return self._calculator

    def _situation_facts(self) -> list:
        """The winning facts in order, the yearly ones (rules.yearly_facts) left to decode when their year is
        read: a situation rebuilt from stored facts decodes the other years' tax, property and attendance
        facts never (at a September close, most of a household's facts)."""
        facts = self.facts
        return [StoredYearlyFact(key[0], key[1], year_of(key[0], key[2]), partial(facts.winner, key))
                if key[0] in YEARLY_TYPES else facts.winner(key) for key in facts.keys()]

    # --- the table records --------------------------------------------------------------------------------
    def members(self) -> list[str]:
        """The persons this household's facts say live or lived here (tables.lineage)."""
        return lineage.members(self.facts.of_types(lineage.MEMBERSHIP_TYPES), self.household_id)

    def head(self) -> bytes:
        """The head's document, then a line per year of the ledger (tables.ledger: a year unchanged since it
        was read is written back as read, not encoded again)."""
        years = self.ledger.encoded_years()
        document = {"household_id": self.household_id, "ledger_years": [year for year, _ in years],
                    "regular_done": sorted(self.regular_done), "outbox": self.outbox, "forecast": self.forecast}
        if self.related:  # (most households have none: their heads stay as they were)
            document["related"] = self.related
        return SEPARATOR.join([orjson.dumps(document), *(rows for _, rows in years)])

    @property
    def head_written(self) -> bytes:
        """The head as read back or last written (what the table holds for this household)."""
        return self._head

    def writes(self) -> list[tuple[str, bytes]]:
        """The table writes (key, value) for what changed since the state was read or last written — the head
        first (see the module docstring) — and the state counts as written."""
        head, records = self.head(), []
        if head != self._head:
            records.append((self.household_id, head))
            self._head = head
        if self._facts is not None and self._facts.changed:
            records.extend((facts_key(self.household_id, subject), self._facts.entry(subject))
                           for subject in sorted(self._facts.changed))
            self._facts.changed = set()
        return records

    @classmethod
    def read(cls, raw: bytes, read_facts: Callable[[], Iterable[bytes]]) -> "HouseholdState":
        """The state of a head read back; ``read_facts`` reads the fact entries when they are first needed."""
        head, separator, rest = raw.partition(SEPARATOR)
        document = orjson.loads(head)
        if "ledger_years" in document:
            state = cls(document["household_id"], read_facts)
            state._head = raw
            state.ledger = Ledger.from_encoded_years(zip(document["ledger_years"], rest.split(SEPARATOR)))
        else:  # written before the ledger's years: one document, rewritten by the next write
            if not separator and "facts" not in document:
                state = cls(document["household_id"], read_facts)
            else:  # written before fact entries, facts inside: stored as entries by the next write
                state = cls(document["household_id"])
                state._facts = FactStore.from_bytes(rest) if separator else FactStore.from_document(document["facts"])
            state.ledger = Ledger.from_document(document["ledger"])
        state.regular_done = set(document["regular_done"])
        state.outbox = document["outbox"]
        state.forecast = document.get("forecast")  # (absent in states written before forecasts)
        state.related = document.get("related", [])
        return state


def read_back(state: HouseholdState, table: dict) -> HouseholdState:
    """Write a state's changes to a dict standing for the table and read it back from there, as a worker
    reading it from its table would (tests, benchmarks)."""
    table.update(state.writes())
    prefix = records_prefix(state.household_id)
    return HouseholdState.read(table[state.household_id],
                               lambda: [value for key, value in sorted(table.items()) if key.startswith(prefix)])


class StateCache:
    """Decoded household states in front of the table: a hit skips JSON decoding and re-validation.

    Only this worker writes the households of its partitions, so a cached state is current as long as the
    worker keeps the partition: the agent clears the cache on every rebalance (a partition handed to another
    worker and back may have changed meanwhile). An entry also remembers the head it was decoded from or
    written as, and is not used for another head.
    """

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[bytes, HouseholdState]] = OrderedDict()
        self.hits = self.misses = 0

    def load(self, household_id: str, raw: bytes | None, read: Callable[[str, bytes], HouseholdState],
             keep: bool = True) -> HouseholdState:
        """The state of head ``raw`` (``read`` decodes it); ``keep=False`` for a scan over every household (a
        period close): such a scan would only push out the households that receive facts, and hit nothing."""
        entry = self._entries.get(household_id)
        if entry is not None and entry[0] == (raw or b""):
            self._entries.move_to_end(household_id)
            self.hits += 1
            return entry[1]
        self.misses += 1
        state = read(household_id, raw) if raw else HouseholdState(household_id)
        if keep:
            self.remember(household_id, raw or b"", state)
        return state

    def clear(self) -> None:
        self._entries.clear()

    def remember(self, household_id: str, raw: bytes, state: HouseholdState, keep: bool = True) -> None:
        """The state as just written; with ``keep=False`` only an entry already held is brought up to date."""
        if not keep and household_id not in self._entries:
            return
        self._entries[household_id] = (raw, state)
        self._entries.move_to_end(household_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
