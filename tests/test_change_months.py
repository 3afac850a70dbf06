"""Change months (rules/changes.py): re-dating the lines of a period of constant facts gives exactly what the
computation month by month gives — amounts and traces — over simulated and random populations."""
import orjson
import pytest

from rules import changes
from rules.calculator import Calculator
from rules.situation import Situation
from sim.population import SimulationConfig, generate_events
from streams.events import decode_event
from tables.facts import FactStore, fold
from tests.builders import Scenario
from tests.test_properties import MONTHS, random_households


def _month_by_month(situation: Situation, months) -> list[dict]:
    """Each month on its own, by a calculator that has seen no other month (nothing to reuse)."""
    by_household: dict[str, list[dict]] = {}
    for month in months:
        calc = Calculator(situation)
        for household_id in sorted(situation.members_ever):
            by_household.setdefault(household_id, []).extend(
                line.explanation() for line in calc.household_entitlements(household_id, month))
    return [line for household_id in sorted(by_household) for line in by_household[household_id]]


def _same_result(situation: Situation, months) -> None:
    redated = [line.explanation() for line in Calculator(situation).entitlements(months)]
    assert redated == _month_by_month(situation, months)


@pytest.mark.parametrize("seed", [3, 11])
def test_simulated_population_over_three_years(seed):
    store = FactStore()
    for event in generate_events(SimulationConfig(households=120, seed=seed, start="2021-09", end="2024-09")):
        store.add(decode_event(orjson.dumps(event)))
    _same_result(Situation(store), range(2021 * 12 + 8, 2024 * 12 + 9))


@pytest.mark.parametrize("seed", range(12))
def test_random_households_with_moves_deaths_care_and_school(seed):
    _same_result(Situation(fold(random_households(seed, households=4).decoded())), MONTHS)


def test_months_out_of_order_or_with_gaps():
    situation = Situation(fold(random_households(5, households=3).decoded()))
    months = [2024 * 12 + 3, 2024 * 12 + 1, 2024 * 12 + 2, 2024 * 12 + 6, 2024 * 12 + 7, 2023 * 12 + 11]
    _same_result(situation, months)


def test_a_parent_in_another_household_dies():
    s = Scenario("H-A")
    mother = s.parent("1980-01-01")
    father = s.parent("1978-01-01", household="H-B")
    s.child("2012-05-01", [mother, father], legacy_group="LG-A", since="2012-05-01")
    s.child("2020-03-01", [mother, father])
    s.died(father, "2024-03-12")  # orphan supplement and the switch to the new system from March 2024
    _same_result(Situation(fold(s.decoded())), MONTHS)


def test_the_eldest_of_a_legacy_group_in_another_household_stops_being_entitled():
    s = Scenario("H-A")
    mother = s.parent("1975-01-01")
    father = s.parent("1974-01-01", household="H-B")
    s.child("2010-02-01", [mother, father], legacy_group="LG-AB", since="2010-02-01")
    eldest = s.child("2007-02-01", [mother, father], household="H-B", legacy_group="LG-AB", since="2007-02-01")
    s.moved(eldest, "2024-04-10", household="H-B", region="brussels")  # the younger child is the eldest from May
    _same_result(Situation(fold(s.decoded())), MONTHS)


def test_preschool_supplement_in_the_month_of_the_third_birthday():
    s = Scenario("H-A")
    mother = s.parent("1990-01-01")
    child = s.child("2021-05-15", [mother])
    s.enrolled(child, "2023-2024", "preschool", "2023-09-01")  # no tax assessment: no school allowance
    _same_result(Situation(fold(s.decoded())), MONTHS)


def test_an_enrolment_and_a_care_assessment_that_end_during_the_year():
    s = Scenario("H-A")
    mother = s.parent("1975-01-01")
    pupil = s.child("2005-03-01", [mother])  # 19: entitled through secondary education only
    s.enrolled(pupil, "2023-2024", "secondary", "2023-09-01", to_date="2024-02-15")
    cared = s.child("2004-06-01", [mother])  # 20: entitled through the care assessment only
    s.care(cared, 2, 12, "2023-01-01", valid_to="2024-04-20")
    s.tax(mother, 2021, 15000)
    s.tax(mother, 2022, 15000)
    _same_result(Situation(fold(s.decoded())), MONTHS)


def test_the_preschool_amount_of_a_new_year_makes_no_change_month():
    """The preschool supplement's amount is new every January, but its lines fall in change months of their own
    (the third birthday, an attendance report: rules/preschool.py), so January is no change month for that
    alone: re-dated across it, the lines are those of each month computed on its own, and a third birthday in
    January is paid at that year's amount."""
    s = Scenario("H-P")
    mother = s.parent("1990-04-01")
    s.child("2018-05-10", [mother])
    toddler = s.child("2022-01-15", [mother])  # three in January 2025
    s.enrolled(toddler, "2024-2025", "preschool", "2025-01-06")
    situation = Situation(fold(s.decoded()))
    january = 2025 * 12
    _same_result(situation, range(january - 3, january + 3))
    calc = Calculator(situation)
    assert january not in changes.parameter_months(calc.params)
    assert 2024 * 12 + 8 in changes.parameter_months(calc.params)  # (the September indexation still is one)
    assert january in changes.household_months(calc, "H-P", [2024])  # the third birthday
    paid = [line for line in calc.household_entitlements("H-P", january) if line.component == "preschool"]
    assert [(line.child, line.amount_cents) for line in paid] == [(toddler, 14640)]

    s = Scenario("H-Q")
    father = s.parent("1988-02-01")
    s.child("2016-03-20", [father])
    calc = s.calculator()
    assert january not in changes.household_months(calc, "H-Q", [2024])
