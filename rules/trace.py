"""Entitlements (rechten) with their explanation: the rule applied, parameter values, inputs and source events.

Every amount the calculator produces is an :class:`Entitlement` that carries its own trace, so that a payer or
an auditor can ask why any cent was paid: the rule (with its legal reference), every parameter value used (name,
date from which it holds, value, status V/D/A and source), the inputs derived from the facts (family income,
family size, rank, band, ...) and the ids of the source events whose facts fed it.
"""
from __future__ import annotations

from dataclasses import dataclass

from rules.parameters import ParameterValue, format_value
from rules.money import euro
from rules.periods import period_text


@dataclass(slots=True)
class Entitlement:
    household_id: str
    child: str
    component: str
    month: int
    amount_cents: int
    rule: str
    legal: str
    params: tuple[ParameterValue, ...]
    inputs: tuple[tuple[str, object], ...]
    sources: tuple[str, ...]

    def in_month(self, month: int) -> "Entitlement":
        """The same line for another month with the same facts (see :mod:`rules.changes`)."""
        return Entitlement(self.household_id, self.child, self.component, month, self.amount_cents, self.rule,
                           self.legal, self.params, self.inputs, self.sources)

    @property
    def period(self) -> str:
        return period_text(self.month)

    def row(self) -> dict:
        """The contract's calc row (§6)."""
        return {"household_id": self.household_id, "child": self.child, "component": self.component,
                "period": self.period, "amount_cents": self.amount_cents}

    def explanation(self) -> dict:
        """The full trace as JSON-ready data."""
        return {
            **self.row(),
            "rule": self.rule,
            "legal_reference": self.legal,
            "parameters": [
                {"name": p.name, "since": p.since.isoformat(), "value": _json_value(p.value), "status": p.status,
                 "source": p.source}
                for p in self.params
            ],
            "inputs": {name: _json_value(value) for name, value in self.inputs},
            "source_events": list(dict.fromkeys(s for s in self.sources if s)),
        }


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def render_text(child: str, period: str, lines: list[Entitlement], *, entitlement_note: str = "") -> str:
    """A readable derivation of one child's amounts for one month (``calc --explain``)."""
    out = [f"Child {child}, period {period}"]
    if entitlement_note:
        out.append(f"  entitlement: {entitlement_note}")
    if not lines:
        out.append("  no amounts due")
    total = 0
    for line in lines:
        total += line.amount_cents
        out.append(f"\n  {line.component}: EUR {euro(line.amount_cents)}  (household {line.household_id})")
        out.append(f"    rule: {line.rule}")
        out.append(f"    legal reference: {line.legal}")
        for name, value in line.inputs:
            out.append(f"    input {name} = {value if not isinstance(value, tuple) else format_value(value)}")
        for p in line.params:
            shown = euro(p.value) if p.unit == "EUR" else format_value(p.value)
            out.append(f"    parameter {p.name} = {shown} (in force since {p.since}, status {p.status}: {p.source})")
        sources = list(dict.fromkeys(s for s in line.sources if s))
        out.append(f"    source events: {', '.join(sources) if sources else '-'}")
    out.append(f"\n  total: EUR {euro(total)}")
    return "\n".join(out)

