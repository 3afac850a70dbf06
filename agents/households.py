"""Household agent (households table): facts in, payment instructions out.

Messages come in batches of one partition (:mod:`streams.consumer`); a household's messages of a batch are
handled together, in order, with one state write. On a fact: fold it into the household's state; if it changed anything and periods are closed, recompute the
closed months it can affect and publish a ``correction`` with the signed differences. On a close marker for
period P (one per partition, from the periods agent): publish the ``regular`` instruction(s) of P for every
household of the partition — a run that only re-dates the household's forecast is *implied*: published without
writing the state, and written into the ledger when the household is next loaded (tables.settlement.implied_run).
On a ``related`` message (tables.lineage: a household that shares a member with this
one): remember it and link every member to it; a member folded later is linked to it too. The state is written
once per message, ledger and outbox together in its head
(layout and write order: tables.household); the outbox is then published, and entries are dropped once the
broker acknowledged them. An entry not acknowledged (crash, rebalance) is sent again with the same id — on the
household's next message or by the outbox timer after a restart — so every instruction the ledger records
reaches its payer topic.
"""
from __future__ import annotations

import asyncio
import logging
import time

import orjson

from agents import metrics
from agents.engine import CLOSE, FACT, FACTS, RELATED, Engine, header, refuse, refuse_batch, refuse_unknown_kind
from agents.state_table import ClosedPeriods, HouseholdTable
from rules.parameters import default_parameters
from rules.periods import parse_period
from streams import topics as names
from streams.consumer import consume_in_batches, current
from streams.events import decode_stored
from tables import lineage
from tables.household import HouseholdState, StateCache
from tables.facts import Outcome
from tables.settlement import fold_and_correct, implied_run, regular_run, settle_implied_runs

log = logging.getLogger("groeipakket.households")
SCAN_YIELD_EVERY = 1_000  # states read by the outbox scan after a restart between two yields to the agents
RESEND_AFTER = 30.0  # seconds: an instruction sent and not acknowledged after this is sent again (same id)


async def delivered(deliveries: tuple[asyncio.Future, ...]) -> bool:
    """Whether the broker acknowledged every one of the sends (waits for them all)."""
    acknowledged = True
    for delivery in deliveries:
        try:
            await delivery
        except Exception:
            acknowledged = False
    return acknowledged


def register(engine: Engine, send_link) -> None:
    """``send_link(person, household)``: the router's, which skips links this process knows are made."""
    table = engine.households
    states = HouseholdTable(table, engine.households_writer)
    cache = StateCache(engine.settings.state_cache_households)
    metrics.STATE_CACHE_LOOKUPS.labels("hit").set_function(lambda: cache.hits)  # read when scraped
    metrics.STATE_CACHE_LOOKUPS.labels("miss").set_function(lambda: cache.misses)
    parameters = default_parameters()
    audit = names.audit_topic(engine.settings.app_id)
    audit_partitions = names.all_topics(engine.settings.app_id, engine.settings.partitions)[audit]
    dlq = engine.topic(names.DLQ_TOPIC)
    confirmed: set[str] = set()  # acknowledged by the broker, until the outbox entry is settled
    pending: dict[str, dict[str, float]] = {}  # household -> instruction ids sent, not acknowledged -> when
    scanned = {"done": False}

    def on_delivered(household: str, instruction_id: str):
        def callback(future) -> None:
            if not future.cancelled() and future.exception() is None:
                confirmed.add(instruction_id)
                waiting = pending.get(household)
                if waiting is not None:
                    waiting.pop(instruction_id, None)
                    if not waiting:
                        pending.pop(household, None)
        return callback

    async def send_instruction(instruction: dict, trace: dict) -> tuple[asyncio.Future, asyncio.Future]:
        """Send an instruction's audit record, then the instruction to its payer topic (counted); returns the two
        deliveries (the broker's acknowledgements)."""
        household = instruction["household_id"]
        trace_id = trace["trace_id"]
        traced = await engine.send(audit, trace_id.encode(), orjson.dumps(trace),
                                   partition=names.audit_partition(trace_id, audit_partitions))
        sent = await engine.send(names.PAYMENT_TOPICS[instruction["payer"]], household.encode(),
                                 orjson.dumps(instruction))
        metrics.labelled(metrics.INSTRUCTIONS, instruction["payer"], instruction["kind"]).inc()
        for line in instruction["lines"]:
            cents = line["amount_cents"]
            metrics.labelled(metrics.AMOUNT, instruction["payer"], instruction["kind"], line["component"],
                             "positive" if cents > 0 else "negative").inc(abs(cents))
        return traced, sent

    async def publish(state: HouseholdState, source_ts: float | None = None) -> None:
        """Send the outbox entries that are neither acknowledged nor in flight (sent less than RESEND_AFTER ago)."""
        now, household = time.monotonic(), state.household_id
        for entry in state.outbox:
            instruction = entry["instruction"]
            instruction_id = instruction["instruction_id"]
            sent_at = pending.get(household, {}).get(instruction_id)
            if instruction_id in confirmed or (sent_at is not None and now - sent_at < RESEND_AFTER):
                continue
            pending.setdefault(household, {})[instruction_id] = now  # (an acknowledgement may drop the dict)
            delivery = asyncio.gather(*await send_instruction(instruction, entry["audit"]))
            delivery.add_done_callback(on_delivered(household, instruction_id))
            if source_ts:
                metrics.LATENCY.observe(max(time.time() - source_ts, 0))
        if not pending.get(household):
            pending.pop(household, None)

    def settle_outbox(state: HouseholdState) -> bool:
        """Drop acknowledged entries; True when the state changed. Unacknowledged ones stay (sent again)."""
        before = len(state.outbox)
        kept = []
        for entry in state.outbox:
            instruction_id = entry["instruction"]["instruction_id"]
            if instruction_id in confirmed:
                confirmed.discard(instruction_id)  # settled: the set holds only ids still in some outbox
            else:
                kept.append(entry)
        state.outbox = kept
        if not state.outbox:
            pending.pop(state.household_id, None)
        return len(state.outbox) != before

    def load(household: str, keep: bool = True) -> HouseholdState:
        return cache.load(household, states.head(household), states.read, keep)

    async def store(state: HouseholdState, keep: bool = True) -> None:
        """Write what changed (nothing when nothing did)."""
        cache.remember(state.household_id, await states.write(state), state, keep)

    def begin(household: str, closed: ClosedPeriods | None) -> tuple[bytes | None, HouseholdState]:
        """A message for one household: its head as stored, and its state with the implied runs of the closed
        months (``closed``: the partition's closes) and the acknowledged outbox entries settled."""
        head = states.head(household)
        state = cache.load(household, head, states.read)
        if closed is not None:
            settle_implied_runs(state, closed.months)
        settle_outbox(state)
        return head, state

    async def finish(head: bytes | None, state: HouseholdState, record, partition: int,
                     links: list[tuple[str, str]]) -> None:
        """Write what the message changed, count a household's first state (a ``related`` message may come
        before its facts), publish the outbox, then send the lineage links."""
        await store(state)
        if head is None and state.head_written:
            engine.households_held.added(partition)
        await publish(state, record.message.timestamp)
        for person, other in links:
            await send_link(person, other)

    def apply(state: HouseholdState, raw: bytes, closed) -> list[tuple[str, str]]:
        """Fold one fact and correct the closed months it changes; returns the lineage links it makes (also
        for a fact folded before: after a crash its links may not have been sent)."""
        started = time.perf_counter()
        event = decode_stored(raw)  # accepted at ingest (the household-events topic is the engine's own)
        outcome, _ = fold_and_correct(state, event, raw, closed, parameters)
        metrics.labelled(metrics.FACTS, outcome.name.lower()).inc()
        if outcome is Outcome.ACCEPTED:
            metrics.RECOMPUTE.observe(time.perf_counter() - started)
        return lineage.links_of_member(event, state.household_id, state.related)

    async def fold_facts(state: HouseholdState, kind: bytes, record, closed) -> list[tuple[str, str]]:
        """One fact (FACT), or a person's history forwarded at once (FACTS), folded in order; returns the links
        to send. A fact that fails is reported (DLQ) and the others go on."""
        raws = [record.value] if kind == FACT else [raw.encode() for raw in orjson.loads(record.value)]
        links: list[tuple[str, str]] = []
        for number, raw in enumerate(raws):
            try:
                links.extend(apply(state, raw, closed.span if closed else None))
            except Exception as exc:  # one bad fact must not drop the others of the message
                log.exception("fact %d of the message at %s/%s failed", number, record.message.partition,
                              record.message.offset)
                await refuse(dlq, record, "internal_error", f"fact {number} of the message: {type(exc).__name__}")
        return links

    def relate(state: HouseholdState, related: str) -> list[tuple[str, str]]:
        """Another household shares a member with this one: remember it (members who join later are linked to
        it as their facts arrive) and link every member so far. The links are sent also when it was known: after
        a crash the message comes again and its links may not have been sent."""
        household = state.household_id
        if related != household and related not in state.related:
            state.related = sorted({*state.related, related})
        return lineage.links_to_related(state.members(), household, related)

    async def on_household(household: str, messages: list[tuple[bytes, object]], closed) -> None:
        """The messages of one batch for one household (facts and ``related``), in order, exactly as one at a
        time would be (same corrections, same ids), with one write for all of them: the head when it changed,
        and an entry per subject whose facts changed. ``closed``: the partition's closes (only periods closed
        so far are paid or corrected)."""
        first = messages[0][1]
        partition = first.message.partition
        current(first)
        head, state = begin(household, closed)
        links: list[tuple[str, str]] = []
        for kind, record in messages:
            try:
                if kind == RELATED:
                    links.extend(relate(state, record.value.decode()))
                else:
                    links.extend(await fold_facts(state, kind, record, closed))
            except Exception as exc:  # the message is kept in the DLQ, the others go on
                log.exception("household processing failed at %s/%s", partition, record.message.offset)
                await refuse(dlq, record, "internal_error", f"household processing failed: {type(exc).__name__}")
        await finish(head, state, first, partition, links)  # also what was folded before a message failed

    async def record_run(state: HouseholdState, period: int, months, children: set[str]) -> None:
        """The regular run of ``period`` recorded in ledger and outbox (``months``: the closes completed before),
        then written."""
        settle_implied_runs(state, months)  # before a run replaces the forecast they are settled from
        for instruction, _ in regular_run(state, period, parameters):
            children.update(line["child"] for line in instruction["lines"])
        await store(state, keep=False)

    async def on_close(record, partition: int) -> None:
        """The regular run of the period for every household of the partition. A household whose run is implied
        (tables.settlement.implied_run: its forecast re-dated) is only published, its state not written; the
        close is recorded for the partition once the broker acknowledged all of those, and a run whose delivery
        failed is recorded in its household's outbox instead (sent again until acknowledged). After a crash
        before that, the close comes again and publishes the same implied runs (same ids and content)."""
        period = parse_period(record.value.decode())
        started = time.perf_counter()
        closed = states.closed_periods(partition)
        months = closed.months if closed else ()
        children: set[str] = set()
        implied: list[tuple[str, tuple[asyncio.Future, asyncio.Future]]] = []
        # Memory stays bounded over the partition: a state write waits while the producer's batch for the
        # changelog partition is full (streams.table_writer), so the close goes at the pace of the producer.
        for household, head in states.each_head(partition):
            state = cache.load(household, head, states.read, keep=False)  # a scan of every household
            settled = settle_outbox(state)
            run = implied_run(state, period, parameters)
            if run is None:
                await record_run(state, period, months, children)
                await publish(state)
                continue
            if settled:  # acknowledged entries dropped: written (with the implied runs so far)
                settle_implied_runs(state, months)
                await store(state, keep=False)
            metrics.IMPLIED_RUNS.inc()
            for instruction, trace in run:
                children.update(line["child"] for line in instruction["lines"])
                implied.append((household, await send_instruction(instruction, trace)))
        failed = sorted({household for household, delivery in implied if not await delivered(delivery)})
        for household in failed:
            log.error("an implied run of %s was not delivered: recorded in the outbox", record.value.decode())
            state = load(household, keep=False)
            settle_outbox(state)
            await record_run(state, period, months, children)
            await publish(state)
        if children:  # a repeated close makes no new run: keep the figure of the first
            metrics.CHILDREN_PAID.labels(str(partition)).set(len(children))
        closed = await states.record_close(partition, period)
        metrics.LAST_CLOSED.labels(str(partition)).set(closed.latest)
        metrics.CLOSE_SECONDS.observe(time.perf_counter() - started)
        log.warning("period %s closed on partition %d in %.1fs (%d instructions implied)", record.value.decode(),
                    partition, time.perf_counter() - started, len(implied))

    async def settle(by_household: dict[str, list]) -> None:
        """The households' messages gathered since the last close marker of the batch: the partition's closes
        are read once for all of them (only a close marker, handled between two of these, changes them)."""
        if not by_household:
            return
        first = next(iter(by_household.values()))[0][1]
        current(first)  # (table reads go to the batch's partition)
        closed = states.closed_periods(first.message.partition)
        for household, messages in by_household.items():
            try:
                await on_household(household, messages, closed)
            except Exception as exc:  # never let one household stop the others; its messages go to the DLQ
                log.exception("household processing failed at %s/%s", messages[0][1].message.partition,
                              messages[0][1].message.offset)
                for _, record in messages:
                    await refuse(dlq, record, "internal_error", f"household processing failed: {type(exc).__name__}")
        by_household.clear()

    async def households(records) -> None:
        """A batch of one household-events partition. The messages of each household are handled together, in
        order (one state write); households are independent of each other, so only a close marker orders
        them: everything before it is handled before the close, everything after it after."""
        by_household: dict[str, list] = {}
        for record in records:
            kind = header(record, "gp-kind")
            if kind in (FACT, FACTS, RELATED) and record.key:
                by_household.setdefault(record.key.decode(), []).append((kind, record))
                continue
            await settle(by_household)
            current(record)
            try:
                if kind == CLOSE:
                    await on_close(record, record.message.partition)
                else:
                    await refuse_unknown_kind(dlq, record, "household-events")
            except Exception as exc:  # never let one message stop the others; the message is kept in the DLQ
                log.exception("close failed at %s/%s", record.message.partition, record.message.offset)
                await refuse(dlq, record, "internal_error", f"household processing failed: {type(exc).__name__}")
        await settle(by_household)

    consume_in_batches(engine.app, engine.topic(names.household_events_topic(engine.settings.app_id)), households,
                       refuse_batch(dlq, "household processing"))

    @engine.app.on_partitions_revoked.connect
    async def forget_cached_states(sender, *args, **kwargs) -> None:
        """A partition handed to another worker may come back changed: a cached state holds only while this
        worker keeps its partition (tables.household.StateCache)."""
        cache.clear()

    @engine.app.timer(interval=5.0)
    async def resend_outbox():
        """After a restart, and for sends never acknowledged: publish outbox entries again (reads only)."""
        if not engine.app.tables.recovery.completed.is_set():
            return
        if not scanned["done"]:  # entries a previous process recorded: sent at once (never sent by this one)
            try:
                for partition in sorted(engine.household_partitions()):
                    heads = states.each_head(partition, SCAN_YIELD_EVERY)  # read a slice at a time
                    for number, (household, raw) in enumerate(heads, 1):
                        if b'"outbox":[]' not in raw:
                            pending.setdefault(household, {})
                        if number % SCAN_YIELD_EVERY == 0:  # the agents run between two slices
                            await asyncio.sleep(0)
            except Exception:  # a rebalance closed a partition under the scan: scan again on the next tick
                log.warning("outbox scan interrupted; scanning again", exc_info=True)
                return
            scanned["done"] = True
        now = time.monotonic()
        for household, waiting in list(pending.items()):
            if waiting and now - min(waiting.values()) < RESEND_AFTER:
                continue  # in flight: its acknowledgement is still to come
            state = load(household, keep=False)
            await publish(state)
