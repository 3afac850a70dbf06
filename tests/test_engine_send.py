"""Engine.send: messages go straight through the app's producer, and a failed delivery is still counted in the
metric behind the producer-errors alert."""
import asyncio
from types import SimpleNamespace

from agents.engine import Engine


class Monitor:
    def __init__(self):
        self.errors = []

    def time(self) -> float:
        return 12.5

    def on_send_error(self, producer, exc, state) -> None:
        self.errors.append((type(exc).__name__, state))


def test_a_failed_delivery_is_counted_and_a_good_one_is_not():
    async def scenario():
        loop = asyncio.get_running_loop()
        deliveries = [loop.create_future(), loop.create_future()]
        sent = []

        class Producer:
            async def send(self, topic, key, value, partition, timestamp, headers):
                sent.append((topic, key, value, partition, headers))
                return deliveries[len(sent) - 1]

        monitor = Monitor()
        engine = Engine(settings=None, embedded=True, app=SimpleNamespace(monitor=monitor, producer=Producer()))
        first = await engine.send("payments.fons", b"H-1", b"{}")
        second = await engine.send("gp-household-events", b"H-2", b"{}", {"gp-kind": b"fact"})
        first.set_result("metadata")
        second.set_exception(ConnectionError("broker gone"))
        await asyncio.sleep(0)
        return sent, monitor.errors

    sent, errors = asyncio.run(scenario())
    assert sent == [("payments.fons", b"H-1", b"{}", None, None),
                    ("gp-household-events", b"H-2", b"{}", None, {"gp-kind": b"fact"})]
    assert errors == [("ConnectionError", 12.5)]
