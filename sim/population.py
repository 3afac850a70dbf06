"""A synthetic but realistic Flemish population of families and the source events it produces (contract v1).

Deterministic (the same :class:`SimulationConfig` gives the same events, byte for byte) and streaming: households
are generated one after the other from their own random stream, and only one household is in memory at a time
(plus fixed-size state: the INSZ serial counters per birth date, an array allocated once).

Model
-----
Every generated household is a family at a random point of its life cycle on the first day of the span ``S``: a
*completed family size* K (children the family will have), gaps between births, the mother's age at the first
birth, and the time ``t`` since the first birth, drawn uniformly over the window in which the family has a child
under 25 (or will have its first child during the span). Families are drawn in proportion to the length of that
window (a family with a long window is more often "in the population" on a given day). Children already born and
younger than 25 on ``S`` are registered; the planned births that fall inside the span are ``person.born`` events,
so births, the age pyramid and the number of children per family all follow from the same life-cycle model.
On top of that, hazards per year drive the life events of the span: deaths, moves out of Flanders, separations
(the leaving parent, sometimes with the children, forms a new household), new partners moving in with single
parents, payer switches, new foster placements and care assessments.

The modules: :mod:`sim.config` (what to simulate; the defaults and their public basis), :mod:`sim.dates`,
:mod:`sim.world` (persons, ids, INSZ serials), :mod:`sim.family` (a family, its births and payer file),
:mod:`sim.life_events`, :mod:`sim.care`, :mod:`sim.sources` (education, childcare, tax, property) and
:mod:`sim.faults` (duplicates and invalid records).

Timing decisions
----------------
- The *initial load* (``person.registered`` of everyone present on ``S``, ``payer.chosen``, ``receiver.designated``,
  ``bank_account.registered``) is recorded on ``S`` between 00:01 and 06:00 UTC; ``occurred_on`` is ``S`` (payer
  and receiver: the first day of ``from_month``, the month since which the choice holds).
- Facts with their own dates carry them: tax assessments (income year Y, normally between 15 June Y+1 and 30 June
  Y+2), property (1 January Y+1), enrolments (``from_date``), attendance (``as_of``), care assessments
  (``valid_from``) and placements (``from_date``); they are recorded shortly after, which can lie before ``S``.
- Life events happen between ``S`` and the last day of the end month ``E``; events recorded after the *horizon*
  (the last day of the month after ``E``, so that the childcare and attendance reports of the last month are in)
  are not produced. ``recorded_at`` is always later than ``occurred_on`` (same day at the earliest, after 00:00).
- Income years: every month M of the span needs the income year (allocation-year start − 2); every parent gets an
  assessment for each of them.
- Attendance: preschool pupils get a report at the end of every school month (September–June) with the half days
  attended so far in the school year; primary and secondary pupils a report on 31 December, 31 March and 30 June
  with the unauthorised absence so far. Reports of the school year in progress on ``S`` are included from its start.

Limits: INSZ numbers are unique within one run (serials counted per birth date and sex, BIS numbers with month
+40 when the 499 regular serials of a day and sex are used up). python-stdnum only accepts an INSZ of the 2000s
whose year is not after the current calendar year, so the span may not end after the current year.
"""
from __future__ import annotations

from collections.abc import Iterator

from sim.config import SimulationConfig
from sim.family import Household
from sim.world import World

__all__ = ["SimulationConfig", "generate_events", "household_blocks"]  # SimulationConfig re-exported for its callers


def household_blocks(config: SimulationConfig, stats: dict | None = None
                     ) -> Iterator[list[tuple[int, str, int, object]]]:
    """Per household, its items ``(arrival instant, event id, kind, payload)`` in arrival order.

    kind 0: a valid event (dict); 1: an exact re-send of one (the same dict); 2: an invalid record (bytes).
    When given, ``stats["households"]`` is set at the end to the number of household ids used (the configured
    families plus the households they spawned: separations, foster families, guardians, absent parents, ...).
    """
    from sim.faults import inject

    world = World(config)
    for index in range(1, config.households + 1):
        items = Household(world, index).build()
        if config.invalid_rate or config.duplicate_rate:
            items = inject(world, index, items)
        yield items
    if stats is not None:
        stats["households"] = world.next_household - 1


def generate_events(config: SimulationConfig) -> Iterator[dict | bytes]:
    """Household by household (arrival order within a household): valid events and re-sends as dicts,
    invalid records as raw ``bytes``."""
    for items in household_blocks(config):
        for item in items:
            yield item[3]
