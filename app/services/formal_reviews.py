"""The formal review (形式审查) of a recommended application, before expert review (issue 16 §2).

The province's case officer checks the submission as it was frozen: every plan section present, every eligibility
rule that needs evidence backed by an attachment of a kind its rule set names, and marks each such rule `verified`,
`doubtful` or `not_evidenced`. `complete` lets `open_review` proceed; `incomplete` returns the application to its lead
(`return_incomplete` → `incomplete`) with the list of what is missing, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, FormalReviewRecord
from app.db.repositories import attachments as repo
from app.domain import applications as app_rules
from app.domain import attachments as rules
from app.domain.guards import blocker, refusal
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import audit, lifecycle
from app.services.applications import load, machine_for
from app.services.clock import Clock
from app.services.errors import NotFound, ValidationFailed

READERS = frozenset({"province", "supervisor", "applicant", "observer"})


@dataclass(frozen=True)
class Checklist:
    application_id: uuid.UUID
    status: str
    missing_sections: list[str]
    attachments: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    blockers: list[dict[str, Any]]
    latest: FormalReviewRecord | None = None
    complete: bool = False
    verdicts: dict[str, Any] = field(default_factory=dict)


def evidence_of(record: ApplicationRecord) -> list[rules.EvidenceItem]:
    """The rules of the recorded verdict that need evidence, judged against the frozen attachments."""
    checks = (record.eligibility or {}).get("checks", [])
    kinds = [a["kind"] for a in record.submitted_attachments or []]
    return rules.evidence_items(get_rule_set(record.rule_set).evidence, checks, kinds)


async def checklist(session: AsyncSession, principal: Principal, application_id: uuid.UUID) -> Checklist:
    """The computed checklist and the latest recorded review. Experts never see it (a review of the file, not of
    the plan's merits), nor third parties."""
    if principal.role not in READERS:
        raise NotFound("application", str(application_id))
    record = await load(session, principal, application_id)
    latest = await repo.latest_formal_review(session, record.id)
    items = evidence_of(record)
    # Verdicts of the current submission only: a resubmission is reviewed afresh (the earlier review stays `latest`).
    current = latest is not None and record.formal_review_outcome is not None
    verdicts = dict(latest.verdicts) if latest is not None and current else {}
    missing = app_rules.missing_plan_sections(record.plan)
    blockers = rules.completion_blockers(missing, items, {})
    return Checklist(
        application_id=record.id,
        status=record.status,
        missing_sections=missing,
        attachments=list(record.submitted_attachments or []),
        evidence=[{**item.as_dict(), "verdict": verdicts.get(item.rule, {}).get("verdict")} for item in items],
        blockers=[b.as_dict() for b in blockers],
        latest=latest,
        complete=record.formal_review_outcome == "complete",
        verdicts=verdicts,
    )


def _verdict_errors(required: Sequence[str], verdicts: Mapping[str, Mapping[str, Any]]) -> None:
    problems = rules.verdict_problems(required, verdicts)
    if problems:
        raise ValidationFailed([(("body", *loc), msg, "value_error") for loc, msg in problems])


async def record_review(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    outcome: str,
    verdicts: Mapping[str, Mapping[str, Any]],
    missing: Sequence[str],
    note: str | None,
    clock: Clock,
    expected_version: int | None,
) -> tuple[ApplicationRecord, FormalReviewRecord]:
    if principal.role != "province":
        raise NotFound("application", str(application_id))
    record = await load(session, principal, application_id, for_update=True)
    if record.status != "recommended":
        raise refusal(
            record.status,
            "formal_review",
            [
                blocker(
                    "wrong-state",
                    f"当前状态（{record.status}）不能进行形式审查",
                    f"A formal review is recorded on a recommended application, not in state '{record.status}'.",
                    status=record.status,
                )
            ],
            [],
        )
    lifecycle.check_version(expected_version, record.version)
    items = evidence_of(record)
    _verdict_errors([item.rule for item in items], verdicts)
    if outcome == "incomplete" and not missing:
        raise ValidationFailed([(("body", "missing"), "an incomplete outcome lists what is missing", "missing")])
    if outcome == "complete" and missing:
        raise ValidationFailed([(("body", "missing"), "a complete outcome lists nothing missing", "value_error")])
    if outcome == "complete":
        blockers = rules.completion_blockers(app_rules.missing_plan_sections(record.plan), items, verdicts)
        if blockers:
            raise refusal(record.status, "formal_review", blockers, [])
    review = FormalReviewRecord(
        application_id=record.id,
        outcome=outcome,
        verdicts={rule: dict(v) for rule, v in verdicts.items()},
        missing=list(missing),
        note=note,
        attachments=list(record.submitted_attachments or []),
        recorded_by=principal.sub,
        recorded_at=clock.now(),
    )
    await repo.add_formal_review(session, review)
    summary = {
        "formal_review_id": review.id,
        "outcome": outcome,
        "verdicts": {rule: v["verdict"] for rule, v in verdicts.items()},
        "missing": list(missing),
    }
    record.formal_review_outcome = outcome
    if outcome == "incomplete":
        to_status = machine_for(record).decide(record.status, "return_incomplete", principal.role)
        await lifecycle.apply(
            session,
            principal,
            record,
            subject_type="application",
            action="return_incomplete",
            to_status=to_status,
            reason=note,
            data=summary,
        )
    else:
        # No change of state: the application stays recommended and may now go to expert review.
        await session.flush()
        await audit.record_transition(
            session,
            principal,
            subject_type="application",
            subject_id=record.id,
            action="formal_review",
            from_status=record.status,
            to_status=record.status,
            reason=note,
            data=summary,
            event_type="application.formal_review_completed",
        )
    return record, review
