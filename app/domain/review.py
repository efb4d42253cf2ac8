"""Expert review (评审论证) rules: panel composition and recusal, score validation, aggregation (domain.md §5).

The thresholds (panel size, categories, criterion maxima, pass score) are parameters because they belong to the rule
set; the functions here only apply them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from app.domain.dates import years_later
from app.domain.errors import ConflictOfInterest, InvalidInput, RuleViolation

_CENT = Decimal("0.01")
_MAX_PLACES = 2
# An application's site visits are shown in full with its review. One or two is the practice; the cap keeps that answer
# bounded (issue 12) far above anything real.
MAX_SITE_VISITS = 20


def site_visit_problem(recorded: int) -> RuleViolation | None:
    """The refusal of one more site visit when `recorded` already reach `MAX_SITE_VISITS`; None when it may."""
    if recorded < MAX_SITE_VISITS:
        return None
    return RuleViolation(
        "site-visits-limit",
        f"每个申报最多记录 {MAX_SITE_VISITS} 次实地考察",
        f"An application records at most {MAX_SITE_VISITS} site visits.",
        {"max_site_visits": MAX_SITE_VISITS},
    )


# What an expert may declare (issue 17 §1): where they work, where they worked (with the end date), a relative at the
# organisation, or anything else that makes them partial.
CONFLICT_KINDS = ("affiliation", "former_employer", "relative", "other")
# A former employer counts for three years after the expert left it (issue 17 §1: "within the last 3 years").
FORMER_EMPLOYER_YEARS = 3
# The cause each declared kind is reported under; "other" is an ordinary declared conflict.
_DECLARED_CAUSE = {
    "affiliation": "affiliation",
    "former_employer": "former_employer",
    "relative": "relative",
    "other": "declared_conflict",
}


@dataclass(frozen=True, slots=True)
class Declaration:
    """One conflict an expert declared: the organisation, the kind and, for a former employer, when they left."""

    org_id: str
    kind: str
    until: date | None = None


@dataclass(frozen=True, slots=True)
class ExpertProfile:
    """What the recusal and composition rules need to know about an expert."""

    expert_id: str
    name: str
    category: str
    affiliation_org_id: str | None
    declared_conflict_org_ids: frozenset[str]
    declarations: tuple[Declaration, ...] = ()


def conflict_of(expert: ExpertProfile, involved_org_ids: Sequence[str], today: date) -> tuple[str, str] | None:
    """The first reason `expert` must recuse from an application involving `involved_org_ids`, as (org id, cause);
    None when there is none. The one rule behind manual panels and draws (domain.md §5, issue 17 §1).

    Checked in this order: the expert's affiliation is the lead or a participant → "affiliation"; then, organisation
    by organisation in the given order, the old list of declared conflicts → "declared_conflict", and each
    declaration: affiliation → "affiliation", a relative → "relative", other → "declared_conflict", a former
    employer left on or after the day three years before `today` → "former_employer" (left earlier: no conflict).
    """
    involved = list(dict.fromkeys(involved_org_ids))
    if expert.affiliation_org_id is not None and expert.affiliation_org_id in involved:
        return expert.affiliation_org_id, "affiliation"
    cutoff = years_later(today, -FORMER_EMPLOYER_YEARS)
    for org_id in involved:
        if org_id in expert.declared_conflict_org_ids:
            return org_id, "declared_conflict"
        for declared in expert.declarations:
            if declared.org_id != org_id:
                continue
            if declared.kind == "former_employer" and (declared.until is None or declared.until < cutoff):
                continue
            return org_id, _DECLARED_CAUSE[declared.kind]
    return None


def check_panel(
    experts: Sequence[ExpertProfile],
    involved_org_ids: Sequence[str],
    *,
    min_size: int,
    categories: Sequence[str],
    today: date | None = None,
) -> None:
    """Refuse a panel that breaks a composition or recusal rule; return None when it is valid.

    Checked in this order, the first failure wins:
    1. an expert listed twice → RuleViolation `panel-duplicate-expert` (a duplicate would count twice towards size).
    2. recusal (回避) [practice], expert by expert in the given order, by `conflict_of` (as of `today`; without a
       date a declared former employer always counts): ConflictOfInterest with its org and cause.
    3. fewer than `min_size` experts (at least 5 [practice]) → RuleViolation `panel-too-small`.
    4. a required category (technical, financial, management [seed]) not represented → `panel-missing-category`.
    Recusal comes before size so the province learns who must be replaced, not only that the panel is short.
    """
    seen: set[str] = set()
    duplicates: list[str] = []
    for expert in experts:
        if expert.expert_id in seen and expert.expert_id not in duplicates:
            duplicates.append(expert.expert_id)
        seen.add(expert.expert_id)
    if duplicates:
        raise RuleViolation(
            "panel-duplicate-expert",
            "评审专家组中同一专家出现多次",
            "An expert appears more than once on the panel",
            {"expert_ids": duplicates},
        )

    as_of = today if today is not None else date.min
    for expert in experts:
        if (found := conflict_of(expert, involved_org_ids, as_of)) is not None:
            raise ConflictOfInterest(expert.expert_id, found[0], found[1])

    if len(experts) < min_size:
        raise RuleViolation(
            "panel-too-small",
            f"评审专家组至少需要{min_size}名专家, 当前为{len(experts)}名",
            f"The panel needs at least {min_size} experts; it has {len(experts)}",
            {"min_size": min_size, "size": len(experts)},
        )

    present = {expert.category for expert in experts}
    missing = [category for category in dict.fromkeys(categories) if category not in present]
    if missing:
        raise RuleViolation(
            "panel-missing-category",
            f"评审专家组缺少以下类别的专家: {', '.join(missing)}",
            f"The panel lacks experts of these categories: {', '.join(missing)}",
            {"missing": missing},
        )


def criteria_errors(criteria: Mapping[str, Decimal], maxima: Mapping[str, int]) -> list[InvalidInput]:
    """Every problem with one expert's criterion scores, empty when they are valid (domain.md §5 [seed]).

    Each criterion of the rule set must be scored (missing → `missing`), no other may be (`extra_forbidden`), each
    score lies in 0..maximum (`greater_than_equal` / `less_than_equal`) with at most two decimal places
    (`decimal_max_places`). Error types follow pydantic's names so the API reports them like its own 422s.
    """
    errors: list[InvalidInput] = []
    for name in maxima:
        if name not in criteria:
            errors.append(InvalidInput(("body", "criteria", name), "Field required", "missing"))
    for name, value in criteria.items():
        loc: tuple[str | int, ...] = ("body", "criteria", name)
        if name not in maxima:
            errors.append(InvalidInput(loc, "Extra inputs are not permitted", "extra_forbidden"))
            continue
        if not value.is_finite():
            # NaN cannot even be compared with the bounds; Infinity would pass one of them.
            errors.append(InvalidInput(loc, "Input should be a finite number", "finite_number"))
            continue
        maximum = maxima[name]
        if value < 0:
            errors.append(InvalidInput(loc, "Input should be greater than or equal to 0", "greater_than_equal"))
        elif value > maximum:
            errors.append(InvalidInput(loc, f"Input should be less than or equal to {maximum}", "less_than_equal"))
        if _decimal_places(value) > _MAX_PLACES:
            errors.append(
                InvalidInput(
                    loc, f"Decimal input should have no more than {_MAX_PLACES} decimal places", "decimal_max_places"
                )
            )
    return errors


def _decimal_places(value: Decimal) -> int:
    # Normalised so that "12.500" counts as one place: the value, not its spelling, is what is limited.
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def criteria_total(criteria: Mapping[str, Decimal]) -> Decimal:
    """An expert's total score: the sum of its criterion scores (maxima add up to 100 [seed])."""
    return sum(criteria.values(), Decimal(0))


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """The aggregated verdict of a panel."""

    count: int
    aggregate_score: Decimal | None
    supporters: int
    majority_support: bool
    passed: bool


def aggregate(
    totals: Sequence[Decimal],
    supports: Sequence[bool],
    *,
    pass_score: Decimal,
    trim_from: int = 5,
) -> ReviewOutcome:
    """Aggregate the panel's totals and votes (domain.md §5 [practice]).

    With `trim_from` (5) or more scores, drop exactly one highest and one lowest total (去掉最高分和最低分) — ties keep
    their other copies — then take the mean; with fewer, the plain mean. Rounded half up to 0.01. Support needs a
    strict majority of all scorers; the application passes when aggregate ≥ `pass_score` (70) and the majority
    supports. No scores means no aggregate and no pass.
    """
    if len(totals) != len(supports):
        raise ValueError("totals and supports must come from the same experts")
    if trim_from < 3:
        # Trimming two scores from fewer than three would leave nothing to average.
        raise ValueError("trim_from must be at least 3")
    count = len(totals)
    supporters = sum(1 for support in supports if support)
    majority = supporters * 2 > count
    if count == 0:
        return ReviewOutcome(count=0, aggregate_score=None, supporters=0, majority_support=False, passed=False)
    kept = sorted(totals)[1:-1] if count >= trim_from else list(totals)
    mean = (sum(kept, Decimal(0)) / len(kept)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return ReviewOutcome(
        count=count,
        aggregate_score=mean,
        supporters=supporters,
        majority_support=majority,
        passed=mean >= pass_score and majority,
    )
