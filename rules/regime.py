"""Regimes: new system and transitional (overgangsregeling), rank inversion (omkering van de rangen) —
ruleset v1 §2; decree art. 210 §2, Toelichtingsnota 1 of 19 December 2018.

- New system: children born on or after 2019-01-01, and older children without an open right on 2018-12-31
  (no legacy group).
- Transitional: children born before 2019-01-01 with an open right on 2018-12-31, marked by the population source
  with a legacy group (the old payee's grouping on 2018-12-31).
- Rank inversion: within one legacy group, by birth date, youngest first: rank 1, rank 2, all older rank 3. The
  ranks are frozen for good: they are computed over every child that ever carried the group.
- A transitional child whose parent dies on or after 2019-01-01 switches to the new system from the month of
  that death.
"""
from __future__ import annotations

import datetime as dt

from rules.periods import month_last_day, month_of
from rules.situation import Person

NEW, TRANSITIONAL = "new", "transitional"
NEW_SYSTEM_START = dt.date(2019, 1, 1)


def regime(calc, person: Person, month: int) -> str:
    if person.legacy_group is None or person.birth_date is None or person.birth_date >= NEW_SYSTEM_START:
        return NEW
    return NEW if parent_death_switch(calc, person, month) else TRANSITIONAL


def parent_death_switch(calc, person: Person, month: int) -> tuple | None:
    """(parent, date of death, source) of the parent death that moved the child to the new system by month M."""
    parents, _ = person.parents_on(month_last_day(month))
    for insz in parents:
        parent = calc.situation.persons.get(insz)
        if (parent is not None and parent.died_on is not None and parent.died_on >= NEW_SYSTEM_START
                and month_of(parent.died_on) <= month):
            return parent, parent.died_on, parent.death_source
    return None


def rank(calc, person: Person) -> tuple[int, tuple[str, ...]]:
    """Frozen rank in the legacy group (1 youngest, 2 second-youngest, 3 all older) and the facts behind it."""
    key = ("rank", person.insz)
    found = calc._cache.get(key)
    if found is None:
        members = calc.situation.legacy_groups.get(person.legacy_group, [])
        ordered = sorted(members, key=lambda p: (p.birth_date, p.insz), reverse=True)
        sources = tuple(p.legacy_source for p in ordered)
        for i, member in enumerate(ordered):
            calc._cache[("rank", member.insz)] = (min(i + 1, 3), sources)
        found = calc._cache.setdefault(key, (3, sources))
    return found


def eldest_entitled_transitional(calc, group: str, month: int) -> Person | None:
    """The eldest child of a legacy group that is entitled and still transitional in month M."""
    key = ("eldest", group, month)
    found = calc._cache.get(key, key)
    if found is key:
        candidates = [p for p in calc.situation.legacy_groups.get(group, [])
                      if calc.entitlement(p, month).entitled and calc.regime(p, month) == TRANSITIONAL]
        found = calc._cache[key] = min(candidates, key=lambda p: (p.birth_date, p.insz)) if candidates else None
    return found
