"""Ruleset v1 §9: the worked examples of the golden year give exactly their amounts."""
from tests.builders import Scenario, amounts, child_amounts


def family(income_2021: float, *births: str, two_parents: bool = True):
    s = Scenario()
    mother = s.parent("1988-02-01")
    parents = [mother]
    if two_parents:
        father = s.parent("1986-09-09")
        parents.append(father)
        s.tax(mother, 2021, income_2021 / 2)
        s.tax(father, 2021, income_2021 - round(income_2021 / 2, 2))
    else:
        s.tax(mother, 2021, income_2021)
    children = [s.child(b, parents) for b in births]
    return s, parents, children


def test_example_1_basic_and_childcare():
    s, _, (older, younger) = family(52000, "2020-03-12", "2023-06-05")
    s.childcare(younger, "2024-05", 13, 2)
    result = amounts(s.calculator(), "2024-05")
    assert result == {(older, "basic"): 17666, (younger, "basic"): 17666, (younger, "childcare"): 4900}


def test_example_2_social_a12():
    s, _, (child,) = family(24000, "2021-04-01")
    assert child_amounts(s.calculator(), child, "2024-05") == {"basic": 17666, "social": 7050}


def test_example_3_three_children_m3():
    s, _, children = family(55000, "2019-05-01", "2021-05-01", "2023-05-01")
    result = amounts(s.calculator(), "2024-05")
    assert result == {**{(c, "basic"): 17666 for c in children}, **{(c, "social"): 8154 for c in children}}
    assert sum(result.values()) == 77460


def test_example_4_two_children_b12():
    s, _, children = family(40000, "2020-05-01", "2022-05-01")
    result = amounts(s.calculator(), "2024-05")
    assert sum(result.values()) == 42472
    assert all(result[(c, "social")] == 3570 for c in children)


def legacy_family(income: float):
    s = Scenario()
    mother, father = s.parent("1984-03-03"), s.parent("1982-11-11")
    s.tax(mother, 2021, income / 2)
    s.tax(father, 2021, income / 2)
    emma = s.child("2012-02-10", [mother, father], legacy_group="LG-1", since="2012-02-10")
    noah = s.child("2016-01-03", [mother, father], legacy_group="LG-1", since="2016-01-03")
    mila = s.child("2020-07-15", [mother, father])
    return s, emma, noah, mila


def test_example_5_rank_inversion_and_reduced_age_supplement():
    s, emma, noah, mila = legacy_family(90000)
    result = amounts(s.calculator(), "2024-05")
    assert result == {
        (noah, "basic_transitional"): 10169, (noah, "age_supplement"): 3263,
        (emma, "basic_transitional"): 18816, (emma, "age_supplement"): 2492,
        (mila, "basic"): 17666,
    }
    assert sum(result.values()) == 52406


def test_example_6_transitional_social_supplements():
    s, emma, noah, mila = legacy_family(50000)
    result = amounts(s.calculator(), "2024-05")
    assert result == {
        (mila, "basic"): 17666, (mila, "social"): 8154,
        (noah, "basic_transitional"): 10169, (noah, "age_supplement"): 3263, (noah, "social_transitional"): 6707,
        (emma, "basic_transitional"): 18816, (emma, "age_supplement"): 4986, (emma, "social_transitional"): 4738,
    }
    assert sum(result.values()) == 74499


def test_example_7_orphan_from_the_month_of_death():
    s = Scenario()
    mother, father = s.parent("1990-01-01"), s.parent("1989-01-01")
    s.tax(mother, 2021, 30000)
    s.tax(father, 2021, 30000)
    child = s.child("2021-03-03", [mother, father])
    s.died(father, "2023-11-14")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-05") == {"basic": 17666, "orphan": 14133, "social": 7050}
    assert "orphan" not in child_amounts(calc, child, "2023-10")
    assert child_amounts(calc, child, "2023-11")["orphan"] == 14133  # 141.33 in force since 2023-09


def test_example_8_foster_child_paid_to_the_foster_household():
    s = Scenario("H-BIRTH")
    mother = s.parent("1995-01-01")
    child = s.child("2020-06-01", [mother])
    foster_parent = s.parent("1970-01-01", household="H-FOSTER")
    s.tax(foster_parent, 2021, 120000)
    s.foster(child, "H-FOSTER", "2022-01-10")
    lines = s.calculator().entitlements([2024 * 12 + 4])
    assert {(line.household_id, line.component): line.amount_cents for line in lines} == {
        ("H-FOSTER", "basic"): 17666, ("H-FOSTER", "foster"): 6823}
