"""The explanation API (agents/web.py) without Kafka: the token check, the documents and the view handlers on a
real Faust view with aiohttp requests."""
from __future__ import annotations

import asyncio
import json

import faust
import orjson
import pytest
from aiohttp.test_utils import make_mocked_request
from pydantic import ValidationError

from agents.web import authorized, entitlements_document, household_document, make_handlers, require_token
from config.settings import Settings
from rules.periods import parse_period
from streams.events import decode_event
from streams.identifiers import mask
from tables.household import HouseholdState
from tables.settlement import regular_run
from tests.builders import Scenario

TOKEN = "s3cret-token-for-tests-0123"
HOUSEHOLD = "H-API0001"


def household() -> tuple[HouseholdState, dict]:
    s = Scenario(HOUSEHOLD)
    mother = s.parent("1990-03-01")
    father = s.parent("1988-11-20")
    child = s.child("2021-04-04", [mother, father])
    older = s.child("2012-02-02", [mother, father], since="2015-01-01")
    s.tax(mother, 2022, 18000)
    s.bank_account(mother)
    s.payer("KIDSLIFE", "2024-01", household=HOUSEHOLD)
    state = HouseholdState(HOUSEHOLD)
    for raw in s.events:
        data = orjson.dumps(raw)
        state.add_fact(decode_event(data), data)
    for period in ("2024-01", "2024-02"):
        regular_run(state, parse_period(period))
    ids = {"mother": mother, "father": father, "child": child, "older": older,
           "iban": next(e["data"]["iban"] for e in s.events if e["type"] == "bank_account.registered")}
    return state, ids


def assert_no_personal_data(document, ids: dict) -> None:
    text = json.dumps(document)
    for name, value in ids.items():
        assert value not in text, f"{name} in clear in {text[:300]}"


# --- authentication -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, ok", [
    (f"Bearer {TOKEN}", True), (f"bearer {TOKEN}", True), (f"Bearer  {TOKEN} ", True),
    (None, False), ("", False), ("Bearer", False), ("Bearer ", False), (TOKEN, False),
    (f"Basic {TOKEN}", False), (f"Bearer {TOKEN}x", False), (f"Bearer {TOKEN[:-1]}", False),
    (f"Bearer {TOKEN.upper()}", False),
])
def test_bearer_token_check(header, ok):
    assert authorized(header, TOKEN) is ok


def test_an_empty_configured_token_never_authorizes():
    assert not authorized("Bearer ", "") and not authorized("Bearer x", "")


def test_settings_refuse_the_api_without_a_sufficient_token():
    assert Settings().api_enabled is False
    with pytest.raises(ValidationError, match="GROEIPAKKET_API_TOKEN"):
        Settings(api_enabled=True)
    with pytest.raises(ValidationError, match="GROEIPAKKET_API_TOKEN") as error:
        Settings(api_enabled=True, api_token="too-short")
    assert "too-short" not in str(error.value)  # a rejected token is not echoed into a log
    settings = Settings(api_enabled=True, api_token=TOKEN)
    assert settings.api_token.get_secret_value() == TOKEN and TOKEN not in repr(settings)


def test_settings_read_the_api_environment(monkeypatch):
    monkeypatch.setenv("GROEIPAKKET_API_ENABLED", "1")
    monkeypatch.setenv("GROEIPAKKET_API_TOKEN", TOKEN)
    settings = Settings()
    assert settings.api_enabled and settings.api_token.get_secret_value() == TOKEN


# --- documents ----------------------------------------------------------------------------------------------

def test_household_document_summarises_state_and_ledger_without_personal_data():
    state, ids = household()
    document = household_document(state)
    assert document["household_id"] == HOUSEHOLD
    assert sorted(m["person"] for m in document["members"]) == sorted(
        mask(ids[k]) for k in ("mother", "father", "child", "older"))
    roles = {m["person"]: m["role"] for m in document["members"]}
    assert roles[mask(ids["mother"])] == "parent" and roles[mask(ids["child"])] == "child"
    assert len({m["ref"] for m in document["members"]}) == 4
    assert document["payer"] == "KIDSLIFE" and document["payer_for_period"] == "2024-02"
    assert document["closed_periods"] == ["2024-01", "2024-02"]
    assert document["receiver"] == mask(ids["mother"]) and document["payment_method"] == "transfer"
    periods = document["ledger"]["periods"]
    assert set(periods) == {"2024-01", "2024-02"}
    assert document["ledger"]["total_cents"] == state.ledger.total() > 0
    assert sum(p["total_cents"] for p in periods.values()) == state.ledger.total()
    assert periods["2024-02"]["components"]["basic"] == sum(
        cents for (_c, component, month), cents in state.ledger.items()
        if component == "basic" and month == parse_period("2024-02"))
    assert document["outbox"] == len(state.outbox) == 2
    assert_no_personal_data(document, ids)


def test_entitlements_document_gives_the_calculators_amounts_with_their_derivation():
    state, ids = household()
    month = parse_period("2024-02")
    document = entitlements_document(state, month)
    expected = state.calculator().household_entitlements(HOUSEHOLD, month)
    assert document["total_cents"] == sum(line.amount_cents for line in expected) > 0
    assert sorted((l["component"], l["amount_cents"]) for l in document["lines"]) == sorted(
        (l.component, l.amount_cents) for l in expected)
    assert document["instructed_cents"] == document["total_cents"]  # the regular run paid exactly that
    assert all(l["instructed_cents"] == l["amount_cents"] for l in document["lines"])
    line = next(l for l in document["lines"] if l["component"] == "basic")
    assert line["rule"] and line["legal_reference"] and line["parameters"] and line["source_events"]
    assert line["child"] in (mask(ids["child"]), mask(ids["older"]))
    assert {c["child"] for c in document["children"]} == {mask(ids["child"]), mask(ids["older"])}
    assert all(c["entitled"] for c in document["children"])
    assert document["period_closed_for_household"]
    later = entitlements_document(state, parse_period("2024-03"))
    assert later["instructed_cents"] == 0 and not later["period_closed_for_household"]
    assert_no_personal_data(document, ids)


# --- view handlers ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def view():
    app = faust.App("gp-web-unit", web_enabled=True, autodiscover=False)
    return faust.web.View(app, app.web)


def call(handler, view, path: str, headers: dict | None = None, **match_info):
    request = make_mocked_request("GET", path, headers=headers or {}, match_info=match_info)
    response = asyncio.run(handler(view, request, **match_info))
    return response.status, json.loads(response.body)


def handlers(state: HouseholdState | None, ready: bool = True, audits: dict | None = None):
    async def find(instruction_id):
        return (audits or {}).get(instruction_id)

    return make_handlers(lambda hid: state if state is not None and hid == state.household_id else None,
                         lambda: ready, find)


def test_household_and_entitlement_views(view):
    state, ids = household()
    h = handlers(state)
    status, body = call(h["household"], view, f"/households/{HOUSEHOLD}", household_id=HOUSEHOLD)
    assert status == 200 and body["ledger"]["total_cents"] == state.ledger.total()
    status, body = call(h["entitlements"], view, f"/households/{HOUSEHOLD}/entitlements?period=2024-02",
                        household_id=HOUSEHOLD)
    assert status == 200 and body["period"] == "2024-02" and body["lines"]
    assert call(h["household"], view, "/households/H-OTHER", household_id="H-OTHER")[0] == 404
    assert call(h["household"], view, "/households/__closed__:0", household_id="__closed__:0")[0] == 400
    for query in ("", "?period=2024-13", "?period=24-01"):
        assert call(h["entitlements"], view, f"/households/{HOUSEHOLD}/entitlements{query}",
                    household_id=HOUSEHOLD)[0] == 400
    recovering = handlers(state, ready=False)
    assert call(recovering["household"], view, f"/households/{HOUSEHOLD}", household_id=HOUSEHOLD)[0] == 503


def test_explain_view(view):
    state, ids = household()
    instruction, audit = state.outbox[0]["instruction"], state.outbox[0]["audit"]
    h = handlers(state, audits={instruction["instruction_id"]: audit})
    status, body = call(h["explain"], view, "/x", instruction_id=instruction["instruction_id"])
    assert status == 200 and body["trace"]["trace_id"] == instruction["trace_id"]
    assert len(body["trace"]["lines"]) == len(instruction["lines"])
    assert "rule:" in body["text"] and instruction["instruction_id"] in body["text"]
    assert_no_personal_data(body, ids)
    assert call(h["explain"], view, "/x", instruction_id="kidslife-" + "0" * 32)[0] == 404
    assert call(h["explain"], view, "/x", instruction_id="../etc")[0] == 400


def test_the_guard_answers_401_before_the_handler_runs(view):
    calls = []

    async def handler(view, request, **kwargs):
        calls.append(kwargs)
        return view.json({"ok": True})

    guarded = require_token(TOKEN)(handler)
    status, body = call(guarded, view, "/households/H1", household_id="H1")
    assert status == 401 and "error" in body and calls == []
    request = make_mocked_request("GET", "/households/H1", headers={"Authorization": "Bearer wrong"})
    response = asyncio.run(guarded(view, request, household_id="H1"))
    assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    status, body = call(guarded, view, "/households/H1", {"Authorization": f"Bearer {TOKEN}"}, household_id="H1")
    assert status == 200 and calls == [{"household_id": "H1"}]


ROUTES = """
import tempfile
from agents.engine import build_engine
from config.settings import Settings
engine = build_engine(Settings(data_dir=tempfile.mkdtemp()), embedded=True)
print(sorted({str(r.resource.canonical) for r in engine.app.web.web_app.router.routes() if r.resource}))
"""


@pytest.mark.parametrize("enabled", [False, True])
def test_build_engine_registers_the_api_only_when_enabled(enabled):
    import ast
    import os

    from tests.engine_process import engine_printout

    env = {**os.environ, "GROEIPAKKET_API_ENABLED": "1" if enabled else "0", "GROEIPAKKET_API_TOKEN": TOKEN}
    routes = ast.literal_eval(engine_printout(ROUTES, env=env))
    api = ["/households/{household_id}", "/households/{household_id}/entitlements",
           "/instructions/{instruction_id}/explain"]
    assert "/metrics" in routes
    assert all((path in routes) is enabled for path in api), routes
