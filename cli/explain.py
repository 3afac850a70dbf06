"""``groeipakket explain INSTRUCTION_ID``: the trace of every line of a payment instruction, from the audit topic."""
from __future__ import annotations

import asyncio
import sys

import orjson

from config.settings import load_settings
from rules.money import euro
from streams import topics as names
from streams.identifiers import redact
from streams.reader import read_topics


async def find_audit(bootstrap: str, app_id: str, instruction_id: str, client: dict | None = None) -> dict | None:
    for record in await read_topics(bootstrap, [names.audit_topic(app_id)], client=client):
        document = orjson.loads(record.value)
        if document.get("instruction_id") == instruction_id or document.get("trace_id") == instruction_id:
            return document
    return None


def render_audit(audit: dict) -> str:
    """The trace as text, with every INSZ and IBAN masked (the text ends up in terminals and logs)."""
    audit = redact(audit)
    out = [f"Instruction {audit['instruction_id']} ({audit['kind']}, period {audit['period']}, household "
           f"{audit['household_id']})", f"  trace {audit['trace_id']}; parameter set {audit['parameters_version']}"]
    if audit.get("payment_sources"):
        out.append(f"  payer/receiver/account from events: {', '.join(audit['payment_sources'])}")
    for line in audit["lines"]:
        out.append(f"\n  {line['component']} for child {line['child']}, period {line['period']}: "
                   f"EUR {euro(line['amount_cents'])}")
        if "previously_instructed_cents" in line:
            out.append(f"    now due EUR {euro(line.get('now_due_cents', 0))}, instructed before EUR "
                       f"{euro(line['previously_instructed_cents'])}")
        out.append(f"    rule: {line['rule']}")
        if line.get("legal_reference"):
            out.append(f"    legal reference: {line['legal_reference']}")
        for name, value in (line.get("inputs") or {}).items():
            out.append(f"    input {name} = {value}")
        for p in line.get("parameters") or []:
            out.append(f"    parameter {p['name']} = {p['value']} (since {p['since']}, status {p['status']}: "
                       f"{p['source']})")
        if line.get("source_events"):
            out.append(f"    source events: {', '.join(line['source_events'])}")
    return "\n".join(out)


def run(args) -> int:
    settings = load_settings()
    audit = asyncio.run(find_audit(settings.kafka_bootstrap, settings.app_id, args.instruction_id,
                                   settings.aiokafka_security()))
    if audit is None:
        print(f"no trace found for {args.instruction_id}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(audit, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(render_audit(audit))
    return 0


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("explain", help="print the trace of a payment instruction (rules, parameters, "
                                                   "source events)")
    parser.add_argument("instruction_id", help="an instruction id or trace id")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)
