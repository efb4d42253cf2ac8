"""Conflicts an expert declares about themselves (issue 17 §1): kept on the expert's row, read by every recusal."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExpertRecord
from app.db.repositories import organizations as orgs_repo
from app.domain import draws as rules
from app.domain.credit_code import normalize_credit_code
from app.domain.errors import RuleViolation
from app.domain.principal import Principal
from app.services.clock import Clock
from app.services.errors import InvalidReference, NotFound, ValidationFailed


async def _me(session: AsyncSession, principal: Principal, *, for_update: bool = False) -> ExpertRecord:
    if principal.role != "expert" or principal.expert_id is None:
        raise NotFound("expert", "me")
    expert = await orgs_repo.get_expert(session, principal.expert_id, for_update=for_update)
    if expert is None:
        raise NotFound("expert", str(principal.expert_id))
    return expert


async def declare(
    session: AsyncSession,
    principal: Principal,
    *,
    org_id: uuid.UUID | None,
    credit_code: str | None,
    kind: str,
    until: date | None,
    note: str | None,
    clock: Clock,
) -> dict[str, Any]:
    """Record a conflict the calling expert declares with an organisation, named by id or by credit code."""
    expert = await _me(session, principal, for_update=True)
    problems = rules.declaration_problems(kind, until)
    if problems:
        raise ValidationFailed([(("body", name), msg, "value_error") for name, msg in problems])
    if org_id is not None:
        org = await orgs_repo.get(session, org_id)
        if org is None:
            raise InvalidReference(loc=("body", "org_id"), msg="no such organization")
    else:
        org = await orgs_repo.get_by_credit_code(session, normalize_credit_code(credit_code or ""))
        if org is None:
            raise InvalidReference(loc=("body", "credit_code"), msg="no organization has this credit code")
    if len(expert.conflicts) >= rules.MAX_DECLARATIONS:
        raise RuleViolation(
            "conflicts-limit",
            f"每位专家最多申报 {rules.MAX_DECLARATIONS} 项利益冲突",
            f"An expert declares at most {rules.MAX_DECLARATIONS} conflicts.",
            {"max_conflicts": rules.MAX_DECLARATIONS},
        )
    entry = {
        "id": str(uuid.uuid4()),
        "org_id": str(org.id),
        "credit_code": org.credit_code,
        "kind": kind,
        "until": until.isoformat() if until else None,
        "note": note,
        "declared_at": clock.now().isoformat(),
    }
    expert.conflicts = [*expert.conflicts, entry]
    await session.flush()
    return entry


async def list_mine(
    session: AsyncSession, principal: Principal, *, after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the calling expert's declarations in the order declared, and the position of the next page."""
    expert = await _me(session, principal)
    items = list(expert.conflicts[after : after + limit])
    more = after + limit < len(expert.conflicts)
    return items, (after + limit if more else None)
