"""The dated parameter files (config/parameters/**.yaml) and the checks that guard them."""
from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import pytest

from rules.parameters import PARAMETER_DIR, STATUSES, ParameterError, load_parameters

D = dt.date

EXPECTED_NAMES = {
    "basic",
    *(f"basic_transitional.rank_{r}" for r in (1, 2, 3)),
    *(f"age_supplement.{kind}_{band}" for kind in ("full", "reduced") for band in ("6_11", "12_17", "18_plus")),
    *(f"social.{n}" for n in ("a12", "a3", "b12", "m3", "t1", "t1b", "t2", "r1", "r2", "r3")),
    "orphan.half", "orphan.full", "foster", "support",
    *(f"care.band_{b}" for b in range(1, 8)),
    *(f"school_bonus.{x}" for x in "abcd"),
    "preschool", "childcare.daily_rate", "start",
    *(f"school_allowance.{n}" for n in ("preschool", "primary_minimum", "primary_full", "secondary_minimum",
                                         "secondary_full", "thresholds")),
    *(f"conditions.{n}" for n in (
        "age_limit_unconditional", "age_limit_care", "age_limit_education", "higher_education_min_credits",
        "age_band_6_11_from", "age_band_12_17_from", "age_band_18_plus_from", "school_bonus_band_b_from_age",
        "school_bonus_band_c_from_age", "school_bonus_band_d_from_age", "preschool_age_3_enrolment_grace_months",
        "preschool_age_4_min_half_days", "school_allowance_max_unauthorised_absence_half_days",
        "school_allowance_max_points", "support_min_points_total", "arrears_limit_months",
        "recovery_limit_months", "partner_maintenance_percent", "self_employed_divisor_percent",
        "ki_other_multiplier", "ki_professional_multiplier")),
}


@pytest.fixture(scope="module")
def params():
    return load_parameters()


# --- the real parameter files -------------------------------------------------------------------------------


def test_all_parameters_load_without_problems(params):
    assert params.problems() == []
    assert {p.name for p in params} == EXPECTED_NAMES


def test_every_value_has_status_and_source(params):
    for p in params:
        assert p.description.strip() and p.reference.strip(), p.name
        for v in p.values:
            if v is None:
                continue
            assert v.status in STATUSES, (p.name, v.since)
            assert v.source.strip(), (p.name, v.since)


def test_no_gaps(params):
    for p in params:
        assert p.valid_from is not None, p.name
        assert p.values and p.values[0] is not None, p.name
        assert p.values[0].since == p.valid_from, p.name
        starts = [v.since for v in p.values if v is not None]
        assert starts == sorted(set(starts)), p.name
        ended = False
        for v in p.values:
            assert not (ended and v is not None), f"{p.name}: value after an end"
            ended = ended or v is None
        assert p.at(p.valid_from - dt.timedelta(days=1)) is None
        assert p.at(p.valid_from) is not None


def test_units(params):
    for p in params:
        expected = "count" if p.name.startswith("conditions.") else (
            "table_EUR" if p.name == "school_allowance.thresholds" else "EUR")
        assert p.unit == expected, p.name


@pytest.mark.parametrize("name, day, cents", [
    ("social.t1", D(2024, 5, 1), 3632576),
    ("social.t1", D(2023, 3, 31), 3452691),
    ("social.t2", D(2023, 1, 15), 6494593),
    ("social.a12", D(2022, 12, 1), 6912),
    ("social.m3", D(2024, 5, 1), 8154),
    ("social.b12", D(2023, 4, 1), 3500),
    ("social.r3", D(2022, 11, 30), 552),
    ("school_bonus.c", D(2024, 7, 1), 5520),
    ("school_bonus.a", D(2020, 7, 1), 2040),
    ("school_bonus.d", D(2025, 7, 1), 6756),
    ("care.band_4", D(2023, 10, 1), 45739),
    ("care.band_7", D(2022, 9, 1), 58273),
    ("preschool", D(2023, 6, 1), 14072),
    ("preschool", D(2020, 12, 31), 13260),
    ("basic_transitional.rank_1", D(2024, 5, 1), 10169),
    ("basic_transitional.rank_3", D(2025, 8, 31), 25949),
    ("basic_transitional.rank_3", D(2025, 9, 1), 26468),
    ("age_supplement.reduced_12_17", D(2024, 5, 1), 2492),
    ("orphan.half", D(2023, 1, 1), 13856),
    ("orphan.full", D(2023, 1, 1), 17319),
    ("foster", D(2024, 5, 1), 6823),
    ("support", D(2023, 2, 1), 32473),
    ("childcare.daily_rate", D(2024, 5, 1), 350),
    ("start", D(2025, 9, 1), 126356),
    ("school_allowance.primary_full", D(2024, 5, 1), 20537),
    ("school_allowance.secondary_minimum", D(2023, 9, 1), 30622),
    ("conditions.higher_education_min_credits", D(2024, 1, 1), 27),
    ("conditions.recovery_limit_months", D(2024, 1, 1), 36),
])
def test_spot_values(params, name, day, cents):
    assert params[name].require(day).value == cents


def test_spot_statuses(params):
    assert params["social.t1"].at(D(2024, 9, 1)).status == "A"
    assert params["school_bonus.b"].at(D(2022, 7, 1)).status == "D"
    assert params["school_allowance.secondary_full"].at(D(2023, 9, 1)).status == "D"
    assert params["school_allowance.secondary_full"].at(D(2024, 9, 1)).status == "A"
    assert params["school_allowance.thresholds"].at(D(2023, 9, 1)).status == "V"
    assert params["conditions.preschool_age_4_min_half_days"].at(D(2024, 1, 1)).status == "A"


def test_b12_and_t1b_start_in_april_2023(params):
    for name in ("social.b12", "social.t1b"):
        assert params[name].at(D(2023, 3, 31)) is None
        with pytest.raises(ParameterError):
            params[name].require(D(2023, 3, 31))
        assert params[name].at(D(2023, 4, 1)) is not None


def test_school_allowance_thresholds(params):
    table = params["school_allowance.thresholds"].require(D(2023, 9, 1)).value
    assert len(table) == 21 and all(len(row) == 2 and row[0] < row[1] for row in table)
    assert table[0] == (1288670, 2635789)
    assert table[3] == (2760556, 5138798)
    assert table[20] == (5145766, 11284595)
    nxt = params["school_allowance.thresholds"].require(D(2024, 9, 1)).value
    assert nxt[3] == (2815767, 5241574)  # 27 605.56 x 1.02 = 28 157.6712; 51 387.98 x 1.02 = 52 415.7396


def test_school_allowance_indexing(params):
    # 205.37 / 1.02^4 = 189.7301… -> 189.73; 205.37 x 1.02^3 = 217.9402… -> 217.94
    primary = params["school_allowance.primary_full"]
    assert primary.valid_from == D(2019, 9, 1)
    assert primary.require(D(2019, 9, 1)).value == 18973
    assert primary.require(D(2027, 1, 1)).value == 21794
    assert [v.since for v in primary.values] == [D(y, 9, 1) for y in range(2019, 2027)]


def test_school_allowance_files_match_generator():
    from bench import gen_school_allowance_parameters as gen

    for filename, text in gen.render_all().items():
        assert (PARAMETER_DIR / "school_allowance" / filename).read_text(encoding="utf-8") == text, filename


def test_changing_a_value_in_a_copied_directory_changes_the_result(tmp_path, params):
    copy = tmp_path / "parameters"
    shutil.copytree(PARAMETER_DIR, copy)
    path = copy / "social" / "a12.yaml"
    text = path.read_text(encoding="utf-8")
    assert "{value: 70.50," in text
    path.write_text(text.replace("{value: 70.50,", "{value: 70.99,"), encoding="utf-8")
    changed = load_parameters(copy)
    assert changed["social.a12"].require(D(2024, 5, 1)).value == 7099
    assert params["social.a12"].require(D(2024, 5, 1)).value == 7050
    assert changed.fingerprint() != params.fingerprint()
    assert load_parameters(PARAMETER_DIR)["social.a12"].require(D(2024, 5, 1)).value == 7050


# --- the checker catches each defect ------------------------------------------------------------------------

GOOD = """\
description: Test parameter (testwaarde)
reference: test
unit: EUR
valid_from: 2019-01-01
values:
  2019-01-01: {value: 1.00, status: V, source: "test"}
  2020-09-01: {value: 1.02, status: D, source: "test"}
"""


def _write(tmp_path: Path, body: str) -> Path:
    directory = tmp_path / "params"
    directory.mkdir()
    (directory / "x.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    return directory


def test_synthetic_good_file_loads(tmp_path):
    loaded = load_parameters(_write(tmp_path, GOOD))
    assert loaded.problems() == []
    assert loaded["x"].require(D(2021, 1, 1)).value == 102


def test_duplicate_date_is_refused(tmp_path):
    body = GOOD + '  2020-09-01: {value: 1.03, status: D, source: "test"}\n'
    with pytest.raises(ParameterError, match="duplicate"):
        load_parameters(_write(tmp_path, body))


@pytest.mark.parametrize("body, expected", [
    (GOOD + '  2020-01-01: {value: 1.03, status: D, source: "test"}\n', "out of order"),
    (GOOD + "  2021-01-01: {value: null}\n" + '  2022-01-01: {value: 1.04, status: A, source: "test"}\n',
     "value after an end"),
    (GOOD + '  2021-09-01: {value: 1.04, source: "test"}\n', "status must be"),
    (GOOD + "  2021-09-01: {value: 1.04, status: A}\n", "without source"),
    (GOOD + '  2021-09-01: {value: 1.04, status: A, source: "  "}\n', "without source"),
    (GOOD + '  2021-09-01: {value: 1.045, status: A, source: "test"}\n', "more than two decimals"),
    (GOOD.replace("  2019-01-01: {value: 1.00", "  2019-02-01: {value: 1.00"), "does not start at valid_from"),
])
def test_checker_catches_defect(tmp_path, body, expected):
    directory = _write(tmp_path, body)
    problems = load_parameters(directory, strict=False).problems()
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(ParameterError, match=expected):
        load_parameters(directory)
