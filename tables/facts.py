"""The fact store (feitenbank): accepted source events folded by natural key, independent of arrival order.

Contract §2: for the same natural key the event with the latest ``recorded_at`` wins, ties going to the greater
``event_id``; a record whose ``event_id`` was already accepted is a duplicate and changes nothing. Keeping, per
natural key, the maximum of ``(recorded_at, event_id)`` is a join-semilattice: folding any permutation of the
same events gives the same store, and folding an event twice changes nothing. Facts about persons that are not
known yet are simply kept; the situation built from the store applies them once the person is known.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum

import orjson

from streams.events import _ADAPTER, SourceEvent, encode_event

Outcome = Enum("Outcome", "ACCEPTED DUPLICATE SUPERSEDED")


def natural_key(event: SourceEvent) -> tuple:
    """The contract's natural key of an event (the type is part of it: keys of different types never meet)."""
    data, kind, subject = event.data, event.type, event.subject
    if kind == "person.moved":
        return kind, subject, event.occurred_on.isoformat()
    if kind in ("tax.assessed",):
        return kind, subject, data.income_year
    if kind == "property.assessed":
        return kind, subject, data.income_year, data.parcel_id
    if kind == "education.enrolled":
        return kind, subject, data.school_year, data.level
    if kind == "education.attendance":
        return kind, subject, data.school_year, data.as_of.isoformat()
    if kind == "childcare.attendance":
        return kind, subject, data.month
    if kind == "care.assessed":
        return kind, subject, data.valid_from.isoformat()
    if kind == "care.foster_placed":
        return kind, subject, data.from_date.isoformat()
    if kind in ("payer.chosen", "receiver.designated"):
        return kind, subject, data.from_month
    return kind, subject


def precedence(event: SourceEvent) -> tuple[str, str]:
    return event.recorded_key, event.event_id


class FactStore:
    """Winning event per natural key, plus the ids already accepted (for duplicate detection)."""

    __slots__ = ("_facts", "_raw", "_seen", "version")

    def __init__(self) -> None:
        self._facts: dict[tuple, SourceEvent] = {}
        self._raw: dict[tuple, bytes] = {}  # the accepted record's JSON, kept to serialise without re-encoding
        self._seen: set[str] = set()
        self.version = 0  # bumped on every change: callers cache what they derive from the store

    def add(self, event: SourceEvent, raw: bytes | None = None) -> Outcome:
        """Fold one accepted event; ``raw`` is its JSON as received (else it is re-encoded when needed)."""
        if event.event_id in self._seen:
            return Outcome.DUPLICATE
        self._seen.add(event.event_id)
        key = natural_key(event)
        current = self._facts.get(key)
        if current is not None and precedence(current) >= precedence(event):
            return Outcome.SUPERSEDED
        self._facts[key] = event
        if raw is not None:
            self._raw[key] = raw
        else:
            self._raw.pop(key, None)
        self.version += 1
        return Outcome.ACCEPTED

    def extend(self, events: Iterable[SourceEvent]) -> None:
        for event in events:
            self.add(event)

    def __iter__(self) -> Iterator[SourceEvent]:
        return iter(self._facts.values())

    def __len__(self) -> int:
        return len(self._facts)

    def seen(self, event_id: str) -> bool:
        return event_id in self._seen

    def subjects(self) -> set[str]:
        return {event.subject for event in self._facts.values()}

    def events_about(self, subjects: set[str]) -> list[SourceEvent]:
        return [event for event in self._facts.values() if event.subject in subjects]

    # --- compact serialisation (RocksDB values, changelog) -----------------------------------------------
    def raw(self, key: tuple) -> bytes:
        raw = self._raw.get(key)
        if raw is None:
            raw = self._raw[key] = encode_event(self._facts[key])
        return raw

    def to_document(self) -> dict:
        """JSON-ready form; the facts are embedded as the JSON they arrived in (no re-encoding)."""
        return {"facts": [orjson.Fragment(self.raw(key)) for key in self._facts], "seen": sorted(self._seen)}

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_document())

    @classmethod
    def from_document(cls, document: dict) -> "FactStore":
        store = cls()
        for item in document["facts"]:
            raw = orjson.dumps(item)
            event = _ADAPTER.validate_json(raw)
            key = natural_key(event)
            store._facts[key], store._raw[key] = event, raw
        store._seen = set(document["seen"])
        store.version = len(store._facts)
        return store

    @classmethod
    def from_bytes(cls, raw: bytes) -> "FactStore":
        return cls.from_document(orjson.loads(raw))


def fold(events: Iterable[SourceEvent]) -> FactStore:
    store = FactStore()
    store.extend(events)
    return store
