"""Eligibility (建设条件, domain.md §3): the facts of an application gathered for its rule set's pure evaluation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApplicationRecord, CallRecord, OrganizationRecord
from app.db.repositories import applications as repo
from app.db.repositories import calls as calls_repo
from app.db.repositories import organizations as orgs_repo
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
    lead = await orgs_repo.get(session, record.lead_org_id)
    assert lead is not None  # a foreign key guarantees it
    participant_ids = [uuid.UUID(p["org_id"]) for p in record.participants]
    found = await orgs_repo.get_many(session, participant_ids)
    call: CallRecord | None = await calls_repo.get(session, record.call_id) if record.call_id else None
    others: list[uuid.UUID] = []
    if call is not None:
        others = await repo.other_live_in_call(
            session, lead_org_id=record.lead_org_id, call_id=call.id, except_id=record.id
        )
    revocations = await repo.for_cause_revocations(session, record.lead_org_id)
    inp = rules.EligibilityInput(
        field=record.field,
        formation_mode=record.formation_mode,
        lead=_profile(lead),
        participants=tuple(_profile(found[i]) for i in participant_ids if i in found),
        facts=facts_from(record.facts),
        judged_on=judged_on,
        call_fields=tuple(call.fields) if call is not None else None,
        call_opens_on=call.opens_on if call is not None else None,
        other_live_applications_in_call=tuple(str(other) for other in others),
        for_cause_revocations_on=tuple(c.revoked_on for c in revocations if c.revoked_on is not None),
    )
    return rules.evaluate(get_rule_set(record.rule_set), inp)
