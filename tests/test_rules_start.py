"""Ruleset v1 §7 (start: birth and adoption grant). Amounts: 1 190.68 from 2022-09-01, 1 214.49 from 2023-09-01,
1 238.78 from 2024-09-01, 1 122.00 from 2019-01-01 (before 2020-09-01); the amount in force on the date of birth
or adoption, period = the month of birth or adoption, once per child."""

from tests.builders import Scenario, amounts, child_amounts



def test_birth_grant_in_the_birth_month_only():
    s = Scenario()
    parent = s.parent()
    child = s.born("2024-03-20", [parent])
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-03") == {"basic": 17666, "start": 121449}
    assert child_amounts(calc, child, "2024-04") == {"basic": 17666}


def test_birth_grant_amount_on_the_date_of_birth():
    # born 2023-08-31 -> 1 190.68; born 2023-09-01 -> 1 214.49.
    s = Scenario()
    parent = s.parent()
    august = s.born("2023-08-31", [parent])
    september = s.born("2023-09-01", [parent])
    calc = s.calculator()
    assert child_amounts(calc, august, "2023-08")["start"] == 119068
    assert child_amounts(calc, september, "2023-09")["start"] == 121449
    assert "start" not in child_amounts(calc, august, "2023-09")


def test_born_in_brussels_no_start_and_no_entitlement():
    s = Scenario()
    parent = s.parent(region="brussels")
    s.born("2024-03-20", [parent], region="brussels")
    assert amounts(s.calculator(), "2024-03") == {}


def test_born_in_brussels_moving_to_flanders_later_no_start():
    s = Scenario()
    parent = s.parent(region="brussels")
    child = s.born("2024-03-20", [parent], region="brussels")
    s.moved(parent, "2024-04-10", role="parent")
    s.moved(child, "2024-04-10")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-03") == {}
    assert child_amounts(calc, child, "2024-04") == {"basic": 17666}


def test_born_and_died_in_the_same_month_gets_the_grant():
    s = Scenario()
    parent = s.parent()
    child = s.born("2024-03-02", [parent])
    s.died(child, "2024-03-05")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-03") == {"basic": 17666, "start": 121449}
    assert child_amounts(calc, child, "2024-04") == {}


def adoption(birth, joined_on, *, birth_region="abroad", born_event=False):
    s = Scenario("H-ADOPT")
    mother, father = s.parent("1980-01-01"), s.parent("1979-01-01")
    origin = s.parent("1990-01-01", household="H-ORIGIN", region=birth_region)
    if born_event:
        child = s.born(birth, [origin], household="H-ORIGIN", region=birth_region)
    else:
        child = s.child(birth, [origin], household="H-ORIGIN", region=birth_region)
    s.event("person.adopted", child, joined_on, {"household_id": "H-ADOPT", "parents": [mother, father],
                                                 "joined_on": joined_on})
    return s, child


def test_adoption_grant_in_the_joining_month():
    # born 2018 abroad (no birth grant: before 2019 and not in Flanders), joins on 2024-03-10 -> 1 214.49.
    s, child = adoption("2018-05-05", "2024-03-10")
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-02") == {}
    assert child_amounts(calc, child, "2024-03") == {"basic": 17666, "start": 121449}
    assert child_amounts(calc, child, "2024-04") == {"basic": 17666}
    assert {line.household_id for line in calc.entitlements([2024 * 12 + 2])} == {"H-ADOPT"}


def test_adoption_grant_amount_on_the_joining_date():
    s, child = adoption("2018-05-05", "2024-09-01")
    assert child_amounts(s.calculator(), child, "2024-09")["start"] == 123878


def test_no_adoption_grant_after_a_birth_grant():
    # born in Flanders 2020-06-01 (birth grant 1 122.00 in June 2020), adopted 2024-03-10: never twice.
    s, child = adoption("2020-06-01", "2024-03-10", birth_region="flanders", born_event=True)
    calc = s.calculator()
    assert child_amounts(calc, child, "2020-06")["start"] == 112200
    assert "start" not in child_amounts(calc, child, "2024-03")


def test_adopted_child_stays_entitled_after_the_joining_month():
    s, child = adoption("2020-06-01", "2024-03-10", birth_region="flanders", born_event=True)
    calc = s.calculator()
    assert child_amounts(calc, child, "2024-03") == {"basic": 17666}
    assert child_amounts(calc, child, "2024-04") == {"basic": 17666}


def test_adoption_grant_for_a_child_born_in_brussels_after_2019():
    # no birth grant (born in Brussels), so the adoption grant is its only grant.
    s, child = adoption("2021-06-01", "2024-03-10", birth_region="brussels", born_event=True)
    calc = s.calculator()
    assert child_amounts(calc, child, "2021-06") == {}
    assert child_amounts(calc, child, "2024-03") == {"basic": 17666, "start": 121449}


def test_birth_grant_from_september_2024():
    s = Scenario()
    parent = s.parent()
    child = s.born("2024-09-01", [parent])
    assert child_amounts(s.calculator(), child, "2024-09") == {"basic": 18019, "start": 123878}
