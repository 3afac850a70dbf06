"""The fact store (feitenbank): accepted source events folded by natural key, independent of arrival order.

Contract §2: for the same natural key the event with the latest ``recorded_at`` wins, ties going to the greater
``event_id``; a record whose ``event_id`` was already accepted is a duplicate and changes nothing. Keeping, per
natural key, the maximum of ``(recorded_at, event_id)`` is a join-semilattice: folding any permutation of the
same events gives the same store, and folding an event twice changes nothing. Facts about persons that are not
known yet are simply kept; the situation built from the store applies them once the person is known.

A store read back decodes its events only when they are first needed (the situation, the subjects): folding a
new event needs only each natural key's precedence, which the stored form carries. A household that only
receives facts (no closed month to correct) is never decoded at all.

Stored form: one *entry* per subject (the person or household a fact is about: :meth:`FactStore.entry`,
:meth:`FactStore.from_entries`) — per natural key of that subject the key, the winner's precedence, the ids
seen for it and the winner's JSON as it arrived — so that a table keeps each subject's facts under their own key:
a new fact rewrites only its subject's entry, and a person's history forwarded at once is one entry
(:mod:`tables.household`). The single-document form (``to_bytes``) is kept to read values written before.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum

import orjson

from streams.events import SourceEvent, decode_stored, encode_event

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

    __slots__ = ("_facts", "_raw", "_precedence", "_seen", "_seen_of", "changed", "version")

    def __init__(self) -> None:
        self._facts: dict[tuple, SourceEvent | None] = {}  # None: read back, not decoded yet (see _decoded)
        self._raw: dict[tuple, bytes] = {}  # the accepted record's JSON, kept to serialise without re-encoding
        self._precedence: dict[tuple, tuple[str, str]] = {}
        self._seen: set[str] = set()
        self._seen_of: dict[tuple, list[str]] = {}  # per natural key the ids accepted for it (winner or not)
        self.changed: set[str] = set()  # subjects whose entry changed since the last write (see entry)
        self.version = 0  # bumped on every change: callers cache what they derive from the store

    def add(self, event: SourceEvent, raw: bytes | None = None) -> Outcome:
        """Fold one accepted event; ``raw`` is its JSON as received (else it is re-encoded when needed)."""
        if event.event_id in self._seen:
            return Outcome.DUPLICATE
        self._seen.add(event.event_id)
        key = natural_key(event)
        self._seen_of.setdefault(key, []).append(event.event_id)
        self.changed.add(event.subject)
        rank, current = precedence(event), self._precedence.get(key)
        if current is not None and current >= rank:
            return Outcome.SUPERSEDED
        self._facts[key] = event
        self._precedence[key] = rank
        if raw is not None:
            self._raw[key] = raw
        else:
            self._raw.pop(key, None)
        self.version += 1
        return Outcome.ACCEPTED

    def extend(self, events: Iterable[SourceEvent]) -> None:
        for event in events:
            self.add(event)

    def _event(self, key: tuple) -> SourceEvent:
        """The winning event of a natural key, decoded (and validated, its identifiers checked at ingest:
        streams.events.decode_stored) when read back and not needed so far."""
        event = self._facts[key]
        if event is None:
            event = self._facts[key] = decode_stored(self._raw[key])
        return event

    def _decoded(self) -> dict[tuple, SourceEvent]:
        """Every winning event, decoding the ones read back and not needed so far."""
        for key in self._facts:
            self._event(key)
        return self._facts

    def has(self, key: tuple) -> bool:
        return key in self._facts

    def winner(self, key: tuple) -> SourceEvent | None:
        """The winning event of a natural key (decoded), or None when the key has none."""
        return self._event(key) if key in self._facts else None

    def latest(self, prefix: tuple) -> SourceEvent | None:
        """The winning event with the greatest natural key that starts with ``prefix`` (for keys ending in an ISO
        date: the latest), decoding only that one."""
        size = len(prefix)
        keys = [key for key in self._facts if key[:size] == prefix]
        if not keys:
            return None
        return self._event(max(keys))

    def of_types(self, types: Iterable[str]) -> list[SourceEvent]:
        """The winning events of the given types, decoding only those."""
        wanted = set(types)
        return [self._event(key) for key in list(self._facts) if key[0] in wanted]

    def keys(self) -> list[tuple]:
        """The natural keys that have a winner, in the order they were first folded."""
        return list(self._facts)

    def __iter__(self) -> Iterator[SourceEvent]:
        return iter(self._decoded().values())

    def __len__(self) -> int:
        return len(self._facts)

    def seen(self, event_id: str) -> bool:
        return event_id in self._seen

    def subjects(self) -> set[str]:
        return {event.subject for event in self}

    def events_about(self, subjects: set[str]) -> list[SourceEvent]:
        return [event for event in self if event.subject in subjects]

    # --- stored form: one entry per subject ---------------------------------------------------------------
    def raw(self, key: tuple) -> bytes:
        raw = self._raw.get(key)
        if raw is None:
            raw = self._raw[key] = encode_event(self._facts[key])
        return raw

    def entry(self, subject: str) -> bytes:
        """The stored entry of one subject: a JSON list of ``[natural key, recorded, event_id, seen ids]``, then
        per natural key, on its own line, the winner's JSON as it arrived (JSON holds no raw newline)."""
        keys = [key for key in self._facts if key[1] == subject]  # (a key's second part is its subject)
        index = [[key, *self._precedence[key], self._seen_of[key]] for key in keys]
        return b"\n".join([orjson.dumps(index), *(_one_line(self.raw(key)) for key in keys)])

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> "FactStore":
        store = cls()
        for value in entries:
            index, *raws = value.split(b"\n")
            for (key_parts, recorded, event_id, seen), raw in zip(orjson.loads(index), raws, strict=True):
                key = tuple(key_parts)
                store._facts[key], store._raw[key], store._precedence[key] = None, raw, (recorded, event_id)
                store._seen_of[key] = seen
                store._seen.update(seen)
        store.version = len(store._facts)
        return store

    # --- single-document form (values written before entries) --------------------------------------------
    def to_document(self) -> dict:
        """JSON-ready form; the facts are embedded as the JSON they arrived in (no re-encoding), with an index of
        natural key and precedence per fact, so that a store read back folds without decoding them."""
        return {"facts": [orjson.Fragment(self.raw(key)) for key in self._facts],
                "index": [[key, *self._precedence[key]] for key in self._facts], "seen": sorted(self._seen)}

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_document())

    @classmethod
    def from_document(cls, document: dict) -> "FactStore":
        store = cls()
        index = document.get("index")
        for number, item in enumerate(document["facts"]):
            raw = orjson.dumps(item)
            if index is None:  # a document written before the index: decode to find key and precedence
                event = decode_stored(raw)
                key, rank = natural_key(event), precedence(event)
            else:
                entry = index[number]
                event, key, rank = None, tuple(entry[0]), (entry[1], entry[2])
            store._facts[key], store._raw[key], store._precedence[key] = event, raw, rank
        store._seen = set(document["seen"])
        store._attribute_seen()
        store.version = len(store._facts)
        return store

    def _attribute_seen(self) -> None:
        """A document keeps one list of seen ids: give each winner's id to its key, and the ids of superseded
        events (whose key the document does not say) to the first key, so that the entries keep every id.
        Every entry then counts as changed: the next write stores them as entries."""
        self._seen_of = {key: [self._precedence[key][1]] for key in self._facts}
        rest = sorted(self._seen - {event_id for _, event_id in self._precedence.values()})
        if rest and self._facts:
            self._seen_of[next(iter(self._facts))].extend(rest)
        self.changed = {key[1] for key in self._facts}

    @classmethod
    def from_bytes(cls, raw: bytes) -> "FactStore":
        return cls.from_document(orjson.loads(raw))


def _one_line(raw: bytes) -> bytes:
    """A record as received may be JSON spread over lines; its entry line holds the same JSON compacted."""
    return raw if b"\n" not in raw else orjson.dumps(orjson.loads(raw))


def fold(events: Iterable[SourceEvent]) -> FactStore:
    store = FactStore()
    store.extend(events)
    return store
