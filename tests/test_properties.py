"""Property-based tests (hypothesis) of the calculator's invariants."""
import datetime as dt
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.calculator import Calculator
from tables.facts import fold
from tests.builders import Scenario

MONTHS = range(2023 * 12 + 6, 2024 * 12 + 9)  # July 2023 .. September 2024


def _date(rng: random.Random, first: int, last: int) -> str:
    day = dt.date(first, 1, 1) + dt.timedelta(days=rng.randrange((dt.date(last, 12, 31) - dt.date(first, 1, 1)).days))
    return day.isoformat()


def random_households(seed: int, households: int = 3) -> Scenario:
    """A few households with revisions, late data, moves, deaths, care, childcare and school."""
    rng = random.Random(seed)
    s = Scenario()
    for h in range(households):
        hid = f"H-{seed % 1000:03d}{h:02d}"
        parents = [s.parent(_date(rng, 1970, 1995), household=hid) for _ in range(rng.choice((1, 2, 2)))]
        for parent in parents:
            for year in (2021, 2022):
                if rng.random() < 0.9:
                    s.tax(parent, year, rng.randrange(0, 60000), recorded_at=f"{year + 2}-0{rng.randint(1, 9)}-01T00:00:00Z")
                if rng.random() < 0.3:  # a revision, recorded earlier or later than the first assessment
                    s.tax(parent, year, rng.randrange(0, 60000), recorded_at=f"{year + 2}-0{rng.randint(1, 9)}-02T00:00:00Z")
        if rng.random() < 0.3:
            s.property(parents[0], 2021, f"P-{h}", rng.choice(("own_home", "other", "professional")), rng.randrange(0, 300000))
        legacy = f"LG-{hid}"
        for _ in range(rng.randint(1, 4)):
            birth = _date(rng, 2004, 2024)
            child = s.child(birth, parents, household=hid, legacy_group=legacy if birth < "2019" and rng.random() < 0.8 else None,
                            since=min(birth, "2019-01-01") if birth < "2019" else birth)
            if rng.random() < 0.1:
                s.moved(child, _date(rng, 2023, 2024), household=hid, region=rng.choice(("brussels", "flanders")))
            if rng.random() < 0.1:
                s.care(child, rng.randint(0, 6), rng.randint(6, 30), _date(rng, 2020, 2024))
            if birth > "2022":
                s.childcare(child, "2024-03", rng.randint(0, 25), rng.randint(0, 6), rng.random() < 0.2)
            if "2007" < birth < "2018":
                s.enrolled(child, "2023-2024", rng.choice(("primary", "secondary")), "2023-09-01")
                s.enrolled(child, "2024-2025", rng.choice(("primary", "secondary")), "2024-09-01")
        if rng.random() < 0.15:
            s.died(parents[-1], _date(rng, 2023, 2024))
        if rng.random() < 0.3:
            s.payer(rng.choice(("KIDSLIFE", "PARENTIA")), "2024-01", household=hid)
    return s


def result(events) -> list[tuple]:
    calc = Calculator.from_events(fold(events))
    return sorted((l.household_id, l.child, l.component, l.month, l.amount_cents) for l in calc.entitlements(MONTHS))


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.integers(0, 10**6), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_arrival_order(seed, rng):
    events = random_households(seed).decoded()
    shuffled = list(events)
    rng.shuffle(shuffled)
    assert result(shuffled) == result(events)


@FAST
@given(st.integers(0, 10**6), st.randoms(use_true_random=False))
def test_duplicates_change_nothing(seed, rng):
    events = random_households(seed).decoded()
    with_duplicates = events + [rng.choice(events) for _ in range(len(events) // 2)]
    rng.shuffle(with_duplicates)
    assert result(with_duplicates) == result(events)


@FAST
@given(st.integers(0, 5_000_000), st.integers(1, 2_000_000), st.integers(1, 5), st.integers(2019, 2024))
def test_more_income_never_raises_the_social_supplement(income_cents, extra_cents, children, first_birth_year):
    def social_total(cents: int) -> int:
        s = Scenario()
        parent = s.parent("1985-01-01")
        s.event("tax.assessed", parent, "2022-06-30", {"income_year": 2021, "taxable_income_cents": cents})
        for i in range(children):
            s.child(f"{min(first_birth_year + i, 2024)}-0{i + 1}-15", [parent])
        calc = s.calculator()
        return sum(l.amount_cents for l in calc.entitlements(range(2023 * 12 + 8, 2024 * 12 + 8))
                   if l.component == "social")
    assert social_total(income_cents + extra_cents) <= social_total(income_cents)


@FAST
@given(st.integers(0, 10**6))
def test_every_amount_is_traceable(seed):
    calc = Calculator.from_events(fold(random_households(seed).decoded()))
    for line in calc.entitlements(MONTHS):
        explanation = line.explanation()
        assert line.amount_cents != 0
        assert explanation["rule"] and explanation["legal_reference"]
        assert explanation["parameters"], line.component
        assert all(p["status"] in "VDA" and p["source"] for p in explanation["parameters"])
        assert explanation["source_events"], line.component


@FAST
@given(st.integers(0, 10**6), st.randoms(use_true_random=False))
def test_a_store_read_back_from_its_table_value_folds_like_the_original(seed, rng):
    """Read back lazily (events not decoded) at any point of the arrival order, with duplicates and late
    revisions, the store ends with the same facts, outcomes and serialized value as one never written."""
    from tables.facts import FactStore
    events = random_households(seed).decoded()
    arrivals = events + [rng.choice(events) for _ in range(len(events) // 3)]
    rng.shuffle(arrivals)
    cut = rng.randrange(len(arrivals) + 1)
    original, first_part = FactStore(), FactStore()
    for event in arrivals[:cut]:
        original.add(event)
        first_part.add(event)
    read_back = FactStore.from_bytes(first_part.to_bytes())
    assert [original.add(e) for e in arrivals[cut:]] == [read_back.add(e) for e in arrivals[cut:]]
    assert read_back.to_bytes() == original.to_bytes()
    assert result(read_back) == result(events)
