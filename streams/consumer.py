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

Installed on the engine's app by :func:`install` (``app.transport``); production and the embedded broker alike.
The naive pipeline of the benchmarks keeps Faust's own consumer: it is the baseline.
"""
from __future__ import annotations

import asyncio

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

YIELD_EVERY = 100  # messages handed over between two yields to the event loop (as Faust's loop)


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
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                fetched = getmany(timeout=1.0)
                await self.sleep(0)  # getmany can return at once again and again: let the loop run
                if not self.should_stop:
                    async for tp, message in fetched:
                        since_yield += 1
                        if since_yield > YIELD_EVERY:
                            await asyncio.sleep(0)
                            since_yield = 0
                        if flow_stopped() or self._stale(message):
                            continue  # fetched again after the rebalance's seek to the committed offsets
                        offset, read_offset = message.offset, read_offsets[tp]
                        if read_offset is not None and offset < read_offset:
                            continue  # read before (Faust drops it too)
                        if read_offset and offset - read_offset > 1 and acks_enabled_for(message.topic):
                            await self._add_gap(tp, read_offset + 1, offset)
                        if self._commit_every is not None and self._n_acked >= self._commit_every:
                            self._n_acked = 0
                            await self.commit()
                        await callback(message)
                        if not self._stale(message):
                            read_offsets[tp] = offset
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


def install(app) -> None:
    """Use this transport for the app's consumer (before anything creates Faust's own)."""
    app.transport = Transport(app.conf.broker_consumer, app)
