"""The explanation API on a real worker (embedded broker): token required, household ledger, entitlements and the
trace of an instruction read from a payer topic."""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import orjson
import pytest

from cli.engine_commands import prepare_topics, produce_file, publish_close
from cli.runtime import WorkerProcess, read_payments, wait_for, wait_idle
from config.settings import load_settings
from streams import topics as names
from streams.broker import ensure_topics, free_port
from streams.identifiers import mask
from tests.builders import Scenario

pytestmark = pytest.mark.integration
TOKEN = "integration-test-token-5f1c9a"


def get(port: int, path: str, token: str | None = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:  # aiohttp's own plain-text 404 for paths without a view
            return error.code, {"text": body.decode(errors="replace")}


def metrics_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_api_requires_the_token_and_explains_households_and_instructions(broker, tmp_path):
    settings = load_settings(kafka_bootstrap=broker.bootstrap)
    ensure_topics(broker.bootstrap, {names.EMBEDDED_MARKER_TOPIC: 1})
    asyncio.run(prepare_topics(settings, embedded=True))
    s = Scenario("H-API0001")
    mother = s.parent("1989-05-05")
    child = s.child("2020-03-03", [mother])
    s.tax(mother, 2022, 21000)
    iban = s.bank_account(mother)
    s.payer("INFINO", "2024-01")
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in s.events))

    port = free_port()
    worker = WorkerProcess(broker.bootstrap, tmp_path / "w1", port, env={
        "GROEIPAKKET_API_ENABLED": "1", "GROEIPAKKET_API_TOKEN": TOKEN, "GROEIPAKKET_BROKER_KIND": "embedded"}).start()
    try:
        asyncio.run(produce_file(broker.bootstrap, events, report=lambda _m: None))
        wait_idle(broker.bootstrap, timeout=60)
        asyncio.run(publish_close(broker.bootstrap, "2024-01"))
        wait_idle(broker.bootstrap, timeout=60)
        assert wait_for(lambda: metrics_up(port), timeout=30), worker.log_tail()

        assert get(port, "/households/H-API0001", token=None)[0] == 401
        assert get(port, "/households/H-API0001", token="wrong-token")[0] == 401
        assert get(port, "/instructions/infino-" + "0" * 32 + "/explain", token=None)[0] == 401
        assert metrics_up(port)  # /metrics stays open for Prometheus
        for raw_dump in ("/table/households/", "/table/households/H-API0001/"):
            assert get(port, raw_dump, token=None)[0] == 404  # Faust's raw table views are off

        instructions = [orjson.loads(r.value) for r in read_payments(broker.bootstrap)]
        assert instructions and {i["payer"] for i in instructions} == {"INFINO"}
        regular = instructions[0]

        status, household = get(port, "/households/H-API0001")
        assert status == 200, household
        assert 0 <= household["outbox"] <= len(instructions)  # acknowledged entries leave on the next message
        assert household["closed_periods"] == ["2024-01"] and household["payer"] == "INFINO"
        ledger = household["ledger"]
        assert ledger["total_cents"] == sum(i["total_cents"] for i in instructions) > 0
        assert ledger["periods"]["2024-01"]["components"]["basic"] == sum(
            line["amount_cents"] for i in instructions for line in i["lines"] if line["component"] == "basic")
        assert {m["person"] for m in household["members"]} == {mask(mother), mask(child)}

        status, entitlements = get(port, "/households/H-API0001/entitlements?period=2024-01")
        assert status == 200, entitlements
        assert entitlements["total_cents"] == ledger["total_cents"] == entitlements["instructed_cents"]
        assert {line["component"] for line in entitlements["lines"]} >= {"basic"}
        assert all(line["rule"] and line["parameters"] for line in entitlements["lines"])
        assert get(port, "/households/H-NOBODY")[0] == 404

        status, explained = get(port, f"/instructions/{regular['instruction_id']}/explain")
        assert status == 200, explained
        trace = explained["trace"]
        assert trace["trace_id"] == regular["trace_id"] and trace["household_id"] == "H-API0001"
        assert [(l["component"], l["amount_cents"]) for l in trace["lines"]] == [
            (l["component"], l["amount_cents"]) for l in regular["lines"]]
        assert "rule:" in explained["text"]
        for body in (household, entitlements, explained):
            text = json.dumps(body)
            assert mother not in text and child not in text and iban not in text
    finally:
        log = worker.log_tail(20000)
        worker.stop()
    assert TOKEN not in log
