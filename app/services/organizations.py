"""Organizations (lead, participants, supervising departments, agencies) and experts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ExpertRecord, OrganizationRecord
from app.db.paging import PageRequest, PageResult
from app.db.repositories import organizations as repo
from app.domain import participants as participant_rules
from app.domain.credit_code import normalize_credit_code, validate_credit_code
from app.domain.errors import InvalidInput, RuleViolation
from app.domain.principal import Principal
from app.services import lifecycle
from app.services.audit import record_event
from app.services.errors import AlreadyExists, InvalidReference, NotFound


def _visible_scope(principal: Principal) -> tuple[set[uuid.UUID] | None, uuid.UUID | None]:
    """(ids the caller may read, department whose supervised organizations it may read)."""
    if principal.sees_everything_public:
        return None, None
    if principal.role == "supervisor" and principal.org_id:
        return {principal.org_id}, principal.org_id
    if principal.org_id is not None:
        return {principal.org_id}, None
    return set(), None


async def _visible(session: AsyncSession, principal: Principal, record: OrganizationRecord) -> bool:
    ids, supervised_by = _visible_scope(principal)
    if ids is None:
        return True
    if record.id in ids or (supervised_by is not None and record.supervisor_id == supervised_by):
        return True
    # An applicant may read its own supervising department.
    if principal.role == "applicant" and principal.org_id is not None:
        own = await repo.get(session, principal.org_id)
        return own is not None and own.supervisor_id == record.id
    return False


async def _check_credit_code(session: AsyncSession, raw: str, except_id: uuid.UUID | None = None) -> str:
    code = normalize_credit_code(raw)
    problem = validate_credit_code(code)
    if problem is not None:
        raise InvalidInput(loc=("body", "credit_code"), msg=problem, type="credit_code_invalid")
    if await repo.credit_code_taken(session, code, except_id=except_id):
        raise AlreadyExists("organization", "credit_code", code)
    return code


async def _check_supervisor(session: AsyncSession, supervisor_id: uuid.UUID | None) -> None:
    if supervisor_id is None:
        return
    supervisor = await repo.get(session, supervisor_id)
    if supervisor is None or supervisor.kind != "department":
        raise InvalidReference(
            loc=("body", "supervisor_id"), msg="supervisor_id must name an existing organization of kind 'department'"
        )


async def check_participants(
    session: AsyncSession,
    lead_org_id: uuid.UUID,
    participants: Sequence[Mapping[str, Any]],
    loc: tuple[str | int, ...] = ("body", "participants"),
) -> list[dict[str, str]]:
    """The participants as stored (`[{org_id, role}]`), once each names an existing organization other than the lead
    and none is named twice; else a 422 naming the first that does not (`loc` + index + `org_id`)."""
    normalised = [
        {"org_id": str(p["org_id"]), "role": str(p.get("role") or participant_rules.DEFAULT_ROLE)} for p in participants
    ]
    refused = participant_rules.membership_problems(str(lead_org_id), [p["org_id"] for p in normalised])
    problems = {where[0]: (where, msg) for where, msg, _ in refused}
    found = await repo.get_many(session, [uuid.UUID(p["org_id"]) for p in normalised])
    for index, participant in enumerate(normalised):
        if index in problems:
            where, msg = problems[index]
            raise InvalidReference(loc=(*loc, *where), msg=msg)
        if uuid.UUID(participant["org_id"]) not in found:
            raise InvalidReference(loc=(*loc, index, "org_id"), msg="no such organization")
    return normalised


async def create_organization(
    session: AsyncSession, principal: Principal, data: Mapping[str, Any]
) -> OrganizationRecord:
    values = dict(data)
    values["credit_code"] = await _check_credit_code(session, values["credit_code"])
    await _check_supervisor(session, values.get("supervisor_id"))
    record = await repo.add(session, OrganizationRecord(id=uuid.uuid4(), **values))
    await record_event(
        session,
        principal,
        type="organization.created",
        subject_type="organization",
        subject_id=record.id,
        data={"name": record.name, "kind": record.kind},
    )
    return record


async def get_organization(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> OrganizationRecord:
    record = await repo.get(session, org_id)
    if record is None or not await _visible(session, principal, record):
        raise NotFound("organization", str(org_id))
    return record


async def list_organizations(
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    *,
    kind: str | None = None,
    region: str | None = None,
    supervisor_id: uuid.UUID | None = None,
) -> PageResult[OrganizationRecord]:
    ids, supervised_by = _visible_scope(principal)
    if ids is not None and principal.role == "applicant" and principal.org_id is not None:
        own = await repo.get(session, principal.org_id)
        if own is not None and own.supervisor_id is not None:
            ids = {*ids, own.supervisor_id}
    return await repo.list_page(
        session,
        page,
        visible_ids=ids,
        supervised_by=supervised_by,
        kind=kind,
        region=region,
        supervisor_id=supervisor_id,
    )


async def update_organization(
    session: AsyncSession,
    principal: Principal,
    org_id: uuid.UUID,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> OrganizationRecord:
    record = await repo.get(session, org_id, for_update=True)
    if record is None:
        raise NotFound("organization", str(org_id))
    lifecycle.check_version(expected_version, record.version)
    values = dict(changes)
    if "credit_code" in values:
        values["credit_code"] = await _check_credit_code(session, values["credit_code"], except_id=record.id)
    if values.get("kind", "department") != "department" and record.kind == "department":
        # A supervisor must be a department (checked on assignment); re-kinding one would orphan its charges.
        supervised = await repo.count_supervised(session, record.id)
        if supervised:
            raise RuleViolation(
                "supervisor-must-be-department",
                f"该主管部门仍主管 {supervised} 个单位，不能改为其他类型",
                f"This department still supervises {supervised} organizations; it must stay a department.",
                {"supervised_count": supervised},
            )
    if "supervisor_id" in values:
        if values["supervisor_id"] == record.id:
            raise InvalidReference(loc=("body", "supervisor_id"), msg="an organization cannot supervise itself")
        await _check_supervisor(session, values["supervisor_id"])
    for key, value in values.items():
        setattr(record, key, value)
    await session.flush()
    await record_event(
        session,
        principal,
        type="organization.updated",
        subject_type="organization",
        subject_id=record.id,
        data={"changed": sorted(values)},
    )
    return record


# --- experts (province only) -------------------------------------------------------------------------------------


async def _check_expert_orgs(session: AsyncSession, values: Mapping[str, Any]) -> None:
    affiliation = values.get("affiliation_org_id")
    if affiliation is not None and await repo.get(session, affiliation) is None:
        raise InvalidReference(loc=("body", "affiliation_org_id"), msg="no such organization")
    conflicts = [uuid.UUID(str(v)) for v in values.get("declared_conflict_org_ids") or []]
    found = await repo.get_many(session, conflicts)
    for index, org_id in enumerate(conflicts):
        if org_id not in found:
            raise InvalidReference(loc=("body", "declared_conflict_org_ids", index), msg="no such organization")


def _expert_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "declared_conflict_org_ids" in values:
        values["declared_conflict_org_ids"] = sorted({str(v) for v in values["declared_conflict_org_ids"] or []})
    return values


async def create_expert(session: AsyncSession, principal: Principal, data: Mapping[str, Any]) -> ExpertRecord:
    await _check_expert_orgs(session, data)
    record = await repo.add_expert(session, ExpertRecord(id=uuid.uuid4(), **_expert_values(data)))
    return record


async def get_expert(session: AsyncSession, expert_id: uuid.UUID) -> ExpertRecord:
    record = await repo.get_expert(session, expert_id)
    if record is None:
        raise NotFound("expert", str(expert_id))
    return record


async def list_experts(
    session: AsyncSession, page: PageRequest, *, category: str | None = None, field: str | None = None
) -> PageResult[ExpertRecord]:
    return await repo.list_experts(session, page, category=category, field=field)


async def update_expert(
    session: AsyncSession, expert_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> ExpertRecord:
    record = await repo.get_expert(session, expert_id, for_update=True)
    if record is None:
        raise NotFound("expert", str(expert_id))
    lifecycle.check_version(expected_version, record.version)
    await _check_expert_orgs(session, changes)
    for key, value in _expert_values(changes).items():
        setattr(record, key, value)
    await session.flush()
    return record
