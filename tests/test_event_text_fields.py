"""Text fields of source events that the calculator parses again on every rebuild: periods, school years and the
recorded instant (rules.periods, streams.events). Their fast forms must accept and order exactly what the
contract's forms do."""
from __future__ import annotations

import datetime as dt

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.periods import parse_period, parse_school_year
from streams.events import InvalidEvent, decode_event
from tests.builders import Scenario


def test_a_period_or_school_year_with_a_trailing_newline_is_not_accepted():
    """``$`` also matches before a final newline; the contract's YYYY-MM and YYYY-YYYY+1 do not allow one."""
    for parse, good in ((parse_period, "2024-05"), (parse_school_year, "2023-2024")):
        parse(good)
        for bad in (good + "\n", good + " ", "\n" + good):
            with pytest.raises(ValueError):
                parse(bad)
    scenario = Scenario()
    child = scenario.child("2019-03-01", [scenario.parent()])
    scenario.attendance(child, "2023-2024\n", "2024-01-31")
    scenario.event("payer.chosen", scenario.household, "2024-05-01", {"payer": "FONS", "from_month": "2024-05\n"})
    for event, field in zip(scenario.events[-2:], ("data.school_year", "data.from_month")):
        with pytest.raises(InvalidEvent) as caught:
            decode_event(orjson.dumps(event))
        assert caught.value.reason.startswith(field)


def test_a_school_year_parsed_again_gives_the_same_and_a_bad_one_fails_each_time():
    assert parse_school_year("2023-2024") == parse_school_year("2023-2024") == 2023
    for _ in range(2):  # (the cache keeps results, never failures)
        with pytest.raises(ValueError):
            parse_school_year("2023-2025")


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9999, 12, 30),
                    timezones=st.integers(-18 * 60 + 1, 18 * 60 - 1).map(
                        lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))))
def test_the_recorded_key_is_the_utc_instant_as_text(recorded_at):
    scenario = Scenario()
    event = scenario.event("payer.chosen", scenario.household, "2024-05-01",
                           {"payer": "FONS", "from_month": "2024-05"}, recorded_at=recorded_at.isoformat())
    decoded = decode_event(orjson.dumps(event))
    utc = decoded.recorded_at.astimezone(dt.timezone.utc)
    assert decoded.recorded_key == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
