"""Care facts of a simulated family: foster placements (*pleegzorg*) and support-need assessments (*zorgtoeslag*).

A mixin of :class:`sim.family.Household`; it uses the household's ``w`` (the world), ``c`` (the config), ``rng``,
``taxpayers``, and its methods ``emit``, ``recorded``, ``initial``, ``new_person``, ``adult_birth``, ``register``,
``set_incomes`` and ``start_file``. A placement creates a foster household with its own payer file (registered in
the initial load); an assessment gives pillar-1 and total points with a validity period, renewed when it ends in
the span.
"""
from __future__ import annotations

import datetime as dt

from sim.dates import add_years
from sim.world import Person


class CareEvents:
    """``care.foster_placed`` and ``care.assessed`` of a household's children."""

    def foster_family(self) -> str:
        """A foster household (registered in the initial load) with its own payer file and taxes."""
        rng, w = self.rng, self.w
        household = w.household_id()
        parents = [self.new_person(self.adult_birth(rng.uniform(32, 58), w.S), True, household, "parent")]
        if rng.random() < 0.8:
            parents.append(self.new_person(self.adult_birth(rng.uniform(32, 60), w.S), False, household, "parent"))
        self.set_incomes(parents, len(parents) == 1)
        for parent in parents:
            self.register(parent)
            self.taxpayers.append(parent)
        self.start_file(household, parents, self.w.first_month, self.initial(), initial=True)
        return household

    def foster(self, child: Person, day: dt.date, existing: bool) -> None:
        rng = self.rng
        if child.fostered or child.died is not None or child.region != "flanders" or add_years(child.birth, 18) <= day:
            return
        child.fostered = True
        household = self.foster_family()
        data = {"foster_household_id": household, "from_date": day.isoformat()}
        long_term = rng.random() < self.c.foster_long_term_share
        if not long_term:
            end = (self.w.S + dt.timedelta(days=rng.randint(10, 200)) if existing
                   else day + dt.timedelta(days=rng.randint(30, 270)))
            data["to_date"] = end.isoformat()
        data["kind"] = "long_term" if long_term else "short_term"
        self.emit("care.foster_placed", child.insz, day, self.recorded(day, 3, 30), data)

    def existing_care(self, child: Person) -> None:
        c, rng, S = self.c, self.rng, self.w.S
        if rng.random() < c.foster_rate:
            earliest = child.birth + dt.timedelta(days=30)
            latest = S - dt.timedelta(days=31)
            if earliest < latest:
                self.foster(child, earliest + dt.timedelta(days=int(rng.random() * (latest - earliest).days)),
                            existing=True)
        if rng.random() < c.care_rate:
            earliest = max(child.birth + dt.timedelta(days=183), S - dt.timedelta(days=5 * 365))
            latest = S - dt.timedelta(days=30)
            if earliest < latest and add_years(child.birth, 21) > S:
                start = earliest + dt.timedelta(days=int(rng.random() * (latest - earliest).days))
                self.care_assessment(child, start, self.recorded(start, 30, 120), renew=True)

    def care_assessment(self, child: Person, valid_from: dt.date, instant: int, renew: bool = False,
                        points: tuple[int, int] | None = None) -> None:
        rng, w = self.rng, self.w
        child.care = True
        if points is None:
            roll = rng.random()
            if roll < 0.05:  # assessed, but below every band
                p1 = rng.randint(0, 3)
                total = rng.randint(p1, 5)
            elif roll < 0.20:  # band 1: pillar 1 only
                p1 = rng.randint(4, 5)
                total = p1
            else:
                total = min(36, max(6, int(rng.gammavariate(3.0, 3.5)) + 4))
                p1 = rng.randint(0, min(6, total))
        else:
            p1, total = points
        data = {"points_p1": p1, "points_total": total, "valid_from": valid_from.isoformat()}
        valid_to = None
        if rng.random() < 0.6:
            valid_to = add_years(valid_from, rng.randint(2, 5)) - dt.timedelta(days=1)
            valid_to = min(valid_to, add_years(child.birth, 21))
            if renew and valid_to < w.S + dt.timedelta(days=30):
                valid_to = w.S + dt.timedelta(days=rng.randint(30, 700))
            data["valid_to"] = valid_to.isoformat()
        self.emit("care.assessed", child.insz, valid_from, instant, data)
        if renew and valid_to is not None and valid_to < w.E and add_years(child.birth, 21) > valid_to:
            nxt = valid_to + dt.timedelta(days=1)
            new_total = min(36, max(0, total + rng.randint(-2, 2)))
            self.care_assessment(child, nxt, max(self.recorded(valid_to, -20, 60), self.recorded(nxt, 0, 0)),
                                 points=(min(p1, new_total), new_total))
