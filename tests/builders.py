"""Build contract events for tests: a small fluent API over the JSON of contract §3."""
from __future__ import annotations

import datetime as dt
import itertools

import orjson

from rules.calculator import Calculator
from rules.periods import parse_period
from streams.events import decode_event
from streams.identifiers import make_iban_be, make_insz
from tables.facts import fold

_serials = itertools.count(1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Scenario:
    """Collects events as raw JSON dicts (what a source would send)."""

    def __init__(self, household: str = "H-000001"):
        self.household = household
        self.events: list[dict] = []
        self._ids = itertools.count(1)

    def insz(self, birth: str) -> str:
        return make_insz(d(birth), next(_serials) % 997 + 1)

    def event(self, type_: str, subject: str, occurred_on: str, data: dict, *, recorded_at: str | None = None,
              event_id: str | None = None) -> dict:
        event = {
            "event_id": event_id or f"{type_}-{next(self._ids):05d}",
            "type": type_, "schema_version": 1, "subject": subject, "occurred_on": occurred_on,
            "recorded_at": recorded_at or f"{occurred_on}T12:00:00Z", "data": data,
        }
        self.events.append(event)
        return event

    # --- population ---------------------------------------------------------------------------------------
    def parent(self, birth: str = "1985-06-15", *, household: str | None = None, region: str = "flanders",
               since: str = "2015-01-01") -> str:
        insz = self.insz(birth)
        self.event("person.registered", insz, since, {"birth_date": birth, "household_id": household or self.household,
                                                      "role": "parent", "region": region})
        return insz

    def child(self, birth: str, parents: list[str], *, household: str | None = None, region: str = "flanders",
              legacy_group: str | None = None, since: str | None = None) -> str:
        insz = self.insz(birth)
        data = {"birth_date": birth, "household_id": household or self.household, "role": "child",
                "parents": parents, "region": region}
        if legacy_group:
            data["legacy_group"] = legacy_group
        self.event("person.registered", insz, since or birth, data)
        return insz

    def born(self, birth: str, parents: list[str], *, household: str | None = None, region: str = "flanders") -> str:
        insz = self.insz(birth)
        self.event("person.born", insz, birth, {"birth_date": birth, "household_id": household or self.household,
                                                "parents": parents, "region": region})
        return insz

    def died(self, insz: str, day: str) -> None:
        self.event("person.died", insz, day, {"date_of_death": day})

    def moved(self, insz: str, day: str, *, household: str | None = None, role: str = "child",
              region: str = "flanders") -> None:
        self.event("person.moved", insz, day, {"household_id": household or self.household, "role": role,
                                               "region": region})

    # --- other sources ------------------------------------------------------------------------------------
    def tax(self, insz: str, income_year: int, euros: float, *, recorded_at: str | None = None, **extra) -> dict:
        data = {"income_year": income_year, "taxable_income_cents": round(euros * 100), **extra}
        return self.event("tax.assessed", insz, f"{income_year + 1}-06-30", data, recorded_at=recorded_at)

    def property(self, insz: str, income_year: int, parcel: str, use: str, ki_cents: int, share: int = 100) -> None:
        self.event("property.assessed", insz, f"{income_year + 1}-01-01",
                   {"income_year": income_year, "parcel_id": parcel, "use": use, "ki_indexed_cents": ki_cents,
                    "share_percent": share})

    def enrolled(self, insz: str, school_year: str, level: str, from_date: str, to_date: str | None = None,
                 credits: int | None = None) -> None:
        data = {"school_year": school_year, "level": level, "from_date": from_date}
        if to_date:
            data["to_date"] = to_date
        if credits is not None:
            data["credits"] = credits
        self.event("education.enrolled", insz, from_date, data)

    def attendance(self, insz: str, school_year: str, as_of: str, preschool_half_days: int = 0,
                   absence: int = 0) -> None:
        self.event("education.attendance", insz, as_of, {"school_year": school_year,
                                                         "preschool_half_days": preschool_half_days,
                                                         "unauthorised_absence_half_days": absence, "as_of": as_of})

    def childcare(self, insz: str, month: str, full_days: int, half_days: int = 0, income_related: bool = False):
        self.event("childcare.attendance", insz, f"{month}-01", {"month": month, "full_days": full_days,
                                                                "half_days": half_days,
                                                                "income_related": income_related})

    def care(self, insz: str, p1: int, total: int, valid_from: str, valid_to: str | None = None) -> None:
        data = {"points_p1": p1, "points_total": total, "valid_from": valid_from}
        if valid_to:
            data["valid_to"] = valid_to
        self.event("care.assessed", insz, valid_from, data)

    def foster(self, insz: str, household: str, from_date: str, to_date: str | None = None,
               kind: str = "long_term") -> None:
        data = {"foster_household_id": household, "from_date": from_date, "kind": kind}
        if to_date:
            data["to_date"] = to_date
        self.event("care.foster_placed", insz, from_date, data)

    def payer(self, payer: str, from_month: str, household: str | None = None) -> None:
        self.event("payer.chosen", household or self.household, f"{from_month}-01",
                   {"payer": payer, "from_month": from_month})

    def receiver(self, receiver: str, from_month: str, household: str | None = None) -> None:
        self.event("receiver.designated", household or self.household, f"{from_month}-01",
                   {"receiver": receiver, "from_month": from_month})

    def bank_account(self, insz: str, account: int = 539007547) -> str:
        iban = make_iban_be(account)
        self.event("bank_account.registered", insz, "2019-01-01", {"iban": iban})
        return iban

    # --- running ------------------------------------------------------------------------------------------
    def decoded(self) -> list:
        return [decode_event(orjson.dumps(e)) for e in self.events]

    def calculator(self, parameters=None) -> Calculator:
        return Calculator.from_events(fold(self.decoded()), parameters)

    def jsonl(self) -> bytes:
        return b"".join(orjson.dumps(e) + b"\n" for e in self.events)


def amounts(calc: Calculator, period: str, households=None) -> dict[tuple[str, str], int]:
    """{(child, component): cents} for one month."""
    month = parse_period(period)
    return {(line.child, line.component): line.amount_cents for line in calc.entitlements([month], households)}


def child_amounts(calc: Calculator, child: str, period: str) -> dict[str, int]:
    return {comp: cents for (c, comp), cents in amounts(calc, period).items() if c == child}
