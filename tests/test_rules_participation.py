"""Ruleset v1 §6 (participation supplements): school bonus, preschool, childcare, school allowance.

Expected amounts from the ruleset tables (comments give the arithmetic). No tax assessment is given unless the
test needs one (school allowance), so no social supplement appears; tests read single components.
"""
import pytest

from tests.builders import Scenario, child_amounts


def one_child(birth, *, income_2021=None):
    s = Scenario()
    parent = s.parent("1985-01-01")
    if income_2021 is not None:
        s.tax(parent, 2021, income_2021)
    child = s.child(birth, [parent])
    return s, parent, child


def component(calc, child, period, name):
    return child_amounts(calc, child, period).get(name)


# --- §6.1 school bonus ---------------------------------------------------------------------------------------------

# July 2024 row: A 22.08, B 38.64, C 55.20, D 66.24; age on 2023-12-31.
@pytest.mark.parametrize("birth, expected", [
    ("2020-12-31", 2208),  # 3 on 2023-12-31 -> A
    ("2020-01-01", 2208),  # 3 -> A
    ("2019-12-31", 3864),  # 4 -> B
    ("2013-01-01", 3864),  # 10 -> B
    ("2012-12-31", 5520),  # 11 -> C
    ("2007-01-01", 5520),  # 16 -> C
    ("2006-12-31", 6624),  # 17 -> D (still 17 in July 2024, entitled)
])
def test_school_bonus_bands_by_age_on_31_december(birth, expected):
    s, _, child = one_child(birth)
    assert component(s.calculator(), child, "2024-07", "school_bonus") == expected


def test_school_bonus_only_in_july():
    s, _, child = one_child("2015-03-03")
    calc = s.calculator()
    assert component(calc, child, "2024-06", "school_bonus") is None
    assert component(calc, child, "2024-07", "school_bonus") == 3864
    assert component(calc, child, "2024-08", "school_bonus") is None


def test_school_bonus_only_when_entitled_in_july():
    # born 2006-06-15: 18th birthday June 2024, not in school -> not entitled in July -> no bonus.
    s, _, child = one_child("2006-06-15")
    assert child_amounts(s.calculator(), child, "2024-07") == {}


def test_school_bonus_for_an_adult_in_secondary_school_band_d():
    s, _, child = one_child("2006-06-15")
    s.enrolled(child, "2023-2024", "secondary", "2023-09-01")
    assert component(s.calculator(), child, "2024-07", "school_bonus") == 6624  # 17 on 2023-12-31 -> D


def test_school_bonus_child_who_left_flanders_before_july():
    s, parent, child = one_child("2015-03-03")
    s.moved(child, "2024-06-30", region="wallonia")
    assert child_amounts(s.calculator(), child, "2024-07") == {}


def test_school_bonus_child_born_in_july():
    # born 2024-07-10: entitled in July 2024; no age on 2023-12-31, counted as 0-3 -> A 22.08.
    s = Scenario()
    parent = s.parent()
    child = s.born("2024-07-10", [parent])
    assert component(s.calculator(), child, "2024-07", "school_bonus") == 2208


# B band (child born 2013-06-01 is 5..10 on 31 Dec of 2018..2023) by July of year.
@pytest.mark.parametrize("year, expected", [(2020, 3570), (2021, 3641), (2022, 3714), (2023, 3788), (2024, 3864)])
def test_school_bonus_amounts_by_year_band_b(year, expected):
    s, _, child = one_child("2013-06-01")
    assert component(s.calculator(), child, f"{year}-07", "school_bonus") == expected


def test_school_bonus_july_2019():
    s, _, child = one_child("2013-06-01")
    assert component(s.calculator(), child, "2019-07", "school_bonus") == 3570


@pytest.mark.parametrize("birth, year, expected", [
    ("2018-06-01", 2022, 2123),   # 3 on 2021-12-31 -> A 2022: 21.23
    ("2010-06-01", 2022, 5306),   # 11 -> C 2022: 53.06
    ("2004-12-31", 2022, 6367),   # 17 on 2021-12-31 -> D 2022: 63.67 (18 only in December 2022)
    ("2021-06-01", 2025, 2252),   # 3 on 2024-12-31 -> A 2025: 22.52
    ("2014-06-01", 2025, 3941),   # 10 -> B 2025: 39.41
    ("2013-06-01", 2025, 5630),   # 11 -> C 2025: 56.30
    ("2008-06-01", 2025, 5630),   # 16 on 2024-12-31 -> C 2025: 56.30
    ("2007-12-31", 2025, 6756),   # 17 on 2024-12-31 -> D 2025: 67.56 (18 only in December 2025)
])
def test_school_bonus_amounts_other_years(birth, year, expected):
    s, _, child = one_child(birth)
    assert component(s.calculator(), child, f"{year}-07", "school_bonus") == expected


# --- §6.2 preschool -------------------------------------------------------------------------------------------------

def test_preschool_at_3_enrolled_within_two_months():
    # third birthday 2024-03-15; enrolled from 2024-05-15 (exactly two months after) -> March 2024, 2024 amount 143.53.
    s, _, child = one_child("2021-03-15")
    s.enrolled(child, "2023-2024", "preschool", "2024-05-15")
    calc = s.calculator()
    assert component(calc, child, "2024-03", "preschool") == 14353
    assert component(calc, child, "2024-04", "preschool") is None
    assert component(calc, child, "2024-05", "preschool") is None


def test_preschool_at_3_enrolled_one_day_too_late():
    s, _, child = one_child("2021-03-15")
    s.enrolled(child, "2023-2024", "preschool", "2024-05-16")
    assert component(s.calculator(), child, "2024-03", "preschool") is None


def test_preschool_at_3_enrolled_three_months_after():
    s, _, child = one_child("2021-03-15")
    s.enrolled(child, "2023-2024", "preschool", "2024-06-15")
    calc = s.calculator()
    for period in ("2024-03", "2024-06"):
        assert component(calc, child, period, "preschool") is None


def test_preschool_at_3_enrolled_before_the_birthday():
    s, _, child = one_child("2021-03-15")
    s.enrolled(child, "2023-2024", "preschool", "2024-01-08")
    assert component(s.calculator(), child, "2024-03", "preschool") == 14353


def test_preschool_amount_of_the_calendar_year_of_the_period():
    # third birthday 2022-12-10 -> 2022 amount 137.96; third birthday 2023-01-10 -> 2023 amount 140.72.
    s, _, dec = one_child("2019-12-10")
    s.enrolled(dec, "2022-2023", "preschool", "2022-11-07")
    jan = s.child("2020-01-10", [])
    s.enrolled(jan, "2022-2023", "preschool", "2023-01-09")
    calc = s.calculator()
    assert component(calc, dec, "2022-12", "preschool") == 13796
    assert component(calc, jan, "2023-01", "preschool") == 14072


def preschool_at_4(reports, school_year="2023-2024"):
    # born 2020-03-15: turns 4 in 2024; the school year starting the year before (2023-2024). Enrolled only from
    # 2023-09-01 (more than two months after the third birthday 2023-03-15: no preschool at 3).
    s, _, child = one_child("2020-03-15")
    s.enrolled(child, school_year, "preschool", f"{school_year[:4]}-09-01")
    for as_of, half_days in reports:
        s.attendance(child, school_year, as_of, preschool_half_days=half_days)
    return s.calculator(), child


def test_preschool_at_4_period_is_the_first_report_reaching_150():
    calc, child = preschool_at_4([("2024-01-31", 140), ("2024-02-29", 150), ("2024-03-31", 170)])
    assert component(calc, child, "2024-01", "preschool") is None
    assert component(calc, child, "2024-02", "preschool") == 14353  # 2024 amount
    assert component(calc, child, "2024-03", "preschool") is None


def test_preschool_at_4_149_half_days_is_not_enough():
    calc, child = preschool_at_4([("2024-03-31", 149), ("2024-06-28", 149)])
    for period in ("2024-03", "2024-06"):
        assert component(calc, child, period, "preschool") is None


def test_preschool_at_4_reports_out_of_order():
    # the 2024-04-30 report was recorded before the 2024-02-29 one; the period is still February.
    s, _, child = one_child("2020-03-15")
    s.enrolled(child, "2023-2024", "preschool", "2023-09-01")
    s.attendance(child, "2023-2024", "2024-04-30", preschool_half_days=190)
    s.attendance(child, "2023-2024", "2024-02-29", preschool_half_days=155)
    calc = s.calculator()
    assert component(calc, child, "2024-02", "preschool") == 14353
    assert component(calc, child, "2024-04", "preschool") is None


def test_preschool_at_4_attendance_in_the_school_year_of_the_4th_birthday_does_not_count():
    # per the brief's reading of §6.2: only the school year starting the year before the 4th birthday counts.
    calc, child = preschool_at_4([("2024-12-20", 150)], school_year="2024-2025")
    assert component(calc, child, "2024-12", "preschool") is None


def test_preschool_at_4_amount_of_2023():
    # born 2019-06-01: turns 4 in 2023, school year 2022-2023; report 2023-02-28 -> 2023 amount 140.72.
    s, _, child = one_child("2019-06-01")
    s.enrolled(child, "2022-2023", "preschool", "2022-09-01")
    s.attendance(child, "2022-2023", "2023-02-28", preschool_half_days=150)
    assert component(s.calculator(), child, "2023-02", "preschool") == 14072


# --- §6.3 childcare -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("period, full, half, expected", [
    ("2024-05", 13, 2, 4900),   # (13 + 2/2) x 3.50 = 14 x 3.50 = 49.00
    ("2021-03", 0, 1, 165),     # 0.5 x 3.29 = 1.645 -> half-up 1.65
    ("2023-08", 0, 1, 172),     # 0.5 x 3.43 = 1.715 -> 1.72
    ("2023-08", 10, 0, 3430),   # 10 x 3.43 (rate until 2023-08-31)
    ("2023-09", 10, 0, 3500),   # 10 x 3.50 (rate from 2023-09-01)
    ("2024-06", 31, 0, 10500),  # capped at 30 days of June: 30 x 3.50 = 105.00
    ("2024-06", 30, 2, 10500),  # 31 days -> capped at 30
    ("2024-06", 29, 2, 10500),  # 30 days
    ("2024-06", 29, 1, 10325),  # 29.5 x 3.50 = 103.25
    ("2024-02", 29, 1, 10150),  # February 2024 has 29 days: 29.5 capped to 29 x 3.50 = 101.50
    ("2024-09", 3, 1, 1250),    # 3.5 x 3.57 = 12.495 -> 12.50
    ("2020-08", 1, 1, 485),     # 1.5 x 3.23 = 4.845 -> 4.85
    ("2024-05", 0, 0, None),    # nothing attended
])
def test_childcare_amount(period, full, half, expected):
    s, _, child = one_child("2020-01-01")
    s.childcare(child, period, full, half)
    assert component(s.calculator(), child, period, "childcare") == expected


def test_childcare_income_related_price_nothing():
    s, _, child = one_child("2022-01-01")
    s.childcare(child, "2024-05", 13, 2, income_related=True)
    assert component(s.calculator(), child, "2024-05", "childcare") is None


def test_childcare_nothing_in_a_month_with_preschool_enrolment():
    s, _, child = one_child("2021-03-15")
    s.enrolled(child, "2023-2024", "preschool", "2024-05-20")
    s.childcare(child, "2024-04", 5)
    s.childcare(child, "2024-05", 5)
    s.childcare(child, "2024-09", 5)  # the enrolment ended on 2024-08-31 (end of the school year)
    calc = s.calculator()
    assert component(calc, child, "2024-04", "childcare") == 1750  # 5 x 3.50
    assert component(calc, child, "2024-05", "childcare") is None
    assert component(calc, child, "2024-09", "childcare") == 1785  # 5 x 3.57


def test_childcare_only_for_the_care_month():
    s, _, child = one_child("2022-01-01")
    s.childcare(child, "2024-05", 4)
    calc = s.calculator()
    assert component(calc, child, "2024-04", "childcare") is None
    assert component(calc, child, "2024-05", "childcare") == 1400
    assert component(calc, child, "2024-06", "childcare") is None


def test_childcare_needs_entitlement():
    s, _, child = one_child("2022-01-01")
    s.moved(child, "2024-05-01", region="brussels")
    s.childcare(child, "2024-05", 4)
    assert child_amounts(s.calculator(), child, "2024-05") == {}


# --- §6.4 school allowance (school year 2023-2024, income year 2021) ------------------------------------------------
# Points 1: min 22 333.23 / max 37 012.41; points 2: min 25 196.70 / max 45 278.06.
# Primary: minimum 132.06, full 205.37; secondary: minimum 306.22, full 1 029.42; preschool 113.17.

PRIMARY_FULL, PRIMARY_MIN = 20537, 13206
SECONDARY_FULL, SECONDARY_MIN = 102942, 30622
PRESCHOOL_FIXED = 11317


def pupil(level, income, *, birth="2016-05-01", from_date="2023-09-01", absence=None, siblings=()):
    s = Scenario()
    parent = s.parent("1985-01-01")
    if income is not None:
        s.tax(parent, 2021, income)
    child = s.child(birth, [parent])
    for sibling in siblings:
        s.child(sibling, [parent])
    s.enrolled(child, "2023-2024", level, from_date)
    if absence is not None:
        s.attendance(child, "2023-2024", "2024-06-28", absence=absence)
    return s, parent, child


def allowance_by_month(calc, child, year=2023):
    found = {}
    for m in range(12):
        month = year * 12 + 8 + m
        period = f"{month // 12}-{month % 12 + 1:02d}"
        value = component(calc, child, period, "school_allowance")
        if value is not None:
            found[period] = value
    return found


@pytest.mark.parametrize("income, expected", [
    (10000.00, PRIMARY_FULL),
    (22333.23, PRIMARY_FULL),   # income = min -> full 205.37
    # 22 333.24: 132.06 + 73.31 x (37 012.41 - 22 333.24) / 14 679.18 = 132.06 + 73.31 x 14 679.17 / 14 679.18
    #          = 132.06 + 73.309995... -> 73.31 -> 205.37
    (22333.24, PRIMARY_FULL),
    # 30 000: 132.06 + 73.31 x 7 012.41 / 14 679.18 = 132.06 + 35.0210... -> 35.02 -> 167.08
    (30000.00, 16708),
    # 29 672.82: 73.31 x 7 339.59 / 14 679.18 = 73.31 / 2 = 36.655 -> half-up 36.66 -> 168.72
    (29672.82, 16872),
    (37012.41, PRIMARY_MIN),    # income = max -> minimum 132.06
    (37012.42, None),           # above max -> nothing
])
def test_school_allowance_primary_formula(income, expected):
    s, _, child = pupil("primary", income)
    expected_months = {"2023-09": expected} if expected else {}
    assert allowance_by_month(s.calculator(), child) == expected_months


@pytest.mark.parametrize("income, expected", [
    (22333.23, SECONDARY_FULL),
    # 30 000: 306.22 + 723.20 x 7 012.41 / 14 679.18 = 306.22 + 345.4808... -> 345.48 -> 651.70
    (30000.00, 65170),
    (37012.41, SECONDARY_MIN),
    (37012.42, None),
])
def test_school_allowance_secondary_formula(income, expected):
    s, _, child = pupil("secondary", income, birth="2010-05-01")
    assert allowance_by_month(s.calculator(), child) == ({"2023-09": expected} if expected else {})


@pytest.mark.parametrize("income, expected", [(0, PRESCHOOL_FIXED), (37012.41, PRESCHOOL_FIXED), (37012.42, None)])
def test_school_allowance_preschool_fixed_amount(income, expected):
    s, _, child = pupil("preschool", income, birth="2020-05-01")
    assert allowance_by_month(s.calculator(), child) == ({"2023-09": expected} if expected else {})


def test_school_allowance_preschool_counts_from_the_month_of_the_third_birthday():
    # born 2021-01-10, in preschool from 2023-09-01: 3 years old in January 2024 -> period January 2024.
    s, _, child = pupil("preschool", 20000, birth="2021-01-10")
    assert allowance_by_month(s.calculator(), child) == {"2024-01": PRESCHOOL_FIXED}


def test_school_allowance_period_is_the_first_qualifying_month():
    s, _, child = pupil("primary", 20000, from_date="2023-11-06")
    assert allowance_by_month(s.calculator(), child) == {"2023-11": PRIMARY_FULL}


def test_school_allowance_points_are_entitled_children_in_september():
    # income 40 000 > max for 1 point (37 012.41); with a sibling (2 points): min 25 196.70 < 40 000 <= 45 278.06:
    # 132.06 + 73.31 x 5 278.06 / 20 081.36 = 132.06 + 19.2679... -> 19.27 -> 151.33.
    s, _, child = pupil("primary", 40000, siblings=("2019-05-01",))
    assert allowance_by_month(s.calculator(), child) == {"2023-09": 15133}
    s, _, child = pupil("primary", 40000)
    assert allowance_by_month(s.calculator(), child) == {}


def test_school_allowance_points_ignore_a_sibling_born_after_september():
    s, _, child = pupil("primary", 40000, siblings=("2023-10-05",))
    assert allowance_by_month(s.calculator(), child) == {}


def test_school_allowance_points_ignore_a_sibling_not_entitled():
    # sibling born 2004 (19, not in school): not entitled in September 2023 -> 1 point -> 40 000 > max -> nothing.
    s, _, child = pupil("primary", 40000, siblings=("2004-05-01",))
    assert allowance_by_month(s.calculator(), child) == {}


@pytest.mark.parametrize("absence, expected", [(29, {"2023-09": PRIMARY_FULL}), (30, {})])
def test_school_allowance_unauthorised_absence(absence, expected):
    s, _, child = pupil("primary", 20000, absence=absence)
    assert allowance_by_month(s.calculator(), child) == expected


def test_school_allowance_missing_assessment_nothing_until_it_arrives():
    s = Scenario()
    mother, father = s.parent("1985-01-01"), s.parent("1984-01-01")
    s.tax(mother, 2021, 10000)
    child = s.child("2016-05-01", [mother, father])
    s.enrolled(child, "2023-2024", "primary", "2023-09-01")
    assert allowance_by_month(s.calculator(), child) == {}
    s.tax(father, 2021, 10000, recorded_at="2024-03-01T00:00:00Z")
    assert allowance_by_month(s.calculator(), child) == {"2023-09": PRIMARY_FULL}


def test_school_allowance_uses_income_year_y_minus_2():
    # school year 2023-2024 -> income year 2021; an income-year-2022 assessment alone is not enough.
    s = Scenario()
    parent = s.parent()
    s.tax(parent, 2022, 10000)
    child = s.child("2016-05-01", [parent])
    s.enrolled(child, "2023-2024", "primary", "2023-09-01")
    assert allowance_by_month(s.calculator(), child) == {}


def test_school_allowance_higher_education_nothing():
    s, _, child = pupil("higher", 10000, birth="2004-05-01")
    assert allowance_by_month(s.calculator(), child) == {}
