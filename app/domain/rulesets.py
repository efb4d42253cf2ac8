"""Versioned rule sets (domain.md §3, §5, §7): which eligibility rules apply, plus review and assessment parameters.

A call names its rule set and an application is judged by it. New thresholds are a new rule set, never an edit of an
old one, so a decided application keeps the verdict it was given.
"""

# Chinese text uses full-width punctuation and tortoise-shell brackets (document numbers) on purpose.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from app.domain.attachments import KINDS as ATTACHMENT_KINDS_BY_CODE
from app.domain.eligibility import RULES, Rule
from app.domain.reference import EXPERT_CATEGORIES, GRADES, REVIEW_CRITERIA, codes


def _default_review_criteria_max() -> Mapping[str, int]:
    """Review score ceilings matching the plan outline, total 100. [practice] over the [seed] 附 outline."""
    return MappingProxyType(
        {"foundation": 30, "goals_and_tasks": 25, "organization_and_governance": 20, "funding": 15, "schedule": 10}
    )


def _default_assessment_weights() -> Mapping[str, int]:
    """Periodic assessment indicator weights, total 100. [practice] after Henan's engineering-center evaluation."""
    return MappingProxyType(
        {
            "rd_investment": 40,
            "st_results": 30,
            "talent_team": 10,
            "research_projects": 10,
            "industry_academia_cooperation": 10,
        }
    )


_DEFAULT_GRADE_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("excellent", Decimal("90")),
    ("good", Decimal("70")),
    ("qualified", Decimal("60")),
    ("unqualified", Decimal("0")),
)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One versioned set of rules and parameters.

    Defaults: panel of at least 5 experts [practice] covering technical, financial and management [seed] 五、（二）;
    review pass at an aggregate ≥ 70 after dropping the highest and lowest total once there are 5 or more scores
    [practice]; grade bands excellent ≥ 90, good ≥ 70, qualified ≥ 60 [practice: Guangdong]; construction period
    3 years [seed] 五、（三）.
    """

    name: str
    title_zh: str
    title_en: str
    source: str
    rules: tuple[Rule, ...]
    panel_min_size: int = 5
    panel_categories: tuple[str, ...] = ("technical", "financial", "management")
    review_criteria_max: Mapping[str, int] = field(default_factory=_default_review_criteria_max, hash=False)
    review_pass_score: Decimal = Decimal("70")
    review_trim_from: int = 5
    assessment_weights: Mapping[str, int] = field(default_factory=_default_assessment_weights, hash=False)
    grade_bands: tuple[tuple[str, Decimal], ...] = _DEFAULT_GRADE_BANDS
    construction_years: int = 3
    # Formal review (形式审查): the attachment kinds that back a rule's self-declared claim, any one of them sufficing.
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        # A caller may pass a plain dict; freeze a copy so the rule set cannot change under a decided application.
        object.__setattr__(self, "review_criteria_max", MappingProxyType(dict(self.review_criteria_max)))
        object.__setattr__(self, "assessment_weights", MappingProxyType(dict(self.assessment_weights)))
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rule set {self.name!r} repeats a rule id")
        if set(self.evidence) - set(ids) or any(
            not kinds or set(kinds) - set(ATTACHMENT_KINDS_BY_CODE) for kinds in self.evidence.values()
        ):
            raise ValueError(f"rule set {self.name!r}: evidence names an unknown rule or attachment kind")
        if set(self.panel_categories) - set(codes(EXPERT_CATEGORIES)):
            raise ValueError(f"rule set {self.name!r} names an unknown expert category")
        criteria = self.review_criteria_max
        if set(criteria) != set(codes(REVIEW_CRITERIA)) or sum(criteria.values()) != 100:
            raise ValueError(f"rule set {self.name!r}: review criteria must be the five criteria totalling 100")
        if sum(self.assessment_weights.values()) != 100:
            raise ValueError(f"rule set {self.name!r}: assessment weights must total 100")
        grades = [grade for grade, _ in self.grade_bands]
        floors = [floor for _, floor in self.grade_bands]
        if sorted(grades) != sorted(codes(GRADES)) or floors != sorted(floors, reverse=True) or floors[-1] != 0:
            raise ValueError(f"rule set {self.name!r}: grade bands must cover every grade, descending, down to 0")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: numbers that are Decimal travel as strings."""
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "source": self.source,
            "rules": [
                {
                    "id": rule.id,
                    "description_zh": rule.description_zh,
                    "description_en": rule.description_en,
                    "source": rule.source,
                    "evidence_kinds": list(self.evidence.get(rule.id, ())),
                }
                for rule in self.rules
            ],
            "panel_min_size": self.panel_min_size,
            "panel_categories": list(self.panel_categories),
            "review_criteria_max": dict(self.review_criteria_max),
            "review_pass_score": str(self.review_pass_score),
            "review_trim_from": self.review_trim_from,
            "assessment_weights": dict(self.assessment_weights),
            "grade_bands": [{"grade": grade, "min_score": str(floor)} for grade, floor in self.grade_bands],
            "construction_years": self.construction_years,
        }


# What a formal review checks against documents [practice]: the R&D spend a lead declares is backed by an audit of
# its R&D investment (a special audit, or the annual audit reports that state it), its high-level talents by proofs
# of their titles, its patent standing by the certificates, and the declaration that no center of it was revoked for
# cause by its signed integrity pledge (诚信承诺书), which makes a false declaration the lead's own liability.
_EVIDENCE_2021: Mapping[str, tuple[str, ...]] = {
    "rd_spend_3y_avg": ("rd_audit", "audit_report"),
    "high_level_talents": ("talent_proof",),
    "patent_standing": ("patent_certificate",),
    "no_recent_revocation": ("integrity_pledge",),
}
_EVIDENCE_2025: Mapping[str, tuple[str, ...]] = {**_EVIDENCE_2021, "high_level_teams": ("talent_proof",)}


def _rules(*ids: str) -> tuple[Rule, ...]:
    return tuple(RULES[rule_id] for rule_id in ids)


HENAN_2021 = RuleSet(
    name="henan-2021",
    title_zh="河南省技术创新中心建设方案（暂行）",
    title_en="Henan Province Technology Innovation Center Construction Plan (Interim)",
    source="豫科〔2021〕116号",
    rules=_rules(
        "major_project_experience",
        "provincial_platform",
        "ip_results",
        "patent_standing",
        "cooperation_mechanism",
        "rd_staff_ratio",
        "high_level_talents",
        "leading_enterprise",
        "rd_spend_3y_avg",
        "formation_mode_consistency",
        "field_in_layout",
        "one_center_one_plan",
        "no_recent_revocation",
    ),
    evidence=_EVIDENCE_2021,
)

HENAN_2025 = RuleSet(
    name="henan-2025",
    title_zh="2025年度河南省技术创新中心申报条件（依据豫科〔2024〕121号）",
    title_en="Henan Province Technology Innovation Centers, 2025 call (under the 2024 measures, 豫科〔2024〕121号)",
    source="豫科〔2025〕131号",
    rules=_rules(
        "major_project_experience",
        "provincial_platform",
        "ip_results",
        "patent_standing",
        "cooperation_mechanism",
        "rd_staff_count",
        "high_level_talents",
        "high_level_teams",
        "leading_enterprise",
        "rd_spend_3y_avg",
        "registered_in_henan",
        "formation_mode_consistency",
        "participants_cap",
        "leading_enterprise_participant",
        "field_in_layout",
        "one_center_one_plan",
        "no_recent_revocation",
    ),
    evidence=_EVIDENCE_2025,
)

RULE_SETS: Mapping[str, RuleSet] = MappingProxyType({rule_set.name: rule_set for rule_set in (HENAN_2021, HENAN_2025)})
DEFAULT_RULE_SET = "henan-2021"


def get_rule_set(name: str) -> RuleSet:
    """The rule set called `name`; KeyError names the unknown set and the known ones."""
    try:
        return RULE_SETS[name]
    except KeyError:
        raise KeyError(f"unknown rule set {name!r}; known: {', '.join(RULE_SETS)}") from None
