"""Ruleset v1 §1 (entitlement of a child for month M): every boundary, expected amounts from the ruleset tables.

Amounts used (ruleset §4.1 basic, §5.3 care, §7 start):
- basic 2023-09-01 .. 2024-08-31: 176.66 -> 17666 cents.
- care band 2 (6 <= total <= 8, p1 < 4) from 2023-09-01: 118.74 -> 11874.
- start on a birth date in 2023-09-01 .. 2024-08-31: 1 214.49 -> 121449.
No tax assessment is given, so no social supplement is due (ruleset §4.4: missing assessment -> no social); the
months are chosen outside July, so no school bonus either.
"""

from tests.builders import Scenario, amounts, child_amounts

BASIC = 17666  # 176.66, §4.1 from 2023-09-01
CARE_BAND_2 = 11874  # 118.74, §5.3 band 2 from 2023-09-01
START = 121449  # 1 214.49, §7 from 2023-09-01


def household():
    s = Scenario()
    parent = s.parent("1975-01-01")
    return s, parent


# --- 1. alive in M --------------------------------------------------------------------------------------------

def test_entitled_in_the_birth_month_last_day():
    s, parent = household()
    child = s.born("2024-05-31", [parent])
    calc = s.calculator()
    # born 31 May 2024: entitled in May (basic 176.66) and the start grant 1 214.49 in the birth month.
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC, "start": START}
    assert child_amounts(calc, child, "2024-04") == {}
    assert child_amounts(calc, child, "2024-06") == {"basic": BASIC}


def test_entitled_in_the_birth_month_first_day():
    s, parent = household()
    child = s.born("2024-05-01", [parent])
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": BASIC, "start": START}


def test_entitled_in_the_month_of_death_not_after():
    s, parent = household()
    child = s.child("2020-03-01", [parent])
    s.died(child, "2024-05-31")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {}


def test_death_on_the_first_day_of_the_month_still_entitled_that_month():
    s, parent = household()
    child = s.child("2020-03-01", [parent])
    s.died(child, "2024-05-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-04") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {}


# --- 3. age limits --------------------------------------------------------------------------------------------

def test_month_of_18th_birthday_is_the_last_entitled_month():
    # born 2006-05-20 (before 2019, no legacy group -> new system, basic); 18th birthday 2024-05-20.
    s, parent = household()
    child = s.child("2006-05-20", [parent])
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {}


def test_18th_birthday_on_the_last_day_of_the_month():
    s, parent = household()
    child = s.child("2006-05-31", [parent])
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {}


def test_care_band_extends_entitlement_to_the_month_of_the_21st_birthday():
    # born 2003-05-20: 21st birthday 2024-05-20; care assessment total 6, p1 0 -> band 2 (118.74).
    s, parent = household()
    child = s.child("2003-05-20", [parent])
    s.care(child, 0, 6, "2020-01-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC, "care": CARE_BAND_2}
    assert child_amounts(calc, child, "2024-06") == {}


def test_assessment_without_a_band_does_not_extend_entitlement():
    # p1 = 3, total = 5: below band 1 (p1 >= 4 and total < 6) -> no band -> not entitled after the 18th birthday
    # month (2021-05).
    s, parent = household()
    child = s.child("2003-05-20", [parent])
    s.care(child, 3, 5, "2020-01-01")
    calc = s.calculator()
    assert child_amounts(calc, child, "2021-05") == {"basic": 16646}  # 166.46 in force 2020-09-01 .. 2021-08-31
    assert child_amounts(calc, child, "2021-06") == {}
    assert child_amounts(calc, child, "2024-05") == {}


def test_care_valid_to_mid_month_keeps_the_adult_entitled_that_month_only():
    # born 2004-01-10: 20 years old in 2024; band 2 assessment valid to 2024-02-15.
    s, parent = household()
    child = s.child("2004-01-10", [parent])
    s.care(child, 0, 6, "2020-01-01", "2024-02-15")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-02") == {"basic": BASIC, "care": CARE_BAND_2}
    assert child_amounts(calc, child, "2024-03") == {}


def test_higher_education_27_credits_entitled_to_the_month_of_the_25th_birthday():
    # born 1999-05-20: 25th birthday 2024-05-20; higher education 27 credits in 2023-2024.
    s, parent = household()
    child = s.child("1999-05-20", [parent])
    s.enrolled(child, "2023-2024", "higher", "2023-09-15", credits=27)
    calc = s.calculator()
    assert child_amounts(calc, child, "2023-09") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {}  # still enrolled, but past the 25th-birthday month


def test_higher_education_26_credits_does_not_entitle():
    s, parent = household()
    child = s.child("1999-05-20", [parent])
    s.enrolled(child, "2023-2024", "higher", "2023-09-15", credits=26)
    calc = s.calculator()
    assert child_amounts(calc, child, "2023-10") == {}
    assert child_amounts(calc, child, "2024-05") == {}


def test_higher_education_without_credits_does_not_entitle():
    s, parent = household()
    child = s.child("2001-05-20", [parent])
    s.enrolled(child, "2023-2024", "higher", "2023-09-15")
    assert child_amounts(s.calculator(), child, "2023-10") == {}


def test_secondary_education_entitles_after_18_and_only_on_enrolled_months():
    # born 2005-10-10: 18th birthday 2023-10; secondary 2023-09-01 .. 2024-01-15.
    s, parent = household()
    child = s.child("2005-10-10", [parent])
    s.enrolled(child, "2023-2024", "secondary", "2023-09-01", "2024-01-15")
    calc = s.calculator()
    assert child_amounts(calc, child, "2023-11") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-01") == {"basic": BASIC}  # enrolled on 1..15 January
    assert child_amounts(calc, child, "2024-02") == {}


def test_higher_education_enrolment_ending_mid_month():
    s, parent = household()
    child = s.child("2001-03-03", [parent])
    s.enrolled(child, "2023-2024", "higher", "2023-09-15", "2024-01-31", credits=60)
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-01") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-02") == {}


# --- 2. domicile ----------------------------------------------------------------------------------------------

def test_moving_out_of_flanders_mid_month_entitled_that_month_not_the_next():
    s, parent = household()
    child = s.child("2020-03-01", [parent])
    s.moved(parent, "2024-05-15", role="parent", region="wallonia")
    s.moved(child, "2024-05-15", region="wallonia")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {}


def test_moving_out_on_the_second_day_still_entitled_that_month():
    s, parent = household()
    child = s.child("2020-03-01", [parent])
    s.moved(child, "2024-05-02", region="wallonia")
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": BASIC}


def test_moving_out_on_the_first_day_not_entitled_that_month():
    # domicile outside Flanders on every day of May -> not entitled in May.
    s, parent = household()
    child = s.child("2020-03-01", [parent])
    s.moved(child, "2024-05-01", region="wallonia")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-04") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-05") == {}


def test_moving_into_flanders_mid_month_entitled_from_that_month():
    # born abroad 2020 (no start grant), moves to Flanders on 2024-05-20.
    s = Scenario()
    parent = s.parent("1985-01-01", region="abroad")
    child = s.child("2020-06-01", [parent], region="abroad")
    s.moved(parent, "2024-05-20", role="parent")
    s.moved(child, "2024-05-20")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-04") == {}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-06") == {"basic": BASIC}


def test_moving_into_flanders_on_the_last_day_of_the_month():
    s = Scenario()
    parent = s.parent("1985-01-01", region="brussels")
    child = s.child("2020-06-01", [parent], region="brussels")
    s.moved(child, "2024-05-31")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-04") == {}
    assert child_amounts(calc, child, "2024-05") == {"basic": BASIC}


# --- who is a child ---------------------------------------------------------------------------------------------

def test_person_with_role_other_is_not_a_child():
    s, parent = household()
    other = s.insz("2020-03-01")
    s.event("person.registered", other, "2020-03-01",
            {"birth_date": "2020-03-01", "household_id": s.household, "role": "other", "parents": [parent],
             "region": "flanders"})
    assert amounts(s.calculator(), "2024-05") == {}


def test_role_other_does_not_count_in_family_size():
    # two real children + one `other` aged 4; income 50 000 (income year 2021) in the golden year:
    # T1 36 325.76 < 50 000 > T1b 42 380.06; n = 2 -> no social (M3 would need n >= 3).
    s, parent = household()
    s.tax(parent, 2021, 50000)
    a = s.child("2019-05-01", [parent])
    b = s.child("2021-05-01", [parent])
    other = s.insz("2020-03-01")
    s.event("person.registered", other, "2020-03-01",
            {"birth_date": "2020-03-01", "household_id": s.household, "role": "other", "region": "flanders"})
    assert amounts(s.calculator(), "2024-05") == {(a, "basic"): BASIC, (b, "basic"): BASIC}


def test_child_moving_to_role_other_stops_being_a_child():
    s, parent = household()
    child = s.child("2020-03-01", [parent])
    s.moved(child, "2024-05-10", role="other")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-04") == {"basic": BASIC}
    assert child_amounts(calc, child, "2024-05") == {}  # role as on the last day of May


# --- the first months of the new system ---------------------------------------------------------------------------



def test_months_january_to_august_2019():
    # born 2019-02-01 in Flanders: basic 163.20 and start 1 122.00 in February 2019; no assessment -> no social.
    s, parent = household()
    child = s.child("2019-02-01", [parent])
    assert child_amounts(s.calculator(), child, "2019-02") == {"basic": 16320, "start": 112200}


def test_january_2019_without_a_parent():
    s = Scenario()
    child = s.child("2018-06-01", [])
    assert child_amounts(s.calculator(), child, "2019-01") == {"basic": 16320}


def test_september_2019_computes():
    s, parent = household()
    child = s.child("2019-02-01", [parent])
    assert child_amounts(s.calculator(), child, "2019-09") == {"basic": 16320}
