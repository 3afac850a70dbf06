"""Routing (persons table): re-keys every fact about a person to the household(s) it affects.

The persons table holds, per INSZ, the households the person is linked to (member, parent of a child living
there, foster child, designated receiver) and every fact about the person. A fact is forwarded to each linked
household; a fact about a person without a household yet waits in the table (not in memory) and is forwarded as
soon as a link arrives; a new link (a move, a new child, a placement) forwards the person's whole history to the
new household in one message, which ignores what it already has (duplicates by event id change nothing).

Legacy groups (the old payee's grouping on 2018-12-31) can span households once siblings move out, while the
frozen ranks and the reduced age supplement of the eldest depend on every member: a group entry (key
``legacy:<group>``) links every member to every household of every other member, so each household sees the
whole group.

Household lineage (:mod:`tables.lineage`): a child that moves (or is placed) takes rules with it that look at
the households it lived in before, so households that share a member are *related*, and every member of one is
linked to the other. When a person with earlier homes gets a new one, the router tells the new home and each
earlier one about the other (a ``related`` message over the household-events topic); each household knows its
members from its own facts and sends the links (agents.households).

Routing works a batch at a time (:meth:`Router.batch`, one partition's messages): each entry it changes is
written once, at the end, and the facts it forwards to one household travel in one message (``facts`` when
several), sent at the end too, or before any other message the batch sends that household.

The ingest agents apply facts to the table directly (source topics are keyed by the subject's INSZ, so they are
co-partitioned with the table); links about *other* persons (a child's parents, a receiver) travel over the
person-events topic, keyed by that person, to the link agent below.
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from contextlib import asynccontextmanager

import orjson

from agents import metrics
from agents.engine import (FACT, FACTS, LEGACY, LINK, RELATED, Engine, header, refuse, refuse_batch,
                           refuse_unknown_kind, stored)
from streams import topics as names
from streams.consumer import consume_in_batches, current

log = logging.getLogger("groeipakket.routing")
RECENT_ORIGINS = 16
LINKS_REMEMBERED = 100_000  # (person, household) links this process knows are made or on their way


class KnownLinks:
    """The (person, household) links this process made or sent, the oldest forgotten first (bounded memory).

    A link is never undone, so a link known here needs no message: the links agent would find it made and do
    nothing. Most link messages are such repeats (each child's registration links both parents to the
    household, where they are members already), so skipping them saves a send, a consume and an entry decode
    each. Safe under at-least-once: a link is known only once it is in the table (written at the end of the
    message, flushed before any later offset is committed) or handed to the producer, and a restarted process
    knows nothing and sends again."""

    def __init__(self, capacity: int = LINKS_REMEMBERED):
        self.capacity = capacity
        # An OrderedDict forgets its oldest entry in constant time; a dict's first key is found by skipping the
        # slots of the keys deleted before it (15 % of a worker's samples in a 100 000-household replay).
        self._links: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, link: tuple[str, str]) -> bool:
        return f"{link[0]}|{link[1]}" in self._links

    def add(self, person: str, household: str) -> None:
        key = f"{person}|{household}"
        if key not in self._links:
            self._links[key] = None
            if len(self._links) > self.capacity:
                self._links.popitem(last=False)


class Router:
    def __init__(self, engine: Engine):
        self.persons = engine.persons
        self.write = engine.persons_writer.put
        self.send = engine.send
        self.household_events = names.household_events_topic(engine.settings.app_id)
        self.person_events = names.person_events_topic(engine.settings.app_id)
        self.parked: set[str] = set()
        self.known_links = KnownLinks()
        self._entries: dict[str, dict] = {}  # entries the batch in hand read, decoded once
        self._changed: dict[str, None] = {}  # the keys of those it changed, written at its end (in order)
        self._forwards: dict[str, list[bytes]] = {}  # facts the batch in hand forwards, per household
        # The ingest handlers and the links handler share this router, and a send can wait (the producer's batch
        # for a partition is full): one batch at a time (batch), so that no message reads an entry while another
        # is between its read and its write.
        self._one_batch = asyncio.Lock()

    def _load(self, key: str, empty=lambda: {"households": [], "facts": {}}) -> dict:
        """An entry as the batch in hand left it, else as the table has it (``empty()`` when it has none):
        decoded once per batch, encoded once at its end. A person's entry holds every fact about the person, so
        decoding and encoding it for every message cost 10 % of a worker's time in a registration month."""
        entry = self._entries.get(key)
        if entry is None:
            raw = stored(self.persons, key)
            entry = self._entries[key] = orjson.loads(raw) if raw else empty()
        return entry

    @asynccontextmanager
    async def batch(self):
        """Route several messages of one partition (inside the block), then write every entry they changed,
        once: a registration changes its subject twice (the fact and the link), a batch often changes one entry
        many times. One batch at a time across the handlers that share the router (a send can wait, and no
        message may read an entry while another is between its read and its write). The writes go to the
        partition of the current message (:func:`streams.consumer.current`)."""
        async with self._one_batch:
            try:
                yield
            finally:
                for household in list(self._forwards):
                    await self._send_forwards(household)
                changed, entries, self._changed, self._entries = self._changed, self._entries, {}, {}
                for key in changed:
                    await self.write(key, orjson.dumps(entries[key]))
                metrics.PARKED.set(len(self.parked))

    async def forward(self, household: str, raw: bytes) -> None:
        """Forward a fact to a household: with the other facts the batch forwards to it, in one message sent at
        the end of the batch (or before anything else the batch sends it, so that the household sees its
        messages in the order made)."""
        self._forwards.setdefault(household, []).append(raw)

    async def _send_forwards(self, household: str) -> None:
        """Send the facts waiting for one household: one ``fact`` message, or ``facts`` for several (the
        household folds them in order, exactly as one message each)."""
        raws = self._forwards.pop(household, None)
        if not raws:
            return
        if len(raws) == 1:
            await self.send(self.household_events, household.encode(), raws[0], {"gp-kind": FACT})
        else:
            history = orjson.dumps([raw.decode() for raw in raws])
            await self.send(self.household_events, household.encode(), history, {"gp-kind": FACTS})

    async def _to_household(self, household: str, value: bytes, kind: bytes) -> None:
        """Send a message other than a forwarded fact to a household, after the facts forwarded to it before."""
        await self._send_forwards(household)
        await self.send(self.household_events, household.encode(), value, {"gp-kind": kind})

    def _track(self, person: str, entry: dict) -> None:
        if entry["households"]:
            self.parked.discard(person)
        else:
            self.parked.add(person)

    async def send_link(self, person: str, household: str) -> None:
        """Link another person to a household (over the person-events topic), unless that link is known."""
        if (person, household) in self.known_links:
            metrics.LINKS_SKIPPED.inc()
            return
        await self.send(self.person_events, person.encode(), household.encode(), {"gp-kind": LINK})
        self.known_links.add(person, household)

    async def _announce_member(self, group: str, person: str, household: str) -> None:
        await self.send(self.person_events, f"legacy:{group}".encode(),
                        orjson.dumps({"person": person, "household": household}), {"gp-kind": LEGACY})

    async def _tell_related(self, household: str, related: str) -> None:
        """Tell a household that another one shares a member with it (tables.lineage)."""
        await self._to_household(household, related.encode(), RELATED)

    async def fact(self, person: str, event_id: str, raw: bytes, legacy_group: str | None = None,
                   origin: str = "") -> None:
        """Store a fact about a person and forward it to every household the person is linked to."""
        entry = self._load(person)
        origin = origin and f"{origin}#fact"  # the same message may also link this person (see link)
        redelivered = _made_by(entry, origin)
        if event_id in entry["facts"] and not redelivered:
            return  # duplicate: already stored and forwarded
        new_group = legacy_group is not None and (redelivered or entry.get("legacy") != legacy_group)
        if not redelivered:
            entry["facts"][event_id] = raw.decode()
            if legacy_group is not None:
                entry["legacy"] = legacy_group
            self._store(person, entry, origin)
        for household in entry["households"]:
            await self.forward(household, raw)
            if new_group:
                await self._announce_member(legacy_group, person, household)
        self._track(person, entry)

    async def link(self, person: str, household: str, member: bool = False, origin: str = "") -> None:
        """Link a person to a household: the person's whole history goes there once. ``member``: the person
        lives there (registration, birth, adoption, move, placement), which relates it to the person's
        earlier homes; other links (a parent living elsewhere, a receiver) relate nothing."""
        entry = self._load(person)
        origin = origin and f"{origin}#link"
        redelivered = _made_by(entry, origin)
        homes = entry.setdefault("homes", [])
        new_home = member and (household not in homes or redelivered)
        new_link = household not in entry["households"] or redelivered
        if not (new_home or new_link):
            self.known_links.add(person, household)
            return
        # A new home and every earlier one are related (the new home learns the member from the history below).
        if new_home:
            for other in homes:
                if other != household:
                    await self._tell_related(other, household)
                    await self._tell_related(household, other)
        if not redelivered:
            if household not in homes and member:
                homes.append(household)
            if household not in entry["households"]:
                entry["households"].append(household)
            self._store(person, entry, origin)
        if new_link:
            if entry["facts"]:  # the whole history in one message: one state write there, not one per fact
                history = orjson.dumps(list(entry["facts"].values()))
                await self._to_household(household, history, FACTS)
            if entry.get("legacy"):
                await self._announce_member(entry["legacy"], person, household)
        self.known_links.add(person, household)
        self._track(person, entry)

    async def legacy_member(self, group_key: str, person: str, household: str, origin: str = "") -> None:
        """A member of a legacy group is (also) in ``household``: link the group across households.

        Members are announced only for households they are linked to, so the group entry already says which
        links exist: only a household a member is not announced in gets a link (siblings announced in the same
        household need none; all of them would be sent again when this message comes again after a crash)."""
        entry = self._load(group_key, lambda: {"members": {}})
        redelivered = _made_by(entry, origin)
        households = entry["members"].setdefault(person, [])
        if household in households and not redelivered:
            return
        if not redelivered:
            households.append(household)
            self._store(group_key, entry, origin)
        for member, member_households in entry["members"].items():
            if member != person:
                if redelivered or household not in member_households:
                    await self.send_link(member, household)
                for other in member_households:
                    if redelivered or other not in households:
                        await self.send_link(person, other)

    def _store(self, key: str, entry: dict, origin: str) -> None:
        """Write an entry, remembering the message that changed it (see :func:`_made_by`)."""
        if origin:
            recent = entry.setdefault("by", [])
            recent.append(origin)
            del recent[:-RECENT_ORIGINS]
        self._changed[key] = None  # (the entry itself is the one _load keeps for the batch)


def origin_of(record) -> str:
    """Where a message comes from: topic, partition and offset (unique per message)."""
    message = record.message
    return f"{message.topic}:{message.partition}:{message.offset}"


def _made_by(entry: dict, origin: str) -> bool:
    """True when ``origin`` is the message that made this entry as it is, delivered again after a crash.

    At-least-once: the table write and the messages it implies (forwards, links) leave through the producer
    separately, so a crash can keep the write (restored from the changelog) and lose the messages, and the input
    message, not yet committed, comes again. It then finds its own change done; instead of taking itself for a
    duplicate, it sends everything its change implies again (every receiver ignores what it already has).
    An entry remembers the last messages that changed it (more than enough for one commit interval)."""
    return bool(origin) and origin in entry.get("by", ())


def register(engine: Engine, router: Router) -> None:
    dlq = engine.topic(names.DLQ_TOPIC)

    async def links(records) -> None:
        """A batch of one person-events partition (links and legacy-group members), each entry written once."""
        async with router.batch():
            for record in records:
                current(record)
                await link_one(record)

    async def link_one(record) -> None:
        try:
            kind = header(record, "gp-kind")
            origin = origin_of(record)
            if kind == LINK:
                await router.link(record.key.decode(), record.value.decode(), origin=origin)
            elif kind == LEGACY:
                member = orjson.loads(record.value)
                await router.legacy_member(record.key.decode(), member["person"], member["household"], origin)
            else:
                await refuse_unknown_kind(dlq, record, "person-events")
        except Exception as exc:  # never let one message stop the others; the message is kept in the DLQ
            log.exception("link failed at %s/%s", record.message.partition, record.message.offset)
            await refuse(dlq, record, "internal_error", f"routing failed: {type(exc).__name__}")

    consume_in_batches(engine.app, engine.topic(names.person_events_topic(engine.settings.app_id)), links,
                       refuse_batch(dlq, "routing"))
