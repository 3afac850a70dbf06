"""Ruleset v1 §2 (regimes, rank inversion, switch at a parent's death) and §4.2/§4.3 (transitional basic amount,
age supplement). Expected amounts from the ruleset tables, golden year (2023-09-01 .. 2024-08-31) unless stated:

- basic 176.66; basic_transitional rank 1 101.69, rank 2 188.16, rank 3 259.49 (§4.2 row 2023-09-01).
- age_supplement (§4.3 row 2019-01-01, unchanged until 2025-09): full 6-11 32.63, 12-17 49.86, 18+ 63.40;
  reduced 6-11 16.36, 12-17 24.92, 18+ 28.72.
- orphan half 141.33 (§5.1 row 2023-09-01); care band 2 118.74 (§5.3 2023-09-01).
- social_transitional (§4.4 2023-09-01): R1 67.07, R2 47.38, R3 20.93, B12 35.70; T1 36 325.76,
  T1b 42 380.06, T2 68 329.61 (income year 2021 for the allocation year 2023-09 .. 2024-08).
Without a tax assessment no social supplement is due; with 90 000 income none either (above T2).
"""
from tests.builders import Scenario, amounts, child_amounts

BASIC = 17666
RANK = {1: 10169, 2: 18816, 3: 25949}
FULL = {"6_11": 3263, "12_17": 4986, "18": 6340}
REDUCED = {"6_11": 1636, "12_17": 2492, "18": 2872}


def legacy(*births, income=None, group="LG-1"):
    """One household, two parents, children of one legacy group."""
    s = Scenario()
    mother, father = s.parent("1978-03-03"), s.parent("1976-11-11")
    if income is not None:
        s.tax(mother, 2021, income)
        s.tax(father, 2021, 0)
    children = [s.child(b, [mother, father], legacy_group=group) for b in births]
    return s, (mother, father), children


def only(result: dict, component: str) -> dict:
    return {child: cents for (child, comp), cents in result.items() if comp == component}


# --- regime boundaries -------------------------------------------------------------------------------------------

def test_born_2018_12_31_with_legacy_group_is_transitional():
    # alone in its group -> rank 1: 101.69; 5 years old in May 2024 -> no age band yet.
    s, _, (child,) = legacy("2018-12-31")
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic_transitional": RANK[1]}


def test_born_2019_01_01_is_new_system_even_with_a_legacy_group():
    s, _, (child,) = legacy("2019-01-01")
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": BASIC}


def test_born_before_2019_without_legacy_group_is_new_system():
    # 9 years old: new system -> basic, no age supplement.
    s = Scenario()
    parent = s.parent()
    child = s.child("2015-03-03", [parent])
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": BASIC}


# --- rank inversion ----------------------------------------------------------------------------------------------

def test_rank_inversion_three_children():
    s, _, (old, middle, young) = legacy("2010-04-04", "2012-04-04", "2014-04-04", income=90000)
    result = only(amounts(s.calculator(), "2024-05"), "basic_transitional")
    assert result == {young: RANK[1], middle: RANK[2], old: RANK[3]}


def test_rank_inversion_four_children_ranks_1_2_3_3():
    s, _, (a, b, c, d) = legacy("2008-04-04", "2010-04-04", "2012-04-04", "2014-04-04", income=90000)
    result = only(amounts(s.calculator(), "2024-05"), "basic_transitional")
    assert result == {d: RANK[1], c: RANK[2], b: RANK[3], a: RANK[3]}


def test_ranks_frozen_when_the_youngest_dies():
    s, _, (old, middle, young) = legacy("2010-04-04", "2012-04-04", "2014-04-04", income=90000)
    s.died(young, "2023-12-10")
    calc = s.calculator()
    assert only(amounts(calc, "2023-12"), "basic_transitional") == {young: RANK[1], middle: RANK[2], old: RANK[3]}
    # January 2024: the youngest is gone, the others keep rank 2 and 3 (not re-ranked to 1 and 2).
    assert only(amounts(calc, "2024-01"), "basic_transitional") == {middle: RANK[2], old: RANK[3]}


def test_ranks_frozen_when_the_youngest_leaves_the_household():
    s, (mother, father), (old, middle, young) = legacy("2010-04-04", "2012-04-04", "2014-04-04", income=90000)
    s.moved(young, "2024-02-10", household="H-ELSEWHERE", region="wallonia")
    result = only(amounts(s.calculator(), "2024-05"), "basic_transitional")
    assert result == {middle: RANK[2], old: RANK[3]}


def test_new_child_arriving_does_not_change_transitional_ranks():
    s, (mother, father), (old, young) = legacy("2010-04-04", "2014-04-04", income=90000)
    baby = s.born("2024-02-02", [mother, father])
    result = amounts(s.calculator(), "2024-05")
    assert only(result, "basic_transitional") == {young: RANK[1], old: RANK[2]}
    assert only(result, "basic") == {baby: BASIC}


def test_transitional_amounts_indexed_2025_09():
    # §4.2: 2024-09 row 103.72 / 191.92 / 259.49; 2025-09 row 105.79 / 195.76 / 264.68 (rank 3 unfrozen).
    s, _, (a, b, c) = legacy("2010-04-04", "2012-04-04", "2014-04-04")
    calc = s.calculator()
    assert only(amounts(calc, "2025-08"), "basic_transitional") == {c: 10372, b: 19192, a: 25949}
    assert only(amounts(calc, "2025-09"), "basic_transitional") == {c: 10579, b: 19576, a: 26468}


# --- switch to the new system at a parent's death ----------------------------------------------------------------

def test_transitional_child_switches_to_basic_and_orphan_from_the_month_of_a_parents_death():
    # mother alone earns 60 000 (income year 2021): n = 2, above T1b 42 380.06 -> no social supplement.
    s = Scenario()
    mother, father = s.parent("1978-03-03"), s.parent("1976-11-11")
    s.tax(mother, 2021, 60000)
    s.tax(father, 2021, 60000)
    emma = s.child("2012-02-10", [mother, father], legacy_group="LG-1")
    noah = s.child("2016-01-03", [mother, father], legacy_group="LG-1")
    s.died(father, "2023-11-14")
    calc = s.calculator()
    # October 2023: transitional. Noah (7) rank 1 + full 6-11; Emma (11) rank 2 + reduced 6-11 (eldest, no
    # social/care).
    assert amounts(calc, "2023-10") == {
        (noah, "basic_transitional"): RANK[1], (noah, "age_supplement"): FULL["6_11"],
        (emma, "basic_transitional"): RANK[2], (emma, "age_supplement"): REDUCED["6_11"]}
    # November 2023 (month of death): basic 176.66 + half orphan 141.33, no age supplement.
    assert amounts(calc, "2023-11") == {
        (noah, "basic"): BASIC, (noah, "orphan"): 14133, (emma, "basic"): BASIC, (emma, "orphan"): 14133}
    assert amounts(calc, "2024-05") == amounts(calc, "2023-11")


def test_parent_death_before_2019_keeps_the_transitional_regime():
    s = Scenario()
    mother, father = s.parent("1978-03-03"), s.parent("1976-11-11")
    s.tax(mother, 2021, 90000)
    child = s.child("2012-02-10", [mother, father], legacy_group="LG-1")
    s.died(father, "2018-06-01")
    # alone in its group: rank 1 101.69; eldest, no social, no care -> reduced 12-17 24.92; no orphan (< 2019).
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic_transitional": RANK[1],
                                                              "age_supplement": REDUCED["12_17"]}


# --- age supplement ----------------------------------------------------------------------------------------------

def test_age_band_6_11_starts_the_month_after_the_6th_birthday_month():
    # younger born 2018-03-15: 6th birthday 2024-03 -> band from April 2024; full (not the eldest).
    s, _, (eldest, younger) = legacy("2012-01-10", "2018-03-15", income=90000)
    calc = s.calculator()
    assert "age_supplement" not in child_amounts(calc, younger, "2024-03")
    assert child_amounts(calc, younger, "2024-04")["age_supplement"] == FULL["6_11"]


def test_age_band_12_17_starts_the_month_after_the_12th_birthday_month():
    # eldest born 2012-01-10: 12th birthday 2024-01 -> January still 6-11 (reduced 16.36), February 12-17 (24.92).
    s, _, (eldest, younger) = legacy("2012-01-10", "2018-03-15", income=90000)
    calc = s.calculator()
    assert child_amounts(calc, eldest, "2023-12")["age_supplement"] == REDUCED["6_11"]
    assert child_amounts(calc, eldest, "2024-01")["age_supplement"] == REDUCED["6_11"]
    assert child_amounts(calc, eldest, "2024-02")["age_supplement"] == REDUCED["12_17"]


def test_no_age_supplement_in_the_month_of_the_6th_birthday_for_the_eldest():
    s, _, (only_child,) = legacy("2018-03-15", income=90000)
    calc = s.calculator()
    assert child_amounts(calc, only_child, "2024-03") == {"basic_transitional": RANK[1]}
    assert child_amounts(calc, only_child, "2024-04") == {"basic_transitional": RANK[1],
                                                         "age_supplement": REDUCED["6_11"]}


def test_age_band_18_plus_starts_the_month_after_the_18th_birthday_month():
    # c born 2004-06-01 (higher education 60 credits, eldest entitled) and a born 2006-03-15 (secondary school).
    s, _, (c, a) = legacy("2004-06-01", "2006-03-15", income=90000)
    s.enrolled(c, "2023-2024", "higher", "2023-09-15", credits=60)
    s.enrolled(a, "2023-2024", "secondary", "2023-09-01")
    calc = s.calculator()
    assert child_amounts(calc, a, "2024-03")["age_supplement"] == FULL["12_17"]
    assert child_amounts(calc, a, "2024-04")["age_supplement"] == FULL["18"]
    assert child_amounts(calc, c, "2024-04")["age_supplement"] == REDUCED["18"]


def test_eldest_with_care_gets_the_full_amount():
    s, _, (eldest, younger) = legacy("2012-01-10", "2018-03-15", income=90000)
    s.care(eldest, 0, 6, "2020-01-01")
    result = child_amounts(s.calculator(), eldest, "2024-04")
    assert result == {"basic_transitional": RANK[2], "age_supplement": FULL["12_17"], "care": 11874}


def test_reduced_amount_goes_to_the_eldest_entitled_child():
    # the eldest of the group (born 2005-01-10) is 19 and not in school: not entitled; the next one is reduced.
    s, _, (adult, eldest, younger) = legacy("2005-01-10", "2012-01-10", "2016-03-15", income=90000)
    calc = s.calculator()
    assert child_amounts(calc, adult, "2024-04") == {}
    assert child_amounts(calc, eldest, "2024-04") == {"basic_transitional": RANK[2],
                                                     "age_supplement": REDUCED["12_17"]}
    assert child_amounts(calc, younger, "2024-04") == {"basic_transitional": RANK[1],
                                                      "age_supplement": FULL["6_11"]}


def test_eldest_with_social_transitional_b12_gets_the_full_amount():
    # income 40 000: T1 36 325.76 < 40 000 <= T1b 42 380.06, n = 2 -> B12 35.70 per transitional child.
    s, _, (eldest, younger) = legacy("2012-01-10", "2016-03-15", income=40000)
    assert amounts(s.calculator(), "2024-04") == {
        (eldest, "basic_transitional"): RANK[2], (eldest, "age_supplement"): FULL["12_17"],
        (eldest, "social_transitional"): 3570,
        (younger, "basic_transitional"): RANK[1], (younger, "age_supplement"): FULL["6_11"],
        (younger, "social_transitional"): 3570}


def test_age_supplement_new_amounts_from_2025_09():
    # §4.3 row 2025-09-01: full 6-11 33.28, reduced 12-17 25.42.
    s, _, (eldest, younger) = legacy("2012-01-10", "2016-03-15")
    calc = s.calculator()
    assert child_amounts(calc, eldest, "2025-08")["age_supplement"] == REDUCED["12_17"]
    assert child_amounts(calc, younger, "2025-08")["age_supplement"] == FULL["6_11"]
    assert child_amounts(calc, eldest, "2025-09")["age_supplement"] == 2542
    assert child_amounts(calc, younger, "2025-09")["age_supplement"] == 3328


# --- transitional social supplement ------------------------------------------------------------------------------

def test_social_transitional_at_most_t1_by_rank():
    # income 30 000 <= T1: R1 67.07, R2 47.38, R3 20.93 (no new-system child needed in the <= T1 band).
    s, _, (a, b, c) = legacy("2010-04-04", "2012-04-04", "2014-04-04", income=30000)
    assert only(amounts(s.calculator(), "2024-05"), "social_transitional") == {c: 6707, b: 4738, a: 2093}


def test_social_transitional_t1_t2_with_n3_needs_a_new_system_child():
    # income 50 000: T1 < 50 000 <= T2, n = 3, no new-system child -> nothing [decision §4.4].
    s, _, children = legacy("2010-04-04", "2012-04-04", "2014-04-04", income=50000)
    assert only(amounts(s.calculator(), "2024-05"), "social_transitional") == {}


def test_social_transitional_t1_t2_with_a_new_system_child():
    s, (mother, father), (a, b, c) = legacy("2010-04-04", "2012-04-04", "2014-04-04", income=50000)
    baby = s.child("2020-07-15", [mother, father])
    result = amounts(s.calculator(), "2024-05")
    assert only(result, "social_transitional") == {c: 6707, b: 4738, a: 2093}
    assert only(result, "social") == {baby: 8154}  # M3 81.54


def test_social_transitional_above_t1b_n2_nothing():
    s, _, children = legacy("2012-01-10", "2016-03-15", income=42380.07)
    assert only(amounts(s.calculator(), "2024-05"), "social_transitional") == {}
