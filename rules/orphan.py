"""Orphan supplement (wezentoeslag) — ruleset v1 §5.1; decree art. 14–15.

From the month of the death of a parent who died on or after 2019-01-01, as long as the child is entitled (also
when the surviving parent forms a new family). Half orphan: one parent deceased; full orphan: every known parent
(both, or the only known one) deceased.
"""
from rules.periods import month_last_day, month_of
from rules.regime import NEW_SYSTEM_START

COMPONENT = "orphan"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 14-15; ruleset v1 §5.1"


def applies_to(calc, child) -> bool:
    """Only children with a known deceased parent (in any of their parent lists)."""
    persons = calc.situation.persons
    return any(persons[p].died_on is not None for _, parents, _ in child.parents for p in parents if p in persons)


def compute(cm):
    parents, parents_source = cm.child.parents_on(month_last_day(cm.month))
    if not parents:
        return None
    persons = cm.calc.situation.persons
    deceased, recent = [], False
    for insz in parents:
        parent = persons.get(insz)
        if parent is not None and parent.died_on is not None and month_of(parent.died_on) <= cm.month:
            deceased.append(parent)
            recent = recent or parent.died_on >= NEW_SYSTEM_START
    if not deceased or not recent:
        return None
    full = len(deceased) == len(parents)
    amount = cm.param("orphan.full" if full else "orphan.half")
    return cm.line(COMPONENT, amount.value, f"{'full' if full else 'half'} orphan: {len(deceased)} of "
                   f"{len(parents)} known parent(s) deceased", LEGAL, (amount,),
                   (("parents_deceased_on", tuple(p.died_on.isoformat() for p in deceased)),),
                   (parents_source, *(p.death_source for p in deceased)))
