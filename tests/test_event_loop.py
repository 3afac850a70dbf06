"""The worker's event loop setting (``GROEIPAKKET_EVENT_LOOP``): uvloop by default, asyncio's own on request."""
import asyncio

import pytest

from cli.engine_commands import use_event_loop
from config.settings import Settings


@pytest.fixture(autouse=True)
def restore_policy():
    yield
    asyncio.set_event_loop_policy(None)


def test_the_default_loop_is_uvloop_for_every_loop_created_afterwards():
    uvloop = pytest.importorskip("uvloop")
    assert Settings().event_loop == "uvloop"

    assert use_event_loop("uvloop") == "uvloop"

    loop = asyncio.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_asyncio_can_be_chosen_and_an_unknown_loop_is_refused(monkeypatch):
    monkeypatch.setenv("GROEIPAKKET_EVENT_LOOP", "asyncio")
    assert Settings().event_loop == "asyncio"
    use_event_loop("uvloop")

    assert use_event_loop(Settings().event_loop) == "asyncio"

    loop = asyncio.new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()
    monkeypatch.setenv("GROEIPAKKET_EVENT_LOOP", "trio")
    with pytest.raises(ValueError):
        Settings()
