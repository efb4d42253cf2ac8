"""Periodic assessment rules (domain.md §7): weighted score, bands, hard floor, excellent cap, consequences."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from app.domain.assessment import (
    DEFAULT_BANDS,
    AssessmentInput,
    Consequence,
    assign_grades,
    consequence,
    grade_for,
    indicator_errors,
    stable_support_eligible,
    weighted_score,
)
from app.domain.errors import InvalidInput

WEIGHTS = {"rd_investment": 40, "results": 30, "talent": 10, "projects": 10, "cooperation": 10}


def indicators(**values: str) -> dict[str, Decimal]:
    base = {"rd_investment": "80", "results": "70", "talent": "90", "projects": "60", "cooperation": "100"}
    return {name: Decimal(value) for name, value in (base | values).items() if value != "-"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(indicators(), Decimal("78.00"), id="the default weights"),
        pytest.param({name: Decimal(100) for name in WEIGHTS}, Decimal("100.00"), id="all full marks"),
        pytest.param({name: Decimal(0) for name in WEIGHTS}, Decimal("0.00"), id="all zero"),
        pytest.param(indicators(results="70.05"), Decimal("78.02"), id="rounded half up to cents"),
        pytest.param(
            indicators(talent="90.05"), Decimal("78.01"), id="78.005 rounds up, where half-even would keep 78.00"
        ),
        pytest.param(indicators(results="70.01"), Decimal("78.00"), id="rounded down below half a cent"),
    ],
)
def test_the_score_is_the_weighted_sum_of_the_indicators(values: dict[str, Decimal], expected: Decimal) -> None:
    score = weighted_score(values, WEIGHTS)
    assert score == expected
    assert score.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("values", "name", "error_type", "message"),
    [
        pytest.param(indicators(talent="-"), "talent", "missing", "Field required", id="a missing indicator"),
        pytest.param(
            {**indicators(), "luck": Decimal(1)},
            "luck",
            "extra_forbidden",
            "Extra inputs are not permitted",
            id="an unknown indicator",
        ),
        pytest.param(
            indicators(projects="-1"),
            "projects",
            "greater_than_equal",
            "Input should be greater than or equal to 0",
            id="below zero",
        ),
        pytest.param(
            indicators(projects="100.01"),
            "projects",
            "less_than_equal",
            "Input should be less than or equal to 100",
            id="above 100",
        ),
        pytest.param(
            indicators(projects="NaN"),
            "projects",
            "finite_number",
            "Input should be a finite number",
            id="not a number",
        ),
    ],
)
def test_an_invalid_indicator_is_refused_at_its_location(
    values: dict[str, Decimal], name: str, error_type: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        weighted_score(values, WEIGHTS)
    assert caught.value.loc == ("body", "indicators", name)
    assert caught.value.type == error_type
    found = [(e.loc, e.type, e.msg) for e in indicator_errors(values, WEIGHTS)]
    assert found == [(("body", "indicators", name), error_type, message)]


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("100", True), ("-0.01", False), ("100.00", True)])
def test_an_indicator_lies_in_0_to_100_both_included(value: str, ok: bool) -> None:
    assert (indicator_errors(indicators(projects=value), WEIGHTS) == []) is ok


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "excellent"),
        ("90", "excellent"),
        ("89.99", "good"),
        ("70", "good"),
        ("69.99", "qualified"),
        ("60", "qualified"),
        ("59.99", "unqualified"),
        ("0", "unqualified"),
    ],
)
def test_a_score_takes_the_grade_of_the_highest_band_it_reaches(score: str, grade: str) -> None:
    assert grade_for(Decimal(score), DEFAULT_BANDS) == grade


def test_a_score_below_every_band_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="below every band"):
        grade_for(Decimal("-1"), DEFAULT_BANDS)


def result(code: str, score: str, rd: str | None = "500", has_rd: bool = True) -> AssessmentInput:
    return AssessmentInput(
        center_id=f"id-{code}",
        code=code,
        score=Decimal(score),
        rd_investment=None if rd is None else Decimal(rd),
        has_rd_investment=has_rd,
    )


TEN = [
    result(f"C{i:02d}", score)
    for i, score in enumerate(["95", "93", "91", "85", "82", "75", "70", "65", "59", "40"], start=1)
]


def test_a_cap_of_one_fifth_keeps_the_two_best_of_ten_excellent() -> None:
    grades = assign_grades(TEN, bands=DEFAULT_BANDS, max_excellent_ratio=Decimal("0.2"))
    assert Counter(grades.values()) == {"excellent": 2, "good": 5, "qualified": 1, "unqualified": 2}
    assert [grades[r.center_id] for r in TEN] == [
        "excellent",
        "excellent",
        "good",
        "good",
        "good",
        "good",
        "good",
        "qualified",
        "unqualified",
        "unqualified",
    ]


@pytest.mark.parametrize(
    ("ratio", "cycle_size", "excellent"),
    [
        pytest.param(None, None, 3, id="no cap unless the cycle sets one"),
        pytest.param(Decimal("0.2"), None, 2, id="a fifth of ten"),
        pytest.param(Decimal("0.25"), None, 2, id="rounded down"),
        pytest.param(Decimal("0.3"), None, 3, id="a cap above the band changes nothing"),
        pytest.param(Decimal("0.05"), None, 0, id="a cap below one center keeps none"),
        pytest.param(Decimal("0.2"), 20, 3, id="the cycle size counts centers without results"),
        pytest.param(Decimal("0.2"), 5, 1, id="a smaller cycle size"),
        pytest.param(Decimal("0"), None, 0, id="a zero cap"),
    ],
)
def test_the_cap_keeps_the_rounded_down_share_of_the_cycle_excellent(
    ratio: Decimal | None, cycle_size: int | None, excellent: int
) -> None:
    grades = assign_grades(TEN, bands=DEFAULT_BANDS, max_excellent_ratio=ratio, cycle_size=cycle_size)
    assert Counter(grades.values())["excellent"] == excellent
    assert Counter(grades.values())["good"] == 4 + (3 - excellent)


@pytest.mark.parametrize(
    ("results", "kept"),
    [
        pytest.param(
            [result("A", "92", "300"), result("B", "92", "900"), result("C", "95")],
            {"C", "B"},
            id="a tie at the cap goes to the larger R&D investment",
        ),
        pytest.param(
            [result("B", "92", "500"), result("A", "92", "500"), result("C", "95")],
            {"C", "A"},
            id="then to the smaller code",
        ),
        pytest.param(
            [result("A", "92", None), result("B", "92", "1"), result("C", "95")],
            {"C", "B"},
            id="an unknown R&D investment ranks last",
        ),
        pytest.param(
            [result("A", "91", "9999"), result("B", "92", "1"), result("C", "95")],
            {"C", "B"},
            id="the score comes before R&D investment",
        ),
    ],
)
def test_the_excellent_places_go_by_score_then_rd_investment_then_code(
    results: list[AssessmentInput], kept: set[str]
) -> None:
    # Ten centers in the cycle and a 0.2 cap leave two excellent places for three excellent scores.
    grades = assign_grades(results, bands=DEFAULT_BANDS, max_excellent_ratio=Decimal("0.2"), cycle_size=10)
    assert {r.code for r in results if grades[r.center_id] == "excellent"} == kept
    assert {r.code for r in results if grades[r.center_id] == "good"} == {r.code for r in results} - kept


@pytest.mark.parametrize("ratio", [None, Decimal("0.2")])
def test_a_center_without_rd_investment_is_unqualified_whatever_its_score(ratio: Decimal | None) -> None:
    results = [result("A", "98", "0", has_rd=False), result("B", "91"), result("C", "75")]
    grades = assign_grades(results, bands=DEFAULT_BANDS, max_excellent_ratio=ratio, cycle_size=10)
    assert grades == {"id-A": "unqualified", "id-B": "excellent", "id-C": "good"}


@pytest.mark.parametrize(
    ("has_rd", "grade"),
    [
        pytest.param(True, "qualified", id="a zero R&D indicator score is only a score"),
        pytest.param(False, "unqualified", id="the explicit flag is the floor"),
    ],
)
def test_only_the_explicit_no_rd_investment_flag_is_the_hard_floor(has_rd: bool, grade: str) -> None:
    grades = assign_grades([result("A", "60", "0", has_rd=has_rd)], bands=DEFAULT_BANDS, max_excellent_ratio=None)
    assert grades == {"id-A": grade}


@pytest.mark.parametrize(
    ("results", "ratio"),
    [
        pytest.param([result("A", "90"), result("A", "80")], None, id="a center twice"),
        pytest.param([result("A", "90")], Decimal("1.5"), id="a ratio above one"),
        pytest.param([result("A", "90")], Decimal("-0.1"), id="a negative ratio"),
    ],
)
def test_inconsistent_cycle_input_is_a_programming_error(results: list[AssessmentInput], ratio: Decimal | None) -> None:
    with pytest.raises(ValueError, match=r"center|ratio"):
        assign_grades(results, bands=DEFAULT_BANDS, max_excellent_ratio=ratio)


@pytest.mark.parametrize(
    ("grade", "status", "kind", "expected"),
    [
        pytest.param("unqualified", "recognized", None, Consequence.RECTIFY, id="unqualified recognized rectifies"),
        pytest.param(
            "unqualified",
            "rectifying",
            "assessment",
            Consequence.REVOKE_FAILED_RECTIFICATION,
            id="unqualified again while rectifying an assessment is revoked",
        ),
        pytest.param("unqualified", "rectifying", "acceptance", Consequence.NONE, id="not an assessment rectification"),
        pytest.param("excellent", "recognized", None, Consequence.NATIONAL_CANDIDATE, id="excellent"),
        pytest.param("good", "recognized", None, Consequence.NONE, id="good"),
        pytest.param("qualified", "recognized", None, Consequence.NONE, id="qualified"),
        pytest.param(
            "qualified", "rectifying", "assessment", Consequence.RECOVER, id="qualified while rectifying recovers"
        ),
        pytest.param("good", "rectifying", "assessment", Consequence.RECOVER, id="good while rectifying recovers"),
        pytest.param(
            "excellent", "rectifying", "assessment", Consequence.RECOVER, id="excellent while rectifying recovers"
        ),
        pytest.param("qualified", "rectifying", "acceptance", Consequence.NONE, id="an acceptance is not recovered"),
    ],
)
def test_a_grade_sets_its_consequence_in_motion(grade: str, status: str, kind: str | None, expected: str) -> None:
    assert consequence(grade, status, kind) == expected
    assert expected in Consequence.ALL


@pytest.mark.parametrize(
    ("grade", "eligible"),
    [("excellent", True), ("good", True), ("qualified", False), ("unqualified", False), (None, False)],
)
def test_stable_support_needs_a_latest_grade_of_excellent_or_good(grade: str | None, eligible: bool) -> None:
    assert stable_support_eligible(grade) is eligible
