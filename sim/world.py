"""The persons of a simulation run and the state all its households share (*de wereld*: ids, INSZ serials).

:class:`World` holds what is fixed-size for a run whatever the number of households: the span, the id and event
counters, the INSZ serial counters per birth date and sex (one array allocated once) and the cumulative weights.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from array import array
from bisect import bisect_right
from itertools import accumulate

from sim.dates import DAY, ORD_MAX, ORD_MIN, YEAR_DAYS, alloc_start, last_day, month_index, parse_month
from sim.config import SimulationConfig
from streams.identifiers import insz_check_digits, make_iban_be

NEW_SYSTEM_START = dt.date(2019, 1, 1)  # the Groeipakket; children born before it can have a legacy group
# Live births in the Flemish Region by year, in thousands (Statistiek Vlaanderen / Statbel, rounded
# approximations): families are drawn in proportion to the size of their first child's birth cohort.
FLANDERS_BIRTHS = {1994: 63, 1995: 62, 1996: 62, 1997: 62, 1998: 61, 1999: 60, 2000: 61, 2001: 61, 2002: 60,
                   2003: 61, 2004: 63, 2005: 64, 2006: 67, 2007: 68, 2008: 70, 2009: 70, 2010: 71, 2011: 70,
                   2012: 69, 2013: 68, 2014: 67, 2015: 66, 2016: 66, 2017: 65, 2018: 64, 2019: 63, 2020: 61,
                   2021: 63, 2022: 60, 2023: 58, 2024: 57, 2025: 56, 2026: 56}
# Belgian bank codes (first three digits of the BBAN) of the largest retail banks.
BANK_CODES = (1, 63, 68, 97, 103, 143, 310, 363, 377, 523, 550, 645, 652, 734, 735, 736, 737, 738, 739, 750, 751,
              779, 850, 973, 979)


class Person:
    """One person of the run (*persoon*): parent, child or other household member, and what the sources know."""

    __slots__ = ("insz", "birth", "female", "household", "role", "region", "died", "is_child", "parents",
                 "traits", "income", "self_employed", "maintenance", "no_tax", "has_account", "left_flanders",
                 "fostered", "care")

    def __init__(self, insz: str, birth: dt.date, female: bool, household: str, role: str, region: str):
        self.insz, self.birth, self.female = insz, birth, female
        self.household, self.role, self.region = household, role, region
        self.died: dt.date | None = None
        self.left_flanders: dt.date | None = None
        self.is_child = role == "child"
        self.parents: list[str] = []
        self.traits = None
        self.income = 0.0  # taxable income (EUR) of the first income year
        self.self_employed = 0.0  # share of the income earned as self-employed
        self.maintenance = 0.0  # partner maintenance received per year (EUR)
        self.no_tax = False
        self.has_account = False
        self.fostered = False
        self.care = False


class ChildTraits:
    """What is decided once per child at its creation (school career, childcare use, attendance)."""

    __slots__ = ("delay", "higher_years", "low_credit_years", "early_preschool", "preschool", "home_school",
                 "childcare", "cc_income_related", "cc_days", "cc_start", "attendance", "absence")

    def __init__(self, c: SimulationConfig, rng: random.Random, world: World):
        self.delay = world.choose_index(world.delay_cum, rng.random())
        self.higher_years = (3 + world.choose_index(world.higher_cum, rng.random())
                             if rng.random() < c.higher_education_rate else 0)
        self.low_credit_years = frozenset(y for y in range(self.higher_years) if rng.random() < c.low_credits_rate)
        self.early_preschool = rng.random() < c.preschool_early_entry_rate
        self.preschool = rng.random() < c.preschool_rate
        self.home_school = rng.random() < 0.003
        self.childcare = rng.random() < c.childcare_rate
        self.cc_income_related = rng.random() < c.childcare_income_related_rate
        low, high = c.childcare_days
        self.cc_days = rng.randint(low, high)
        self.cc_start = rng.randint(3, 6)  # months after birth (after the 15 weeks of maternity leave)
        rate = c.preschool_half_days_per_month
        self.attendance = max(2.0, rng.gauss(rate, 2.5)) * (0.5 if rng.random() < c.low_attendance_rate else 1.0)
        roll = rng.random()
        self.absence = (rng.randint(30, 80) if roll < c.truancy_rate
                        else rng.randint(1, 20) if roll < c.truancy_rate + c.minor_absence_rate else 0)


class World:
    """State shared by all households of one run: ids, counters, the INSZ serials (fixed size)."""

    def __init__(self, config: SimulationConfig):
        self.c = config
        (y0, m0), (y1, m1) = parse_month(config.start), parse_month(config.end)
        self.S = dt.date(y0, m0, 1)
        self.E = last_day(y1, m1)
        self.horizon = last_day(y1 + m1 // 12, m1 % 12 + 1)
        self.horizon_instant = (self.horizon.toordinal() + 1) * DAY - 1
        self.span_days = (self.E - self.S).days + 1
        self.span_years = self.span_days / YEAR_DAYS
        self.first_month, self.last_month = month_index(self.S), month_index(self.E)
        self.school_years = list(range(alloc_start(self.S), alloc_start(self.E) + 1))
        self.income_years = [year - 2 for year in self.school_years]
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://groeipakket.example/sim")
        self.seed_text = str(config.seed)
        self.events = 0
        self.faults = 0
        self.next_household = config.households + 1
        self.next_account = 0
        self.serials = array("H", bytes(2 * 2 * (ORD_MAX - ORD_MIN + 1)))
        self.family_cum = list(accumulate(config.family_size_weights))
        self.delay_cum = list(accumulate(config.secondary_delay_weights))
        self.higher_cum = list(accumulate(config.higher_education_years_weights))
        self.payer_names = [name for name, _ in config.payer_shares]
        self.payer_cum = list(accumulate(share for _, share in config.payer_shares))
        mean_gaps = [1.0 + (config.birth_gap_years - 1.0) * (k - 1) for k in range(1, len(self.family_cum) + 1)]
        self.max_window = max(mean_gaps) * 2.0 + 25.0 + self.span_years

    @staticmethod
    def cohort_weight(year: int) -> float:
        year = min(max(year, min(FLANDERS_BIRTHS)), max(FLANDERS_BIRTHS))
        return FLANDERS_BIRTHS[year] / 71.0

    @staticmethod
    def choose_index(cumulative: list[float], roll: float) -> int:
        return min(bisect_right(cumulative, roll * cumulative[-1]), len(cumulative) - 1)

    def payer(self, rng: random.Random) -> str:
        return self.payer_names[self.choose_index(self.payer_cum, rng.random())]

    def event_id(self) -> str:
        self.events += 1
        return str(uuid.uuid5(self.namespace, f"{self.seed_text}:{self.events}"))

    def fault_id(self) -> str:
        self.faults += 1
        return str(uuid.uuid5(self.namespace, f"{self.seed_text}:fault:{self.faults}"))

    def household_id(self) -> str:
        number = self.next_household
        self.next_household += 1
        return f"H-{number:07d}"

    def iban(self, rng: random.Random) -> str:
        self.next_account += 1
        bank = BANK_CODES[int(rng.random() * len(BANK_CODES))]
        return make_iban_be(bank * 10**7 + (self.next_account * 7_919) % 10**7)

    def insz(self, birth: dt.date, female: bool) -> str:
        """A new, never reused INSZ whose encoded birth date is ``birth`` (odd serial: male, even: female)."""
        index = 2 * (birth.toordinal() - ORD_MIN) + female
        n = self.serials[index]
        if n >= 998:
            raise RuntimeError(f"INSZ serials exhausted for birth date {birth} (more than 998 persons)")
        self.serials[index] = n + 1
        month = birth.month if n < 499 else birth.month + 40  # then a BIS number (sex known: month + 40)
        serial = 2 * (n % 499) + 1 + female
        first = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{serial:03d}"
        return first + insz_check_digits(first, birth.year >= 2000)
