"""Fault injection: exact re-sends of valid events, and invalid records that look like real broken ones.

Each household gets its own fault random stream and the invalid records their own ids, so switching faults on
or off never changes the valid events. An invalid record is a mutated copy of one of the household's valid
events (with a fresh ``event_id``), as the ``bytes`` a broken source would send; every kind below is rejected by
``streams.events.decode_event``:

==========================  ============================================================================
kind                        what is broken
==========================  ============================================================================
``truncated``               the JSON text is cut off (a record split by a broken producer)
``python_repr``             a Python ``repr`` instead of JSON (single quotes, ``True``/``None``)
``trailing_comma``          a trailing comma before the closing brace
``not_object``              a JSON array around the event
``unknown_type``            a type the contract does not know (typos, invented types)
``bad_insz``                an INSZ (subject, parent, receiver) with wrong mod-97 check digits
``bad_iban``                an IBAN with wrong check digits
``impossible_date``         30 February, month 13, 31 April, month 00
``missing_field``           a required envelope or data field left out
``null_value``              a required field sent as ``null``
``p1_above_total``          care points of pillar 1 above the total
``negative_cents``          a negative amount of cents
``string_number``           a number sent as a string (no silent coercion)
``out_of_range``            share 0 or 150 %, 45 childcare days, 40 care points, 300 credits, income year 1800
``end_before_start``        ``to_date`` / ``valid_to`` before the start
``in_future``               a birth or death after the moment it was recorded
``no_timezone``             ``recorded_at`` without a time zone
``bad_household``           a household id with a space or empty
``bad_enum``                a value outside a closed list (region, role, payer, level, use, kind)
``schema_version``          schema version 2
``bad_period``              a month ``2024-13`` / ``2024/05`` or school year ``2023-2025``
==========================  ============================================================================
"""
from __future__ import annotations

import datetime as dt
import random

import orjson

from sim.dates import DAY
from streams.identifiers import is_valid_insz, normalize_iban

DATE_FIELDS = ("birth_date", "date_of_death", "from_date", "to_date", "as_of", "valid_from", "valid_to")
REQUIRED_DATA = {
    "person.registered": ("birth_date", "household_id", "role", "region"),
    "person.born": ("birth_date", "household_id", "parents", "region"),
    "person.died": ("date_of_death",),
    "person.moved": ("household_id", "role", "region"),
    "tax.assessed": ("income_year", "taxable_income_cents"),
    "property.assessed": ("income_year", "parcel_id", "use", "ki_indexed_cents", "share_percent"),
    "education.enrolled": ("school_year", "level", "from_date"),
    "education.attendance": ("school_year", "preschool_half_days", "unauthorised_absence_half_days", "as_of"),
    "childcare.attendance": ("month", "full_days", "half_days", "income_related"),
    "care.assessed": ("points_p1", "points_total", "valid_from"),
    "care.foster_placed": ("foster_household_id", "from_date", "kind"),
    "payer.chosen": ("payer", "from_month"),
    "receiver.designated": ("receiver", "from_month"),
    "bank_account.registered": ("iban",),
}
ENVELOPE = ("event_id", "type", "schema_version", "subject", "occurred_on", "recorded_at", "data")


def inject(world, index: int, items: list) -> list:
    """Add re-sends and invalid records to one household's items; returns them in arrival order."""
    config = world.c
    rng = random.Random(f"{config.seed}:faults:{index}")
    out = list(items)
    for instant, event_id, kind, event in items:
        if kind != 0:
            continue
        if config.duplicate_rate and rng.random() < config.duplicate_rate:
            out.append((instant + 60 + int(rng.random() * 3 * DAY), event_id, 1, event))
        if config.invalid_rate and rng.random() < config.invalid_rate:
            fault_id = world.fault_id()
            out.append((instant + int(rng.random() * DAY), fault_id, 2, corrupt(event, fault_id, rng)))
    out.sort(key=lambda item: (item[0], item[1]))
    return out


def corrupt(event: dict, new_id: str, rng: random.Random, kind: str | None = None) -> bytes:
    """A broken record derived from ``event`` (a mutator that does not apply falls back to a generic one)."""
    doc = orjson.loads(orjson.dumps(event))
    doc["event_id"] = new_id
    kind = kind or MUTATOR_NAMES[int(rng.random() * len(MUTATOR_NAMES))]
    result = MUTATORS[kind](doc, rng)
    if result is None:
        fallback = GENERIC[int(rng.random() * len(GENERIC))]
        result = MUTATORS[fallback](doc, rng)
    return result


def _dump(doc: dict) -> bytes:
    return orjson.dumps(doc)


def _pick(rng: random.Random, options):
    return options[int(rng.random() * len(options))]


def _truncated(doc, rng):
    raw = _dump(doc)
    return raw[: max(8, len(raw) // 4 + int(rng.random() * (len(raw) * 3 // 4 - 1)))]


def _python_repr(doc, rng):
    return repr(doc).encode()


def _trailing_comma(doc, rng):
    return _dump(doc)[:-1] + b",}"


def _not_object(doc, rng):
    return b"[" + _dump(doc) + b"]"


def _unknown_type(doc, rng):
    doc["type"] = _pick(rng, ("person.relocated", "tax.assesed", "education.graduated", "Person.Born",
                              "payer.changed", "childcare.attendence", "person_born"))
    return _dump(doc)


def _break_insz(insz: str, rng) -> str:
    for _ in range(100):
        check = (int(insz[9:]) + 1 + int(rng.random() * 95)) % 100
        candidate = f"{insz[:9]}{check:02d}"
        if not is_valid_insz(candidate):
            return candidate
    return insz[:9] + "00" if is_valid_insz(insz[:9] + "99") else insz[:9] + "99"


def _bad_insz(doc, rng):
    data = doc["data"]
    if len(doc["subject"]) == 11 and doc["subject"].isdigit() and rng.random() < 0.7:
        doc["subject"] = _break_insz(doc["subject"], rng)
    elif data.get("parents"):
        data["parents"][0] = _break_insz(data["parents"][0], rng)
    elif "receiver" in data:
        data["receiver"] = _break_insz(data["receiver"], rng)
    elif len(doc["subject"]) == 11 and doc["subject"].isdigit():
        doc["subject"] = _break_insz(doc["subject"], rng)
    else:
        return None
    return _dump(doc)


def _bad_iban(doc, rng):
    iban = doc["data"].get("iban")
    if not iban:
        return None
    for _ in range(100):
        check = (int(iban[2:4]) + 1 + int(rng.random() * 95)) % 100
        candidate = f"{iban[:2]}{check:02d}{iban[4:]}"
        try:
            normalize_iban(candidate)
        except ValueError:
            doc["data"]["iban"] = candidate
            return _dump(doc)
    return None


def _impossible_date(doc, rng):
    fields = [("", "occurred_on")] + [("data", f) for f in DATE_FIELDS if f in doc["data"]]
    where, name = _pick(rng, fields)
    target = doc["data"] if where else doc
    year = str(target[name])[:4]
    target[name] = _pick(rng, (f"{year}-02-30", f"{year}-13-01", f"{year}-04-31", f"{year}-00-10",
                               f"{year}-06-31"))
    return _dump(doc)


def _missing_field(doc, rng):
    if rng.random() < 0.5:
        del doc[_pick(rng, ENVELOPE)]
    else:
        required = REQUIRED_DATA.get(doc["type"], ())
        if not required:
            return None
        del doc["data"][_pick(rng, required)]
    return _dump(doc)


def _null_value(doc, rng):
    if rng.random() < 0.5:
        doc[_pick(rng, ("event_id", "subject", "occurred_on", "recorded_at", "data"))] = None
    else:
        doc["data"][_pick(rng, REQUIRED_DATA[doc["type"]])] = None
    return _dump(doc)


def _p1_above_total(doc, rng):
    if doc["type"] != "care.assessed":
        return None
    data = doc["data"]
    total = min(data["points_total"], 30)
    data["points_total"], data["points_p1"] = total, total + 1 + int(rng.random() * 5)
    return _dump(doc)


def _negative_cents(doc, rng):
    data = doc["data"]
    for name in ("taxable_income_cents", "ki_indexed_cents", "partner_maintenance_received_cents"):
        if name in data:
            data[name] = -abs(data[name]) - 1 - int(rng.random() * 100_000)
            return _dump(doc)
    return None


def _string_number(doc, rng):
    data = doc["data"]
    for name in ("taxable_income_cents", "ki_indexed_cents", "full_days", "points_total", "preschool_half_days",
                 "income_year", "share_percent", "credits"):
        if name in data:
            data[name] = str(data[name])
            return _dump(doc)
    if doc["type"] in ("person.registered", "person.born", "person.died", "person.moved"):
        doc["schema_version"] = "1"
        return _dump(doc)
    return None


def _out_of_range(doc, rng):
    data = doc["data"]
    choices = {"share_percent": (0, 150), "full_days": (45, 32), "half_days": (70, 63), "points_total": (40, 37),
               "credits": (300, 241), "income_year": (1800, 2150), "preschool_half_days": (1500, -1),
               "unauthorised_absence_half_days": (-3, 2000)}
    present = [name for name in choices if name in data]
    if not present:
        return None
    name = _pick(rng, present)
    data[name] = _pick(rng, choices[name])
    if name == "points_total":
        data["points_p1"] = min(data.get("points_p1", 0), 6)
    return _dump(doc)


def _end_before_start(doc, rng):
    data = doc["data"]
    for start, end in (("from_date", "to_date"), ("valid_from", "valid_to")):
        if start in data:
            day = dt.date.fromisoformat(data[start]) - dt.timedelta(days=1 + int(rng.random() * 300))
            data[end] = day.isoformat()
            return _dump(doc)
    return None


def _in_future(doc, rng):
    name = {"person.born": "birth_date", "person.died": "date_of_death"}.get(doc["type"])
    if name is None:
        return None
    recorded = dt.date.fromisoformat(doc["recorded_at"][:10])
    doc["data"][name] = (recorded + dt.timedelta(days=2 + int(rng.random() * 400))).isoformat()
    return _dump(doc)


def _no_timezone(doc, rng):
    doc["recorded_at"] = doc["recorded_at"].rstrip("Z")
    return _dump(doc)


def _bad_household(doc, rng):
    bad = _pick(rng, ("H 0000123", "", "H-0000123 ", "#H-0000123", "H/0000123"))
    if doc["subject"].startswith("H-"):
        doc["subject"] = bad
    elif "household_id" in doc["data"]:
        doc["data"]["household_id"] = bad
    elif "foster_household_id" in doc["data"]:
        doc["data"]["foster_household_id"] = bad
    else:
        return None
    return _dump(doc)


def _bad_enum(doc, rng):
    data = doc["data"]
    options = {"region": ("vlaanderen", "Flanders", "belgium"), "role": ("kid", "mother", "Parent"),
               "payer": ("FONZ", "Fons", "KIDS_LIFE", "famiplus"), "level": ("university", "kindergarten", "Primary"),
               "use": ("residential", "OWN_HOME"), "kind": ("permanent", "respite")}
    present = [name for name in options if name in data]
    if not present:
        return None
    name = _pick(rng, present)
    data[name] = _pick(rng, options[name])
    return _dump(doc)


def _schema_version(doc, rng):
    doc["schema_version"] = _pick(rng, (2, 0, 3))
    return _dump(doc)


def _bad_period(doc, rng):
    data = doc["data"]
    if "from_month" in data:
        data["from_month"] = _pick(rng, (data["from_month"][:5] + "13", data["from_month"].replace("-", "/"),
                                         data["from_month"] + "-01"))
    elif "month" in data:
        data["month"] = _pick(rng, (data["month"][:5] + "00", data["month"].replace("-", "/"), data["month"][2:]))
    elif "school_year" in data:
        first = int(data["school_year"][:4])
        data["school_year"] = _pick(rng, (f"{first}-{first + 2}", f"{first}/{first + 1}", f"{first}"))
    else:
        return None
    return _dump(doc)


MUTATORS = {
    "truncated": _truncated, "python_repr": _python_repr, "trailing_comma": _trailing_comma,
    "not_object": _not_object, "unknown_type": _unknown_type, "bad_insz": _bad_insz, "bad_iban": _bad_iban,
    "impossible_date": _impossible_date, "missing_field": _missing_field, "null_value": _null_value,
    "p1_above_total": _p1_above_total, "negative_cents": _negative_cents, "string_number": _string_number,
    "out_of_range": _out_of_range, "end_before_start": _end_before_start, "in_future": _in_future,
    "no_timezone": _no_timezone, "bad_household": _bad_household, "bad_enum": _bad_enum,
    "schema_version": _schema_version, "bad_period": _bad_period,
}
MUTATOR_NAMES = tuple(MUTATORS)
# Applicable to every event type (the fallback when a type-specific kind does not apply).
GENERIC = ("truncated", "python_repr", "trailing_comma", "not_object", "unknown_type", "impossible_date",
           "missing_field", "no_timezone", "schema_version", "null_value")
