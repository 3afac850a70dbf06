"""Periods agent: turns a ``period.closed`` on ``control.periods`` into one close marker per partition of the
household-events topic, so that every partition's households get their regular run inside stream iteration
(table writes are only possible there). Periods are closed in order; closing a period twice is harmless (the
households agent skips households whose regular run of that period is done). An invalid close goes to the DLQ.
"""
from __future__ import annotations

import logging

from agents.engine import CLOSE, Engine, refuse
from rules.periods import period_text
from streams import topics as names
from streams.events import parse_period_close

log = logging.getLogger("groeipakket.periods")


def register(engine: Engine) -> None:
    household_events = engine.topic(names.household_events_topic(engine.settings.app_id))
    dlq = engine.topic(names.DLQ_TOPIC)

    @engine.app.agent(engine.topic(names.CONTROL_TOPIC), name="periods", concurrency=1)
    async def periods(stream):
        async for record in stream.events():
            try:
                period = parse_period_close(record.value)
            except Exception as exc:
                await refuse(dlq, record, "invalid_close", str(exc)[:200])
                continue
            for partition in range(engine.settings.partitions):
                await household_events.send(key=b"__close__", value=period_text(period).encode(),
                                            partition=partition, headers={"gp-kind": CLOSE})
            log.warning("period %s close sent to %d partitions", period_text(period), engine.settings.partitions)
