"""Household lineage (gezinsgeschiedenis): which persons a fact links to which households, and which households
are *related*.

Links. An event states person–household relations (:func:`links_of`): the subject of a registration, birth,
adoption or move lives in its household, and so does a foster child in its foster household (*membership*,
:func:`is_membership`); the parents a registration names are linked to the child's household, and a designated
receiver to the household it receives for. A linked household receives every fact about the person.

Related households. Some amounts of a household depend on facts another household holds: the school allowance of
a school year is paid once, in the first month the pupil qualifies, whichever household it lived in then, and its
points count the entitled children of its September household (ruleset §6.4). So two households that share a
member (a person who lived in both) are related, and every member of one is linked to the other — also members
who join later. A household learns a related household from the router (a person with an earlier home moves in)
and its own members from its facts, so a new member needs no message of its own: whichever of the two a household
learns second makes the links (:func:`links_to_related`, :func:`links_of_member`).
"""
from __future__ import annotations

from collections.abc import Iterable

POPULATION_TYPES = ("person.registered", "person.born", "person.adopted", "person.moved")  # name a household_id
MEMBERSHIP_TYPES = (*POPULATION_TYPES, "care.foster_placed")


def links_of(event) -> list[tuple[str, str]]:
    """(person, household) relations stated by an event."""
    data, kind = event.data, event.type
    if kind in POPULATION_TYPES:
        household = data.household_id
        return [(event.subject, household), *((parent, household) for parent in getattr(data, "parents", ()) or ())]
    if kind == "care.foster_placed":
        return [(event.subject, data.foster_household_id)]
    if kind == "receiver.designated":
        return [(data.receiver, event.subject)]
    return []


def is_membership(event, household_id: str) -> bool:
    """Whether the event says its subject lives (or lived) in the household."""
    return event.type in MEMBERSHIP_TYPES and (event.subject, household_id) in links_of(event)


def members(events: Iterable, household_id: str) -> list[str]:
    """The persons the events say live or lived in the household (winning facts of the household's store)."""
    return sorted({event.subject for event in events if is_membership(event, household_id)})


def links_of_member(event, household_id: str, related: Iterable[str]) -> list[tuple[str, str]]:
    """The links a fact folded into a household makes: a member to every related household."""
    if not is_membership(event, household_id):
        return []
    return [(event.subject, other) for other in related if other != household_id]


def links_to_related(member_ids: Iterable[str], household_id: str, related: str) -> list[tuple[str, str]]:
    """The links a related household makes: every member of this household to it."""
    if related == household_id:
        return []
    return [(person, related) for person in member_ids]
