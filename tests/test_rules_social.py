"""Ruleset v1 §4.4 (social supplement, family income, allocation year) and contract §2 (later facts replace
earlier ones) as far as the income assessment is concerned. Expected values from the ruleset table §4.4:

row 2023-09-01 (golden year): A12 70.50, A3 103.62, B12 35.70, M3 81.54; T1 36 325.76, T1b 42 380.06,
T2 68 329.61. Row 2024-09-01: A12 71.91. Row 2022-12-01: A12 69.12, T1 32 882.77, no T1b. Row 2023-01-01:
T1 34 526.91. Row 2023-04-01: B12 35.00, T1b 40 281.40.
Allocation year 1 Sep Y .. 31 Aug Y+1 uses income year Y-2: Sep 2023 .. Aug 2024 -> 2021; Sep 2024 -> 2022;
Sep 2022 .. Aug 2023 -> 2020.
"""
import pytest

from tests.builders import Scenario, amounts, child_amounts

A12, A3, B12, M3 = 7050, 10362, 3570, 8154
T1, T1B, T2 = 36325.76, 42380.06, 68329.61


def single_parent(income, *births, year=2021, **extra):
    s = Scenario()
    parent = s.parent("1980-01-01")
    if income is not None:
        s.tax(parent, year, income, **extra)
    children = [s.child(b, [parent]) for b in births]
    return s, parent, children


def socials(calc, period):
    return {child: cents for (child, comp), cents in amounts(calc, period).items() if comp == "social"}


ONE = ("2020-05-01",)
TWO = ("2019-05-01", "2021-05-01")
THREE = ("2019-05-01", "2021-05-01", "2023-05-01")


# --- thresholds, inclusive ------------------------------------------------------------------------------------

@pytest.mark.parametrize("income, births, expected", [
    (T1, ONE, A12),            # income exactly T1, n = 1 -> A12 70.50
    (T1, TWO, A12),            # n = 2 -> A12
    (T1, THREE, A3),           # n = 3 -> A3 103.62
    (36325.77, ONE, B12),      # one cent above T1, n <= 2 -> B12 35.70
    (T1B, ONE, B12),           # exactly T1b -> B12
    (T1B, TWO, B12),
    (42380.07, ONE, None),     # one cent above T1b, n <= 2 -> nothing
    (42380.07, TWO, None),
    (36325.77, THREE, M3),     # T1 < income <= T2, n >= 3 -> M3 81.54 (not B12)
    (40000.00, THREE, M3),
    (T2, THREE, M3),           # exactly T2 -> M3
    (68329.62, THREE, None),   # one cent above T2 -> nothing
    (0, ONE, A12),             # zero income is <= T1
])
def test_golden_year_thresholds(income, births, expected):
    s, _, children = single_parent(income, *births)
    result = socials(s.calculator(), "2024-05")
    assert result == ({c: expected for c in children} if expected else {})


def test_b12_not_before_april_2023():
    # income year 2020 (allocation year Sep 2022 .. Aug 2023) = 36 000: T1 34 526.91 < 36 000 <= T1b 40 281.40.
    s, _, (child,) = single_parent(36000, "2020-05-01", year=2020)
    calc = s.calculator()
    assert "social" not in child_amounts(calc, child, "2023-03")
    assert child_amounts(calc, child, "2023-04")["social"] == 3500  # B12 35.00
    assert child_amounts(calc, child, "2023-08")["social"] == 3500


def test_thresholds_in_force_in_the_month_apply_within_the_allocation_year():
    # income year 2020 = 33 000: December 2022 T1 = 32 882.77 (no T1b yet) -> nothing;
    # January 2023 T1 = 34 526.91 -> A12 69.12.
    s, _, (child,) = single_parent(33000, "2020-05-01", year=2020)
    calc = s.calculator()
    assert "social" not in child_amounts(calc, child, "2022-12")
    assert child_amounts(calc, child, "2023-01")["social"] == 6912


def test_a12_amount_change_december_2022():
    # income year 2020 = 20 000 (<= T1): November 2022 A12 54.12, December 2022 69.12.
    s, _, (child,) = single_parent(20000, "2020-05-01", year=2020)
    calc = s.calculator()
    assert child_amounts(calc, child, "2022-11")["social"] == 5412
    assert child_amounts(calc, child, "2022-12")["social"] == 6912


def test_family_size_counts_entitled_children_only():
    # three children, the eldest 19 and not in school (not entitled): n = 2; income 50 000 > T1b -> nothing.
    s, parent, (adult, a, b) = single_parent(50000, "2005-01-10", "2019-05-01", "2021-05-01")
    assert socials(s.calculator(), "2024-05") == {}


def test_family_size_counts_an_adult_in_secondary_school():
    # the same eldest enrolled in secondary school is entitled: n = 3 -> M3 81.54 for each of the three.
    s, parent, (adult, a, b) = single_parent(50000, "2005-01-10", "2019-05-01", "2021-05-01")
    s.enrolled(adult, "2023-2024", "secondary", "2023-09-01")
    assert socials(s.calculator(), "2024-05") == {adult: M3, a: M3, b: M3}


def test_family_size_drops_when_a_child_leaves():
    # three children, income 50 000: M3 while n = 3; the eldest moves out on 2024-03-10 -> n = 2 -> nothing.
    s, parent, (a, b, c) = single_parent(50000, *THREE)
    s.moved(a, "2024-03-10", household="H-OTHER")
    calc = s.calculator()
    assert socials(calc, "2024-02") == {a: M3, b: M3, c: M3}
    assert socials(calc, "2024-03") == {}


# --- allocation year boundary -----------------------------------------------------------------------------------

def test_august_2024_uses_income_year_2021_september_2024_income_year_2022():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, 24000)
    s.tax(parent, 2022, 90000)
    child = s.child("2020-05-01", [parent])
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-08") == {"basic": 17666, "social": A12}
    assert child_amounts(calc, child, "2024-09") == {"basic": 18019}  # basic 180.19 from 2024-09


def test_september_2024_uses_income_year_2022():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, 90000)
    s.tax(parent, 2022, 24000)
    child = s.child("2020-05-01", [parent])
    calc = s.calculator()
    assert "social" not in child_amounts(calc, child, "2024-08")
    assert child_amounts(calc, child, "2024-09")["social"] == 7191  # A12 71.91 from 2024-09


def test_september_2023_is_the_first_month_of_income_year_2021():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2020, 90000)
    s.tax(parent, 2021, 24000)
    child = s.child("2020-05-01", [parent])
    calc = s.calculator()
    assert "social" not in child_amounts(calc, child, "2023-08")
    assert child_amounts(calc, child, "2023-09")["social"] == A12


# --- family income composition (each case lands exactly on T1 = 36 325.76 -> A12; one cent more -> B12) ----------

def _composed(extra_cents: int, taxable_eur: float, tax_extra=None, properties=()):
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, taxable_eur + extra_cents / 100, **(tax_extra or {}))
    for parcel, use, ki, share in properties:
        s.property(parent, 2021, parcel, use, ki, share)
    child = s.child("2020-05-01", [parent])
    return child_amounts(s.calculator(), child, "2024-05").get("social")


@pytest.mark.parametrize("extra, expected", [(0, A12), (1, B12)])
def test_self_employed_income_counts_100_over_80(extra, expected):
    # 325.76 + 28 800.00 x 100/80 = 325.76 + 36 000.00 = 36 325.76 = T1.
    assert _composed(extra, 325.76, {"self_employed_net_cents": 2880000}) == expected


@pytest.mark.parametrize("extra, expected", [(0, A12), (1, B12)])
def test_partner_maintenance_received_counts_80_percent(extra, expected):
    # 28 325.76 + 80 % x 10 000.00 = 28 325.76 + 8 000.00 = 36 325.76 = T1.
    assert _composed(extra, 28325.76, {"partner_maintenance_received_cents": 1000000}) == expected


@pytest.mark.parametrize("extra, expected", [(0, A12), (1, B12)])
def test_partner_maintenance_paid_deducts_80_percent(extra, expected):
    # 40 325.76 - 80 % x 5 000.00 = 40 325.76 - 4 000.00 = 36 325.76 = T1.
    assert _composed(extra, 40325.76, {"partner_maintenance_paid_cents": 500000}) == expected


@pytest.mark.parametrize("extra, expected", [(0, A12), (1, B12)])
def test_ki_other_counts_three_times_by_share(extra, expected):
    # 34 825.76 + 3 x 1 000.00 x 50 % = 34 825.76 + 1 500.00 = 36 325.76 = T1.
    assert _composed(extra, 34825.76, properties=[("P-1", "other", 100000, 50)]) == expected


@pytest.mark.parametrize("extra, expected", [(0, A12), (1, B12)])
def test_ki_professional_counts_once(extra, expected):
    # 34 325.76 + 1 x 2 000.00 = 36 325.76 = T1.
    assert _composed(extra, 34325.76, properties=[("P-2", "professional", 200000, 100)]) == expected


@pytest.mark.parametrize("extra, expected", [(0, A12), (1, B12)])
def test_own_home_ki_never_counts(extra, expected):
    # 36 325.76 + 0 x 5 000.00 = T1.
    assert _composed(extra, T1, properties=[("P-3", "own_home", 500000, 100)]) == expected


def test_all_income_elements_together():
    # 28 825.76 + 8 000 (80 % of 10 000 received) - 4 000 (80 % of 5 000 paid) + 1 500 (3 x 1 000 x 50 %)
    # + 2 000 (1 x 2 000) + 0 (own home) = 36 325.76 = T1 -> A12; with 10 000 self-employed net: + 12 500.
    extra = {"partner_maintenance_received_cents": 1000000, "partner_maintenance_paid_cents": 500000}
    props = [("P-1", "other", 100000, 50), ("P-2", "professional", 200000, 100), ("P-3", "own_home", 900000, 100)]
    assert _composed(0, 28825.76, extra, props) == A12
    assert _composed(1, 28825.76, extra, props) == B12
    # 36 325.76 + 10 000 x 100/80 = 48 825.76 > T1b -> nothing (n = 1).
    assert _composed(0, 28825.76, {**extra, "self_employed_net_cents": 1000000}, props) is None


def test_property_of_another_income_year_does_not_count():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, T1)
    s.property(parent, 2020, "P-1", "other", 100000, 100)
    child = s.child("2020-05-01", [parent])
    assert child_amounts(s.calculator(), child, "2024-05")["social"] == A12


def test_income_of_both_parents_in_the_household_is_summed():
    # 20 000.00 + 16 325.77 = 36 325.77 > T1 -> B12; 20 000.00 + 16 325.76 = T1 -> A12.
    for father_income, expected in ((16325.76, A12), (16325.77, B12)):
        s = Scenario()
        mother, father = s.parent("1985-01-01"), s.parent("1984-01-01")
        s.tax(mother, 2021, 20000)
        s.tax(father, 2021, father_income)
        child = s.child("2020-05-01", [mother, father])
        assert child_amounts(s.calculator(), child, "2024-05")["social"] == expected


def test_parent_living_elsewhere_does_not_count():
    s = Scenario()
    mother = s.parent("1985-01-01")
    father = s.parent("1984-01-01", household="H-FATHER")
    s.tax(mother, 2021, 24000)
    s.tax(father, 2021, 200000)
    child = s.child("2020-05-01", [mother, father])
    assert child_amounts(s.calculator(), child, "2024-05")["social"] == A12


# --- missing and late assessments ------------------------------------------------------------------------------

def test_missing_assessment_of_one_parent_no_social():
    s = Scenario()
    mother, father = s.parent("1985-01-01"), s.parent("1984-01-01")
    s.tax(mother, 2021, 10000)
    child = s.child("2020-05-01", [mother, father])
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": 17666}
    # the father's assessment arrives later (recorded in July 2024): every month of the allocation year is due.
    s.tax(father, 2021, 10000, recorded_at="2024-07-01T09:00:00Z")
    calc = s.calculator()
    for period in ("2023-09", "2024-05", "2024-08"):
        assert child_amounts(calc, child, period)["social"] == A12


def test_assessment_of_another_year_does_not_replace_a_missing_one():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2020, 10000)
    s.tax(parent, 2022, 10000)
    child = s.child("2020-05-01", [parent])
    assert "social" not in child_amounts(s.calculator(), child, "2024-05")


# --- superseded assessments (contract §2: latest recorded_at wins, ties -> greater event_id) ------------------

def test_later_recorded_assessment_wins():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, 24000, recorded_at="2022-07-01T00:00:00Z")
    s.tax(parent, 2021, 90000, recorded_at="2022-08-01T00:00:00Z")
    child = s.child("2020-05-01", [parent])
    assert "social" not in child_amounts(s.calculator(), child, "2024-05")


def test_earlier_recorded_assessment_arriving_later_does_not_win():
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2021, 90000, recorded_at="2022-08-01T00:00:00Z")
    s.tax(parent, 2021, 24000, recorded_at="2022-07-01T00:00:00Z")  # arrives last, recorded first
    child = s.child("2020-05-01", [parent])
    assert "social" not in child_amounts(s.calculator(), child, "2024-05")


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_tie_on_recorded_at_goes_to_the_greater_event_id(order):
    s = Scenario()
    parent = s.parent()
    incomes = {"a": 90000, "b": 24000}  # event id "tax-b" > "tax-a": 24 000 wins -> A12
    for key in order:
        s.event("tax.assessed", parent, "2022-06-30",
                {"income_year": 2021, "taxable_income_cents": incomes[key] * 100},
                recorded_at="2022-07-01T00:00:00Z", event_id=f"tax-{key}")
    child = s.child("2020-05-01", [parent])
    assert child_amounts(s.calculator(), child, "2024-05")["social"] == A12


def test_recorded_at_compared_as_instants_not_text():
    # 2022-07-01T10:00:00+02:00 is 08:00Z, earlier than 09:00Z: the 09:00Z record (24 000) wins.
    s = Scenario()
    parent = s.parent()
    s.event("tax.assessed", parent, "2022-06-30", {"income_year": 2021, "taxable_income_cents": 2400000},
            recorded_at="2022-07-01T09:00:00Z", event_id="tax-a")
    s.event("tax.assessed", parent, "2022-06-30", {"income_year": 2021, "taxable_income_cents": 9000000},
            recorded_at="2022-07-01T10:00:00+02:00", event_id="tax-b")
    child = s.child("2020-05-01", [parent])
    assert child_amounts(s.calculator(), child, "2024-05")["social"] == A12


# --- other rows of the §4.4 table ------------------------------------------------------------------------------------

THREE_2022 = ("2015-05-01", "2019-05-01", "2021-05-01")


@pytest.mark.parametrize("income, births, period, expected", [
    # row 2022-12-01 (income year 2020): A3 101.59 (<= T1 32 882.77), M3 79.94 (<= T2 64 945.93), above T2 nothing.
    (32882.77, THREE_2022, "2022-12", 10159),
    (64945.93, THREE_2022, "2022-12", 7994),
    (64945.94, THREE_2022, "2022-12", None),
    # row 2022-09-01: A12 54.12, M3 64.94.
    (32882.77, ONE, "2022-09", 5412),
    (40000.00, THREE_2022, "2022-09", 6494),
    # row 2021-09-01 (income year 2019): A12 53.06 at T1 32 238.01; one cent above, n = 1 -> nothing (no T1b).
    (32238.01, ONE, "2021-09", 5306),
    (32238.02, ONE, "2021-09", None),
    # row 2024-09-01 (income year 2022): A3 105.69, B12 36.41 at T1b 43 227.66, M3 83.17 at T2 69 696.20.
    (37052.28, THREE, "2024-09", 10569),
    (43227.66, TWO, "2024-09", 3641),
    (69696.20, THREE, "2024-09", 8317),
])
def test_other_rows(income, births, period, expected):
    year = {"2021": 2019, "2022": 2020, "2024": 2022}[period[:4]]  # all periods are September..December
    s, _, children = single_parent(income, *births, year=year)
    result = socials(s.calculator(), period)
    assert result == ({c: expected for c in children} if expected else {})


def test_transitional_r_amounts_december_2022():
    # row 2022-12-01: R1 65.75, R2 46.45, R3 20.52 (income year 2020 = 20 000 <= T1).
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2020, 20000)
    a, b, c = (s.child(birth, [parent], legacy_group="LG") for birth in ("2008-01-01", "2010-01-01", "2012-01-01"))
    result = {child: cents for (child, comp), cents in amounts(s.calculator(), "2022-12").items()
              if comp == "social_transitional"}
    assert result == {c: 6575, b: 4645, a: 2052}
