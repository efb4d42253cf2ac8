"""Periodic assessment (考核评估) and funding (支持)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from app.api import pagination
from app.api.dates import FundingYear
from app.api.deps import (
    ClockDep,
    DocumentPrefixDep,
    IdempotencyDep,
    IfMatchDep,
    Page,
    PageDep,
    PrincipalDep,
    ProvinceDep,
    SessionDep,
    created,
    paginate,
    versioned,
)
from app.api.problems import ProblemError, responses
from app.api.v1.assessments.schemas import (
    CandidateRead,
    CycleCreate,
    CycleRead,
    FinalizeBody,
    FinalizedRead,
    FinalizeRead,
    FundingCreate,
    FundingRead,
    FundingSummary,
    FundingSummaryRow,
    ProposalRead,
    RecordedProposal,
    ResultPut,
    ResultRead,
)
from app.api.v1.common import ActionRead, action_reads
from app.services import assessment_proposals as proposals
from app.services import assessments as service
from app.services import centers as centers_service
from app.services import funding

router = APIRouter(prefix="/assessment-cycles", tags=["assessment"])
funding_router = APIRouter(tags=["funding"])


def _result(entry: object) -> ResultRead:
    out = ResultRead.model_validate(entry, from_attributes=True)
    stored = getattr(entry, "proposal", None)
    out.proposal = None if stored is None else RecordedProposal.model_validate(stored)
    return out


def _cycle(view: service.CycleView) -> CycleRead:
    out = CycleRead.model_validate(view.record, from_attributes=True)
    out.allowed_actions = view.allowed_actions
    out.center_ids = view.center_ids
    return out


@router.post(
    "",
    operation_id="create_assessment_cycle",
    status_code=201,
    response_model=CycleRead,
    responses=responses("not-found", "idempotency-key-reused"),
)
async def create_assessment_cycle(
    body: CycleCreate, request: Request, session: SessionDep, principal: ProvinceDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """Open a 3-year assessment cycle (province); answers with `center_ids`, every center due in it."""
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await service.create_cycle(
        session, principal, body.model_dump(), request.app.state.settings.current_rule_set
    )
    out = _cycle(await service.view_cycle(session, principal, record))
    return await idempotency.respond(
        out, status_code=201, headers=created(out, record.version, f"/api/v1/assessment-cycles/{record.id}")
    )


@router.get("", operation_id="list_assessment_cycles", response_model=Page[CycleRead], responses=responses())
async def list_assessment_cycles(session: SessionDep, principal: PrincipalDep, page: PageDep) -> dict[str, object]:
    """Cycles: the province and observers see all, an agency those entrusted to it."""
    result = await service.list_cycles(session, principal, page)
    views = await service.view_cycles(session, principal, result.items)
    return paginate([_cycle(view) for view in views], result.next_key)


@router.get(
    "/{cycle_id}", operation_id="get_assessment_cycle", response_model=CycleRead, responses=responses("not-found")
)
async def get_assessment_cycle(cycle_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """One cycle with its centers."""
    record = await service.load_cycle(session, principal, cycle_id)
    return versioned(_cycle(await service.view_cycle(session, principal, record)), record.version)


# Not a page: one item per action of the lifecycle's table, a handful whatever the data (issue 12).
@router.get(
    "/{cycle_id}/actions",
    operation_id="list_assessment_cycle_actions",
    response_model=list[ActionRead],
    responses=responses("not-found"),
)
async def list_assessment_cycle_actions(
    cycle_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> list[ActionRead]:
    """Each action of the cycle's lifecycle (`finalize`) for this caller: allowed now, or `blocked_by` — the same
    blockers, codes and texts a finalize without `absent_center_ids` is refused with (`results-missing` lists the
    live centers that have no result yet)."""
    return action_reads(await service.cycle_actions(session, principal, cycle_id))


@router.get(
    "/{cycle_id}/results",
    operation_id="list_assessment_results",
    response_model=Page[ResultRead],
    responses=responses("not-found"),
)
async def list_assessment_results(
    cycle_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> dict[str, object]:
    """Every center's result in the cycle (and its grade once finalized), by center code, a page at a time."""
    after = pagination.decode(cursor, "assessment-results", str)[0] if cursor else None
    entries, next_after = await service.cycle_results(session, principal, cycle_id, after_code=after, limit=limit)
    return pagination.page([_result(entry) for entry in entries], "assessment-results", next_after)


@router.put(
    "/{cycle_id}/results/{center_id}",
    operation_id="put_assessment_result",
    response_model=ResultRead,
    responses=responses("not-found", "invalid-transition", "rule-violation"),
)
async def put_assessment_result(
    cycle_id: uuid.UUID,
    center_id: uuid.UUID,
    body: ResultPut,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> ResultRead:
    """Record a center's result (the province, or the agency the cycle is entrusted to) while the cycle is open.
    With `from_proposal`, the indicators are the assessment scheme's proposal, each adjusted one replaced by the
    evaluator's score with its reason; the result keeps computed and adjusted values (`proposal`)."""
    if body.from_proposal:
        adjustments = {code: (a.score, a.reason) for code, a in (body.adjustments or {}).items()}
        entry = await proposals.put_from_proposal(
            session, principal, cycle_id, center_id, body.score, adjustments, body.rd_investment_reported, clock
        )
    else:
        entry = await service.put_result(
            session, principal, cycle_id, center_id, body.score, body.indicators, body.rd_investment_reported, clock
        )
    return _result(entry)


@router.get(
    "/{cycle_id}/results/{center_id}/proposal",
    operation_id="get_assessment_proposal",
    response_model=ProposalRead,
    responses=responses("not-found"),
)
async def get_assessment_proposal(
    cycle_id: uuid.UUID, center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> ProposalRead:
    """The assessment scheme's proposal for a center of the cycle (the province, or the agency the cycle is
    entrusted to): every indicator's score with its parts, each part with the figures it was computed from (which
    report, which field, which value) and its formula; the weighted total and the grade it implies. It needs, for
    each of the period's three years, an accepted annual report with `figures`, and task-book targets: otherwise
    it is answered with `complete: false`, no scores, and `missing` listing each gap (`no-report`, `not-accepted`,
    `no-figures`, `no-task-book-targets`). The scheme is published at `GET /api/v1/reference/assessment-schemes`."""
    view = await proposals.propose(session, principal, cycle_id, center_id)
    proposal = view.proposal
    return ProposalRead.model_validate(
        {
            "cycle_id": view.cycle.id,
            "center_id": view.center_id,
            "scheme": view.scheme.name,
            "complete": view.complete,
            "missing": proposals.missing_data(view.missing),
            "indicators": [
                {
                    "code": i.code,
                    "weight": i.weight,
                    "score": i.score,
                    "parts": [
                        {
                            "code": p.code,
                            "share": p.share,
                            "value": str(p.value),
                            "score": p.score,
                            "formula": p.formula,
                            "inputs": [
                                {
                                    "report_id": x.report_id,
                                    "period_year": x.period_year,
                                    "field": x.field,
                                    "value": x.value,
                                }
                                for x in p.inputs
                            ],
                        }
                        for p in i.parts
                    ],
                }
                for i in (proposal.indicators if proposal else ())
            ],
            "indicator_values": proposal.indicator_values if proposal else {},
            "score": proposal.score if proposal else None,
            "grade": proposal.grade if proposal else None,
        }
    )


@router.post(
    "/{cycle_id}/finalize",
    operation_id="finalize_assessment_cycle",
    response_model=FinalizeRead,
    responses=responses("not-found", "invalid-transition", "rule-violation", "version-mismatch"),
)
async def finalize_assessment_cycle(
    cycle_id: uuid.UUID,
    session: SessionDep,
    principal: ProvinceDep,
    clock: ClockDep,
    expected_version: IfMatchDep,
    document_prefix: DocumentPrefixDep,
    body: Annotated[FinalizeBody | None, Body()] = None,
) -> FinalizeRead:
    """Assign grades (excellent ≥ 90, good ≥ 70, qualified ≥ 60, unqualified < 60; no R&D investment → unqualified;
    the cycle's excellent cap by rank) and apply the consequences in one transaction (province): unqualified →
    rectifying (with a numbered rectification notice, 整改通知, under the center's documents); unqualified again
    while rectifying → revoked; qualified or better while rectifying → recognized.
    Centers absent without cause are listed in `absent_center_ids` and revoked; only live centers can be absent.
    Centers revoked or exited during the cycle are skipped (`skipped_closed`). Refused with `results-missing` while a
    live center has neither a result nor a declared absence, as `GET …/actions` explains."""
    payload = body or FinalizeBody()
    record, results = await service.finalize(
        session,
        principal,
        cycle_id,
        absent_center_ids=payload.absent_center_ids,
        decided_on=payload.decided_on,
        clock=clock,
        expected_version=expected_version,
        document_prefix=document_prefix,
    )
    cycle = _cycle(await service.view_cycle(session, principal, record))
    return FinalizeRead(cycle=cycle, results=[FinalizedRead.model_validate(r, from_attributes=True) for r in results])


@router.get(
    "/{cycle_id}/national-candidates",
    operation_id="list_national_candidates",
    response_model=Page[CandidateRead],
    responses=responses("not-found"),
)
async def list_national_candidates(
    cycle_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> dict[str, object]:
    """The excellent centers of a finalized cycle, ranked: candidates for recommendation to the national level, by
    rank, a page at a time."""
    after = pagination.decode(cursor, "national-candidates", int)[0] if cursor else 0
    ranked, next_after = await service.national_candidates(session, principal, cycle_id, after_rank=after, limit=limit)
    return pagination.page(
        [
            CandidateRead(rank=rank, center_id=c.id, code=c.code, name=c.name, score=e.score or Decimal(0))
            for rank, e, c in ranked
        ],
        "national-candidates",
        next_after,
    )


@funding_router.post(
    "/centers/{center_id}/funding",
    operation_id="create_funding",
    status_code=201,
    response_model=FundingRead,
    responses=responses("not-found", "rule-violation", "idempotency-key-reused"),
)
async def create_funding(
    center_id: uuid.UUID, body: FundingCreate, session: SessionDep, principal: ProvinceDep, idempotency: IdempotencyDep
) -> JSONResponse:
    """Record funding (province): construction support only during construction; stable support only for a center
    whose latest grade is excellent or good."""
    # Reach before replay: a replay must never answer a caller who could not create here now.
    await centers_service.load(session, principal, center_id)
    if (replay := await idempotency.replay(body)) is not None:
        return replay
    record = await funding.add_funding(session, principal, center_id, body.model_dump())
    return await idempotency.respond(FundingRead.model_validate(record), status_code=201, headers={})


@funding_router.get(
    "/centers/{center_id}/funding",
    operation_id="list_funding",
    response_model=Page[FundingRead],
    responses=responses("not-found"),
)
async def list_funding(
    center_id: uuid.UUID, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> dict[str, object]:
    """The center's funding records, within reach."""
    result = await funding.list_funding(session, principal, center_id, page)
    return paginate([FundingRead.model_validate(r) for r in result.items], result.next_key)


# Not a page: one row per funding kind and field (3 × 9 reference codes), summed in SQL.
@funding_router.get(
    "/funding/summary", operation_id="get_funding_summary", response_model=FundingSummary, responses=responses()
)
async def get_funding_summary(
    session: SessionDep, principal: PrincipalDep, year: Annotated[FundingYear | None, Query()] = None
) -> FundingSummary:
    """Totals by kind and field (万元), within the caller's reach."""
    if principal.role == "expert":
        raise ProblemError("not-found")
    rows = await funding.funding_summary(session, principal, year)
    totals: dict[str, Decimal] = {}
    for kind, _, total, _ in rows:
        totals[kind] = totals.get(kind, Decimal(0)) + total
    return FundingSummary(
        year=year,
        rows=[FundingSummaryRow(kind=k, field=f, total_wan=t, count=n) for k, f, t, n in rows],
        totals_by_kind={k: f"{v:.2f}" for k, v in totals.items()},
    )
