"""Ingest (one batch handler per source topic): validate raw records, send the invalid ones to the DLQ, route the rest.

Source records are consumed in batches (:mod:`streams.consumer`), one partition's records at a time, in order;
the router writes each persons-table entry a batch changes once, at the end of the batch.

Each record is decoded and validated with the event models; anything that cannot be accepted — not JSON, an
unknown type, a missing field, an invalid INSZ/IBAN/date, an impossible value, a key that is not the subject —
goes to ``dlq`` unchanged, with headers giving the reason and the original topic, partition and offset. Nothing
leaves the loop: one bad record never stops the agent, and nothing valid is skipped.

Accepted facts about a person are applied to the persons table right here (see :mod:`agents.routing`: the
source topics are keyed by the subject, co-partitioned with the table) and forwarded to the person's
households; every person-household relation a fact states (member, parent of a child in the household, foster
placement, designated receiver) becomes a link — applied here for the subject, sent over the person-events topic
for anyone else. Household-level facts (``payer.chosen``, ``receiver.designated``) go straight to the
household-events topic.
"""
from __future__ import annotations

import logging

from agents import metrics
from agents.engine import Engine, refuse, refuse_batch
from agents.routing import origin_of
from streams import topics as names
from streams.consumer import consume_in_batches, current
from streams.events import SOURCE_TOPICS, InvalidEvent, decode_record
from tables.lineage import links_of

log = logging.getLogger("groeipakket.ingest")
HOUSEHOLD_SUBJECT = {"payer.chosen", "receiver.designated"}


def register(engine: Engine, router) -> None:
    dlq = engine.topic(names.DLQ_TOPIC)

    def make_handler(source_name: str):
        async def ingest(records) -> None:
            """A batch of one source partition: every entry the batch changes is written once, at the end."""
            async with router.batch():
                for record in records:
                    current(record)
                    await ingest_one(source_name, record)

        return ingest

    async def ingest_one(source_name: str, record) -> None:
        message = record.message
        try:
            event = decode_record(record.key, record.value)
        except InvalidEvent as exc:
            await refuse(dlq, record, exc.reason_class, exc.reason)
            return
        except Exception as exc:  # never let one record stop the others
            log.exception("unexpected error validating %s/%s/%s", message.topic, message.partition, message.offset)
            await refuse(dlq, record, "internal_error", type(exc).__name__)
            return
        metrics.labelled(metrics.CONSUMED, source_name, event.type).inc()
        try:
            await route(event, record.value, origin_of(record))
        except Exception as exc:
            log.exception("could not route %s/%s/%s", message.topic, message.partition, message.offset)
            await refuse(dlq, record, "internal_error", type(exc).__name__)

    async def route(event, raw: bytes, origin: str) -> None:
        if event.type in HOUSEHOLD_SUBJECT:
            await router.forward(event.subject, raw)
        else:
            await router.fact(event.subject, event.event_id, raw, getattr(event.data, "legacy_group", None), origin)
        for person, household in links_of(event):
            if person == event.subject:
                await router.link(person, household, member=True, origin=origin)
            else:
                await router.send_link(person, household)

    for source_name in SOURCE_TOPICS:
        consume_in_batches(engine.app, engine.topic(source_name), make_handler(source_name),
                           refuse_batch(dlq, "ingest"))
