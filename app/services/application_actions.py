"""The application lifecycle's actions (domain.md §4-5): submit, recommend, review rounds, approval.

`act` locks the application, gathers its facts once, refuses through `app.domain.applications.LIFECYCLE.check` (the
same call that explains blocked actions), checks the body against the facts, applies the action and records the
transition with history and a feed event in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord
from app.db.repositories import applications as repo
from app.domain import applications as app_rules
from app.domain import review as review_rules
from app.domain.deadlines import local_date
from app.domain.documents import DEFAULT_PREFIX
from app.domain.draws import DEFAULT_SCORE_DAYS
from app.domain.principal import Principal
from app.domain.rulesets import get_rule_set
from app.services import attachments, centers, document_register, lifecycle
from app.services.applications import facts_of, load, machine_for
from app.services.clock import Clock
from app.services.eligibility import judge
from app.services.errors import ValidationFailed


@dataclass(frozen=True)
class ActionInput:
    reason: str | None = None
    decision_date: date | None = None
    document_no: str | None = None
    resubmit_by: date | None = None


async def _verdict(session: AsyncSession, record: ApplicationRecord, today: date) -> dict[str, Any]:
    verdict = await judge(session, record, today)
    return {**verdict.as_dict(), "judged_on": today.isoformat()}


async def _conclude(session: AsyncSession, record: ApplicationRecord, clock: Clock) -> dict[str, Any]:
    """Fix the aggregate of the current round's sheets and the pass verdict (domain.md §5)."""
    members = await repo.panel(session, record.id, accepted_only=True)
    scores = {s.expert_id: s for s in await repo.scores(session, record.id, record.review_round)}
    panel_scores = [scores[m.expert_id] for m in members]
    rule_set = get_rule_set(record.rule_set)
    outcome = review_rules.aggregate(
        [s.total for s in panel_scores],
        [s.support for s in panel_scores],
        pass_score=rule_set.review_pass_score,
        trim_from=rule_set.review_trim_from,
    )
    record.aggregate_score = outcome.aggregate_score
    record.review_passed = outcome.passed
    record.review_concluded_at = clock.now()
    record.revised_since_review = False
    return {
        "aggregate_score": str(record.aggregate_score),
        "passed": record.review_passed,
        "round": record.review_round,
    }


async def act(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    action: str,
    body: ActionInput,
    *,
    clock: Clock,
    expected_version: int | None,
    score_days: int = DEFAULT_SCORE_DAYS,
    document_prefix: str = DEFAULT_PREFIX,
) -> ApplicationRecord:
    """Take one lifecycle action. The row is locked, so of concurrent actions exactly one wins."""
    record = await load(session, principal, application_id, for_update=True)
    if action == "submit" and not record.fast_track:
        # Held to the commit, so a concurrent submission by the same lead is judged (one center, one plan) after
        # this one is recorded.
        await repo.lock_lead_for_submission(session, record.lead_org_id)
    facts = (await facts_of(session, principal, [record], clock))[record.id]
    app_rules.LIFECYCLE.check(action, principal, facts)
    lifecycle.check_version(expected_version, record.version)
    concluded_on = local_date(record.review_concluded_at, clock.tz) if record.review_concluded_at else None
    problems = app_rules.argument_problems(action, facts, asdict(body), review_concluded_on=concluded_on)
    if problems:
        raise ValidationFailed([(("body", name), msg, "value_error") for name, msg in problems])
    data: dict[str, Any] = {}
    number: document_register.Number | None = None
    today = facts.today
    if action == "submit":
        record.eligibility = await _verdict(session, record, today)
        record.submitted_at = clock.now()
        record.resubmit_by = None
        # The submission is judged on these documents; later formal reviews read this list, not the live one.
        record.submitted_attachments = await attachments.frozen_list(session, record.id)
        record.formal_review_outcome = None
        data["eligible"] = True
        data["attachments"] = [a["sha256"] for a in record.submitted_attachments]
    elif action == "resubmit":
        record.eligibility = await _verdict(session, record, today)
        record.revised_since_review = True
        record.submitted_attachments = await attachments.frozen_list(session, record.id)
        data["eligible"] = True
        data["attachments"] = [a["sha256"] for a in record.submitted_attachments]
    elif action == "return":
        record.resubmit_by = body.resubmit_by
        data["resubmit_by"] = body.resubmit_by.isoformat() if body.resubmit_by else None
    elif action == "open_review" and record.status == "reviewed":
        # A new round on the revised plan: the previous round's sheets stay stored and no longer count.
        record.review_round += 1
        record.review_concluded_at = record.aggregate_score = record.review_passed = None
        data["round"] = record.review_round
    if action == "open_review":
        record.scores_due_on = today + timedelta(days=score_days)
        data["scores_due_on"] = record.scores_due_on.isoformat()
    elif action == "conclude_review":
        data.update(await _conclude(session, record, clock))
    elif action == "approve":
        assert body.decision_date is not None
        # Omitted: the register issues the next number; given: an externally issued number, kept as-is.
        number = await document_register.number_for(
            session, body.decision_date, body.document_no, prefix=document_prefix
        )
        record.decision_date, record.document_no = body.decision_date, number.number
        center = await centers.create_center(session, principal, record)
        record.center_id = center.id
        data.update({"center_id": str(center.id), "document_no": number.number})
    to_status = machine_for(record).decide(record.status, action, principal.role)
    await lifecycle.apply(
        session,
        principal,
        record,
        subject_type="application",
        action=action,
        to_status=to_status,
        reason=body.reason,
        decision_date=body.decision_date,
        data=data,
        number=number,
        document_prefix=document_prefix,
    )
    return record
