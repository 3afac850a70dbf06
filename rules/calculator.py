"""The calculator (berekeningsmotor): the amounts due per child, component and month, with their trace.

Pure and deterministic: a :class:`Calculator` is built from a :class:`rules.situation.Situation` and the dated
parameters; it never does I/O. The same code serves ``groeipakket calc`` (the whole population of a file) and the
streaming engine (one household's state at a time), so the streaming result can be checked against ``calc``.

For each household and month it determines the household's children (ruleset §1: membership as on the last day
of the month, the day of death for a child who died in it, the foster household during a placement), which of
them are entitled, the family size, the parents in the household and the family income, and then asks each
component's rule module for its amount, in the order the rules depend on each other.

Facts are constant between their dates (:mod:`rules.changes`): a person's place, entitlement decision and regime,
and a household-month's members, are kept for their whole period of constant facts, and ``entitlements`` (a
batch of months) computes each period once and re-dates its lines for the other months of the period.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator

from rules import (age_supplement, basic, basic_transitional, care, changes, childcare, entitlement, family_income,
                   foster, orphan, preschool, regime, school_allowance, school_bonus, social, social_transitional,
                   start, support)
from rules.parameters import Parameters, ParameterValue, default_parameters
from rules.periods import allocation_year_start, month_last_day
from rules.situation import Person, Situation
from rules.trace import Entitlement

# Components of an entitled child, in dependency order (age_supplement looks at social_transitional and care).
MONTHLY_RULES = (basic, basic_transitional, social, social_transitional, orphan, foster, care, support,
                 age_supplement, school_bonus, preschool, childcare, school_allowance)
COMPONENTS = tuple(module.COMPONENT for module in MONTHLY_RULES) + (start.COMPONENT,)
_MISSING = object()


class HouseholdMonth:
    """One household in one month: its children, the entitled ones, family size, parents and income.

    It refers to its calculator weakly: the calculator caches its household-months, and a strong reference back
    would make every calculator a reference cycle, freed only by the cycle collector, which holds the GIL while
    it runs. Those cycles are what made a full collection after a September close of 100 000 households take
    3.0-3.5 s (the consumer thread's heartbeats stopped past the embedded broker's 4 s session: a rebalance).
    Without them reference counting frees a calculator, its situation and decoded facts as soon as the
    household state lets go of it. A household-month is therefore used while its calculator is (every caller
    asks ``calc.household_month(...)`` and reads it at once).
    """

    __slots__ = ("calc", "household_id", "month", "children", "_entitled", "_has_new_system", "parents", "_income",
                 "income_test")

    def __init__(self, calc: "Calculator", household_id: str, month: int,
                 same_facts_as: HouseholdMonth | None = None):
        self.calc, self.household_id, self.month = weakref.proxy(calc), household_id, month
        self._income: family_income.FamilyIncome | None = None  # of the last income year asked for
        self.income_test = social.NOT_YET  # the social income test (rules.social), shared by the children's rules
        if same_facts_as is not None:  # a month with the same facts (rules.changes): the same members
            self.children, self.parents = same_facts_as.children, same_facts_as.parents
            self._entitled, self._has_new_system = same_facts_as._entitled, same_facts_as._has_new_system
            return
        last = month_last_day(month)
        self.children: list[tuple[Person, str]] = []  # (child, source of its membership or placement)
        self.parents: list[Person] = []
        child_household = calc.child_household
        for person in calc.members(household_id):
            place = child_household(person, month)
            if place is not None and place[0] == household_id:
                self.children.append((person, place[1]))
                continue
            membership = person.membership_on(last)
            if (membership is not None and membership.household == household_id and membership.role == "parent"
                    and person.alive_on(last)):
                self.parents.append(person)
        self._entitled: list[Person] | None = None  # derived on first use: income look-ups need parents only
        self._has_new_system: bool | None = None

    @property
    def entitled(self) -> list[Person]:
        """The entitled children of the household in the month."""
        if self._entitled is None:
            entitlement, month = self.calc.entitlement, self.month
            self._entitled = [child for child, _ in self.children if entitlement(child, month).entitled]
        return self._entitled

    @property
    def n(self) -> int:
        """Family size: the number of entitled children."""
        return len(self.entitled)

    @property
    def has_new_system(self) -> bool:
        if self._has_new_system is None:
            self._has_new_system = any(self.calc.regime(child, self.month) == regime.NEW for child in self.entitled)
        return self._has_new_system

    def income(self, income_year: int) -> "family_income.FamilyIncome":
        income = self._income
        if income is None or income.income_year != income_year:
            income = self._income = self.calc.family_income(self.parents, income_year, self.month)
        return income


class ChildMonth:
    """What the component rules see for one child in one month."""

    __slots__ = ("calc", "hm", "child", "month", "place_source", "regime", "lines", "entitled", "values")

    def __init__(self, calc: "Calculator", hm: HouseholdMonth, child: Person, place_source: str):
        month = hm.month
        self.calc, self.hm, self.child, self.month, self.place_source = calc, hm, child, month, place_source
        self.entitled = calc.entitlement(child, month).entitled
        self.regime = calc.regime(child, month) if child.legacy_group else regime.NEW
        self.lines: dict[str, Entitlement] = {}
        self.values = calc.month_values(month)  # every parameter's value in force in the month, by name

    def param(self, name: str, month: int | None = None) -> ParameterValue | None:
        if month is None:
            return self.values[name]
        return self.calc.month_values(month)[name]

    def line(self, component: str, amount_cents: int, rule: str, legal: str, params: tuple,
             inputs: tuple = (), sources: tuple = (), month: int | None = None) -> Entitlement:
        return Entitlement(self.hm.household_id, self.child.insz, component, self.month if month is None else month,
                           amount_cents, rule, legal, self.calc.shared(params), inputs,
                           (self.child.birth_source, self.place_source, *sources))


class Calculator:
    def __init__(self, situation: Situation, parameters: Parameters | None = None):
        self.situation = situation
        self.params = parameters or default_parameters()
        self.parameter = {p.name: p for p in self.params}  # plain dict: the hot path reads it per amount
        # Per person: (first month, last month, value) for the latest period of constant facts asked about.
        self._places: dict[str, tuple] = {}
        self._entitlements: dict[str, tuple] = {}
        self._regimes: dict[str, tuple] = {}
        self._household_months: dict[tuple[str, int], HouseholdMonth] = {}
        self._incomes: dict[tuple, family_income.FamilyIncome] = {}
        self._rules: dict[str, tuple] = {}
        self._month_values: dict[int, dict[str, ParameterValue | None]] = {}
        self._members: dict[str, list[Person]] = {}
        self._shared: dict[tuple, tuple] = {}
        self._decisions: dict[entitlement.EntitlementDecision, entitlement.EntitlementDecision] = {}
        self._person_changes: dict[str, tuple[int, ...]] = {}
        self._person_periods: dict[str, tuple[int, int]] = {}
        self._household_periods: dict[str, tuple] = {}  # (first month, last month, household-month)
        self._fact_changes: dict[str, tuple[int, ...]] = {}
        self._ages: set[int] | None = None
        # The months in which a parameter changes (rules.changes): any, and one read by the entitlement.
        self.parameter_change_months = changes.parameter_months(self.params)
        self.entitlement_parameter_months = changes.parameter_months(self.params, entitlement.PARAMETERS)
        self.school_allowance_parameter_months = changes.parameter_months(
            self.params, entitlement.PARAMETERS + family_income.PARAMETERS)
        self._cache: dict[tuple, object] = {}  # per-rule caches (ranks, eldest child, school allowance decisions)

    @classmethod
    def from_events(cls, events: Iterable, parameters: Parameters | None = None) -> "Calculator":
        return cls(Situation(events), parameters)

    # --- shared facts -------------------------------------------------------------------------------------
    def month_values(self, month: int) -> dict[str, ParameterValue | None]:
        """The value of every parameter in force in month M (None where none is), by name: one table per month
        instead of a dated look-up per amount."""
        values = self._month_values.get(month)
        if values is None:
            values = self._month_values[month] = {p.name: p.at_month(month) for p in self.params}
        return values

    def count(self, name: str, month: int) -> int:
        return self.month_values(month)[name].value

    def child_household(self, person: Person, month: int) -> tuple[str, str, object] | None:
        """(household, source event, placement) of a child in month M, or None when it is nobody's child then."""
        known = self._places.get(person.insz)
        if known is not None and known[0] <= month <= known[1]:
            return known[2]
        place = None
        day = person.reference_day(month)
        if day is not None and person.birth_date is not None:
            placement = person.placement_on(day) if person.placements else None
            if placement is not None:
                place = (placement.household, placement.source, placement)
            else:
                membership = person.membership_on(day)
                if membership is not None and membership.role == "child":
                    place = (membership.household, membership.source, None)
        self._places[person.insz] = (*self.facts_period(person, month, ()), place)
        return place

    def entitlement(self, person: Person, month: int) -> entitlement.EntitlementDecision:
        known = self._entitlements.get(person.insz)
        if known is not None and known[0] <= month <= known[1]:
            return known[2]
        decision = entitlement.decide(person, month, self.month_values(month))
        decision = self._decisions.setdefault(decision, decision)  # one object for equal decisions
        self._entitlements[person.insz] = (*self.facts_period(person, month, self.entitlement_parameter_months),
                                           decision)
        return decision

    def facts_period(self, person: Person, month: int, parameter_months: tuple[int, ...]) -> tuple[int, int]:
        """The first and last month of the period around M in which none of the person's facts read by the
        rules, nor a parameter whose change months are ``parameter_months``, changes (rules.changes): what is
        derived from them for M holds in all of it."""
        known = self._person_periods.get(person.insz)  # the latest period of the person's own facts asked about
        if known is None or not known[0] <= month <= known[1]:
            known = self._person_periods[person.insz] = changes.period_of(self.person_change_months(person), month)
        if not parameter_months:
            return known
        parameters_first, parameters_last = changes.period_of(parameter_months, month)
        return max(known[0], parameters_first), min(known[1], parameters_last)

    def regime(self, person: Person, month: int) -> str:
        if person.legacy_group is None:
            return regime.NEW
        known = self._regimes.get(person.insz)
        if known is not None and known[0] <= month <= known[1]:
            return known[2]
        value = regime.regime(self, person, month)
        self._regimes[person.insz] = (*self.facts_period(person, month, ()), value)
        return value

    def members(self, household_id: str) -> list[Person]:
        """Everyone ever a member of (or placed in) the household, in a fixed order."""
        members = self._members.get(household_id)
        if members is None:
            persons = self.situation.persons
            members = self._members[household_id] = [
                persons[insz] for insz in sorted(self.situation.members_ever.get(household_id, ()))]
        return members

    def rules_for(self, child: Person) -> tuple:
        """The component rules that can apply to this child at all (a cheap pre-check, per child)."""
        rules = self._rules.get(child.insz)
        if rules is None:
            rules = self._rules[child.insz] = tuple(m for m in MONTHLY_RULES if m.applies_to(self, child))
        return rules

    def forget_household_months(self) -> None:
        """Drop the household-months computed so far (a cache: they are made again when asked for), so that a
        batch over a whole population does not keep them all."""
        self._household_months.clear()
        self._household_periods.clear()

    def household_month(self, household_id: str, month: int) -> HouseholdMonth:
        key = (household_id, month)
        hm = self._household_months.get(key)
        if hm is None:
            known = self._household_periods.get(household_id)
            if known is not None and known[0] <= month <= known[1]:
                hm = self._household_months[key] = HouseholdMonth(self, household_id, month, same_facts_as=known[2])
                return hm
            hm = self._household_months[key] = HouseholdMonth(self, household_id, month)
            # Its members, entitled children and regimes hold while no member's fact nor an entitlement
            # parameter changes.
            first, last = changes.period_of(self.fact_change_months(household_id), month)
            parameters_first, parameters_last = changes.period_of(self.entitlement_parameter_months, month)
            self._household_periods[household_id] = (max(first, parameters_first), min(last, parameters_last), hm)
        return hm

    def family_income(self, parents: list[Person], income_year: int, month: int) -> "family_income.FamilyIncome":
        # Cached per parents, income year and the percentages in force (the same all allocation year long).
        key = (tuple([p.insz for p in parents]), income_year, family_income.percentages(self, month))
        result = self._incomes.get(key)
        if result is None:
            result = self._incomes[key] = family_income.compute(self, parents, income_year, month)
        return result

    def fact_change_months(self, household_id: str) -> tuple[int, ...]:
        months = self._fact_changes.get(household_id)
        if months is None:
            months = self._fact_changes[household_id] = changes.fact_months(self, household_id)
        return months

    def school_allowance_facts_hold_through(self, household_id: str, month: int) -> int:
        """The last month from M on in which what the school allowance reads for a pupil of the household within
        a school year (its place, enrolments, entitlement and family income) is what it read in M: until a fact
        of the household (its pupils' among them) or a parameter of the entitlement or the income changes; the
        yearly months do not matter."""
        return min(changes.last_month_before_change(self.fact_change_months(household_id), month),
                   changes.last_month_before_change(self.school_allowance_parameter_months, month))

    def person_change_months(self, person: Person) -> tuple[int, ...]:
        months = self._person_changes.get(person.insz)
        if months is None:
            if self._ages is None:
                self._ages = changes.ages_in_years(self.params)
            months = self._person_changes[person.insz] = changes.person_months(person, self.situation.persons,
                                                                                self._ages)
        return months

    def cached(self, key: tuple, compute):
        value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = self._cache[key] = compute()
        return value

    def shared(self, value: tuple) -> tuple:
        """One object for equal tuples (the parameters of a line) that many lines hold: fewer objects for the
        garbage collector to scan."""
        return self._shared.setdefault(value, value)

    # --- results ------------------------------------------------------------------------------------------
    def household_entitlements(self, household_id: str, month: int) -> list[Entitlement]:
        hm = self.household_month(household_id, month)
        lines: list[Entitlement] = []
        for child, place_source in hm.children:
            cm = ChildMonth(self, hm, child, place_source)
            if cm.entitled:
                for module in self.rules_for(child):
                    line = module.compute(cm)
                    if line is not None:
                        cm.lines[module.COMPONENT] = line
            line = start.compute(cm)
            if line is not None:
                cm.lines[start.COMPONENT] = line
            lines.extend([line for line in cm.lines.values() if line.amount_cents])
        return lines

    def entitlements(self, months: Iterable[int], households: Iterable[str] | None = None) -> list[Entitlement]:
        """Every non-zero entitlement of the given households (default: all) for the given months.

        A month with the same facts as an earlier month of the batch (:mod:`rules.changes`: mostly the month
        before, when it is not a change month of the household) gets the lines of that month, re-dated."""
        return list(self.each_entitlement(months, households))

    def each_entitlement(self, months: Iterable[int], households: Iterable[str] | None = None
                         ) -> Iterator[Entitlement]:
        """:meth:`entitlements` one household at a time, for a batch over a whole population: only the lines of
        the household in progress are kept (``verify`` at 100 000 households over a year: ~9 million lines)."""
        household_ids = sorted(households if households is not None else self.situation.members_ever)
        months = list(months)
        years = sorted({allocation_year_start(month) for month in months})
        for household_id in household_ids:
            change_months = changes.household_months(self, household_id, years)
            done: dict[int, list[Entitlement]] = {}
            for month in months:
                same = changes.month_with_same_facts(month, done, change_months)
                if same is not None:
                    lines = [line.in_month(month) for line in done[same]]
                elif changes.only_school_bonus_added(month, done, change_months):
                    lines = self._with_school_bonus(household_id, month, done[month - 1])
                else:
                    lines = self.household_entitlements(household_id, month)
                done[month] = lines
            # Its household-months served this household's months (and its children's school allowance): drop
            # them, so that a batch over a whole population does not keep them all.
            self.forget_household_months()
            for month in months:
                yield from done[month]

    def school_bonus_lines(self, household_id: str, month: int) -> dict[str, Entitlement]:
        """The school bonus line of each entitled child of the household in ``month`` (a July), by INSZ."""
        hm = self.household_month(household_id, month)
        bonus: dict[str, Entitlement] = {}
        for child, place_source in hm.children:
            cm = ChildMonth(self, hm, child, place_source)
            if cm.entitled:
                line = school_bonus.compute(cm)
                if line is not None and line.amount_cents:
                    bonus[child.insz] = line
        return bonus

    def _with_school_bonus(self, household_id: str, month: int, june: list[Entitlement]) -> list[Entitlement]:
        """July with the facts of June: June's lines re-dated, with each entitled child's school bonus after its
        last line (school_bonus follows every monthly component June can have)."""
        bonus = self.school_bonus_lines(household_id, month)
        lines: list[Entitlement] = []
        for i, line in enumerate(june):
            lines.append(line.in_month(month))
            if i + 1 == len(june) or june[i + 1].child != line.child:
                extra = bonus.pop(line.child, None)
                if extra is not None:
                    lines.append(extra)
        if bonus:  # a bonus for a child without a line in June: compute the month in full
            return self.household_entitlements(household_id, month)
        return lines

    def child_entitlements(self, insz: str, month: int) -> tuple[list[Entitlement], str]:
        """One child's lines for one month and the entitlement decision in words (for --explain)."""
        person = self.situation.persons.get(insz)
        if person is None:
            return [], "child unknown"
        place = self.child_household(person, month)
        decision = self.entitlement(person, month)
        if place is None:
            return [], f"not a child of any household in this month; {decision.basis}"
        lines = [line for line in self.household_entitlements(place[0], month) if line.child == insz]
        return lines, f"{'entitled' if decision.entitled else 'not entitled'}: {decision.basis}"
