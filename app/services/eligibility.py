"""Eligibility (建设条件, domain.md §3): the facts of an application gathered for its rule set's pure evaluation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, CallRecord, OrganizationRecord
from app.db.repositories import applications as repo
from app.db.repositories import calls as calls_repo
from app.domain import eligibility as rules
from app.domain.rulesets import get_rule_set


def _profile(org: OrganizationRecord) -> rules.OrgProfile:
    return rules.OrgProfile(
        org_id=str(org.id),
        kind=org.kind,
        is_leading_enterprise=org.is_leading_enterprise,
        registered_on=org.registered_on,
    )


def facts_from(data: Mapping[str, Any]) -> rules.Facts:
    return rules.Facts(
        major_projects=tuple(
            rules.MajorProject(p["name"], p["level"], int(p["year"])) for p in data.get("major_projects", [])
        ),
        platforms=tuple(rules.Platform(p["name"], p["level"], p["field"]) for p in data.get("platforms", [])),
        ip_results_count=int(data.get("ip_results_count", 0)),
        invention_patents=int(data.get("invention_patents", 0)),
        pct_patents=int(data.get("pct_patents", 0)),
        cooperation_mechanism=str(data.get("cooperation_mechanism", "")),
        staff_total=int(data.get("staff_total", 0)),
        rd_staff=int(data.get("rd_staff", 0)),
        high_level_talents=tuple(
            rules.Talent(t["name"], t["level"], t.get("id_number")) for t in data.get("high_level_talents", [])
        ),
        high_level_teams=tuple(rules.Team(t["name"], t["leader"]) for t in data.get("high_level_teams", [])),
        rd_spend_wan=tuple(Decimal(str(v)) for v in data.get("rd_spend_wan", [])),
    )


async def judge(session: AsyncSession, record: ApplicationRecord, judged_on: date) -> rules.Verdict:
    """Evaluate the application against its rule set as of `judged_on`."""
    return (await judge_many(session, [record], judged_on))[record.id]


async def judge_many(
    session: AsyncSession,
    records: Sequence[ApplicationRecord],
    judged_on: date,
    *,
    orgs: tuple[Mapping[uuid.UUID, OrganizationRecord], Mapping[uuid.UUID, list[date]]] | None = None,
    calls: Mapping[uuid.UUID, CallRecord] | None = None,
) -> dict[uuid.UUID, rules.Verdict]:
    """Evaluate many applications at once: one query per kind of fact (organizations with their for-cause
    revocations, calls, the leads' other live applications in those calls), whatever the number of applications.
    `orgs` (from `repo.organizations_with_revocations`) and `calls` the caller has read are not read again."""
    if not records:
        return {}
    participant_ids = {r.id: [uuid.UUID(p["org_id"]) for p in r.participants] for r in records}
    wanted_orgs = {r.lead_org_id for r in records} | {i for ids in participant_ids.values() for i in ids}
    known_orgs, revocations = (dict(orgs[0]), dict(orgs[1])) if orgs is not None else ({}, {})
    if missing := wanted_orgs - known_orgs.keys():
        more_orgs, more_revocations = await repo.organizations_with_revocations(session, missing)
        known_orgs.update(more_orgs)
        revocations.update(more_revocations)
    known_calls = dict(calls or {})
    if missing_calls := {r.call_id for r in records if r.call_id is not None} - known_calls.keys():
        known_calls.update(await calls_repo.get_many(session, missing_calls))
    pairs = {(r.lead_org_id, r.call_id) for r in records if r.call_id is not None and r.call_id in known_calls}
    live = await repo.live_in_calls(session, pairs)
    out = {}
    for record in records:
        lead = known_orgs[record.lead_org_id]  # a foreign key guarantees it
        call = known_calls.get(record.call_id) if record.call_id is not None else None
        others = live.get((record.lead_org_id, call.id), []) if call is not None else []
        inp = rules.EligibilityInput(
            field=record.field,
            formation_mode=record.formation_mode,
            lead=_profile(lead),
            participants=tuple(_profile(known_orgs[i]) for i in participant_ids[record.id] if i in known_orgs),
            facts=facts_from(record.facts),
            judged_on=judged_on,
            call_fields=tuple(call.fields) if call is not None else None,
            call_opens_on=call.opens_on if call is not None else None,
            other_live_applications_in_call=tuple(str(other) for other in others if other != record.id),
            for_cause_revocations_on=tuple(revocations.get(record.lead_org_id, ())),
        )
        out[record.id] = rules.evaluate(get_rule_set(record.rule_set), inp)
    return out
