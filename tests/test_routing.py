"""The router's at-least-once rule: a message delivered again after a crash re-sends what its change implies
(the table write survived in the changelog, the forwards may not have), while a genuine duplicate sends nothing."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson

from agents.routing import Router


def router(table: dict | None = None, sent: list | None = None) -> tuple[Router, dict, list]:
    """A router over ``table``; called again with the same table and list: the process after a restart (the table
    recovered from its changelog, everything held in memory gone)."""
    table = {} if table is None else table
    sent = [] if sent is None else sent

    async def send(topic: str, key: bytes, value: bytes, headers: dict):
        sent.append((topic, key.decode(), headers["gp-kind"].decode(), value))

    async def write(key: str, value: bytes) -> None:
        table[key] = value

    engine = SimpleNamespace(persons=table, persons_writer=SimpleNamespace(put=write),
                             settings=SimpleNamespace(app_id="gp"), send=send)
    return Router(engine), table, sent


async def handle(router: Router, routing) -> None:
    """One message as a batch of its own, as the handlers do it: the router's call, then the writes of the entries
    it changed."""
    async with router.batch():
        await routing


def run(router: Router, routing) -> None:
    asyncio.run(handle(router, routing))


def test_a_fact_for_a_linked_person_is_forwarded_once_and_again_only_when_its_own_message_comes_again():
    r, table, sent = router()
    run(r, r.link("85073012335", "H-1", member=True, origin="src.population:0:1"))
    run(r, r.fact("85073012335", "e-1", b'{"event_id":"e-1"}', origin="src.tax:0:7"))
    assert ("gp-household-events", "H-1", "fact", b'{"event_id":"e-1"}') in sent

    sent.clear()
    run(r, r.fact("85073012335", "e-1", b'{"event_id":"e-1"}', origin="src.tax:0:9"))  # a re-send by the source
    assert sent == []

    run(r, r.fact("85073012335", "e-1", b'{"event_id":"e-1"}', origin="src.tax:0:7"))  # after a crash
    assert sent == [("gp-household-events", "H-1", "fact", b'{"event_id":"e-1"}')]
    assert list(orjson.loads(table["85073012335"])["facts"]) == ["e-1"]  # stored once


def test_a_link_delivered_again_after_a_crash_forwards_the_history_and_tells_the_related_households_again():
    r, table, sent = router()
    run(r, r.fact("20010100186", "e-1", b'{"event_id":"e-1"}', origin="src.education:1:3"))  # waits: no household
    assert sent == []
    run(r, r.link("20010100186", "H-1", member=True, origin="src.population:1:4"))
    sent.clear()
    run(r, r.link("20010100186", "H-2", member=True, origin="src.population:1:5"))  # a move
    first = list(sent)
    assert ("gp-household-events", "H-2", "facts", orjson.dumps(['{"event_id":"e-1"}'])) in first
    assert ("gp-household-events", "H-1", "related", b"H-2") in first  # the new home and the earlier one
    assert ("gp-household-events", "H-2", "related", b"H-1") in first
    assert not any(topic == "gp-person-events" for topic, *_ in first)  # the new home learns its member itself

    sent.clear()
    run(r, r.link("20010100186", "H-2", member=True, origin="src.population:1:8"))  # the same link again
    assert sent == []

    run(r, r.link("20010100186", "H-2", member=True, origin="src.population:1:5"))  # its own message, again
    assert sorted(sent) == sorted(first)
    assert orjson.loads(table["20010100186"])["households"] == ["H-1", "H-2"]


def test_one_message_that_stores_a_fact_and_links_its_subject_does_both():
    r, table, sent = router()
    registration = b'{"event_id":"e-9","type":"person.registered"}'
    run(r, r.fact("20010100186", "e-9", registration, origin="src.population:2:11"))
    run(r, r.link("20010100186", "H-1", member=True, origin="src.population:2:11"))
    entry = orjson.loads(table["20010100186"])
    assert entry["households"] == ["H-1"] and entry["homes"] == ["H-1"]
    assert [kind for _, _, kind, _ in sent] == ["facts"]  # a first home relates nothing: the history only
    sent.clear()
    run(r, r.fact("20010100186", "e-10", b'{"event_id":"e-10"}', origin="src.tax:2:12"))  # later facts follow
    assert sent == [("gp-household-events", "H-1", "fact", b'{"event_id":"e-10"}')]


def test_a_link_known_to_the_process_is_not_sent_again_and_a_restarted_process_sends_it():
    r, table, sent = router()
    run(r, r.link("85073012335", "H-1", member=True, origin="src.population:0:1"))  # the parent's own registration
    sent.clear()
    run(r, r.send_link("85073012335", "H-1"))  # a child's registration links its parents: made already
    run(r, r.send_link("85073012335", "H-2"))  # a parent living elsewhere: sent, once
    run(r, r.send_link("85073012335", "H-2"))
    run(r, r.send_link("20010100186", "H-2"))
    assert sent == [("gp-person-events", "85073012335", "link", b"H-2"),
                    ("gp-person-events", "20010100186", "link", b"H-2")]
    r, table, sent = router(table, sent)
    sent.clear()
    run(r, r.send_link("85073012335", "H-2"))  # nothing known after a restart: sent (the receiver ignores repeats)
    assert sent == [("gp-person-events", "85073012335", "link", b"H-2")]


def test_known_links_forget_the_oldest_beyond_their_capacity():
    from agents.routing import KnownLinks

    known = KnownLinks(capacity=2)
    for household in ("H-1", "H-2", "H-3"):
        known.add("85073012335", household)
    assert ("85073012335", "H-1") not in known
    assert ("85073012335", "H-2") in known and ("85073012335", "H-3") in known


def test_legacy_siblings_in_one_household_need_no_links_and_one_elsewhere_is_linked_both_ways():
    r, table, sent = router()
    group = "legacy:G-1"
    run(r, r.legacy_member(group, "15010100190", "H-1", origin="gp-person-events:3:1"))
    run(r, r.legacy_member(group, "16020200117", "H-1", origin="gp-person-events:3:2"))
    run(r, r.legacy_member(group, "17030300145", "H-1", origin="gp-person-events:3:3"))
    assert sent == []  # announced in the household they live in: linked there already
    run(r, r.legacy_member(group, "15010100190", "H-2", origin="gp-person-events:3:4"))  # the eldest moved out
    assert sorted(sent) == [("gp-person-events", "16020200117", "link", b"H-2"),
                            ("gp-person-events", "17030300145", "link", b"H-2")]
    r, table, sent = router(table, [])  # the same message after a crash: everything it implies, again
    run(r, r.legacy_member(group, "15010100190", "H-2", origin="gp-person-events:3:4"))
    assert sorted(sent) == [("gp-person-events", "15010100190", "link", b"H-1"),  # once: then it is known
                            ("gp-person-events", "16020200117", "link", b"H-2"),
                            ("gp-person-events", "17030300145", "link", b"H-2")]


def test_messages_of_two_agents_about_one_person_do_not_lose_each_others_change_when_a_send_waits():
    """The ingest agents share the router; a send can wait (the producer's batch is full). A move (a link that
    tells the earlier home about the new one, waiting in that send) and a tax fact for the same person, handled
    at the same time: both end up in the person's entry, and the fact reaches the new home."""
    table, sent, waiting = {}, [], []

    async def send(topic: str, key: bytes, value: bytes, headers: dict):
        sent.append((topic, key.decode(), headers["gp-kind"].decode(), value))
        if headers["gp-kind"] == b"related" and not waiting:
            waiting.append(True)
            await asyncio.sleep(0.01)  # the batch is full: the other agent's message runs meanwhile

    async def write(key: str, value: bytes) -> None:
        table[key] = value

    r = Router(SimpleNamespace(persons=table, persons_writer=SimpleNamespace(put=write),
                               settings=SimpleNamespace(app_id="gp"), send=send))
    run(r, r.link("85073012335", "H-1", member=True, origin="src.population:0:1"))

    async def two_agents():
        move = asyncio.create_task(handle(r, r.link("85073012335", "H-2", member=True, origin="src.population:0:2")))
        await asyncio.sleep(0)  # the move waits in its send
        await handle(r, r.fact("85073012335", "e-tax", b'{"event_id":"e-tax"}', origin="src.tax:0:3"))
        await move

    asyncio.run(two_agents())
    entry = orjson.loads(table["85073012335"])
    assert entry["households"] == ["H-1", "H-2"] and list(entry["facts"]) == ["e-tax"]
    assert ("gp-household-events", "H-2", "fact", b'{"event_id":"e-tax"}') in sent
