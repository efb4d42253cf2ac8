"""Periodic assessment (考核): weighted score, grade bands, excellent cap, consequences (domain.md §7).

The indicator weights, bands and cap come from the rule set or the cycle; these functions only apply them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final

from app.domain.errors import InvalidInput

EXCELLENT: Final = "excellent"
GOOD: Final = "good"
QUALIFIED: Final = "qualified"
UNQUALIFIED: Final = "unqualified"

# [practice: Guangdong bands], highest first; a score falls in the first band whose minimum it reaches.
DEFAULT_BANDS: tuple[tuple[str, Decimal], ...] = (
    (EXCELLENT, Decimal(90)),
    (GOOD, Decimal(70)),
    (QUALIFIED, Decimal(60)),
    (UNQUALIFIED, Decimal(0)),
)

# Unqualified at assessment → up to 12 months of rectification (domain.md §7 [practice]).
RECTIFICATION_MONTHS_ASSESSMENT = 12
# Failed acceptance → one more acceptance within 3 months (domain.md §6 [practice: national major-project rules]).
RECTIFICATION_MONTHS_ACCEPTANCE = 3

_CENT = Decimal("0.01")
_INDICATOR_MAX = Decimal(100)


def indicator_errors(indicators: Mapping[str, Decimal], weights: Mapping[str, int]) -> list[InvalidInput]:
    """Every problem with an assessment's indicator values, empty when they are valid (domain.md §7).

    Each weighted indicator must be given (`missing`), no other (`extra_forbidden`), each a finite value in 0..100.
    """
    errors: list[InvalidInput] = []
    for name in weights:
        if name not in indicators:
            errors.append(InvalidInput(("body", "indicators", name), "Field required", "missing"))
    for name, value in indicators.items():
        loc: tuple[str | int, ...] = ("body", "indicators", name)
        if name not in weights:
            errors.append(InvalidInput(loc, "Extra inputs are not permitted", "extra_forbidden"))
        elif not value.is_finite():
            errors.append(InvalidInput(loc, "Input should be a finite number", "finite_number"))
        elif value < 0:
            errors.append(InvalidInput(loc, "Input should be greater than or equal to 0", "greater_than_equal"))
        elif value > _INDICATOR_MAX:
            errors.append(InvalidInput(loc, "Input should be less than or equal to 100", "less_than_equal"))
    return errors


def weighted_score(indicators: Mapping[str, Decimal], weights: Mapping[str, int]) -> Decimal:
    """Σ indicator * weight / 100, rounded half up to 0.01 (domain.md §7; default weights R&D investment 40,
    S&T results 30, talent 10, projects 10, cooperation 10 after Henan's engineering-center evaluation).

    Raises the first InvalidInput of `indicator_errors` when an indicator is missing, unknown or outside 0..100.
    """
    errors = indicator_errors(indicators, weights)
    if errors:
        raise errors[0]
    total = sum((indicators[name] * weight for name, weight in weights.items()), Decimal(0))
    return (total / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def grade_for(score: Decimal, bands: Sequence[tuple[str, Decimal]] = DEFAULT_BANDS) -> str:
    """The grade of the first band (highest first) whose minimum `score` reaches [practice: Guangdong bands].

    Minimums are inclusive: 90 is excellent, 89.99 good, 60 qualified, 59.99 unqualified.
    """
    for grade, minimum in bands:
        if score >= minimum:
            return grade
    raise ValueError(f"score {score} is below every band")


@dataclass(frozen=True, slots=True)
class AssessmentInput:
    """One center's result in a cycle, with what the hard floor and the cap's tie-break need."""

    center_id: str
    code: str
    score: Decimal
    rd_investment: Decimal | None
    has_rd_investment: bool


def assign_grades(
    results: Sequence[AssessmentInput],
    *,
    bands: Sequence[tuple[str, Decimal]] = DEFAULT_BANDS,
    max_excellent_ratio: Decimal | None,
    cycle_size: int | None = None,
) -> dict[str, str]:
    """Each center's final grade in a cycle, by center id (domain.md §7).

    1. Band by score (`grade_for`).
    2. Hard floor: a center reporting no R&D investment in the cycle is unqualified whatever its score.
    3. Cap (only when the cycle sets `max_excellent_ratio`): floor(ratio * cycle size) centers keep excellent — the
       cycle size is `cycle_size` when given (centers due, not only those with results), else len(results). Ranked
       by score, then R&D investment (none last), then center code so the outcome never depends on input order;
       the rest of the excellent band drops to good.
    """
    if max_excellent_ratio is not None and not Decimal(0) <= max_excellent_ratio <= Decimal(1):
        raise ValueError("max_excellent_ratio must lie between 0 and 1")
    ids = [result.center_id for result in results]
    if len(set(ids)) != len(ids):
        raise ValueError("a center appears twice in the results")

    grades: dict[str, str] = {
        result.center_id: grade_for(result.score, bands) if result.has_rd_investment else UNQUALIFIED
        for result in results
    }
    if max_excellent_ratio is None:
        return grades

    size = cycle_size if cycle_size is not None else len(results)
    allowed = int((max_excellent_ratio * size).to_integral_value(rounding=ROUND_FLOOR))
    ranked = sorted(
        (result for result in results if grades[result.center_id] == EXCELLENT),
        key=lambda r: (
            -r.score,
            r.rd_investment is None,
            -(r.rd_investment if r.rd_investment is not None else Decimal(0)),
            r.code,
        ),
    )
    for result in ranked[allowed:]:
        grades[result.center_id] = GOOD
    return grades


class Consequence:
    """What an assessment grade sets in motion for a center (domain.md §6-7)."""

    NONE: Final = "none"
    RECTIFY: Final = "rectify"
    RECOVER: Final = "recover"
    REVOKE_FAILED_RECTIFICATION: Final = "revoke_failed_rectification"
    NATIONAL_CANDIDATE: Final = "national_candidate"
    # Not grade-driven: set by finalizing for a center declared absent, or one revoked or exited during the cycle.
    REVOKE_ABSENT: Final = "revoke_absent"
    SKIPPED_CLOSED: Final = "skipped_closed"

    ALL: Final = (
        NONE,
        RECTIFY,
        RECOVER,
        REVOKE_FAILED_RECTIFICATION,
        NATIONAL_CANDIDATE,
        REVOKE_ABSENT,
        SKIPPED_CLOSED,
    )


def consequence(grade: str, status: str, rectifying_kind: str | None) -> str:
    """The consequence of a final grade (domain.md §6-7).

    - unqualified while recognized → rectify for up to RECTIFICATION_MONTHS_ASSESSMENT months [practice];
    - unqualified while already rectifying after an assessment → revoke (`failed_rectification`) [practice];
    - qualified or better while rectifying after an assessment → recover: back to `recognized` (domain.md §6,
      "rectifying ──(assessment graded qualified or better)──▶ recognized"), whatever the grade;
    - excellent → candidate for recommendation to the national TIC programme [seed];
    - anything else → none (good and excellent also make stable support possible; see `stable_support_eligible`).
    """
    rectifying_after_assessment = status == "rectifying" and rectifying_kind == "assessment"
    if grade == UNQUALIFIED:
        if status == "recognized":
            return Consequence.RECTIFY
        if rectifying_after_assessment:
            return Consequence.REVOKE_FAILED_RECTIFICATION
        return Consequence.NONE
    if rectifying_after_assessment:
        return Consequence.RECOVER
    if grade == EXCELLENT:
        return Consequence.NATIONAL_CANDIDATE
    return Consequence.NONE


def stable_support_eligible(latest_grade: str | None) -> bool:
    """Stable support (稳定支持) goes only to a center whose latest grade is excellent or good [seed]."""
    return latest_grade in (EXCELLENT, GOOD)
