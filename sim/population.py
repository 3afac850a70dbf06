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

Defaults and their basis (figures are rounded public statistics or plain approximations — tune them in the
config; none of them is normative):

======================================  ===========  ==========================================================
field                                    default      basis
======================================  ===========  ==========================================================
``family_size_weights`` (K = 1..5)       .24 .44 .21  completed family size of Flemish mothers (≈ 2.1 children
                                         .08 .03      per mother; ~15 % of women stay childless so ≈ 1.75 per
                                                      woman, Statbel/Eurostat). With the life-cycle window this
                                                      gives ≈ 1.9 registered children (0–24) and ≈ 1.7 entitled
                                                      children per family: Groeipakket ≈ 1.62 M children in
                                                      ≈ 0.95 M families (Opgroeien, annual statistics 2023).
``cohort_weighting``                     True         families in proportion to the Flemish births of their first
                                                      child's year (≈ 71 000 in 2010, ≈ 57 000 in 2024; table
                                                      ``FLANDERS_BIRTHS``, rounded). Births then come out at
                                                      ≈ 65–78 per 1 000 families a year (observed ≈ 63: 60 000 /
                                                      0.95 M; immigration, which adds older children, is not
                                                      modelled).
``birth_gap_years``                      2.7          mean interval between births (1 year minimum + gamma);
                                                      Statbel: median ≈ 3 years.
``mother_age_first_birth`` (sd)          29.5 (4.5)   Statbel: mean age of the mother at the first birth ≈ 29–30.
``father_age_gap_years``                 2.5          usual age gap between partners.
``single_parent_rate``                   0.15         ≈ 15 % of Flemish families with children are single-parent
                                                      families (Statistiek Vlaanderen, "gezinnen").
``single_father_share``                  0.17         ≈ 1 in 6 single parents is a father.
``twin_rate``                            0.017        ≈ 1.7 % of births are twins (Studiecentrum voor Perinatale
                                                      Epidemiologie).
``legacy_right_rate``                    0.97         share of children born before 2019 that had an open old-system
                                                      right on 2018-12-31 when they were then under the age limit
                                                      (the rest arrived in Flanders later). See the note below on
                                                      the share of transitional children.
``payer_shares``                         FONS .28,    market shares of the five payers, approximations of the
                                         KIDSLIFE .25 published family counts per payer (VUTG reports; they shift
                                         MYFAMILY .20 by a few points a year).
                                         PARENTIA .14
                                         INFINO .13
``receiver_designated_rate``             0.6          two-parent households with an explicit receiver (the mother).
``bank_account_rate``                    0.95         receivers with a known bank account (others: cheque).
``income_median_eur`` (``income_sigma``) 45 000 (0.5) log-normal gross taxable family income of couples; median
                                                      ≈ 45 000 EUR (Statbel fiscal income of households with
                                                      children, approximation). ``income_tail_rate`` 4 % get a
                                                      Pareto(2.5) multiplier (high incomes).
``single_income_median_eur``             27 000       single-parent families earn markedly less.
``single_earner_rate``                   0.08         couples where one partner has no taxable income.
``self_employed_rate``                   0.12         ≈ 12 % of the working population is self-employed (RSVZ).
``partner_maintenance_rate``             0.2          single parents receiving partner maintenance.
``missing_tax_rate``                     0.01         parents without any assessment (non-filers, foreign income).
``late_tax_rate`` / ``revised_tax_rate`` 0.04 / 0.03  assessments recorded after the allocation year started /
                                                      a second assessment of the same year recorded later.
``own_home_rate``                        0.70         ≈ 70 % home ownership (Statbel, EU-SILC Flanders ≈ 71 %).
``other_property_rate``                  0.10         families owning another (rented-out / second) property.
``professional_property_rate``           0.30         of the self-employed, with a property in professional use.
``preschool_early_entry_rate``           0.85         children starting preschool at 2.5 years (instapdata).
``preschool_rate``                       0.98         participation of 3–5-year-olds (≈ 98 %, compulsory from 5).
``higher_education_rate``, years 3–6     0.75         start higher education (≥ 27 credits in ≈ 90 % of years);
                                                      with the study length this puts ≈ 50 % of 18–24-year-olds
                                                      in education, as asked (real participation is lower).
``secondary_delay_weights`` (0/1/2 y)    .80 .16 .04  grade retention ("schoolse vertraging") in secondary school.
``preschool_half_days_per_month``        18           attendance of preschool pupils: 150 half days are reached in
                                                      May for most pupils; ``low_attendance_rate`` 8 % attend about
                                                      half as much (and miss the age-4 preschool supplement).
``truancy_rate`` / ``minor_absence_rate`` 0.01 / 0.04 pupils reaching ≥ 30 / 1–20 half days of unauthorised absence.
``childcare_rate``                       0.5          ≈ 50 % of 0–2-year-olds in formal childcare, 8–20 days a
                                                      month (Kind en Gezin / Opgroeien "kinderopvang" figures);
                                                      ``childcare_income_related_rate`` 0.3 of them pay an
                                                      income-related price (no childcare supplement then).
``care_rate`` / ``care_new_rate``        0.01 / 0.002 children with a support-need assessment / new ones per year.
``foster_rate`` / ``foster_new_rate``    0.005/0.001  children in a foster placement / new placements per year
                                                      (≈ 8 000 foster children in Flanders, Pleegzorg Vlaanderen).
``parent_death_rate``                    0.0012/y     mortality at ages 30–55 (Statbel life tables).
``child_death_rate``                     0.0002/y     mortality at ages 1–24; ``infant_death_rate`` 0.003.
``move_out_rate``                        0.01/y       families moving out of Flanders (Brussels, Wallonia, abroad).
``separation_rate``                      0.02/y       separations of couples with children.
``repartner_rate``                       0.05/y       single parents starting to live with a new partner.
``payer_switch_rate``                    0.02/y       families switching payer.
======================================  ===========  ==========================================================

Note on the share of transitional (old-system) children: by birth year it cannot be ~45 % in 2024. Children born
2019–2024 are at most ~6 of the ~21 birth cohorts with a right in 2024 (0–17 plus the students among the 18–24),
so ≈ 70–75 % of the entitled children were born before 2019 and almost all of them keep their legacy group. The
model reproduces that (≈ 75 % in 2024, falling by ≈ 4–5 points a year); ~45 % is only reached around 2029–2030.

What the defaults produce (2024, 3 000–10 000 families, several seeds): 1.92–1.97 registered children (0–24) and
1.64–1.68 entitled children per family; 14–15 % single-parent families; 75 % of the entitled children
transitional; payer shares within 1 point of the targets; 64–78 births per 1 000 families; 44 % of the 0–2-year-
olds with childcare reports in the year (childcare starts at 3–6 months and ends at preschool entry); 47 % of the
18–24-year-olds in higher education and 3 % still in secondary; family income median ≈ 44 500 EUR (p10 ≈ 21 500,
p90 ≈ 90 000), 36 % of the families at or below T1, so that about half of the entitled children get a social
supplement (``social`` or ``social_transitional``) — more than in reality; raise ``income_median_eur`` to
≈ 55 000–60 000 for ≈ 35–40 %.

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

import datetime as dt
import math
import random
import uuid
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from streams.identifiers import insz_check_digits, make_iban_be

DAY = 86_400
YEAR_DAYS = 365.2425
_ORD_MIN = dt.date(1900, 1, 1).toordinal()
_ORD_MAX = dt.date(2100, 12, 31).toordinal()
NEW_SYSTEM_START = dt.date(2019, 1, 1)
PAYERS = ("FONS", "INFINO", "KIDSLIFE", "MYFAMILY", "PARENTIA")

# Indexation coefficients of the cadastral income by income year (FOD Financiën; 2025 approximate).
KI_INDEX = {2017: 1.7491, 2018: 1.7745, 2019: 1.7863, 2020: 1.8230, 2021: 1.8492, 2022: 1.9084, 2023: 2.0915,
            2024: 2.1763, 2025: 2.2446}
# Live births in the Flemish Region by year, in thousands (Statistiek Vlaanderen / Statbel, rounded
# approximations): families are drawn in proportion to the size of their first child's birth cohort.
FLANDERS_BIRTHS = {1994: 63, 1995: 62, 1996: 62, 1997: 62, 1998: 61, 1999: 60, 2000: 61, 2001: 61, 2002: 60,
                   2003: 61, 2004: 63, 2005: 64, 2006: 67, 2007: 68, 2008: 70, 2009: 70, 2010: 71, 2011: 70,
                   2012: 69, 2013: 68, 2014: 67, 2015: 66, 2016: 66, 2017: 65, 2018: 64, 2019: 63, 2020: 61,
                   2021: 63, 2022: 60, 2023: 58, 2024: 57, 2025: 56, 2026: 56}
# Belgian bank codes (first three digits of the BBAN) of the largest retail banks.
BANK_CODES = (1, 63, 68, 97, 103, 143, 310, 363, 377, 523, 550, 645, 652, 734, 735, 736, 737, 738, 739, 750, 751,
              779, 850, 973, 979)
# NIS codes of Flemish municipalities (cadastral parcel ids start with the cadastral division code).
NIS_CODES = (11002, 12025, 13040, 21004, 23088, 24062, 31005, 34022, 35013, 37015, 41002, 44021, 45041, 46021,
             71016, 72003, 73032)


@dataclass
class SimulationConfig:
    """What to simulate; the demographic defaults and their basis are documented in the module docstring."""

    households: int
    seed: int
    start: str  # "YYYY-MM": the first month of the span
    end: str  # "YYYY-MM": the last month of the span
    invalid_rate: float = 0.0  # extra invalid records, per valid event
    duplicate_rate: float = 0.0  # exact re-sends, per valid event
    late_tax_rate: float = 0.04
    revised_tax_rate: float = 0.03
    # --- families
    family_size_weights: tuple[float, ...] = (0.24, 0.44, 0.21, 0.08, 0.03)
    birth_gap_years: float = 2.7
    mother_age_first_birth: float = 29.5
    mother_age_first_birth_sd: float = 4.5
    father_age_gap_years: float = 2.5
    single_parent_rate: float = 0.15
    single_father_share: float = 0.17
    absent_parent_known_rate: float = 0.85
    twin_rate: float = 0.017
    legacy_right_rate: float = 0.97
    # --- payers and accounts
    payer_shares: tuple[tuple[str, float], ...] = (("FONS", 0.28), ("KIDSLIFE", 0.25), ("MYFAMILY", 0.20),
                                                   ("PARENTIA", 0.14), ("INFINO", 0.13))
    receiver_designated_rate: float = 0.6
    bank_account_rate: float = 0.95
    # --- income and property
    income_median_eur: float = 45_000.0
    income_sigma: float = 0.5
    single_income_median_eur: float = 27_000.0
    income_tail_rate: float = 0.04
    income_tail_alpha: float = 2.5
    single_earner_rate: float = 0.08
    self_employed_rate: float = 0.12
    partner_maintenance_rate: float = 0.2
    missing_tax_rate: float = 0.01
    income_growth: float = 0.025
    own_home_rate: float = 0.70
    other_property_rate: float = 0.10
    professional_property_rate: float = 0.30
    # --- education and childcare
    preschool_early_entry_rate: float = 0.85
    preschool_rate: float = 0.98
    higher_education_rate: float = 0.75
    higher_education_years_weights: tuple[float, ...] = (0.2, 0.3, 0.3, 0.2)  # 3, 4, 5, 6 years
    low_credits_rate: float = 0.10
    secondary_delay_weights: tuple[float, ...] = (0.80, 0.16, 0.04)
    preschool_half_days_per_month: float = 18.0
    low_attendance_rate: float = 0.08
    truancy_rate: float = 0.01
    minor_absence_rate: float = 0.04
    childcare_rate: float = 0.5
    childcare_days: tuple[int, int] = (8, 20)
    childcare_income_related_rate: float = 0.3
    # --- care
    care_rate: float = 0.01
    care_new_rate: float = 0.002
    foster_rate: float = 0.005
    foster_new_rate: float = 0.001
    foster_long_term_share: float = 0.8
    # --- life events (per year)
    parent_death_rate: float = 0.0012
    child_death_rate: float = 0.0002
    infant_death_rate: float = 0.003
    move_out_rate: float = 0.01
    separation_rate: float = 0.02
    repartner_rate: float = 0.05
    payer_switch_rate: float = 0.02
    cohort_weighting: bool = True  # families in proportion to the births of their first child's year

    def __post_init__(self) -> None:
        first, last = _parse_month(self.start), _parse_month(self.end)
        if last < first:
            raise ValueError("end before start")
        if first[0] < 2019:
            raise ValueError("the span must start in 2019 or later (the Groeipakket)")
        if last[0] > dt.date.today().year:
            raise ValueError("the span may not end after the current year: INSZ numbers of children born in a later "
                             "year do not validate (python-stdnum decides the century by the current year)")
        if self.households < 0:
            raise ValueError("households must be >= 0")
        for name in ("invalid_rate", "duplicate_rate", "late_tax_rate", "revised_tax_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1")


def _parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in text.split("-"))
        dt.date(year, month, 1)
    except (ValueError, AttributeError):
        raise ValueError(f"not a month YYYY-MM: {text!r}") from None
    return year, month


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _alloc_start(day: dt.date) -> int:
    """The calendar year in which the allocation year (and the school year) of ``day`` starts."""
    return day.year if day.month >= 9 else day.year - 1


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_first(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_last(index: int) -> dt.date:
    return _last_day(index // 12, index % 12 + 1)


@lru_cache(maxsize=65_536)
def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def format_instant(instant: int) -> str:
    """Seconds since day 0 of the proleptic calendar (``date.toordinal() * 86400``) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    seconds = instant % DAY
    return f"{_iso(instant // DAY)}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def _p(rate: float, years: float) -> float:
    """Probability of at least one occurrence of a yearly hazard over ``years``."""
    return 1.0 - math.exp(-rate * years)


class Person:
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

    def __init__(self, c: SimulationConfig, rng: random.Random, world: "_World"):
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


class _World:
    """State shared by all households of one run: ids, counters, the INSZ serials (fixed size)."""

    def __init__(self, config: SimulationConfig):
        self.c = config
        (y0, m0), (y1, m1) = _parse_month(config.start), _parse_month(config.end)
        self.S = dt.date(y0, m0, 1)
        self.E = _last_day(y1, m1)
        self.horizon = _last_day(y1 + m1 // 12, m1 % 12 + 1)
        self.horizon_instant = (self.horizon.toordinal() + 1) * DAY - 1
        self.span_days = (self.E - self.S).days + 1
        self.span_years = self.span_days / YEAR_DAYS
        self.first_month, self.last_month = _month_index(self.S), _month_index(self.E)
        self.school_years = list(range(_alloc_start(self.S), _alloc_start(self.E) + 1))
        self.income_years = [year - 2 for year in self.school_years]
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, "https://groeipakket.example/sim")
        self.seed_text = str(config.seed)
        self.events = 0
        self.faults = 0
        self.next_household = config.households + 1
        self.next_account = 0
        self.serials = array("H", bytes(2 * 2 * (_ORD_MAX - _ORD_MIN + 1)))
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
        index = 2 * (birth.toordinal() - _ORD_MIN) + female
        n = self.serials[index]
        if n >= 998:
            raise RuntimeError(f"INSZ serials exhausted for birth date {birth} (more than 998 persons)")
        self.serials[index] = n + 1
        month = birth.month if n < 499 else birth.month + 40  # then a BIS number (sex known: month + 40)
        serial = 2 * (n % 499) + 1 + female
        first = f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{serial:03d}"
        return first + insz_check_digits(first, birth.year >= 2000)


class _Household:
    """Generates one family (and the households it spawns) and collects its events."""

    def __init__(self, world: _World, index: int):
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
        existing = [b for b in births if b < S and _add_years(b, 25) > S]
        planned = [b for b in births if S <= b <= E]

        mother_age = min(max(rng.gauss(c.mother_age_first_birth, c.mother_age_first_birth_sd), 18.0),
                         max(45.0 - offsets[-1], 17.0))
        mother_birth = first_birth - dt.timedelta(days=int(mother_age * YEAR_DAYS))
        father_birth = mother_birth - dt.timedelta(days=int(rng.gauss(c.father_age_gap_years, 3.5) * YEAR_DAYS))
        father_birth = min(father_birth, _add_years(first_birth, -18))
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
            first = max(_month_index(children[0].birth), _month_index(NEW_SYSTEM_START))
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
        if rng.random() < _p(c.move_out_rate, years):
            events.append((self.day_in_span(), order, "move_out", None))
            order += 1
        if not single and rng.random() < _p(c.separation_rate, years):
            events.append((self.day_in_span(), order, "separation", None))
            order += 1
        if single and rng.random() < _p(c.repartner_rate, years):
            events.append((self.day_in_span(), order, "repartner", None))
            order += 1
        if rng.random() < _p(c.payer_switch_rate, years):
            events.append((self.day_in_span(), order, "payer_switch", None))
            order += 1
        for parent in custodial:
            if rng.random() < _p(c.parent_death_rate, years):
                events.append((self.day_in_span(), order, "death", parent))
                order += 1
        for child in children:
            rate = c.infant_death_rate if (S - child.birth).days < 365 else c.child_death_rate
            if rng.random() < _p(rate, years):
                events.append((self.day_in_span(), order, "death", child))
                order += 1
            if not child.fostered and rng.random() < _p(c.foster_new_rate, years):
                events.append((self.day_in_span(), order, "foster", child))
                order += 1
            if not child.care and rng.random() < _p(c.care_new_rate, years):
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
                    self.start_file(hid, self.alive_parents(hid, day), _month_index(day), self.recorded(day, 3, 20))
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
                if subject.died is None and subject.region == "flanders" and _add_years(subject.birth, 21) > day:
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
        if _month_index(child.birth) + 216 >= _month_index(dt.date(2018, 12, 1)):
            entitled = True
        elif _month_index(child.birth) + 300 < _month_index(dt.date(2018, 12, 1)):
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
        from_month = _month_text(first_month)
        occurred = _month_first(first_month)
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

    # --- life events --------------------------------------------------------------------------------------
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
            self.start_file(new, [leaving], _month_index(day), instant, payer=self.payer.get(household))
        else:
            self.bank_account(leaving, day, instant)
        if self.receiver.get(household) is leaving and not with_leaving:
            self.receiver[household] = staying
            self.emit("receiver.designated", household, day, instant + 5,
                      {"receiver": staying.insz, "from_month": _month_text(_month_index(day))})
            self.bank_account(staying, day, instant + 6)
        return True

    def repartner(self, household: str, day: dt.date) -> None:
        rng = self.rng
        parents = self.alive_parents(household, day)
        if len(parents) != 1 or parents[0].region != "flanders":
            return
        parent = parents[0]
        birth = parent.birth + dt.timedelta(days=int(rng.gauss(-1.5 if parent.female else 1.5, 4.0) * YEAR_DAYS))
        birth = min(birth, _add_years(self.w.S, -20))
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
                  {"payer": payer, "from_month": _month_text(_month_index(day) + 1)})

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
            self.start_file(guardian_hid, [guardian], _month_index(moved), self.recorded(moved, 2, 20),
                            payer=self.payer.get(household))

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
        if child.fostered or child.died is not None or child.region != "flanders" or _add_years(child.birth, 18) <= day:
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
            if earliest < latest and _add_years(child.birth, 21) > S:
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
            valid_to = _add_years(valid_from, rng.randint(2, 5)) - dt.timedelta(days=1)
            valid_to = min(valid_to, _add_years(child.birth, 21))
            if renew and valid_to < w.S + dt.timedelta(days=30):
                valid_to = w.S + dt.timedelta(days=rng.randint(30, 700))
            data["valid_to"] = valid_to.isoformat()
        self.emit("care.assessed", child.insz, valid_from, instant, data)
        if renew and valid_to is not None and valid_to < w.E and _add_years(child.birth, 21) > valid_to:
            nxt = valid_to + dt.timedelta(days=1)
            new_total = min(36, max(0, total + rng.randint(-2, 2)))
            self.care_assessment(child, nxt, max(self.recorded(valid_to, -20, 60), self.recorded(nxt, 0, 0)),
                                 points=(min(p1, new_total), new_total))

    # --- the sources --------------------------------------------------------------------------------------
    def school_level(self, child: Person, year: int) -> tuple[str | None, dt.date | None, bool, int]:
        """(level, from_date, enrolled, credits) of the child in the school year starting in ``year``."""
        traits: ChildTraits = child.traits
        grade = year - child.birth.year
        september = dt.date(year, 9, 1)
        if traits.home_school:
            return None, None, False, 0
        if grade <= 5:
            if grade < 2 or not traits.preschool:
                return None, None, False, 0
            if grade == 2 and not traits.early_preschool:
                return None, None, False, 0
            entry = child.birth + dt.timedelta(days=913)  # 2.5 years: enters on the first of the next month
            entry = _month_first(_month_index(entry) + 1)
            if not traits.early_preschool:
                entry = max(entry, _add_years(child.birth, 3))
            start = max(september, entry)
            if start > dt.date(year + 1, 6, 30):
                return None, None, False, 0
            return "preschool", start, True, 0
        if grade <= 11:
            return "primary", september, True, 0
        if grade <= 17 + traits.delay:
            return "secondary", september, True, 0
        study_year = grade - 18 - traits.delay
        if 0 <= study_year < traits.higher_years:
            credits = (self.low_credits(child, study_year) if study_year in traits.low_credit_years else 60)
            return "higher", september, True, credits
        return None, None, False, 0

    def low_credits(self, child: Person, study_year: int) -> int:
        return 12 + (int(child.insz[6:9]) * 7 + study_year * 13) % 15  # 12..26, fixed per child and year

    def education(self, child: Person) -> None:
        w = self.w
        end = min(w.E, child.died or w.E, child.left_flanders or w.E)
        for year in w.school_years:
            level, start, enrolled, credits = self.school_level(child, year)
            if not enrolled or start > end or (child.died and child.died < start) or start < child.birth:
                continue
            if child.left_flanders and child.left_flanders <= start:
                continue
            data = {"school_year": f"{year}-{year + 1}", "level": level, "from_date": start.isoformat()}
            if level == "higher":
                data["credits"] = credits
            self.emit("education.enrolled", child.insz, start, self.recorded(start, 0, 20), data)
            if level in ("preschool", "primary", "secondary"):
                self.attendance(child, year, level, start, end)

    def attendance(self, child: Person, year: int, level: str, start: dt.date, end: dt.date) -> None:
        rng, traits = self.rng, child.traits
        school_year = f"{year}-{year + 1}"
        if level == "preschool":
            attended = 0.0
            for month in range(_month_index(start), year * 12 + 18):  # .. June of year + 1
                as_of = _month_last(month)
                if as_of > end:
                    break
                attended += max(0.0, traits.attendance + rng.gauss(0.0, 2.0))
                attended = min(attended, 40.0 * (month - year * 12 - 7))
                self.emit("education.attendance", child.insz, as_of, self.recorded(as_of, 2, 10),
                          {"school_year": school_year, "preschool_half_days": int(attended),
                           "unauthorised_absence_half_days": 0, "as_of": as_of.isoformat()})
        else:
            for share, as_of in ((0.4, dt.date(year, 12, 31)), (0.7, dt.date(year + 1, 3, 31)),
                                 (1.0, dt.date(year + 1, 6, 30))):
                if as_of > end:
                    break
                self.emit("education.attendance", child.insz, as_of, self.recorded(as_of, 2, 10),
                          {"school_year": school_year, "preschool_half_days": 0,
                           "unauthorised_absence_half_days": int(traits.absence * share), "as_of": as_of.isoformat()})

    def childcare(self, child: Person) -> None:
        traits: ChildTraits = child.traits
        if not traits.childcare:
            return
        w, rng = self.w, self.rng
        first = max(w.first_month, _month_index(child.birth) + traits.cc_start)
        preschool_start = None
        for year in range(child.birth.year + 2, child.birth.year + 4):
            level, start, enrolled, _ = self.school_level(child, year)
            if enrolled and level == "preschool":
                preschool_start = start
                break
        last = _month_index(preschool_start) - 1 if preschool_start else (child.birth.year + 3) * 12 + 7
        last = min(last, w.last_month)
        for month in range(first, last + 1):
            day = _month_first(month)
            if (child.died and child.died < day) or (child.left_flanders and child.left_flanders < day):
                break
            factor = 0.5 if month % 12 == 7 else 0.8 if month % 12 in (6, 11) else 1.0
            full = max(0, min(20, round((traits.cc_days + rng.randint(-2, 2)) * factor)))
            half = rng.randint(0, 3) if rng.random() < 0.4 else 0
            self.emit("childcare.attendance", child.insz, day, self.recorded(_month_first(month + 1), 1, 12),
                      {"month": _month_text(month), "full_days": full, "half_days": half,
                       "income_related": traits.cc_income_related})

    def tax(self, person: Person) -> None:
        c, w, rng = self.c, self.w, self.rng
        if person.no_tax:
            return
        income = person.income * math.exp(rng.gauss(0.0, 0.03))
        for year in w.income_years:
            income *= 1.0 + rng.gauss(c.income_growth, 0.05) if year != w.income_years[0] else 1.0
            income = max(income, 0.0)
            allocation = dt.date(year + 2, 9, 1)
            if rng.random() < c.late_tax_rate:
                low = max(allocation + dt.timedelta(days=10), w.S)
                high = max(low, min(allocation + dt.timedelta(days=330), w.E))
            else:
                low, high = dt.date(year + 1, 6, 15), dt.date(year + 2, 6, 30)
            span = (high - low).days
            day = low + dt.timedelta(days=int(span * rng.random() * rng.random() ** 0.5))  # earlier more likely
            self.emit("tax.assessed", person.insz, day, self.recorded(day, 0, 3), self.tax_data(person, year, income))
            if rng.random() < c.revised_tax_rate:
                revised = day + dt.timedelta(days=rng.randint(60, 400))
                if revised > w.E:
                    revised = max(day + dt.timedelta(days=1), min(revised, w.E))
                self.emit("tax.assessed", person.insz, revised, self.recorded(revised, 0, 3),
                          self.tax_data(person, year, max(0.0, income * rng.gauss(1.0, 0.1))))

    def tax_data(self, person: Person, year: int, income: float) -> dict:
        employed = income * (1.0 - person.self_employed)
        data = {"income_year": year, "taxable_income_cents": int(round(employed * 100))}
        if person.self_employed:
            data["self_employed_net_cents"] = int(round(income * person.self_employed * 80))  # net = 80 %
        if person.maintenance:
            data["partner_maintenance_received_cents"] = int(round(person.maintenance * 100))
        return data

    def property(self, owners: list[Person]) -> None:
        c, rng, w = self.c, self.rng, self.w
        if not owners:
            return
        parcels = []
        if rng.random() < c.own_home_rate:
            parcels.append(("own_home", owners, math.exp(rng.gauss(math.log(1_000), 0.35))))
        if rng.random() < c.other_property_rate:
            holders = owners if rng.random() < 0.5 else owners[:1]
            parcels.append(("other", holders, math.exp(rng.gauss(math.log(750), 0.5))))
        for owner in owners:
            if owner.self_employed and rng.random() < c.professional_property_rate:
                parcels.append(("professional", [owner], math.exp(rng.gauss(math.log(1_200), 0.5))))
        for use, holders, ki in parcels:
            parcel = (f"{NIS_CODES[int(rng.random() * len(NIS_CODES))]}{'ABCDEFGH'[int(rng.random() * 8)]}"
                      f"{rng.randint(1, 2999):04d}/{rng.randint(0, 9):02d}{'ABCDEFGHK'[int(rng.random() * 9)]}000")
            share = 100 // len(holders)
            for year in w.income_years:
                indexed = int(round(ki * KI_INDEX.get(year, 2.2446 * 1.02 ** (year - 2025)) * 100))
                occurred = dt.date(year + 1, 1, 1)
                for holder in holders:
                    self.emit("property.assessed", holder.insz, occurred, self.recorded(occurred, 20, 150),
                              {"income_year": year, "parcel_id": parcel, "use": use, "ki_indexed_cents": indexed,
                               "share_percent": share})


def household_blocks(config: SimulationConfig, stats: dict | None = None
                     ) -> Iterator[list[tuple[int, str, int, object]]]:
    """Per household, its items ``(arrival instant, event id, kind, payload)`` in arrival order.

    kind 0: a valid event (dict); 1: an exact re-send of one (the same dict); 2: an invalid record (bytes).
    When given, ``stats["households"]`` is set at the end to the number of household ids used (the configured
    families plus the households they spawned: separations, foster families, guardians, absent parents, ...).
    """
    from sim.faults import inject

    world = _World(config)
    for index in range(1, config.households + 1):
        items = _Household(world, index).build()
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
