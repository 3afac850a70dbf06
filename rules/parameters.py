"""Dated parameters (parameters) of the Groeipakket ruleset, OpenFisca-style.

Every amount and threshold the rules use lives in ``config/parameters/**.yaml``, one file per parameter::

    description: Basisbedrag per kind per maand (nieuw systeem)
    reference: Groeipakketdecreet 27.04.2018, art. 11
    unit: EUR                 # EUR (stored as integer cents), count, table_EUR
    valid_from: 2019-01-01    # the first date the ruleset needs this parameter
    values:
      2019-01-01: {value: 163.20, status: V, source: "ruleset 4.1; groeipakket.be"}
      2020-09-01: {value: 166.46, status: V, source: "..."}

A value holds from its date until the next date; ``value: null`` ends the parameter. Every value carries its
status (V published, D derived by the documented indexation rule, A assumed) and its source, so that a real
figure can replace an assumed one without touching code. ``check()`` reports gaps, overlaps (duplicate dates),
values without status or source and money with more than two decimals; ``load_parameters`` refuses to start
with any such problem.
"""
from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from rules.periods import month_first_day

PARAMETER_DIR = Path(__file__).resolve().parent.parent / "config" / "parameters"
STATUSES = {"V": "published figure", "D": "derived by the documented indexation rule", "A": "assumed"}
UNITS = {"EUR", "count", "table_EUR"}


class ParameterError(ValueError):
    """A parameter file is malformed, or a rule asked for a value that is not in force."""


class ParameterValue(NamedTuple):
    """One dated value of a parameter, as used in a computation (and shown in its trace)."""

    name: str
    since: dt.date
    value: Any  # int cents (EUR), int (count) or tuple of tuples of int cents (table_EUR)
    status: str
    source: str
    unit: str = "EUR"

    def display(self) -> str:
        return f"{self.name}@{self.since.isoformat()}={format_value(self.value)} [{self.status}] ({self.source})"


@dataclass
class Parameter:
    name: str
    description: str
    reference: str
    unit: str
    valid_from: dt.date | None
    values: list[ParameterValue | None] = field(default_factory=list)  # None = ended at that date
    _starts: list[dt.date] = field(default_factory=list, repr=False)
    _month_cache: dict[int, ParameterValue | None] = field(default_factory=dict, repr=False)
    problems: list[str] = field(default_factory=list)

    @property
    def dates(self) -> list[dt.date]:
        """The dates on which a value starts (or the parameter ends), in order."""
        return self._starts

    def at(self, day: dt.date) -> ParameterValue | None:
        """The value in force on ``day`` (None before the first date or after an end)."""
        i = bisect.bisect_right(self._starts, day) - 1
        return self.values[i] if i >= 0 else None

    def at_month(self, month: int) -> ParameterValue | None:
        """The value in force on the first day of month index ``month`` (values change on month starts)."""
        try:
            return self._month_cache[month]
        except KeyError:
            value = self._month_cache[month] = self.at(month_first_day(month))
            return value

    def require(self, day: dt.date) -> ParameterValue:
        value = self.at(day)
        if value is None:
            raise ParameterError(f"parameter {self.name} has no value in force on {day.isoformat()}")
        return value


def format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(value)


def euro_to_cents(raw: Any) -> int:
    """Parse a euro amount written in YAML (number or string, spaces allowed) to exact integer cents."""
    text = str(raw).replace(" ", "").replace("\u202f", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ParameterError(f"not a euro amount: {raw!r}") from exc
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ParameterError(f"euro amount with more than two decimals: {raw!r}")
    return int(cents)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects duplicate keys (a duplicated date would be an overlap)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise ParameterError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1}): overlapping values")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _convert(unit: str, raw: Any) -> Any:
    if unit == "EUR":
        return euro_to_cents(raw)
    if unit == "count":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ParameterError(f"count must be an integer: {raw!r}")
        return raw
    if unit == "table_EUR":
        if not isinstance(raw, list) or not raw:
            raise ParameterError("table_EUR must be a non-empty list of rows")
        return tuple(tuple(euro_to_cents(cell) for cell in row) for row in raw)
    raise ParameterError(f"unknown unit {unit!r}")


def _as_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as exc:
        raise ParameterError(f"not a date: {raw!r}") from exc


def parse_parameter(name: str, document: Any) -> Parameter:
    """Build a Parameter from a parsed YAML document; problems are collected, not raised."""
    if not isinstance(document, dict):
        raise ParameterError(f"{name}: the file must hold a mapping")
    unit = document.get("unit")
    problems = []
    if unit not in UNITS:
        problems.append(f"unit must be one of {sorted(UNITS)}, not {unit!r}")
    for key in ("description", "reference"):
        if not str(document.get(key) or "").strip():
            problems.append(f"missing {key}")
    valid_from = _as_date(document["valid_from"]) if document.get("valid_from") else None
    raw_values = document.get("values")
    if not isinstance(raw_values, dict) or not raw_values:
        problems.append("no values")
        raw_values = {}
    parameter = Parameter(name, str(document.get("description", "")), str(document.get("reference", "")),
                          str(unit), valid_from, problems=problems)
    ended = False
    for raw_day in raw_values:
        day = _as_date(raw_day)
        entry = raw_values[raw_day]
        if parameter._starts and day <= parameter._starts[-1]:
            problems.append(f"{day}: dates out of order (overlap)")
        if not isinstance(entry, dict) or "value" not in entry:
            problems.append(f"{day}: entry must be a mapping with 'value'")
            continue
        if entry["value"] is None:
            parameter._starts.append(day)
            parameter.values.append(None)
            ended = True
            continue
        if ended:
            problems.append(f"{day}: value after an end (null): gap in validity")
        status = entry.get("status")
        source = str(entry.get("source") or "").strip()
        if status not in STATUSES:
            problems.append(f"{day}: status must be V, D or A, not {status!r}")
        if not source:
            problems.append(f"{day}: value without source")
        try:
            value = _convert(parameter.unit, entry["value"])
        except ParameterError as exc:
            problems.append(f"{day}: {exc}")
            continue
        parameter._starts.append(day)
        parameter.values.append(ParameterValue(name, day, value, str(status), source, parameter.unit))
    if parameter._starts and valid_from and parameter._starts[0] != valid_from:
        problems.append(f"first value {parameter._starts[0]} does not start at valid_from {valid_from}: gap")
    if parameter.values and parameter.values[0] is None:
        problems.append("the first value is an end (null)")
    return parameter


class Parameters:
    """All parameters, by dotted name (``social.a12`` for ``social/a12.yaml``)."""

    def __init__(self, parameters: dict[str, Parameter], directory: Path | None = None):
        self._parameters = parameters
        self.directory = directory

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._parameters[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._parameters

    def __iter__(self):
        return iter(self._parameters.values())

    def problems(self) -> list[str]:
        return [f"{p.name}: {problem}" for p in self for problem in p.problems]

    def fingerprint(self) -> str:
        """A short hash of every value: instruction ids and traces name the rules version they used."""
        if getattr(self, "_fingerprint", None):
            return self._fingerprint
        import hashlib

        digest = hashlib.sha256()
        for p in sorted(self, key=lambda p: p.name):
            for v in p.values:
                digest.update(repr((p.name, v and (v.since, v.value, v.status))).encode())
        self._fingerprint = digest.hexdigest()[:12]
        return self._fingerprint


def load_parameters(directory: Path | str | None = None, *, strict: bool = True) -> Parameters:
    """Load every ``*.yaml`` below ``directory``; with ``strict`` refuse to start on any problem."""
    root = Path(directory) if directory else PARAMETER_DIR
    if not root.is_dir():
        raise ParameterError(f"parameter directory not found: {root}")
    parameters: dict[str, Parameter] = {}
    for path in sorted(root.rglob("*.yaml")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
            parameters[name] = parse_parameter(name, document)
        except (ParameterError, yaml.YAMLError) as exc:
            raise ParameterError(f"{path}: {exc}") from exc
    result = Parameters(parameters, root)
    if strict and (problems := result.problems()):
        raise ParameterError("invalid parameters:\n  " + "\n  ".join(problems))
    return result


@lru_cache(maxsize=4)
def default_parameters() -> Parameters:
    return load_parameters(PARAMETER_DIR)
