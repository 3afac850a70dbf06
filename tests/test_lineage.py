"""Household lineage (tables.lineage): a household knows its members from its facts and learns related households
from the router; every member is linked to every related household, whichever of the two it learns first."""
from __future__ import annotations

import orjson

from streams.events import decode_event
from tables.household import HouseholdState, head_document, read_back
from tables.lineage import links_of_member, links_to_related, members
from tests.builders import Scenario


def separated_family():
    """H-1: two parents and two children; the younger child and one parent then move to H-2."""
    s = Scenario("H-1")
    mother, father = s.parent("1984-02-10"), s.parent("1983-07-01")
    elder = s.child("2012-05-04", [mother, father])
    younger = s.child("2016-09-30", [mother, father])
    s.tax(mother, 2022, 31000)
    s.moved(younger, "2024-07-01", household="H-2")
    s.moved(father, "2024-07-01", household="H-2", role="parent")
    return s, (mother, father, elder, younger)


def test_the_members_are_the_persons_the_winning_facts_place_in_the_household():
    s, (mother, father, elder, younger) = separated_family()
    events = s.decoded()
    assert members(events, "H-1") == sorted([mother, father, elder, younger])  # also who lived there before
    assert members(events, "H-2") == sorted([father, younger])
    assert members([e for e in events if e.type == "tax.assessed"], "H-1") == []


def test_every_member_is_linked_to_every_related_household_whenever_the_household_learns_of_it():
    s, (mother, father, elder, younger) = separated_family()
    events = s.decoded()
    expected = {(person, "H-2") for person in (mother, father, elder, younger)}
    for position in range(len(events) + 1):  # the related message before, between and after the facts
        state, links = HouseholdState("H-1"), set()
        for event in [*events[:position], None, *events[position:]]:
            if event is None:
                state.related = ["H-2"]
                links.update(links_to_related(state.members(), "H-1", "H-2"))
            else:
                state.add_fact(event)
                links.update(links_of_member(event, "H-1", state.related))
        assert links == expected, position


def test_a_household_is_not_related_to_itself_and_facts_that_place_no_one_link_nothing():
    s, (mother, *_rest) = separated_family()
    tax = next(e for e in s.decoded() if e.type == "tax.assessed")
    assert links_of_member(tax, "H-1", ["H-2"]) == []
    assert links_to_related([mother], "H-1", "H-1") == []
    registration = next(e for e in s.decoded() if e.subject == mother)
    assert links_of_member(registration, "H-1", ["H-1", "H-2"]) == [(mother, "H-2")]


def test_the_related_households_are_kept_in_the_head_and_only_when_there_are_any():
    s, _ = separated_family()
    state, table = HouseholdState("H-1"), {}
    for event in s.decoded():
        state.add_fact(event)
    assert "related" not in head_document(state.head())
    state.related = ["H-2"]
    again = read_back(state, table)
    assert again.related == ["H-2"] and again.members() == state.members()


def test_a_registration_decodes_to_a_membership_of_its_household():
    s = Scenario("H-9")
    parent = s.parent()
    event = decode_event(orjson.dumps(s.events[0]))
    assert links_of_member(event, "H-9", ["H-7"]) == [(parent, "H-7")]
