"""Explanation API on the workers' Faust web server (off unless ``GROEIPAKKET_API_ENABLED``).

- ``GET /households/{id}``: the household's state and ledger summary: members (masked), payer, the periods whose
  regular run was made, what was instructed per period and component, and the outbox size;
- ``GET /households/{id}/entitlements?period=YYYY-MM``: what the pure calculator gives that household for that
  month from the facts in its state, each amount with its derivation (rule, legal reference, parameters, inputs,
  source events), next to what the ledger holds as instructed;
- ``GET /instructions/{id}/explain``: the audit trace of a payment instruction (or a trace id) from the audit
  topic, as ``groeipakket explain`` prints it.

The household views are routed to the worker that holds the household (``app.table_route``: a worker that does
not own the key proxies the request, headers included, to the one that does). Every view needs
``Authorization: Bearer <GROEIPAKKET_API_TOKEN>`` (constant-time comparison), checked before any routing; the
answer to a missing or wrong token is 401. ``/metrics`` is registered elsewhere and stays open; Faust's raw
``/table`` views stay disabled. The views only read the households table. Responses carry no INSZ or IBAN in
clear: they go through :func:`streams.identifiers.redact` (persons also get a stable pseudonym to tell them
apart).
"""
from __future__ import annotations

import hmac
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import wraps

from agents.state_table import HouseholdTable
from rules import payment
from rules.calculator import COMPONENTS
from rules.parameters import default_parameters
from rules.periods import parse_period, period_text
from streams.identifiers import is_valid_household_id, mask, pseudonym, redact
from tables.household import HouseholdState
from tables.settlement import settle_implied_runs

INSTRUCTION_ID = re.compile(r"^[a-z]{2,16}-[0-9a-f]{32}$")  # "<payer>-<hash>" or "trace-<hash>"
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="groeipakket"'}


def authorized(header: str | None, token: str) -> bool:
    """True when the Authorization header is ``Bearer <token>``; the comparison takes constant time."""
    scheme, _, provided = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        hmac.compare_digest(b"", token.encode())  # same work on every path
        return False
    return hmac.compare_digest(provided.strip().encode(), token.encode())


def require_token(token: str):
    """Decorator for view handlers ``(view, request, **match_info)``: 401 unless the bearer token matches."""
    def decorate(handler):
        @wraps(handler)
        async def guarded(view, request, *args, **kwargs):
            if not authorized(request.headers.get("Authorization"), token):
                return view.json({"error": "missing or invalid bearer token"}, status=401,
                                 headers=dict(UNAUTHORIZED_HEADERS))
            return await handler(view, request, *args, **kwargs)
        return guarded
    return decorate


# --- documents (pure: household state in, JSON-ready data out) ----------------------------------------------

def _reference_month(state: HouseholdState, calc) -> int | None:
    """The month the household's payer is shown for: its latest regular run, else its latest payer choice."""
    if state.regular_done:
        return max(state.regular_done)
    file = calc.situation.households.get(state.household_id)
    return max((start for start, _, _ in file.payers), default=None) if file else None


def _member(person, household_id: str) -> dict:
    here = [m for m in person.memberships if m.household == household_id]
    placed = [p for p in person.placements if p.household == household_id]
    role = here[-1].role if here else ("foster child" if placed else None)
    current = bool(person.memberships) and person.memberships[-1].household == household_id
    return {"person": mask(person.insz), "ref": pseudonym(person.insz), "role": role,
            "current_member": current or any(p.end.year == 9999 for p in placed),
            "deceased": person.died_on is not None}


def household_document(state: HouseholdState, parameters=None) -> dict:
    calc = state.calculator(parameters or default_parameters())
    household_id = state.household_id
    members = calc.members(household_id)
    member_ids = {person.insz for person in members}
    periods: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (_child, component, month), cents in state.ledger.items():
        periods[period_text(month)][component] += cents
    ledger = {period: {"total_cents": sum(by_component.values()),
                       "components": {c: by_component[c] for c in COMPONENTS if c in by_component}}
              for period, by_component in sorted(periods.items())}
    file = calc.situation.households.get(household_id)
    reference = _reference_month(state, calc)
    details = payment.payment_details(calc, household_id, reference) if reference is not None else None
    document = {
        "household_id": household_id,
        "members": [_member(person, household_id) for person in members],
        "linked_persons": len(state.facts.subjects() - member_ids - {household_id}),
        "facts": len(state.facts),
        "payer": details.payer if details else "FONS",
        "payer_for_period": period_text(reference) if reference is not None else None,
        "payer_choices": [{"from": period_text(start), "payer": payer} for start, payer, _ in file.payers]
        if file else [],
        "receiver": mask(details.receiver) if details else None,
        "payment_method": details.method if details else None,
        "closed_periods": [period_text(month) for month in sorted(state.regular_done)],
        "ledger": {"total_cents": state.ledger.total(), "periods": ledger},
        "outbox": len(state.outbox),
    }
    return redact(document)


def entitlements_document(state: HouseholdState, month: int, parameters=None) -> dict:
    calc = state.calculator(parameters or default_parameters())
    household_id = state.household_id
    lines = sorted(calc.household_entitlements(household_id, month),
                   key=lambda line: (line.child, COMPONENTS.index(line.component)))
    explained = []
    for line in lines:
        explanation = line.explanation()
        explanation["child_ref"] = pseudonym(line.child)
        explanation["instructed_cents"] = state.ledger.instructed(line.child, line.component, month)
        explained.append(explanation)
    children = []
    for child, _source in calc.household_month(household_id, month).children:
        decision = calc.entitlement(child, month)
        children.append({"child": mask(child.insz), "child_ref": pseudonym(child.insz),
                         "entitled": decision.entitled, "basis": decision.basis})
    instructed = sum(state.ledger.entries_for({month}).values())
    return redact({
        "household_id": household_id, "period": period_text(month),
        "parameters_version": calc.params.fingerprint(),
        "total_cents": sum(line.amount_cents for line in lines), "instructed_cents": instructed,
        "period_closed_for_household": month in state.regular_done,
        "children": children, "lines": explained,
    })


def explain_document(audit: dict) -> dict:
    from cli.explain import render_audit

    return {"instruction_id": audit["instruction_id"], "trace": redact(audit), "text": render_audit(audit)}


# --- views --------------------------------------------------------------------------------------------------

def make_handlers(read_state: Callable[[str], HouseholdState | None], ready: Callable[[], bool],
                  find_audit: Callable[[str], Awaitable[dict | None]], parameters=None) -> dict:
    """The view handlers ``(view, request, **match_info)``, without routing or authentication (see register)."""

    def household_or_error(view, household_id: str):
        if not is_valid_household_id(household_id):
            return None, view.json({"error": "not a household id"}, status=400)
        if not ready():
            return None, view.json({"error": "tables are recovering, try again"}, status=503)
        state = read_state(household_id)
        if state is None:
            return None, view.json({"error": "household not known on this worker"}, status=404)
        return state, None

    async def household(view, request, household_id: str):
        state, error = household_or_error(view, household_id)
        return error or view.json(household_document(state, parameters))

    async def entitlements(view, request, household_id: str):
        try:
            month = parse_period(request.query.get("period", ""))
        except ValueError:
            return view.json({"error": "query parameter period=YYYY-MM required"}, status=400)
        state, error = household_or_error(view, household_id)
        return error or view.json(entitlements_document(state, month, parameters))

    async def explain(view, request, instruction_id: str):
        if not INSTRUCTION_ID.match(instruction_id):
            return view.json({"error": "not an instruction or trace id"}, status=400)
        audit = await find_audit(instruction_id)
        if audit is None:
            return view.json({"error": "no trace for this instruction"}, status=404)
        return view.json(explain_document(audit))

    return {"household": household, "entitlements": entitlements, "explain": explain}


def register(engine) -> bool:
    """Add the API views to the engine's app when enabled; True when registered."""
    settings = engine.settings
    if not settings.api_enabled:
        return False
    token = settings.api_token.get_secret_value()  # Settings refuses api_enabled without a token
    app, table = engine.app, engine.households
    states = HouseholdTable(table)

    def read_state(household_id: str) -> HouseholdState | None:
        """The household's state with the implied runs of its partition's closes in its ledger (not written)."""
        raw = states.head(household_id)
        if not raw:
            return None
        state, partition = states.read(household_id, raw), states.partition_of(household_id)
        closed = states.closed_periods(partition) if partition is not None else None
        if closed is not None:
            settle_implied_runs(state, closed.months)
        return state

    async def find(instruction_id: str) -> dict | None:
        from cli.explain import find_audit

        return await find_audit(settings.kafka_bootstrap, settings.app_id, instruction_id,
                                settings.aiokafka_security())

    handlers = make_handlers(read_state, app.tables.recovery.completed.is_set, find)
    guard = require_token(token)
    routed = app.table_route(table=table, match_info="household_id")
    app.page("/households/{household_id}", name="gp-household")(guard(routed(handlers["household"])))
    app.page("/households/{household_id}/entitlements", name="gp-entitlements")(
        guard(routed(handlers["entitlements"])))
    app.page("/instructions/{instruction_id}/explain", name="gp-explain")(guard(handlers["explain"]))
    return True
