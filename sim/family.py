"""One simulated family over the span (*gezin*): its members on the first day, its births and life events, and the
events of its payer file (payer, receiver, bank account); the model is described in :mod:`sim.population`.

:class:`Household` draws the family and its life events in date order (:meth:`Household.build`); the care facts,
the life events and the source reports are in the mixins :class:`sim.care.CareEvents`,
:class:`sim.life_events.LifeEvents` and :class:`sim.sources.SourceReports`. All randomness of a family comes from
its own stream (seeded with the run's seed and the family's index), so that a family is the same whatever the
number of households.
"""
from __future__ import annotations

import datetime as dt
import math
import random

from sim.dates import (DAY, YEAR_DAYS, add_years, format_instant, hazard_probability, month_first, month_index,
                          month_text)
from sim.care import CareEvents
from sim.life_events import LifeEvents
from sim.sources import SourceReports
from sim.world import NEW_SYSTEM_START, ChildTraits, Person, World


class Household(CareEvents, LifeEvents, SourceReports):
    """Generates one family (and the households it spawns) and collects its events."""

    def __init__(self, world: World, index: int):
        self.w, self.c = world, world.c
        self.rng = random.Random(f"{world.c.seed}:household:{index}")
        self.hid = f"H-{index:07d}"
        self.items: list[tuple[int, str, int, object]] = []  # (recorded instant, event id, kind, payload)
        self.persons: list[Person] = []
        self.members: dict[str, list[Person]] = {}
        self.payer: dict[str, str] = {}
        self.receiver: dict[str, Person] = {}
        self.taxpayers: list[Person] = []
        self.load_instant = world.S.toordinal() * DAY

    # --- helpers ------------------------------------------------------------------------------------------
    def emit(self, type_: str, subject: str, occurred: dt.date, instant: int, data: dict) -> None:
        if instant > self.w.horizon_instant:
            return
        event_id = self.w.event_id()
        self.items.append((instant, event_id, 0, {
            "event_id": event_id, "type": type_, "schema_version": 1, "subject": subject,
            "occurred_on": occurred.isoformat(), "recorded_at": format_instant(instant), "data": data}))

    def recorded(self, day: dt.date, low: int = 0, high: int = 0) -> int:
        """An instant during office hours, ``low``..``high`` days after ``day``."""
        rng = self.rng
        days = low + int(rng.random() * (high - low + 1))
        return (day.toordinal() + days) * DAY + 25_200 + int(rng.random() * 43_200)

    def initial(self) -> int:
        """An instant of the initial load: the first day of the span, 00:01–06:00."""
        return self.load_instant + 60 + int(self.rng.random() * 21_540)

    def day_in_span(self) -> dt.date:
        return self.w.S + dt.timedelta(days=int(self.rng.random() * self.w.span_days))

    def add_member(self, person: Person, household: str) -> None:
        self.members.setdefault(household, []).append(person)

    def new_person(self, birth: dt.date, female: bool, household: str, role: str, region: str = "flanders"):
        person = Person(self.w.insz(birth, female), birth, female, household, role, region)
        self.persons.append(person)
        self.add_member(person, household)
        return person

    def register(self, person: Person, legacy_group: str | None = None) -> None:
        data = {"birth_date": person.birth.isoformat(), "household_id": person.household, "role": person.role}
        if person.parents:
            data["parents"] = list(person.parents)
        data["region"] = person.region
        if legacy_group:
            data["legacy_group"] = legacy_group
        self.emit("person.registered", person.insz, self.w.S, self.initial(), data)

    def adult_birth(self, age_years: float, reference: dt.date) -> dt.date:
        return reference - dt.timedelta(days=int(age_years * YEAR_DAYS + self.rng.random() * 365))

    def move(self, person: Person, day: dt.date, household: str, role: str, region: str, low=1, high=10) -> None:
        if person.household != household:
            self.members[person.household].remove(person)
            self.add_member(person, household)
        person.household, person.role, person.region = household, role, region
        self.emit("person.moved", person.insz, day, self.recorded(day, low, high),
                  {"household_id": household, "role": role, "region": region})

    def alive_parents(self, household: str, day: dt.date) -> list[Person]:
        return [p for p in self.members.get(household, ()) if p.role == "parent" and not p.is_child
                and (p.died is None or p.died > day)]

    def children_of(self, household: str, day: dt.date) -> list[Person]:
        return [p for p in self.members.get(household, ()) if p.is_child and (p.died is None or p.died > day)]

    # --- the family ---------------------------------------------------------------------------------------
    def build(self) -> list:
        w, c, rng, S, E = self.w, self.c, self.rng, self.w.S, self.w.E
        # Completed family size and birth offsets (days after the first birth), drawn in proportion to the
        # window in which the family is in the population (first birth .. last child's 25th birthday).
        while True:
            size = 1 + w.choose_index(w.family_cum, rng.random())
            offsets = [0.0]
            for _ in range(size - 1):
                offsets.append(offsets[-1] + 1.0 + rng.gammavariate(2.0, (c.birth_gap_years - 1.0) / 2.0))
            window = offsets[-1] + 25.0 + w.span_years
            t_years = rng.random() * window - w.span_years  # years since the first birth on S
            weight = window / w.max_window
            if c.cohort_weighting:
                weight *= w.cohort_weight(S.year - math.ceil(t_years))
            if rng.random() <= weight:
                break
        first_birth = S - dt.timedelta(days=int(t_years * YEAR_DAYS))
        births: list[dt.date] = []
        for offset in offsets:
            day = first_birth + dt.timedelta(days=int(offset * YEAR_DAYS))
            births.append(day)
            if rng.random() < c.twin_rate:
                births.append(day)
        existing = [b for b in births if b < S and add_years(b, 25) > S]
        planned = [b for b in births if S <= b <= E]

        mother_age = min(max(rng.gauss(c.mother_age_first_birth, c.mother_age_first_birth_sd), 18.0),
                         max(45.0 - offsets[-1], 17.0))
        mother_birth = first_birth - dt.timedelta(days=int(mother_age * YEAR_DAYS))
        father_birth = mother_birth - dt.timedelta(days=int(rng.gauss(c.father_age_gap_years, 3.5) * YEAR_DAYS))
        father_birth = min(father_birth, add_years(first_birth, -18))
        single = rng.random() < c.single_parent_rate
        single_father = single and rng.random() < c.single_father_share
        hid = self.hid
        mother = father = None
        absent = None
        if not single or not single_father:
            mother = self.new_person(mother_birth, True, hid, "parent")
        if not single or single_father:
            father = self.new_person(father_birth, False, hid, "parent")
        if single and rng.random() < c.absent_parent_known_rate:
            absent_hid = w.household_id()
            region = "flanders" if rng.random() < 0.85 else ("brussels", "wallonia", "abroad")[int(rng.random() * 3)]
            if single_father:
                absent = mother = self.new_person(mother_birth, True, absent_hid, "other", region)
            else:
                absent = father = self.new_person(father_birth, False, absent_hid, "other", region)
        parents_insz = [p.insz for p in (mother, father) if p is not None]
        custodial = [p for p in (mother, father) if p is not None and p.household == hid]
        for parent in custodial:
            self.taxpayers.append(parent)
        self.set_incomes(custodial, single)
        if single and rng.random() < c.partner_maintenance_rate:
            custodial[0].maintenance = rng.uniform(1_500, 7_000)

        children = []
        for birth in existing:
            child = self.new_person(birth, rng.random() < 0.488, hid, "child")
            child.parents = parents_insz
            child.traits = ChildTraits(c, rng, w)
            children.append(child)

        # --- initial load
        for parent in custodial:
            self.register(parent)
        if absent is not None:
            self.register(absent)
        legacy = f"LG-{hid[2:]}"
        for child in children:
            self.register(child, legacy if self.had_legacy_right(child) else None)
        if children:
            first = max(month_index(children[0].birth), month_index(NEW_SYSTEM_START))
            self.start_file(hid, custodial, first, self.load_instant, initial=True)
        self.property(custodial)
        for child in children:
            self.existing_care(child)

        # --- life events of the span, in date order
        events: list[tuple[dt.date, int, str, object]] = []
        order = 0
        for birth in planned:
            events.append((birth, order, "birth", None))
            order += 1
        years = w.span_years
        if rng.random() < hazard_probability(c.move_out_rate, years):
            events.append((self.day_in_span(), order, "move_out", None))
            order += 1
        if not single and rng.random() < hazard_probability(c.separation_rate, years):
            events.append((self.day_in_span(), order, "separation", None))
            order += 1
        if single and rng.random() < hazard_probability(c.repartner_rate, years):
            events.append((self.day_in_span(), order, "repartner", None))
            order += 1
        if rng.random() < hazard_probability(c.payer_switch_rate, years):
            events.append((self.day_in_span(), order, "payer_switch", None))
            order += 1
        for parent in custodial:
            if rng.random() < hazard_probability(c.parent_death_rate, years):
                events.append((self.day_in_span(), order, "death", parent))
                order += 1
        for child in children:
            rate = c.infant_death_rate if (S - child.birth).days < 365 else c.child_death_rate
            if rng.random() < hazard_probability(rate, years):
                events.append((self.day_in_span(), order, "death", child))
                order += 1
            if not child.fostered and rng.random() < hazard_probability(c.foster_new_rate, years):
                events.append((self.day_in_span(), order, "foster", child))
                order += 1
            if not child.care and rng.random() < hazard_probability(c.care_new_rate, years):
                events.append((self.day_in_span(), order, "care", child))
                order += 1
        events.sort(key=lambda e: (e[0], e[1]))
        intact = not single
        for day, _, kind, subject in events:
            if kind == "birth":
                if mother is None or mother.household != hid or mother.died is not None or (not intact and not single):
                    continue
                child = self.new_person(day, rng.random() < 0.488, hid, "child", mother.region)
                child.parents = parents_insz
                child.traits = ChildTraits(c, rng, w)
                child.left_flanders = mother.left_flanders
                children.append(child)
                self.emit("person.born", child.insz, day, self.recorded(day, 1, 6),
                          {"birth_date": day.isoformat(), "household_id": hid, "parents": list(child.parents),
                           "region": child.region})
                if hid not in self.payer:
                    self.start_file(hid, self.alive_parents(hid, day), month_index(day), self.recorded(day, 3, 20))
            elif kind == "move_out":
                self.move_out(hid, day)
            elif kind == "separation":
                if self.separate(hid, day):
                    intact = False
            elif kind == "repartner":
                self.repartner(hid, day)
            elif kind == "payer_switch":
                self.switch_payer(hid, day)
            elif kind == "death":
                self.death(subject, day)
            elif kind == "foster":
                self.foster(subject, day, existing=False)
            elif kind == "care":
                if subject.died is None and subject.region == "flanders" and add_years(subject.birth, 21) > day:
                    self.care_assessment(subject, day, self.recorded(day, 30, 120))

        # --- the sources that report on the children and the parents over the span
        for child in children:
            self.education(child)
            self.childcare(child)
        for person in self.taxpayers:
            self.tax(person)
        self.items.sort(key=lambda item: (item[0], item[1]))
        return self.items

    def had_legacy_right(self, child: Person) -> bool:
        """Born before 2019 and entitled on 2018-12-31 (under the age limit, or a pupil / student then)."""
        if child.birth >= NEW_SYSTEM_START:
            return False
        if month_index(child.birth) + 216 >= month_index(dt.date(2018, 12, 1)):
            entitled = True
        elif month_index(child.birth) + 300 < month_index(dt.date(2018, 12, 1)):
            entitled = False
        else:
            level, _, _, credits = self.school_level(child, 2018)
            entitled = level == "secondary" or (level == "higher" and credits >= 27)
        return entitled and self.rng.random() < self.c.legacy_right_rate

    def set_incomes(self, parents: list[Person], single: bool) -> None:
        c, rng = self.c, self.rng
        if not parents:
            return
        median = c.single_income_median_eur if single else c.income_median_eur
        family = math.exp(rng.gauss(math.log(median), c.income_sigma))
        if rng.random() < c.income_tail_rate:
            family *= rng.paretovariate(c.income_tail_alpha)
        if len(parents) == 1:
            shares = [1.0]
        elif rng.random() < c.single_earner_rate:
            shares = [1.0, 0.0] if rng.random() < 0.3 else [0.0, 1.0]  # more often the mother stays home
            shares = shares if parents[0].female else shares[::-1]
        else:
            mother_share = min(max(rng.gauss(0.45, 0.12), 0.05), 0.95)
            shares = [mother_share, 1.0 - mother_share] if parents[0].female else [1.0 - mother_share, mother_share]
        for parent, share in zip(parents, shares):
            parent.income = family * share
            if share > 0 and rng.random() < c.self_employed_rate:
                parent.self_employed = 1.0 if rng.random() < 0.6 else rng.uniform(0.2, 0.8)
            parent.no_tax = rng.random() < c.missing_tax_rate

    def start_file(self, household: str, parents: list[Person], first_month: int, instant: int,
                   initial: bool = False, payer: str | None = None) -> None:
        """payer.chosen, receiver.designated and bank_account.registered of a household that gets children."""
        c, rng = self.c, self.rng
        payer = payer or self.w.payer(rng)
        self.payer[household] = payer
        from_month = month_text(first_month)
        occurred = month_first(first_month)
        if not initial:
            occurred = dt.date.fromordinal(instant // DAY)
        self.emit("payer.chosen", household, occurred, instant, {"payer": payer, "from_month": from_month})
        alive = [p for p in parents if p.died is None]
        if not alive:
            return
        receiver = min(alive, key=lambda p: (-p.birth.toordinal(), p.insz))  # the youngest parent (the default)
        mothers = [p for p in alive if p.female]
        if len(alive) > 1 and mothers and rng.random() < c.receiver_designated_rate:
            receiver = mothers[0]
            self.emit("receiver.designated", household, occurred, instant + 1,
                      {"receiver": receiver.insz, "from_month": from_month})
        self.receiver[household] = receiver
        self.bank_account(receiver, occurred if not initial else self.w.S, instant + 2)

    def bank_account(self, person: Person, occurred: dt.date, instant: int) -> None:
        if person.has_account or self.rng.random() >= self.c.bank_account_rate:
            return
        person.has_account = True
        self.emit("bank_account.registered", person.insz, occurred, instant, {"iban": self.w.iban(self.rng)})

