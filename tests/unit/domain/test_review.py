"""Expert review rules (domain.md §5): panel composition and recusal, criterion validation, aggregation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.errors import ConflictOfInterest, RuleViolation
from app.domain.review import (
    ExpertProfile,
    ReviewOutcome,
    aggregate,
    check_panel,
    criteria_errors,
    criteria_total,
    site_visit_problem,
)

CATEGORIES = ("technical", "financial", "management")
LEAD = "org-lead"
PARTNER = "org-partner"
INVOLVED = (LEAD, PARTNER)
MAXIMA = {"foundation": 30, "goals_and_tasks": 25, "organization_and_governance": 20, "funding": 15, "schedule": 10}


def expert(
    expert_id: str,
    category: str = "technical",
    affiliation: str | None = None,
    conflicts: frozenset[str] = frozenset(),
) -> ExpertProfile:
    return ExpertProfile(expert_id, f"Expert {expert_id}", category, affiliation, conflicts)


VALID_PANEL = (
    expert("e1", "technical", "org-elsewhere"),
    expert("e2", "technical"),
    expert("e3", "financial"),
    expert("e4", "management", None, frozenset({"org-unrelated"})),
    expert("e5", "technical"),
)


def test_a_panel_of_five_covering_all_categories_without_conflicts_is_accepted() -> None:
    check_panel(VALID_PANEL, INVOLVED, min_size=5, categories=CATEGORIES)


@pytest.mark.parametrize(
    ("panel", "expert_id", "org_id", "cause"),
    [
        pytest.param(
            (*VALID_PANEL[:4], expert("e9", "technical", LEAD)), "e9", LEAD, "affiliation", id="affiliated with lead"
        ),
        pytest.param(
            (expert("e9", "technical", PARTNER), *VALID_PANEL[1:]),
            "e9",
            PARTNER,
            "affiliation",
            id="affiliated with a participant",
        ),
        pytest.param(
            (*VALID_PANEL[:4], expert("e9", "technical", None, frozenset({PARTNER}))),
            "e9",
            PARTNER,
            "declared_conflict",
            id="declared a conflict",
        ),
        pytest.param(
            (expert("e8", "technical", None, frozenset({LEAD})), expert("e9", "technical", PARTNER), *VALID_PANEL),
            "e8",
            LEAD,
            "declared_conflict",
            id="the first conflicted expert in order is named",
        ),
        pytest.param(
            (expert("e9", "technical", LEAD, frozenset({PARTNER})), *VALID_PANEL),
            "e9",
            LEAD,
            "affiliation",
            id="affiliation is named before a declared conflict of the same expert",
        ),
        pytest.param(
            (expert("e9", "technical", LEAD),), "e9", LEAD, "affiliation", id="recusal is checked before size"
        ),
    ],
)
def test_an_expert_with_a_conflict_of_interest_is_refused_naming_expert_and_organization(
    panel: tuple[ExpertProfile, ...], expert_id: str, org_id: str, cause: str
) -> None:
    with pytest.raises(ConflictOfInterest) as caught:
        check_panel(panel, INVOLVED, min_size=5, categories=CATEGORIES)
    assert (caught.value.expert_id, caught.value.org_id, caught.value.cause) == (expert_id, org_id, cause)


@pytest.mark.parametrize(
    ("panel", "code", "data"),
    [
        pytest.param(
            (*VALID_PANEL, VALID_PANEL[0]),
            "panel-duplicate-expert",
            {"expert_ids": ["e1"]},
            id="the same expert twice",
        ),
        pytest.param(
            (*VALID_PANEL[:4], expert("e1", "technical", LEAD)),
            "panel-duplicate-expert",
            {"expert_ids": ["e1"]},
            id="duplicates are checked before recusal",
        ),
        pytest.param(VALID_PANEL[:4], "panel-too-small", {"min_size": 5, "size": 4}, id="four experts"),
        pytest.param((), "panel-too-small", {"min_size": 5, "size": 0}, id="no experts"),
        pytest.param(
            tuple(expert(f"e{i}", "technical") for i in range(5)),
            "panel-missing-category",
            {"missing": ["financial", "management"]},
            id="technical experts only",
        ),
        pytest.param(
            (*VALID_PANEL[:3], expert("e4", "technical"), VALID_PANEL[4]),
            "panel-missing-category",
            {"missing": ["management"]},
            id="no management expert",
        ),
        pytest.param(
            tuple(expert(f"e{i}", "technical") for i in range(3)),
            "panel-too-small",
            {"min_size": 5, "size": 3},
            id="size is checked before categories",
        ),
    ],
)
def test_a_panel_breaking_a_composition_rule_is_refused_with_a_stable_code(
    panel: tuple[ExpertProfile, ...], code: str, data: dict[str, object]
) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_panel(panel, INVOLVED, min_size=5, categories=CATEGORIES)
    assert caught.value.code == code
    assert caught.value.data == data
    assert caught.value.message_zh
    assert caught.value.message_en


def scores(**overrides: str) -> dict[str, Decimal]:
    base = {"foundation": "25", "goals_and_tasks": "20", "organization_and_governance": "15", "funding": "10"}
    base |= {"schedule": "8"}
    base |= overrides
    return {name: Decimal(value) for name, value in base.items() if value != "-"}


@pytest.mark.parametrize(
    "criteria",
    [
        pytest.param(scores(), id="typical scores"),
        pytest.param({name: Decimal(0) for name in MAXIMA}, id="all zero"),
        pytest.param({name: Decimal(maximum) for name, maximum in MAXIMA.items()}, id="all at maximum"),
        pytest.param(scores(foundation="29.75"), id="two decimal places"),
        pytest.param(scores(foundation="12.500"), id="trailing zeros do not count as places"),
    ],
)
def test_valid_criterion_scores_have_no_errors(criteria: dict[str, Decimal]) -> None:
    assert criteria_errors(criteria, MAXIMA) == []


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        pytest.param(scores(schedule="-"), [("schedule", "missing")], id="a criterion is missing"),
        pytest.param({**scores(), "novelty": Decimal(5)}, [("novelty", "extra_forbidden")], id="an unknown criterion"),
        pytest.param(scores(funding="-0.01"), [("funding", "greater_than_equal")], id="below zero"),
        pytest.param(scores(foundation="30.01"), [("foundation", "less_than_equal")], id="above its maximum"),
        pytest.param(scores(schedule="11"), [("schedule", "less_than_equal")], id="above a small maximum"),
        pytest.param(scores(funding="7.125"), [("funding", "decimal_max_places")], id="three decimal places"),
        pytest.param(
            scores(foundation="31.125"),
            [("foundation", "less_than_equal"), ("foundation", "decimal_max_places")],
            id="too high and too precise",
        ),
        pytest.param(scores(funding="NaN"), [("funding", "finite_number")], id="not a number"),
        pytest.param(scores(funding="Infinity"), [("funding", "finite_number")], id="infinity"),
        pytest.param(
            {"extra": Decimal(1)},
            [(name, "missing") for name in MAXIMA] + [("extra", "extra_forbidden")],
            id="everything wrong is reported at once",
        ),
    ],
)
def test_invalid_criterion_scores_are_reported_at_their_location(
    criteria: dict[str, Decimal], expected: list[tuple[str, str]]
) -> None:
    errors = criteria_errors(criteria, MAXIMA)
    assert [(error.loc[-1], error.type) for error in errors] == expected
    assert all(error.loc[:2] == ("body", "criteria") for error in errors)
    assert all(error.msg for error in errors)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (scores(schedule="-"), "Field required"),
        ({**scores(), "novelty": Decimal(5)}, "Extra inputs are not permitted"),
        (scores(funding="NaN"), "Input should be a finite number"),
        (scores(funding="-0.01"), "Input should be greater than or equal to 0"),
        (scores(schedule="10.01"), "Input should be less than or equal to 10"),
        (scores(funding="7.125"), "Decimal input should have no more than 2 decimal places"),
    ],
)
def test_each_criterion_refusal_says_why_as_pydantic_would(criteria: dict[str, Decimal], message: str) -> None:
    assert [error.msg for error in criteria_errors(criteria, MAXIMA)] == [message]


@pytest.mark.parametrize("value", ["0", "0.01", "9.99", "10", "10.00"])
def test_a_criterion_score_lies_in_0_to_its_maximum_both_included(value: str) -> None:
    assert criteria_errors(scores(schedule=value), MAXIMA) == []


def test_an_experts_total_is_the_sum_of_its_criteria() -> None:
    assert criteria_total(scores(foundation="25.5")) == Decimal("78.5")


def d(*values: str | int) -> list[Decimal]:
    return [Decimal(value) for value in values]


@pytest.mark.parametrize(
    ("totals", "supports", "expected"),
    [
        pytest.param(
            d(95, 60, 80, 75, 70),
            [True] * 5,
            ReviewOutcome(5, Decimal("75.00"), 5, True, True),
            id="five scores drop the highest and lowest and pass",
        ),
        pytest.param(
            d(72, 65, 68, 90, 50),
            [True] * 5,
            ReviewOutcome(5, Decimal("68.33"), 5, True, False),
            id="a trimmed mean under 70 fails",
        ),
        pytest.param(
            d(70, 70, 70, 70, 70),
            [True, True, True, False, False],
            ReviewOutcome(5, Decimal("70.00"), 3, True, True),
            id="exactly 70 with a majority passes",
        ),
        pytest.param(
            d(75, 75, 75, 75, 75),
            [True, True, False, False, False],
            ReviewOutcome(5, Decimal("75.00"), 2, False, False),
            id="75 with two of five supporting fails",
        ),
        pytest.param(
            d(90, 90, 60, 60, 80),
            [True] * 5,
            ReviewOutcome(5, Decimal("76.67"), 5, True, True),
            id="tied highest and lowest drop one copy each",
        ),
        pytest.param(
            d(90, 90, 90, 60, 60, 60),
            [True] * 6,
            ReviewOutcome(6, Decimal("75.00"), 6, True, True),
            id="six scores with ties keep the other copies",
        ),
        pytest.param(
            d(95, 60, 80, 75),
            [True] * 4,
            ReviewOutcome(4, Decimal("77.50"), 4, True, True),
            id="fewer than five scores are averaged plainly",
        ),
        pytest.param(
            d(80, 80, 80, 80),
            [True, True, False, False],
            ReviewOutcome(4, Decimal("80.00"), 2, False, False),
            id="half is not a majority",
        ),
        pytest.param(
            d("69.995", "69.995"),
            [True, True],
            ReviewOutcome(2, Decimal("70.00"), 2, True, True),
            id="the mean is rounded half up before it is compared",
        ),
        pytest.param(
            d("70.00", "70.01"),
            [True, True],
            ReviewOutcome(2, Decimal("70.01"), 2, True, True),
            id="half a cent after an even cent rounds up, where half-even would keep 70.00",
        ),
        pytest.param(
            d("70.5", "70.5", "70", "70", "69", "99", "10"),
            [True] * 7,
            ReviewOutcome(7, Decimal("70.00"), 7, True, True),
            id="seven scores drop only one at each end",
        ),
        pytest.param([], [], ReviewOutcome(0, None, 0, False, False), id="no scores do not pass"),
    ],
)
def test_the_panel_outcome_is_the_trimmed_mean_and_a_majority(
    totals: list[Decimal], supports: list[bool], expected: ReviewOutcome
) -> None:
    assert aggregate(totals, supports, pass_score=Decimal(70)) == expected


@pytest.mark.parametrize(
    ("trim_from", "expected"),
    [
        pytest.param(3, Decimal("75.00"), id="trimming from three"),
        pytest.param(6, Decimal("76.00"), id="five scores below a higher threshold are not trimmed"),
    ],
)
def test_the_trimming_threshold_is_a_parameter(trim_from: int, expected: Decimal) -> None:
    outcome = aggregate(d(95, 60, 80, 75, 70), [True] * 5, pass_score=Decimal(70), trim_from=trim_from)
    assert outcome.aggregate_score == expected


@pytest.mark.parametrize(
    ("totals", "supports", "trim_from"),
    [
        pytest.param(d(80, 80), [True], 5, id="a vote without a score"),
        pytest.param(d(80, 80), [True, True], 2, id="trimming that would leave nothing"),
    ],
)
def test_inconsistent_aggregation_input_is_a_programming_error(
    totals: list[Decimal], supports: list[bool], trim_from: int
) -> None:
    with pytest.raises(ValueError, match="must"):
        aggregate(totals, supports, pass_score=Decimal(70), trim_from=trim_from)


@pytest.mark.parametrize(("recorded", "refused"), [(0, False), (19, False), (20, True), (21, True)])
def test_an_application_records_at_most_twenty_site_visits(recorded: int, refused: bool) -> None:
    problem = site_visit_problem(recorded)
    if not refused:
        assert problem is None
        return
    assert problem is not None
    assert (problem.code, problem.message_zh, problem.message_en, problem.data) == (
        "site-visits-limit",
        "每个申报最多记录 20 次实地考察",
        "An application records at most 20 site visits.",
        {"max_site_visits": 20},
    )


@pytest.mark.parametrize(
    "first", [{"novelty": Decimal(5)}, {"foundation": Decimal("NaN")}], ids=["an unknown one", "a non-number"]
)
def test_the_criteria_after_a_refused_one_are_still_judged(first: dict[str, Decimal]) -> None:
    criteria = first | {name: value for name, value in scores(funding="-1").items() if name not in first}
    assert [(error.loc[-1], error.type) for error in criteria_errors(criteria, MAXIMA)][-1] == (
        "funding",
        "greater_than_equal",
    )
