"""Routing agent (persons table): re-keys every fact about a person to the household(s) it affects.

The persons table holds, per INSZ, the households the person is linked to (member, parent of a child living
there, foster child, designated receiver) and every fact about the person. A fact is forwarded to each linked
household; a fact about a person without a household yet waits in the table (not in memory) and is forwarded as
soon as a link arrives; a new link (a move, a new child, a placement) forwards the person's whole history to the
new household, which ignores what it already has (duplicates by event id change nothing).
"""
from __future__ import annotations

import logging

import orjson

from agents import metrics
from agents.engine import FACT, LINK, Engine, header
from streams import topics as names

log = logging.getLogger("groeipakket.routing")


def _load(raw: bytes | None) -> dict:
    if not raw:
        return {"households": [], "facts": {}}
    return orjson.loads(raw)


def register(engine: Engine) -> None:
    persons = engine.persons
    household_events = engine.topic(names.household_events_topic(engine.settings.app_id))
    parked: set[str] = set()

    async def forward(household: str, raw: bytes) -> None:
        await household_events.send(key=household.encode(), value=raw, headers={"gp-kind": FACT})

    @engine.app.agent(engine.topic(names.person_events_topic(engine.settings.app_id)), name="routing",
                      concurrency=1)
    async def routing(stream):
        async for record in stream.events():
            try:
                person = record.key.decode()
                kind = header(record, "gp-kind")
                entry = _load(persons.get(person))
                if kind == FACT:
                    event_id = orjson.loads(record.value)["event_id"]
                    if event_id in entry["facts"]:
                        continue  # duplicate: already stored and forwarded
                    entry["facts"][event_id] = record.value.decode()
                    persons[person] = orjson.dumps(entry)
                    for household in entry["households"]:
                        await forward(household, record.value)
                elif kind == LINK:
                    household = record.value.decode()
                    if household in entry["households"]:
                        continue
                    entry["households"].append(household)
                    persons[person] = orjson.dumps(entry)
                    for raw in entry["facts"].values():
                        await forward(household, raw.encode())
                else:
                    log.error("unknown message kind on the person-events topic (offset %s)", record.message.offset)
                    continue
                if entry["households"]:
                    parked.discard(person)
                else:
                    parked.add(person)
                metrics.PARKED.set(len(parked))
            except Exception:  # never let one message stop the agent; the household side stays consistent
                log.exception("routing failed for offset %s/%s", record.message.partition, record.message.offset)
