"""What to simulate (:class:`SimulationConfig`): size, seed, span, fault rates and the demographic rates.

The model that uses these rates is described in :mod:`sim.population`.

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
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sim.dates import parse_month


@dataclass
class SimulationConfig:
    """What to simulate; the demographic defaults and their basis are in the module docstring."""

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
        first, last = parse_month(self.start), parse_month(self.end)
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

