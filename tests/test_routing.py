"""The router's at-least-once rule: a message delivered again after a crash re-sends what its change implies
(the table write survived in the changelog, the forwards may not have), while a genuine duplicate sends nothing."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson

from agents.routing import Router


def router() -> tuple[Router, dict, list]:
    table: dict = {}
    sent: list = []

    async def send(topic: str, key: bytes, value: bytes, headers: dict):
        sent.append((topic, key.decode(), headers["gp-kind"].decode(), value))

    engine = SimpleNamespace(persons=table, settings=SimpleNamespace(app_id="gp"), send=send)
    ROUTERS.append(Router(engine))
    return ROUTERS[-1], table, sent


ROUTERS: list[Router] = []


def run(coroutine):
    """One message handled: the call, then the agent's flush of the entries it changed."""
    result = asyncio.run(coroutine)
    for r in ROUTERS:
        r.flush()
    return result


def test_a_fact_for_a_linked_person_is_forwarded_once_and_again_only_when_its_own_message_comes_again():
    r, table, sent = router()
    run(r.link("85073012335", "H-1", member=True, origin="src.population:0:1"))
    run(r.fact("85073012335", "e-1", b'{"event_id":"e-1"}', origin="src.tax:0:7"))
    assert ("gp-household-events", "H-1", "fact", b'{"event_id":"e-1"}') in sent

    sent.clear()
    run(r.fact("85073012335", "e-1", b'{"event_id":"e-1"}', origin="src.tax:0:9"))  # a re-send by the source
    assert sent == []

    run(r.fact("85073012335", "e-1", b'{"event_id":"e-1"}', origin="src.tax:0:7"))  # after a crash
    assert sent == [("gp-household-events", "H-1", "fact", b'{"event_id":"e-1"}')]
    assert list(orjson.loads(table["85073012335"])["facts"]) == ["e-1"]  # stored once


def test_a_link_delivered_again_after_a_crash_forwards_the_history_and_tells_the_registries_again():
    r, table, sent = router()
    run(r.fact("20010100186", "e-1", b'{"event_id":"e-1"}', origin="src.education:1:3"))  # waits: no household
    assert sent == []
    run(r.link("20010100186", "H-1", member=True, origin="src.population:1:4"))
    sent.clear()
    run(r.link("20010100186", "H-2", member=True, origin="src.population:1:5"))  # a move
    first = list(sent)
    assert ("gp-household-events", "H-2", "facts", orjson.dumps(['{"event_id":"e-1"}'])) in first
    assert ("gp-person-events", "household:H-1", "members", orjson.dumps({"related": "H-2"})) in first

    sent.clear()
    run(r.link("20010100186", "H-2", member=True, origin="src.population:1:8"))  # the same link again
    assert sent == []

    run(r.link("20010100186", "H-2", member=True, origin="src.population:1:5"))  # its own message, again
    assert sorted(sent) == sorted(first)
    assert orjson.loads(table["20010100186"])["households"] == ["H-1", "H-2"]


def test_a_registry_message_delivered_again_links_the_members_again():
    r, table, sent = router()
    run(r.registry("household:H-1", {"member": "85073012335"}, origin="gp-person-events:0:1"))
    run(r.registry("household:H-1", {"related": "H-2"}, origin="gp-person-events:0:2"))
    assert sent == [("gp-person-events", "85073012335", "link", b"H-2")]
    sent.clear()
    run(r.registry("household:H-1", {"related": "H-2"}, origin="gp-person-events:0:3"))
    assert sent == []
    run(r.registry("household:H-1", {"related": "H-2"}, origin="gp-person-events:0:2"))
    assert sent == [("gp-person-events", "85073012335", "link", b"H-2")]


def test_one_message_that_stores_a_fact_and_links_its_subject_does_both():
    r, table, sent = router()
    registration = b'{"event_id":"e-9","type":"person.registered"}'
    run(r.fact("20010100186", "e-9", registration, origin="src.population:2:11"))
    run(r.link("20010100186", "H-1", member=True, origin="src.population:2:11"))
    entry = orjson.loads(table["20010100186"])
    assert entry["households"] == ["H-1"] and entry["homes"] == ["H-1"]
    sent.clear()
    run(r.fact("20010100186", "e-10", b'{"event_id":"e-10"}', origin="src.tax:2:12"))  # later facts follow
    assert sent == [("gp-household-events", "H-1", "fact", b'{"event_id":"e-10"}')]
