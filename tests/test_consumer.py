"""streams.consumer: fetched messages are handed over directly, in order; a message fetched while the flow is
stopped or in an earlier consumer generation is not handed over and does not move the read offset; an
acknowledgement of a message from an earlier generation is not recorded (it would let a commit pass the
message before its new delivery is processed)."""
import asyncio
from types import SimpleNamespace

import faust
from faust.types import TP
from faust.types.tuples import Message

from streams import consumer as fast_consumer

TOPIC = "src.tax"
PARTITION = TP(TOPIC, 0)


def message(offset: int, generation: int) -> Message:
    return Message(TOPIC, 0, offset, 0.0, 0, None, b"k", b"v", None, None, None, tp=PARTITION,
                   generation_id=generation)


def engine_consumer():
    app = faust.App("test-consumer", broker="kafka://127.0.0.1:1", autodiscover=False, web_enabled=False)
    fast_consumer.install(app)
    app.topics.acking_topics.add(TOPIC)  # an agent's topic: its acknowledgements are recorded
    return app, app.consumer


def drain(consumer, fetched: list[Message], on_message=None) -> list[int]:
    """Run the consumer's fetch loop over one fetch of ``fetched``; returns the offsets handed over, in order.
    ``on_message(message)`` runs while a message is handed over (a rebalance can happen then)."""
    handed: list[int] = []

    async def scenario():
        fetcher = SimpleNamespace(_stopped=asyncio.Event())
        fetches = iter([fetched])

        async def getmany(timeout: float):
            batch = next(fetches, None)
            if batch is None:
                fetcher._stopped.set()
                return
            for item in batch:
                yield PARTITION, item

        async def callback(item: Message) -> None:
            handed.append(item.offset)
            if on_message is not None:
                on_message(item)

        consumer.getmany, consumer.callback = getmany, callback
        await consumer._drain_messages(fetcher)

    asyncio.run(scenario())
    return handed


def test_messages_are_handed_over_in_order_and_move_the_read_offset():
    app, consumer = engine_consumer()
    assert isinstance(consumer, fast_consumer.Consumer)
    assert drain(consumer, [message(offset, 0) for offset in range(5)]) == [0, 1, 2, 3, 4]
    assert consumer._read_offset[PARTITION] == 4


def test_a_message_read_before_is_not_handed_over_again():
    app, consumer = engine_consumer()
    consumer._read_offset[PARTITION] = 3
    assert drain(consumer, [message(offset, 0) for offset in range(2, 6)]) == [3, 4, 5]


def test_messages_of_an_earlier_generation_are_left_for_the_seek():
    app, consumer = engine_consumer()
    app.consumer_generation_id = 7
    assert drain(consumer, [message(0, 6), message(1, 6), message(2, 7)]) == [2]
    assert consumer._read_offset[PARTITION] == 2


def test_nothing_is_handed_over_while_the_flow_is_stopped():
    app, consumer = engine_consumer()
    consumer.stop_flow()
    assert drain(consumer, [message(offset, 0) for offset in range(3)]) == []
    assert consumer._read_offset[PARTITION] is None


def test_a_rebalance_during_a_hand_over_leaves_the_rest_of_the_fetch_and_the_read_offset():
    app, consumer = engine_consumer()

    def rebalance_at_offset_1(item: Message) -> None:
        if item.offset == 1:
            app.consumer_generation_id = 1

    assert drain(consumer, [message(offset, 0) for offset in range(4)], rebalance_at_offset_1) == [0, 1]
    assert consumer._read_offset[PARTITION] == 0  # offset 1 is fetched again after the seek


def test_an_acknowledgement_from_an_earlier_generation_is_not_recorded():
    app, consumer = engine_consumer()
    current, stale = message(10, 3), message(11, 2)
    app.consumer_generation_id = 3
    for item in (current, stale):
        consumer.track_message(item)
    assert consumer.ack(current) is True
    assert consumer.ack(stale) is False
    assert stale.acked and stale not in consumer.unacked  # a later rebalance does not wait for it
    assert consumer._acked[PARTITION] == [10]  # a commit cannot pass offset 11 before it is processed again


# --- batch topics (streams.consumer.consume_in_batches) -----------------------------------------------------------

def batch_drain(consumer, fetched: list[Message], on_batch=None) -> list[list[int]]:
    """The fetch loop over one fetch of a batch topic; returns the offsets of each batch handed over.
    ``on_batch(records)`` runs inside the handler (a rebalance can happen then)."""
    batches: list[list[int]] = []

    async def handler(records) -> None:
        batches.append([record.message.offset for record in records])
        for record in records:
            fast_consumer.current(record)
            assert faust.current_event() is record  # tables read and write the record's partition
        if on_batch is not None:
            on_batch(records)

    async def failed(records, exc) -> None:
        failures.append(([record.message.offset for record in records], str(exc)))

    failures = []
    consumer.transport.batch_handlers[TOPIC] = fast_consumer.BatchHandler(handler, failed)
    assert drain(consumer, fetched) == []  # nothing goes to the agents' conductor
    assert faust.current_event() is None
    return batches, failures


def test_a_batch_topic_is_handed_over_in_slices_in_order_and_acknowledged(monkeypatch):
    monkeypatch.setattr(fast_consumer, "BATCH_SIZE", 3)
    app, consumer = engine_consumer()
    assert batch_drain(consumer, [message(offset, 0) for offset in range(7)]) == ([[0, 1, 2], [3, 4, 5], [6]], [])
    assert consumer._acked[PARTITION] == list(range(7))  # a commit may pass them all
    assert not consumer.unacked
    assert consumer._read_offset[PARTITION] == 6


def test_a_rebalance_during_a_batch_leaves_the_next_slices_unacknowledged_for_the_seek(monkeypatch):
    monkeypatch.setattr(fast_consumer, "BATCH_SIZE", 2)
    app, consumer = engine_consumer()

    def rebalance(records) -> None:
        app.consumer_generation_id = 1

    assert batch_drain(consumer, [message(offset, 0) for offset in range(5)], rebalance) == ([[0, 1]], [])
    assert consumer._acked[PARTITION] == []  # the slice in hand was of the earlier generation: processed again
    assert not consumer.unacked  # the rebalance (wait_empty) does not wait for the slices never started
    assert consumer._read_offset[PARTITION] is None  # the seek fetches them again


def test_a_batch_handler_that_raises_reports_its_slice_and_the_loop_goes_on(monkeypatch):
    monkeypatch.setattr(fast_consumer, "BATCH_SIZE", 2)
    app, consumer = engine_consumer()

    def fail_on_the_first(records) -> None:
        if records[0].message.offset == 0:
            raise RuntimeError("a bug")

    batches, failures = batch_drain(consumer, [message(offset, 0) for offset in range(4)], fail_on_the_first)
    assert batches == [[0, 1], [2, 3]]
    assert failures == [([0, 1], "a bug")]  # the engine sends them to the DLQ (agents.engine.refuse_batch)
    assert consumer._acked[PARTITION] == [0, 1, 2, 3]


def test_a_commit_every_n_acknowledgements_runs_beside_the_loop_one_at_a_time():
    """A commit waits for the producer's lingering batches and the broker: the loop must not wait for it (the
    batch handlers run in it). Once ``broker_commit_every`` messages are acknowledged a commit starts in the
    background; while it runs, no second one is started."""
    app, consumer = engine_consumer()
    consumer._commit_every = 2
    started, release = [], None

    async def scenario():
        nonlocal release
        release = asyncio.Event()
        consumer.loop = asyncio.get_running_loop()  # (the worker's consumer runs on the worker's loop)

        async def commit(*args, **kwargs):
            consumer._commit_fut = asyncio.get_running_loop().create_future()
            started.append(consumer._n_acked)
            await release.wait()
            consumer._commit_fut = None
            return True

        consumer.commit = commit

        async def settle():
            for _ in range(5):
                await asyncio.sleep(0)

        consumer._n_acked = 2
        await asyncio.wait_for(consumer._maybe_commit(), timeout=1)  # returns although the commit hangs
        await settle()
        assert started == [0] and consumer._commit_fut is not None
        consumer._n_acked = 2
        await consumer._maybe_commit()  # one is running: not a second one
        await settle()
        assert started == [0]
        release.set()
        await asyncio.sleep(0.01)
        consumer._n_acked = 1
        await consumer._maybe_commit()  # below the count: none
        await settle()
        assert started == [0] and consumer._commit_fut is None

    asyncio.run(scenario())
