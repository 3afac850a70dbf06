"""Life events of a simulated family in the span: moves out of Flanders, separations, new partners, payer switches
and deaths (*verhuis, scheiding, nieuw samengesteld gezin, wissel van uitbetaler, overlijden*).

A mixin of :class:`sim.family.Household`; it uses the household's ``w`` (the world), ``c`` (the config), ``rng``,
``members``, ``payer``, ``receiver``, ``taxpayers``, and its methods ``emit``, ``recorded``, ``move``,
``new_person``, ``adult_birth``, ``register``, ``alive_parents``, ``children_of``, ``start_file`` and
``bank_account``. Each event is drawn by :meth:`Household.build` from a yearly hazard over the span.
"""
from __future__ import annotations

import datetime as dt
import math

from sim.dates import YEAR_DAYS, add_years, month_index, month_text
from sim.world import Person


class LifeEvents:
    """``person.moved``, ``person.died``, ``payer.chosen`` and ``receiver.designated`` after a change of family."""

    def move_out(self, household: str, day: dt.date) -> None:
        members = [p for p in self.members.get(household, ()) if p.died is None or p.died > day]
        if not members or members[0].region != "flanders":
            return
        region = ("brussels", "brussels", "wallonia", "wallonia", "abroad")[int(self.rng.random() * 5)]
        for person in list(members):
            person.left_flanders = day
            self.move(person, day, household, person.role, region)

    def separate(self, household: str, day: dt.date) -> bool:
        rng = self.rng
        parents = self.alive_parents(household, day)
        if len(parents) != 2 or parents[0].region != "flanders":
            return False
        mother = next((p for p in parents if p.female), parents[0])
        leaving = next(p for p in parents if p is not mother) if rng.random() < 0.8 else mother
        staying = next(p for p in parents if p is not leaving)
        children = self.children_of(household, day)
        with_leaving = rng.random() < (0.6 if leaving is mother else 0.15)
        new = self.w.household_id()
        self.move(leaving, day, new, "parent", "flanders")
        moving = [child for child in children if not child.fostered] if with_leaving else []
        for child in moving:
            self.move(child, day, new, "child", "flanders")
        instant = self.recorded(day, 2, 20)
        if moving:
            self.start_file(new, [leaving], month_index(day), instant, payer=self.payer.get(household))
        else:
            self.bank_account(leaving, day, instant)
        if self.receiver.get(household) is leaving and not with_leaving:
            self.receiver[household] = staying
            self.emit("receiver.designated", household, day, instant + 5,
                      {"receiver": staying.insz, "from_month": month_text(month_index(day))})
            self.bank_account(staying, day, instant + 6)
        return True

    def repartner(self, household: str, day: dt.date) -> None:
        rng = self.rng
        parents = self.alive_parents(household, day)
        if len(parents) != 1 or parents[0].region != "flanders":
            return
        parent = parents[0]
        birth = parent.birth + dt.timedelta(days=int(rng.gauss(-1.5 if parent.female else 1.5, 4.0) * YEAR_DAYS))
        birth = min(birth, add_years(self.w.S, -20))
        partner = self.new_person(birth, not parent.female, self.w.household_id(), "other")
        partner.income = math.exp(rng.gauss(math.log(32_000), 0.45))
        partner.no_tax = rng.random() < self.c.missing_tax_rate
        self.register(partner)
        self.taxpayers.append(partner)
        self.move(partner, day, household, "parent", "flanders")

    def switch_payer(self, household: str, day: dt.date) -> None:
        current = self.payer.get(household)
        if current is None:
            return
        choices = [p for p in self.w.payer_names if p != current]
        payer = choices[int(self.rng.random() * len(choices))]
        self.payer[household] = payer
        self.emit("payer.chosen", household, day, self.recorded(day, 0, 3),
                  {"payer": payer, "from_month": month_text(month_index(day) + 1)})

    def death(self, person: Person, day: dt.date) -> None:
        if person.died is not None:
            return
        person.died = day
        self.emit("person.died", person.insz, day, self.recorded(day, 1, 7), {"date_of_death": day.isoformat()})
        if person.is_child or person.role != "parent":
            return
        household = person.household
        children = self.children_of(household, day)
        if self.alive_parents(household, day) or not children or person.region != "flanders":
            return
        # The only parent died: the children go to live with a guardian (a grandparent or an aunt/uncle).
        rng = self.rng
        guardian_hid = self.w.household_id()
        guardian = self.new_person(self.adult_birth(rng.uniform(40, 68), self.w.S), rng.random() < 0.7,
                                   guardian_hid, "parent")
        guardian.income = math.exp(rng.gauss(math.log(32_000), 0.45))
        self.register(guardian)
        self.taxpayers.append(guardian)
        moved = day + dt.timedelta(days=rng.randint(5, 40))
        moving = [child for child in children if not child.fostered]
        for child in moving:
            self.move(child, moved, guardian_hid, "child", "flanders", 1, 14)
        if moving:
            self.start_file(guardian_hid, [guardian], month_index(moved), self.recorded(moved, 2, 20),
                            payer=self.payer.get(household))
