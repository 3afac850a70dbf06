"""streams/reader.py: waiting until the engine is idle."""
from __future__ import annotations

import asyncio

from streams import reader


def test_a_partition_that_cannot_be_read_to_its_end_counts_as_busy_not_as_a_failure(monkeypatch):
    """At 100 000 households a partition the worker kept writing could not be read to its end within the end
    offset check's 10 s; the idle wait then failed the whole replay. It is a busy engine: look again."""
    answers = iter([asyncio.TimeoutError("could not read to the end"), 3, 0, asyncio.TimeoutError("again"), 0, 0])
    seen = []

    async def group_lag(bootstrap, group, topics):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(reader, "group_lag", group_lag)
    asyncio.run(reader.wait_until_idle("127.0.0.1:1", "g", ["t"], interval=0, progress=seen.append))
    assert seen == [3, 0, 0, 0]  # idle only after two quiet checks in a row; the time-outs reset the count
    assert next(answers, None) is None
