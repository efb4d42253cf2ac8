"""The henan-2021-assessment scheme: curves at every knot and between, each measure, a whole proposal by hand."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from app.domain import assessment_scheme as s
from app.domain.rulesets import HENAN_2021, HENAN_2025

D = Decimal
SCHEME = s.HENAN_2021_ASSESSMENT
BANDS = HENAN_2021.grade_bands


def figures(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "rd_spend": "0.00",
        "staff_total": 0,
        "rd_staff": 0,
        "invention_patents_filed": 0,
        "invention_patents_granted": 0,
        "pct_filings": 0,
        "standards_led": 0,
        "projects": [],
        "incubated_enterprises": 0,
        "served_enterprises": 0,
        "tech_transfer_income": "0.00",
        "platform_income": "0.00",
        "shared_equipment_hours": 0,
    }
    return base | overrides


def report(year: int, kpi: dict[str, str] | None = None, **overrides: Any) -> s.ReportFigures:
    actuals = {code: D(value) for code, value in (kpi or {}).items()}
    return s.ReportFigures(f"r{year}", year, figures(**overrides), actuals)


THREE = (
    report(
        2023,
        rd_spend="4000.00",
        invention_patents_granted=3,
        standards_led=1,
        projects=[{"level": "national", "title": "甲", "amount": "800.00"}],
        tech_transfer_income="100.00",
        platform_income="50.00",
        incubated_enterprises=2,
        served_enterprises=10,
        shared_equipment_hours=400,
    ),
    report(
        2024,
        rd_spend="4500.00",
        invention_patents_granted=4,
        pct_filings=1,
        projects=[{"level": "provincial", "title": "乙", "amount": "200.50"}],
        tech_transfer_income="120.25",
        platform_income="30.00",
        incubated_enterprises=3,
        served_enterprises=10,
        shared_equipment_hours=300,
    ),
    report(
        2025,
        {"T1": "15", "T2": "12"},
        rd_spend="4400.00",
        staff_total=1000,
        rd_staff=150,
        invention_patents_granted=5,
        pct_filings=1,
        standards_led=1,
        tech_transfer_income="200.00",
        incubated_enterprises=5,
        served_enterprises=20,
        shared_equipment_hours=300,
    ),
)
TARGETS = {"T1": D(30), "T2": D(10)}


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("-1000", "0.00"),
        ("-20", "0.00"),
        ("-19.99", "0.03"),  # 0.01 × 60 / 20
        ("-10", "30.00"),
        ("0", "60.00"),
        ("0.01", "60.02"),
        ("10", "80.00"),
        ("20", "90.00"),
        ("30", "100.00"),
        ("30.01", "100.00"),
        ("1000", "100.00"),
    ],
)
def test_the_growth_curve_at_and_between_its_knots(x: str, expected: str) -> None:
    points = SCHEME.indicators[0].parts[0].points
    assert s.piecewise(points, D(x)) == D(expected)


@pytest.mark.parametrize(
    ("points", "x", "expected"),
    [
        ((("0", "0"), ("3", "60")), "1", "20.00"),
        ((("0", "0"), ("3", "60")), "0.0001", "0.00"),
        ((("0", "0"), ("3", "1")), "0.025", "0.01"),  # 0.008333 → 0.01 half up
        ((("0", "0"), ("200", "1")), "1", "0.01"),  # exactly 0.005 → 0.01 (half up, not banker's 0.00)
        ((("0", "0"), ("200", "1")), "0.99", "0.00"),  # 0.00495 → 0.00
        ((("0", "0"), ("10", "60"), ("30", "100")), "10", "60.00"),
        ((("0", "0"), ("10", "60"), ("30", "100")), "9.99", "59.94"),
        ((("0", "0"), ("10", "60"), ("30", "100")), "10.01", "60.02"),
    ],
)
def test_piecewise_is_linear_between_knots_and_rounds_half_up(
    points: tuple[tuple[str, str], ...], x: str, expected: str
) -> None:
    knots = tuple((D(a), D(b)) for a, b in points)
    assert s.piecewise(knots, D(x)) == D(expected)


# Every knot of every part maps to its score, and one hundredth either side stays on the right line.
KNOTS = [(part.code, x, y) for indicator in SCHEME.indicators for part in indicator.parts for x, y in part.points]


@pytest.mark.parametrize(("code", "x", "y"), KNOTS)
def test_every_knot_of_every_part_scores_its_value(code: str, x: Decimal, y: Decimal) -> None:
    part = next(p for i in SCHEME.indicators for p in i.parts if p.code == code)
    assert s.piecewise(part.points, x) == y
    below, above = s.piecewise(part.points, x - D("0.01")), s.piecewise(part.points, x + D("0.01"))
    assert below <= y <= above
    if (x, y) == part.points[0]:
        assert below == y
    if (x, y) == part.points[-1]:
        assert above == y


def test_the_scheme_publishes_the_rule_sets_weights() -> None:
    assert dict(SCHEME.weights) == dict(HENAN_2021.assessment_weights) == dict(HENAN_2025.assessment_weights)
    assert dict(SCHEME.weights) == {
        "rd_investment": 40,
        "st_results": 30,
        "talent_team": 10,
        "research_projects": 10,
        "industry_academia_cooperation": 10,
    }
    assert s.scheme_for("henan-2021") is SCHEME
    assert s.scheme_for("henan-2025") is SCHEME
    with pytest.raises(KeyError):
        s.scheme_for("henan-1999")


def test_a_whole_proposal_worked_by_hand() -> None:
    proposal = s.propose(SCHEME, list(reversed(THREE)), TARGETS, BANDS)  # any order: sorted by year
    by_part = {p.code: (p.value, p.score) for i in proposal.indicators for p in i.parts}
    assert by_part == {
        "rd_spend_growth": (D("10.00"), D("80.00")),  # (4400 − 4000) / 4000
        "rd_spend_average": (D("4300.00"), D("62.00")),  # 12900 / 3
        "invention_patents_granted": (D(12), D("64.00")),
        "standards_and_pct": (D(4), D("65.71")),
        "task_book_completion": (D("75.00"), D("75.00")),  # (15/30 + min(12/10, 1)) / 2
        "rd_staff_ratio": (D("15.00"), D("70.00")),
        "weighted_projects": (D(3), D("60.00")),  # national 2 + provincial 1
        "project_amounts": (D("1000.50"), D("68.01")),  # 68.008
        "transfer_and_platform_income": (D("500.25"), D("60.01")),
        "enterprises": (D(50), D("71.43")),
        "shared_equipment_hours": (D(1000), D("60.00")),
    }
    assert proposal.indicator_values == {
        "rd_investment": D("71.00"),
        "st_results": D("68.74"),  # (64 × 40 + 65.71 × 20 + 75 × 40) / 100 = 68.742
        "talent_team": D("70.00"),
        "research_projects": D("64.01"),  # 64.005 half up
        "industry_academia_cooperation": D("63.43"),  # 63.434
    }
    assert proposal.score == D("68.77")  # 68.766
    assert proposal.grade == "qualified"


def test_each_part_names_the_figures_it_read() -> None:
    proposal = s.propose(SCHEME, THREE, TARGETS, BANDS)
    parts = {p.code: p for i in proposal.indicators for p in i.parts}
    assert parts["rd_spend_growth"].inputs == (
        s.Input("r2023", 2023, "rd_spend", "4000.00"),
        s.Input("r2025", 2025, "rd_spend", "4400.00"),
    )
    assert [x.field for x in parts["project_amounts"].inputs] == ["projects[0].amount", "projects[0].amount"]
    assert parts["task_book_completion"].inputs == (
        s.Input("r2025", 2025, "kpi_actuals.T1", "15"),
        s.Input("r2025", 2025, "kpi_actuals.T2", "12"),
    )
    assert len(parts["enterprises"].inputs) == 6
    assert "piecewise-linear through (-20, 0), (0, 60), (10, 80), (30, 100)" in parts["rd_spend_growth"].formula
    for indicator in proposal.indicators:
        for part in indicator.parts:
            assert part.inputs, part.code


@pytest.mark.parametrize(
    ("first", "last", "value"),
    [("0.00", "0.00", "-100"), ("0.00", "0.01", "30"), ("100.00", "50.00", "-50.00"), ("3.00", "4.00", "33.33")],
)
def test_growth_from_a_first_year_without_spend(first: str, last: str, value: str) -> None:
    reports = [report(2023, rd_spend=first), report(2024), report(2025, rd_spend=last)]
    assert s.rd_spend_growth(reports, {}).value == D(value)


def test_ratio_without_staff_is_zero_and_kpi_edges() -> None:
    assert s.rd_staff_ratio([report(2025)], {}).value == D(0)
    assert s.rd_staff_ratio([report(2025, staff_total=3, rd_staff=1)], {}).value == D("33.33")
    last = [report(2025, {"A": "5", "Z": "0"})]
    # A target of 0 is met by any actual; a target without an actual counts 0; an overshoot counts 1.
    assert s.kpi_completion(last, {"A": D(10), "B": D(1), "Z": D(0)}).value == D("50.00")
    assert s.kpi_completion(last, {"A": D(4)}).value == D("100.00")
    assert s.kpi_completion(last, {"A": D(3)}).value == D("100.00")
    assert s.kpi_completion(last, {"A": D(6)}).value == D("83.33")


def test_a_proposal_needs_three_reports_and_targets() -> None:
    with pytest.raises(ValueError, match="needs 3 reports, got 2"):
        s.propose(SCHEME, THREE[:2], TARGETS, BANDS)
    with pytest.raises(ValueError, match="task book's targets"):
        s.propose(SCHEME, THREE, {}, BANDS)


def test_grade_bands_decide_the_proposed_grade_at_their_edges() -> None:
    # All knots at the top: every part 100 → 100, excellent; an empty cycle → only the growth floor.
    top = [
        report(
            y,
            {"T1": "30", "T2": "10"},
            rd_spend="10000.00",
            staff_total=10,
            rd_staff=3,
            invention_patents_granted=10,
            pct_filings=4,
            projects=[{"level": "national", "title": "x", "amount": "1000.00"}] * 2,
            tech_transfer_income="700.00",
            incubated_enterprises=34,
            shared_equipment_hours=1700,
        )
        for y in (2023, 2024, 2025)
    ]
    # Growth 0 → 60 for half of rd_investment; everything else at the top.
    proposal = s.propose(SCHEME, top, TARGETS, BANDS)
    assert proposal.indicator_values["rd_investment"] == D("80.00")
    assert proposal.score == D("92.00")
    assert proposal.grade == "excellent"
    empty = s.propose(SCHEME, [report(2023), report(2024), report(2025)], TARGETS, BANDS)
    assert empty.score == D("0.00")
    assert empty.grade == "unqualified"


def test_a_scheme_refuses_weights_shares_and_knots_that_do_not_add_up() -> None:
    part = SCHEME.indicators[2].parts[0]
    indicator = SCHEME.indicators[2]
    with pytest.raises(ValueError, match="weights must total 100"):
        s.Scheme("x", "", "", "", (indicator,))
    with pytest.raises(ValueError, match="must share 100"):
        s.Scheme("x", "", "", "", (s.Indicator("a", 100, "", "", (s.Part(**{**_fields(part), "share": 50}),)),))
    bad = s.Part(**{**_fields(part), "points": ((D(1), D(0)), (D(1), D(1)))})
    with pytest.raises(ValueError, match="ascending knots"):
        s.Scheme("x", "", "", "", (s.Indicator("a", 100, "", "", (bad,)),))
    single = s.Part(**{**_fields(part), "points": ((D(1), D(0)),)})
    with pytest.raises(ValueError, match="ascending knots"):
        s.Scheme("x", "", "", "", (s.Indicator("a", 100, "", "", (single,)),))


def _fields(part: s.Part) -> dict[str, Any]:
    return {name: getattr(part, name) for name in s.Part.__slots__}


def test_describe_publishes_curves_as_strings() -> None:
    described = SCHEME.describe()
    assert described["name"] == "henan-2021-assessment"
    assert described["reports_per_cycle"] == 3
    assert [i["weight"] for i in described["indicators"]] == [40, 30, 10, 10, 10]
    talent = described["indicators"][2]["parts"][0]
    assert talent == {
        "code": "rd_staff_ratio",
        "share": 100,
        "measure_zh": "研发人员占职工总数比例（末年）",
        "measure_en": "rd_staff / staff_total in the last year, %",
        "unit": "%",
        "curve": [{"value": "0", "score": "0"}, {"value": "10", "score": "60"}, {"value": "30", "score": "100"}],
    }


@pytest.mark.parametrize(
    ("adjustments", "expected"),
    [
        ({}, []),
        ({"talent_team": (D(80), "人才引进超预期")}, []),
        (
            {"talent": (D(80), "x")},
            [(("body", "adjustments", "talent"), "not an indicator of the scheme", "unknown_indicator")],
        ),
        (
            {"talent_team": (D(80), "  ")},
            [(("body", "adjustments", "talent_team", "reason"), "a reason is required", "missing")],
        ),
    ],
)
def test_adjustments_name_an_indicator_and_give_a_reason(
    adjustments: dict[str, tuple[Decimal, str]], expected: list[Any]
) -> None:
    assert s.adjustment_errors(adjustments, SCHEME.weights) == expected


def test_a_published_scheme_never_changes() -> None:
    """A cycle scored with henan-2021-assessment must be re-scorable later with the very same scheme: any change to
    its indicators, parts, texts or curves is a new scheme with a new name, so its published description is pinned
    (update this digest only together with a new scheme name)."""
    described = json.dumps(SCHEME.describe(), ensure_ascii=False, sort_keys=True).encode()
    assert hashlib.sha256(described).hexdigest() == "2e5d735e6376e80ad3f4e06a9ba3e18899cac4eb0c0e9c2ecf5f3dfe8ff1ecd4"
    assert s.SCHEMES == {"henan-2021-assessment": SCHEME}
    assert dict(s.SCHEME_OF_RULE_SET) == {"henan-2021": "henan-2021-assessment", "henan-2025": "henan-2021-assessment"}
