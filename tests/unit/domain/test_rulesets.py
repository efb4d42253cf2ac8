"""A rule set's defaults (domain.md §5, §7) and how it describes itself to the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.eligibility import RULES
from app.domain.reference import REVIEW_CRITERIA, codes
from app.domain.rulesets import RuleSet


def fresh(**overrides: object) -> RuleSet:
    """A rule set built now (the shipped ones are built at import), with every default it does not override."""
    fields: dict[str, object] = {
        "name": "test",
        "title_zh": "测试规则",
        "title_en": "Test rules",
        "source": "豫科〔2021〕116号",
        "rules": (RULES["rd_spend_3y_avg"],),
    }
    return RuleSet(**(fields | overrides))  # type: ignore[arg-type]


def test_the_default_review_ceilings_follow_the_plan_outline_and_total_100() -> None:
    ceilings = fresh().review_criteria_max
    assert dict(ceilings) == {
        "foundation": 30,
        "goals_and_tasks": 25,
        "organization_and_governance": 20,
        "funding": 15,
        "schedule": 10,
    }
    assert list(ceilings) == list(codes(REVIEW_CRITERIA))


def test_the_default_assessment_weights_are_henans_and_total_100() -> None:
    assert dict(fresh().assessment_weights) == {
        "rd_investment": 40,
        "st_results": 30,
        "talent_team": 10,
        "research_projects": 10,
        "industry_academia_cooperation": 10,
    }


def test_a_rule_set_freezes_what_it_is_given() -> None:
    given = {"foundation": 20, "goals_and_tasks": 20, "organization_and_governance": 20, "funding": 20, "schedule": 20}
    rule_set = fresh(review_criteria_max=given)
    given["foundation"] = 99
    assert rule_set.review_criteria_max["foundation"] == 20
    with pytest.raises(TypeError):
        rule_set.assessment_weights["rd_investment"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"rules": (RULES["rd_spend_3y_avg"],) * 2}, "repeats a rule id", id="a rule twice"),
        pytest.param({"panel_categories": ("technical", "astrology")}, "unknown expert category", id="a category"),
        pytest.param({"assessment_weights": {"rd_investment": 99}}, "weights must total 100", id="weights"),
        pytest.param({"review_criteria_max": {"foundation": 100}}, "the five criteria totalling 100", id="criteria"),
        pytest.param({"evidence": {"no_such_rule": ("rd_audit",)}}, "evidence names an unknown", id="evidence rule"),
        pytest.param(
            {"evidence": {"rd_spend_3y_avg": ("bank_slip",)}}, "evidence names an unknown", id="evidence kind"
        ),
        pytest.param({"evidence": {"rd_spend_3y_avg": ()}}, "evidence names an unknown", id="evidence of no kind"),
    ],
)
def test_an_inconsistent_rule_set_is_refused_by_name(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"rule set 'test'.*{message}"):
        fresh(**overrides)


def test_a_rule_set_describes_itself_with_decimals_as_strings() -> None:
    rule = RULES["rd_spend_3y_avg"]
    assert fresh().describe() == {
        "name": "test",
        "title_zh": "测试规则",
        "title_en": "Test rules",
        "source": "豫科〔2021〕116号",
        "rules": [
            {
                "id": rule.id,
                "description_zh": rule.description_zh,
                "description_en": rule.description_en,
                "source": rule.source,
                "evidence_kinds": [],
            }
        ],
        "panel_min_size": 5,
        "panel_categories": ["technical", "financial", "management"],
        "review_criteria_max": dict(fresh().review_criteria_max),
        "review_pass_score": "70",
        "review_trim_from": 5,
        "assessment_weights": dict(fresh().assessment_weights),
        "grade_bands": [
            {"grade": "excellent", "min_score": "90"},
            {"grade": "good", "min_score": "70"},
            {"grade": "qualified", "min_score": "60"},
            {"grade": "unqualified", "min_score": "0"},
        ],
        "construction_years": 3,
    }
    assert fresh(review_pass_score=Decimal("72.5")).describe()["review_pass_score"] == "72.5"


def test_evidence_is_described_per_rule_and_frozen() -> None:
    given = {"rd_spend_3y_avg": ("rd_audit", "audit_report")}
    rule_set = fresh(evidence=given)
    given["rd_spend_3y_avg"] = ("other",)
    assert rule_set.evidence["rd_spend_3y_avg"] == ("rd_audit", "audit_report")
    assert rule_set.describe()["rules"][0]["evidence_kinds"] == ["rd_audit", "audit_report"]
    with pytest.raises(TypeError):
        rule_set.evidence["x"] = ("other",)  # type: ignore[index]


def test_the_shipped_rule_sets_name_the_documents_that_back_each_claim() -> None:
    from app.domain.rulesets import HENAN_2021, HENAN_2025

    assert dict(HENAN_2021.evidence) == {
        "rd_spend_3y_avg": ("rd_audit", "audit_report"),
        "high_level_talents": ("talent_proof",),
        "patent_standing": ("patent_certificate",),
        "no_recent_revocation": ("integrity_pledge",),
    }
    assert dict(HENAN_2025.evidence) == {**HENAN_2021.evidence, "high_level_teams": ("talent_proof",)}
