"""Ruleset v1 §5 (care supplements): orphan, foster, care bands and support, at every boundary.

Expected amounts from the ruleset tables:
- orphan (§5.1): half 81.60 (2019-01), 86.59 (2022-09), 138.56 (2023-01), 141.33 (2023-09); full 173.19 (2022-09,
  unchanged 2023-01), 176.65 (2023-09).
- foster (§5.2): 66.89 (2022-09), 68.23 (2023-09).
- care bands (§5.3) 2022-09-01 column and 2023-09-01 column; support 324.73 (2023-01), 331.22 (2023-09).
- basic 176.66 (2023-09), 173.20 (2022-12), 171.49 (2022-09), 163.20 (2019-01).
No tax assessment -> no social supplement; no July months -> no school bonus.
"""
import pytest

from tests.builders import Scenario, amounts, child_amounts

BASIC = 17666


def family(birth="2020-05-01", *, two_parents=True):
    s = Scenario()
    mother = s.parent("1985-01-01")
    parents = [mother]
    if two_parents:
        parents.append(s.parent("1984-01-01"))
    child = s.child(birth, parents)
    return s, parents, child


# --- orphan ------------------------------------------------------------------------------------------------------

def test_half_orphan_from_the_month_of_death():
    s, (mother, father), child = family()
    s.died(father, "2024-03-31")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-02") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-03") == {"basic": BASIC, "orphan": 14133}


def test_full_orphan_when_both_parents_died():
    s, (mother, father), child = family()
    s.died(father, "2023-11-14")
    s.died(mother, "2024-02-02")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-01")["orphan"] == 14133  # half
    assert child_amounts(calc, child, "2024-02")["orphan"] == 17665  # full 176.65


def test_full_orphan_when_the_only_known_parent_died():
    s, (mother,), child = family(two_parents=False)
    s.died(mother, "2023-10-05")
    calc = s.calculator()
    assert child_amounts(calc, child, "2023-10") == {"basic": BASIC, "orphan": 17665}


def test_parent_died_before_2019_no_orphan():
    # child born 2018-09-01 without legacy group (new system); father died 2018-12-31.
    s, (mother, father), child = family("2018-09-01")
    s.died(father, "2018-12-31")
    calc = s.calculator()
    assert child_amounts(calc, child, "2019-09") == {"basic": 16320}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}


def test_parent_died_on_2019_01_01_half_orphan():
    s, (mother, father), child = family("2018-09-01")
    s.died(father, "2019-01-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2019-09") == {"basic": 16320, "orphan": 8160}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC, "orphan": 14133}


def test_orphan_in_january_2019():
    s, (mother, father), child = family("2018-09-01")
    s.died(father, "2019-01-01")
    assert child_amounts(s.calculator(), child, "2019-01") == {"basic": 16320, "orphan": 8160}


def test_both_parents_died_one_before_2019():
    # father 2017, mother 2024-02: both deceased, one on/after 2019 -> full orphan from February 2024.
    s, (mother, father), child = family("2016-09-01")
    s.died(father, "2017-06-01")
    s.died(mother, "2024-02-10")
    calc = s.calculator()
    assert "orphan" not in child_amounts(calc, child, "2024-01")
    assert child_amounts(calc, child, "2024-02")["orphan"] == 17665


def test_half_orphan_amount_change_january_2023():
    s, (mother, father), child = family()
    s.died(father, "2022-10-10")
    calc = s.calculator()
    assert child_amounts(calc, child, "2022-10") == {"basic": 17149, "orphan": 8659}
    assert child_amounts(calc, child, "2022-12") == {"basic": 17320, "orphan": 8659}
    assert child_amounts(calc, child, "2023-01") == {"basic": 17320, "orphan": 13856}
    assert child_amounts(calc, child, "2023-08") == {"basic": 17320, "orphan": 13856}
    assert child_amounts(calc, child, "2023-09") == {"basic": BASIC, "orphan": 14133}


def test_full_orphan_amount_unchanged_january_2023():
    s, (mother,), child = family(two_parents=False)
    s.died(mother, "2022-10-10")
    calc = s.calculator()
    assert child_amounts(calc, child, "2022-12")["orphan"] == 17319
    assert child_amounts(calc, child, "2023-01")["orphan"] == 17319


def test_orphan_continues_when_the_surviving_parent_forms_a_new_family():
    s, (mother, father), child = family()
    s.died(father, "2023-11-14")
    s.parent("1983-01-01", household="H-NEW")  # the new partner
    s.moved(mother, "2024-03-01", household="H-NEW", role="parent")
    s.moved(child, "2024-03-01", household="H-NEW")
    result = amounts(s.calculator(), "2024-05")
    assert result == {(child, "basic"): BASIC, (child, "orphan"): 14133}


# --- foster --------------------------------------------------------------------------------------------------------

def foster_scenario(from_date, to_date=None):
    s = Scenario("H-BIRTH")
    mother = s.parent("1995-01-01")
    child = s.child("2020-06-01", [mother])
    s.parent("1970-01-01", household="H-FOSTER")
    s.foster(child, "H-FOSTER", from_date, to_date)
    return s, child


def by_household(calc, period):
    return {(line.household_id, line.component): line.amount_cents
            for line in calc.entitlements([int(period[:4]) * 12 + int(period[5:]) - 1])}


def test_foster_paid_to_the_foster_household_during_the_placement_only():
    s, child = foster_scenario("2024-03-10", "2024-05-31")
    calc = s.calculator()
    assert by_household(calc, "2024-02") == {("H-BIRTH", "basic"): BASIC}
    assert by_household(calc, "2024-03") == {("H-FOSTER", "basic"): BASIC, ("H-FOSTER", "foster"): 6823}
    assert by_household(calc, "2024-05") == {("H-FOSTER", "basic"): BASIC, ("H-FOSTER", "foster"): 6823}
    assert by_household(calc, "2024-06") == {("H-BIRTH", "basic"): BASIC}


def test_foster_placement_ending_mid_month_child_back_home_that_month():
    # §1: membership as on the last day of M; on 2024-06-30 the child is back home (to_date 2024-06-15).
    s, child = foster_scenario("2024-03-10", "2024-06-15")
    assert by_household(s.calculator(), "2024-06") == {("H-BIRTH", "basic"): BASIC}


def test_foster_amount_change_september_2023():
    s, child = foster_scenario("2022-01-10")
    calc = s.calculator()
    assert by_household(calc, "2023-08")[("H-FOSTER", "foster")] == 6689
    assert by_household(calc, "2023-09")[("H-FOSTER", "foster")] == 6823


def test_foster_short_term_alike():
    s = Scenario("H-BIRTH")
    mother = s.parent("1995-01-01")
    child = s.child("2020-06-01", [mother])
    s.foster(child, "H-FOSTER", "2024-01-01", kind="short_term")
    assert by_household(s.calculator(), "2024-05") == {("H-FOSTER", "basic"): BASIC, ("H-FOSTER", "foster"): 6823}


# --- care bands ------------------------------------------------------------------------------------------------

BANDS_2023 = {1: 8916, 2: 11874, 3: 27709, 4: 45739, 5: 52010, 6: 55724, 7: 59438}
SUPPORT_2023 = 33122


@pytest.mark.parametrize("p1, total, band", [
    (4, 5, 1), (4, 4, 1), (5, 5, 1),             # p1 >= 4 and total < 6
    (3, 5, None), (0, 5, None), (0, 0, None),    # below band 1
    (0, 6, 2), (3, 8, 2),                        # 6 <= total <= 8, p1 < 4
    (0, 9, 3), (3, 11, 3),                       # 9 <= total <= 11, p1 < 4
    (4, 6, 4), (4, 11, 4), (0, 12, 4), (3, 14, 4),  # 6..11 with p1 >= 4; or 12..14
    (0, 15, 5), (0, 17, 5),
    (0, 18, 6), (0, 20, 6),
    (0, 21, 7), (10, 36, 7),
])
def test_care_band_boundaries(p1, total, band):
    s, _, child = family("2015-05-01")
    s.care(child, p1, total, "2023-01-01")
    result = child_amounts(s.calculator(), child, "2024-05")
    expected = {"basic": BASIC}
    if band:
        expected["care"] = BANDS_2023[band]
    if total >= 12:
        expected["support"] = SUPPORT_2023
    assert result == expected


def test_care_band_amounts_2022_09_column():
    # §5.3 2022-09-01: band 1 87.41, band 7 582.73.
    s, _, child = family("2015-05-01")
    s.care(child, 4, 5, "2022-01-01", "2022-09-30")
    other = s.child("2016-05-01", [])
    s.care(other, 0, 21, "2022-01-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2022-09")["care"] == 8741
    assert child_amounts(calc, other, "2022-09")["care"] == 58273


def test_support_from_january_2023_only():
    # total 12 -> band 4: 448.42 (2022-09 column) and 457.39 (2023-09); support 324.73 from 2023-01, 331.22 2023-09.
    s, _, child = family("2015-05-01")
    s.care(child, 0, 12, "2020-01-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2022-12") == {"basic": 17320, "care": 44842}
    assert child_amounts(calc, child, "2023-01") == {"basic": 17320, "care": 44842, "support": 32473}
    assert child_amounts(calc, child, "2023-08") == {"basic": 17320, "care": 44842, "support": 32473}
    assert child_amounts(calc, child, "2023-09") == {"basic": BASIC, "care": 45739, "support": 33122}


def test_care_only_in_months_of_a_valid_assessment():
    s, _, child = family("2015-05-01")
    s.care(child, 0, 9, "2024-02-20", "2024-04-05")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-01") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-02") == {"basic": BASIC, "care": 27709}
    assert child_amounts(calc, child, "2024-04") == {"basic": BASIC, "care": 27709}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}


def test_support_extends_entitlement_to_the_21st_birthday_month():
    # born 2003-05-20 (21st birthday 2024-05): total 15 -> band 5 520.10 + support 331.22.
    s, _, child = family("2003-05-20")
    s.care(child, 0, 15, "2021-01-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC, "care": 52010, "support": SUPPORT_2023}
    assert child_amounts(calc, child, "2024-06") == {}


def test_amounts_from_september_2024():
    # §5.3 2024-09-01: band 3 282.63, band 4 466.54; support 337.84; §5.2 foster 69.59; §5.1 half orphan 144.16.
    s, (mother, father), child = family("2015-05-01")
    s.care(child, 0, 9, "2024-01-01")
    other = s.child("2016-05-01", [mother, father])
    s.care(other, 0, 13, "2024-01-01")
    s.died(father, "2024-02-02")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-09") == {"basic": 18019, "care": 28263, "orphan": 14416}
    assert child_amounts(calc, other, "2024-09") == {"basic": 18019, "care": 46654, "support": 33784,
                                                     "orphan": 14416}
    s2, _ = foster_scenario("2024-01-01")
    assert by_household(s2.calculator(), "2024-09") == {("H-FOSTER", "basic"): 18019, ("H-FOSTER", "foster"): 6959}
