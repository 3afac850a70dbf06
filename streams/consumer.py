"""The engine's Kafka transport: Faust's aiokafka transport with a cheaper hand-over of fetched messages.

Faust's ``Consumer._drain_messages`` hands every fetched message to the conductor (which decodes it and puts it
on the agents' queues) inside ``mode.Service.wait_first(callback(message), suspend_flow.wait())``: a race
against a rebalance that stops the flow. That race creates four tasks per message (the callback, the flow
event, the service's stopped and crashed events), waits for the first and cancels the others. Measured on the
embedded broker (2 vCPU): an agent that does nothing with its messages ran 4 963/s with it and 8 648/s
without; the engine's replay of 6 000 households 753 → 1 011 source events/s (worker CPU 1.34 → 1.03 ms per
record, zero differences both).

:class:`Consumer` calls the conductor directly, and keeps what the race was for in two checks:

- A message fetched while the flow is stopped (a rebalance is under way: Faust stops the flow only when it
  revokes partitions, stops, or starts as a client, and each time seeks to the committed offsets before it
  resumes) or in an earlier consumer generation (a rebalance came between its fetch and its hand-over) is not
  handed over, and does not move the partition's read offset: the seek fetches it again.
- The hand-over itself can wait (for flow control, for the producer's buffer, for room in a full agent
  queue), and a rebalance can come while it waits; the message then reaches its stream after the rebalance,
  which skips it (Faust's streams skip a message of an earlier generation) and acknowledges it. Faust would
  record that acknowledgement in the partition's acked offsets of the *new* generation, so a commit could pass
  the message before its new delivery is processed. :meth:`Consumer.ack` therefore records no acknowledgement
  of a message from an earlier generation: it is only taken out of the unacknowledged set (so that a later
  rebalance does not wait for it), and its offset is committed when the new generation processes it. The same
  holds for a message whose processing spans a rebalance: it is processed again, which the engine's
  idempotent handling (event ids, deterministic instruction ids) absorbs.

**Batch topics** (:func:`consume_in_batches`): the engine's hot topics are not handed to agents at all. Every
message still costs an event, a queue round trip and a stream step in Faust (~130 µs on the embedded broker,
measured) before the agent sees it; a batch topic's messages of one fetch are instead handed to a handler, per
partition, in order, up to ``BATCH_SIZE`` at a time, which lets the handler also do per batch what it would do
per message (one write of a person entry or household state that several messages change). The rules of an
agent hold: one handler call at a time (the fetch loop waits for it: ``concurrency=1``); each message is tracked
when fetched, so a rebalance waits for the slice in hand (``wait_empty``), and acknowledged when its slice is
done, so a commit (which flushes the producer first) never passes a message before everything it wrote and sent
is in the broker; a slice is not started while the flow is stopped or after a rebalance (its messages are
fetched again after the seek). Each record is Faust's *current event* while it is handled, so tables read and
write its partition. The handler catches what a message raises and sends the message to the DLQ; should it raise
nonetheless, the slice goes to the DLQ (``failed``) and the loop goes on.

Installed on the engine's app by :func:`install` (``app.transport``); production and the embedded broker alike.
The naive pipeline of the benchmarks keeps Faust's own consumer: it is the baseline.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faust.streams import _current_event
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

YIELD_EVERY = 100  # messages handed over between two yields to the event loop (as Faust's loop)
BATCH_SIZE = 500  # messages of one partition handed to a batch handler at once


class Record:
    """A message handed to a batch handler, as a Faust event shows it (``key``, ``value``, ``headers``,
    ``message``). While the handler works on it, it is Faust's *current event* (:func:`current`), so that
    table reads and writes go to its partition as inside stream iteration."""

    __slots__ = ("message", "key", "value", "headers", "__weakref__")

    def __init__(self, message):
        self.message, self.key, self.value, self.headers = message, message.key, message.value, message.headers


@dataclass(frozen=True)
class BatchHandler:
    """What a batch topic's messages go to: ``handle(records)`` (catches what a record raises), and
    ``failed(records, exc)`` when it raised nonetheless (a bug: the records go to the DLQ, the loop goes on)."""
    handle: Callable[[list[Record]], Awaitable[None]]
    failed: Callable[[list[Record], Exception], Awaitable[None]]


def current(record: Record) -> None:
    """Make ``record`` the current event of the running task (Faust's ``current_event()``): the tables read
    and write the partition of its message (``faust.streams`` keeps the event in a context variable, as a weak
    reference; the handler holds the record while it works on it)."""
    _current_event.set(weakref.ref(record))


class Consumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, handing each fetched message to the conductor without a per-message race."""

    def _stale(self, message) -> bool:
        """Fetched before the current consumer generation (a rebalance came in between)."""
        return message.generation_id != self.app.consumer_generation_id

    async def _drain_messages(self, fetcher) -> None:  # pragma: no cover (the worker's fetch loop)
        """Fetch and hand over messages until the consumer or the fetcher stops (Faust's loop, minus the race)."""
        callback, getmany = self.callback, self.getmany
        consumer_should_stop, fetcher_should_stop = self._stopped.is_set, fetcher._stopped.is_set
        flow_stopped = self.suspend_flow.is_set
        read_offsets = self._read_offset
        set_flag, unset_flag = self.diag.set_flag, self.diag.unset_flag
        acks_enabled_for = self.app.topics.acks_enabled_for
        batch_handlers = self.transport.batch_handlers
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                fetched = getmany(timeout=1.0)
                await self.sleep(0)  # getmany can return at once again and again: let the loop run
                if not self.should_stop:
                    batches: dict = {}  # tp -> messages of a batch topic, handed over after the fetch
                    async for tp, message in fetched:
                        since_yield += 1
                        if since_yield > YIELD_EVERY:
                            await asyncio.sleep(0)
                            since_yield = 0
                        if flow_stopped() or self._stale(message):
                            continue  # fetched again after the rebalance's seek to the committed offsets
                        batch = batches.get(tp)
                        offset = message.offset
                        read_offset = batch[-1].offset if batch else read_offsets[tp]
                        if read_offset is not None and offset < read_offset:
                            continue  # read before (Faust drops it too)
                        if read_offset and offset - read_offset > 1 and acks_enabled_for(message.topic):
                            await self._add_gap(tp, read_offset + 1, offset)
                        if message.topic in batch_handlers:
                            self.track_message(message)  # a rebalance waits for it (Consumer.wait_empty)
                            batches.setdefault(tp, []).append(message)
                            continue
                        await self._maybe_commit()
                        await callback(message)
                        if not self._stale(message):
                            read_offsets[tp] = offset
                    for tp, batch in batches.items():
                        await self._hand_over_batch(tp, batch, batch_handlers[tp.topic])
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _maybe_commit(self) -> None:
        """Every ``broker_commit_every`` acknowledgements a commit, started in the background as Faust's
        interval commit is, not awaited here: a commit first waits for the producer to deliver everything
        lingering (``producer_linger_ms``, 200 ms on the embedded broker) and then for the broker's answer, and
        the batch handlers run in this loop, so an awaited commit stopped all processing for that long every
        ``broker_commit_every`` messages (the worker was idle a third of a replay). Safe as the interval
        commit is: the offsets are taken when it starts, of messages acknowledged by then, whose sends were
        all handed to the producer before their acknowledgement, and the flush waits for those."""
        if self._commit_every is not None and self._n_acked >= self._commit_every:
            self._n_acked = 0
            if self._commit_fut is None:  # one commit at a time (a running one covers what is acked so far)
                self.add_future(self.commit())

    async def _hand_over_batch(self, tp, messages: list, handler: BatchHandler) -> None:
        """Hand a batch topic's fetched messages of one partition to its handler, ``BATCH_SIZE`` at a time,
        each acknowledged once its slice is handled. A slice is not started while the flow is stopped or after
        a rebalance (the messages leave the unacknowledged set, so the rebalance does not wait for them, and the
        read offset stays: the seek to the committed offsets fetches them again)."""
        read_offsets = self._read_offset
        for start in range(0, len(messages), BATCH_SIZE):
            part = messages[start:start + BATCH_SIZE]
            if self.suspend_flow.is_set() or self._stale(part[0]):
                with ack_lock:
                    self._unacked_messages.difference_update(messages[start:])
                    notify(self._waiting_for_ack)
                return
            await self._maybe_commit()
            records = [Record(message) for message in part]
            try:
                await handler.handle(records)
            except Exception as exc:  # the handlers catch per message; this is the last resort, the loop goes on
                self.log.exception("batch handler failed on %s offsets %s-%s", tp, part[0].offset, part[-1].offset)
                await handler.failed(records, exc)
            finally:
                _current_event.set(None)
            for message in part:
                self.ack(message)
            if not self._stale(part[-1]):
                read_offsets[tp] = part[-1].offset

    def ack(self, message) -> bool:
        """Record that a stream is done with a message; a message of an earlier generation is not recorded (see
        the module docstring) but leaves the unacknowledged set."""
        if self._stale(message):
            with ack_lock:
                message.acked = True
                self._unacked_messages.discard(message)
                notify(self._waiting_for_ack)
            return False
        return super().ack(message)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_handlers: dict[str, BatchHandler] = {}


def install(app) -> Transport:
    """Use this transport for the app's consumer (before anything creates Faust's own)."""
    app.transport = Transport(app.conf.broker_consumer, app)
    return app.transport


def consume_in_batches(app, topic, handle, failed) -> None:
    """Subscribe the app to ``topic`` and hand its messages to ``handle`` in batches (see the module
    docstring) instead of to an agent; ``failed``: see :class:`BatchHandler`. The app's transport must be this
    module's (:func:`install`)."""
    app.topics.add(topic)  # subscribed, assigned and acknowledged like an agent's topic
    for name in topic.topics:
        app.transport.batch_handlers[name] = BatchHandler(handle, failed)
