"""ORM records. Enums are stored as text with check constraints built from the domain's code tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.domain import attachments as attachment_rules
from app.domain import lifecycles, publicity, reference
from app.domain.centers import CHANGE_KINDS
from app.domain.documents import KINDS as DOCUMENT_KINDS
from app.domain.rulesets import RULE_SETS


def _in(column: str, values: tuple[str, ...] | list[str]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _updated() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)


class VersionedMixin:
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class OrganizationRecord(VersionedMixin, Base):
    __tablename__ = "organizations"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    credit_code: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    region: Mapped[str | None] = mapped_column(String(100))
    supervisor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    is_leading_enterprise: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    zones: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    registered_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (CheckConstraint(_in("kind", reference.codes(reference.ORG_KINDS)), name="kind"),)


class ExpertRecord(VersionedMixin, Base):
    __tablename__ = "experts"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    fields: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    affiliation_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    declared_conflict_org_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    region: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    # Conflicts the expert declared (issue 17 §1): [{id, org_id, kind, until, note, declared_at}], at most 100. Kept
    # on the row so that every panel check reads them with the expert, in the same query.
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (CheckConstraint(_in("category", reference.codes(reference.EXPERT_CATEGORIES)), name="category"),)


class CallRecord(VersionedMixin, Base):
    __tablename__ = "calls"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    fields: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    opens_on: Mapped[date] = mapped_column(Date, nullable=False)
    closes_on: Mapped[date] = mapped_column(Date, nullable=False)
    rule_set: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="draft")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint("opens_on <= closes_on", name="window"),
        CheckConstraint(_in("status", lifecycles.CALL.states), name="status"),
        CheckConstraint(_in("rule_set", sorted(RULE_SETS)), name="rule_set"),
    )


class ApplicationRecord(VersionedMixin, Base):
    __tablename__ = "applications"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id"), index=True)
    fast_track: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    fast_track_basis: Mapped[str | None] = mapped_column(Text)
    proposed_name: Mapped[str] = mapped_column(String(200), nullable=False)
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    formation_mode: Mapped[str] = mapped_column(String(32), nullable=False)
    lead_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    zones: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    rule_set: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="draft")
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_concluded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    aggregate_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    review_passed: Mapped[bool | None] = mapped_column(Boolean)
    # Review rounds: a failed or revised application may be reviewed once more (issue 11 §3.8).
    review_round: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    revised_since_review: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    # Set by a supervisor's return: the applicant may resubmit until then even after the call closes.
    resubmit_by: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date)
    document_no: Mapped[str | None] = mapped_column(String(100))
    center_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Set when a review opens: the last day the panel may score (TIC_SCORE_DAYS after opening, issue 17 §1).
    scores_due_on: Mapped[date | None] = mapped_column(Date)
    # The attachments the current submission was judged on ({id, kind, sha256, size}), frozen by `submit`, and the
    # outcome of the formal review of that submission (None until one is recorded; reset by each submission).
    submitted_attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    formal_review_outcome: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint(_in("status", lifecycles.APPLICATION.states), name="status"),
        CheckConstraint(
            "formal_review_outcome IS NULL OR " + _in("formal_review_outcome", attachment_rules.OUTCOMES),
            name="formal_review_outcome",
        ),
        CheckConstraint(_in("field", reference.codes(reference.FIELDS)), name="field"),
        CheckConstraint(_in("formation_mode", reference.codes(reference.FORMATION_MODES)), name="formation_mode"),
        CheckConstraint("fast_track OR call_id IS NOT NULL", name="call_or_fast_track"),
        CheckConstraint("NOT fast_track OR fast_track_basis IS NOT NULL", name="fast_track_basis"),
        Index("ix_applications_created_at_id", "created_at", "id"),
    )


class AttachmentRecord(Base):
    """A document attached to an application or a center. The bytes live in the object store under their SHA-256
    (app/services/storage.py), so the same file attached twice is one object and two rows."""

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = _pk()
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    uploader_role: Mapped[str] = mapped_column(String(32), nullable=False)
    uploader_org_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    uploaded_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint(_in("subject_type", attachment_rules.SUBJECTS), name="subject_type"),
        CheckConstraint(_in("kind", tuple(attachment_rules.KINDS)), name="kind"),
        CheckConstraint(_in("media_type", attachment_rules.ALLOWED_MEDIA_TYPES), name="media_type"),
        CheckConstraint("size > 0", name="size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
        Index("ix_attachments_subject", "subject_type", "subject_id", "uploaded_at", "id"),
    )


class FormalReviewRecord(Base):
    """One formal review (形式审查) of an application's submission: the verdict per rule, the outcome and what was
    missing. Kept, not overwritten: the application's history of returns for incomplete material."""

    __tablename__ = "formal_reviews"

    # Numbered in recording order: the latest review is the highest id, even within one transaction.
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    verdicts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    missing: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint(_in("outcome", attachment_rules.OUTCOMES), name="outcome"),
        Index("ix_formal_reviews_application_recorded_at", "application_id", "recorded_at"),
    )


class TransitionRecord(Base):
    """History of every lifecycle transition, for every kind of subject."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_sub: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    decision_date: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    occurred_at: Mapped[datetime] = _created()

    __table_args__ = (Index("ix_transitions_subject", "subject_type", "subject_id", "id"),)


class PanelMemberRecord(Base):
    __tablename__ = "panel_members"

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experts.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # A drawn member is invited until they accept; a member set by hand (PUT panel) counts as accepted.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="accepted", server_default="accepted")
    reply_by: Mapped[date | None] = mapped_column(Date)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("status IN ('invited', 'accepted')", name="status"),)


class PanelDrawRecord(Base):
    """One random draw of an application's panel (issue 17 §1): the seed, its hash, the pool snapshot under
    pseudonyms, the result and the backups still to call on. The newest draw of an application is its current one."""

    __tablename__ = "panel_draws"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[str] = mapped_column(String(64), nullable=False)
    seed_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    pool_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    pool: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    # {pseudonym: expert id}: the province's key to the snapshot; never shown to anyone else.
    refs: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False)
    members: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    backups: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    # Backups already called in, and every replacement: [{ref, cause, replaced_by, on, reason}].
    backups_used: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    replacements: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (Index("ix_panel_draws_application_id_created_at", "application_id", "created_at"),)


class ReviewScoreRecord(Base):
    __tablename__ = "review_scores"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("experts.id"), primary_key=True)
    # Each review round has its own sheets; only the current round's count.
    round: Mapped[int] = mapped_column(Integer, primary_key=True, default=1, server_default="1")
    criteria: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False)
    total: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    opinion: Mapped[str] = mapped_column(Text, nullable=False)
    support: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class SiteVisitRecord(Base):
    __tablename__ = "site_visits"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False, index=True
    )
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    members: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    findings: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class CenterRecord(VersionedMixin, Base):
    __tablename__ = "centers"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    lead_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id"), unique=True)
    rule_set: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="approved")
    approved_on: Mapped[date] = mapped_column(Date, nullable=False)
    approval_document_no: Mapped[str] = mapped_column(String(100), nullable=False)
    construction_starts_on: Mapped[date | None] = mapped_column(Date)
    construction_ends_on: Mapped[date | None] = mapped_column(Date)
    legal_entity: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=lambda: {"status": "none", "kind": None, "credit_code": None}
    )
    governance: Mapped[dict[str, Any]] = mapped_column(
        JSONB,
        nullable=False,
        default=lambda: {"board": [], "director": None, "expert_committee": [], "technical_committee": []},
    )
    research_direction: Mapped[str | None] = mapped_column(Text)
    task_book: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    task_book_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    task_book_sha256: Mapped[str | None] = mapped_column(String(64))
    extension_months: Mapped[int | None] = mapped_column(Integer)
    # A pending extension request (the lead asks before construction ends; the province decides).
    extension_requested_on: Mapped[date | None] = mapped_column(Date)
    extension_requested_months: Mapped[int | None] = mapped_column(Integer)
    task_book_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    acceptance_agency_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    acceptance_requested_on: Mapped[date | None] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    acceptance_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    rectifying_kind: Mapped[str | None] = mapped_column(String(32))
    rectification_due_on: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(32))
    graded_in_cycle_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    grade_history: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list, server_default="[]"
    )
    last_assessed_on: Mapped[date | None] = mapped_column(Date)
    recognized_on: Mapped[date | None] = mapped_column(Date)
    recognition_no: Mapped[str | None] = mapped_column(String(64))
    # The number of the recognition's document (认定文件): issued by the register or given (externally issued).
    recognition_document_no: Mapped[str | None] = mapped_column(String(100))
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revocation_reason_code: Mapped[str | None] = mapped_column(String(32))
    exit_requested_on: Mapped[date | None] = mapped_column(Date)
    exited_on: Mapped[date | None] = mapped_column(Date)
    imported: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint(_in("status", lifecycles.CENTER.states), name="status"),
        CheckConstraint(_in("field", reference.codes(reference.FIELDS)), name="field"),
        CheckConstraint(
            "revocation_reason_code IS NULL OR "
            + _in("revocation_reason_code", reference.codes(reference.REVOCATION_REASONS)),
            name="revocation_reason_code",
        ),
        CheckConstraint(
            "rectifying_kind IS NULL OR rectifying_kind IN ('acceptance', 'assessment')", name="rectifying_kind"
        ),
        Index("ix_centers_created_at_id", "created_at", "id"),
    )


class AnnualReportRecord(VersionedMixin, Base):
    """年度工作总结和计划: a summary of `period_year` and the plan for the next, due 31 January of period_year + 1."""

    __tablename__ = "annual_reports"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centers.id"), nullable=False, index=True)
    period_year: Mapped[int] = mapped_column(Integer, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    kpi_actuals: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Structured figures of the year (app/domain/annual_figures.py); null for a report filed without them.
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    plan_next_year: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="draft")
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        UniqueConstraint("center_id", "period_year", name="uq_annual_reports_center_period"),
        CheckConstraint(_in("status", lifecycles.ANNUAL_REPORT.states), name="status"),
        Index("ix_annual_reports_created_at_id", "created_at", "id"),
    )


class ChangeRequestRecord(VersionedMixin, Base):
    """变更: name, lead, research direction need the province's approval; director and participants are filings."""

    __tablename__ = "change_requests"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    new_value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    old_value: Mapped[Any | None] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="filed")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint(_in("status", lifecycles.CHANGE_REQUEST.states), name="status"),
        CheckConstraint(_in("kind", CHANGE_KINDS), name="kind"),
        Index("ix_change_requests_created_at_id", "created_at", "id"),
    )


class AssessmentCycleRecord(VersionedMixin, Base):
    """考核周期: every recognized center is assessed once per 3-year cycle."""

    __tablename__ = "assessment_cycles"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    period_start_year: Mapped[int] = mapped_column(Integer, nullable=False)
    period_end_year: Mapped[int] = mapped_column(Integer, nullable=False)
    max_excellent_ratio: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    entrusted_to_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    rule_set: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="open")
    decided_on: Mapped[date | None] = mapped_column(Date)
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint("status IN ('open', 'finalized')", name="status"),
        CheckConstraint("period_end_year = period_start_year + 2", name="three_years"),
        CheckConstraint(
            "max_excellent_ratio IS NULL OR (max_excellent_ratio >= 0 AND max_excellent_ratio <= 1)", name="ratio"
        ),
        Index("ix_assessment_cycles_created_at_id", "created_at", "id"),
    )


class AssessmentEntryRecord(Base):
    """One center in one cycle: its result, and after finalizing its grade and consequence."""

    __tablename__ = "assessment_entries"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    cycle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment_cycles.id", ondelete="CASCADE"), primary_key=True
    )
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centers.id"), primary_key=True, index=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    indicators: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    rd_investment_reported: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grade: Mapped[str | None] = mapped_column(String(32))
    consequence: Mapped[str | None] = mapped_column(String(64))
    absent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")
    # A result recorded from the scheme's proposal: {scheme, computed: {indicator: score}, adjustments: {indicator:
    # {computed, adjusted, reason}}}; null for a result typed in by hand.
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class FundingRecord(Base):
    """Funding decisions: construction support, post-subsidy (后补助), stable support (稳定支持)."""

    __tablename__ = "funding"
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centers.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    amount_wan: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    decision_ref: Mapped[str] = mapped_column(String(200), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint("kind IN ('construction', 'post_subsidy', 'stable_support')", name="kind"),
        CheckConstraint("amount_wan > 0", name="amount_positive"),
        Index("ix_funding_created_at_id", "created_at", "id"),
    )


class EventRecord(Base):
    """The append-only, hash-chained event feed. UPDATE and DELETE are refused by a trigger."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    actor_sub: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    effective_on: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class EventQueueRecord(Base):
    """Events of committed transitions not yet sequenced into the feed (issue 14). A writer inserts here in its own
    transaction, with no lock shared with other writers; the sequencer moves rows in `id` order into `events`,
    chaining them, and deletes them in the same transaction. `id` is the append order, not a feed `seq`."""

    __tablename__ = "event_queue"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    actor_sub: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    effective_on: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class LogNodeRecord(Base):
    """The feed's Merkle tree (RFC 9162): the hash of every perfect subtree, node (level, index) covering events
    [index·2^level + 1, (index+1)·2^level] by seq. Append-only like the feed, enforced by a trigger."""

    __tablename__ = "log_nodes"
    __table_args__ = (
        CheckConstraint("level >= 0 AND level < 64 AND idx >= 0", name="position"),
        CheckConstraint("octet_length(hash) = 32", name="sha256"),
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class IdempotencyKeyRecord(Base):
    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created()


__all__ = [
    "ApplicationRecord",
    "CallRecord",
    "CenterRecord",
    "EventRecord",
    "ExpertRecord",
    "IdempotencyKeyRecord",
    "OrganizationRecord",
    "PanelDrawRecord",
    "PanelMemberRecord",
    "ReviewScoreRecord",
    "SiteVisitRecord",
    "TransitionRecord",
]


# --- webhooks (issue 7): subscriptions to the feed and their delivery log ------------------------------------------

WEBHOOK_DELIVERY_STATUSES = ("pending", "succeeded", "failed", "cancelled")


class WebhookRecord(VersionedMixin, Base):
    """A province subscription to the event feed. `cursor_seq` is the last feed seq dispatched; the dispatcher moves
    it with a plain UPDATE (no version bump), so a client's ETag changes only when the client changes something."""

    __tablename__ = "webhooks"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    # Empty means every event type.
    event_types: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    # Kept in clear because signing needs it; it never leaves the service after the creating response.
    secret: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    cursor_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint("cursor_seq >= 0", name="cursor_seq"),
        Index("ix_webhooks_created_at_id", "created_at", "id"),
    )


class WebhookDeliveryRecord(Base):
    """One feed event for one webhook. The unique (webhook_id, event_seq) makes a second delivery row impossible,
    however many dispatchers run."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = _pk()
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id"), nullable=False)
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq"), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # clock_timestamp(), not now(): rows inserted by one dispatch keep their seq order in the (created_at, id) log.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), nullable=False
    )

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_seq"),
        CheckConstraint(_in("status", WEBHOOK_DELIVERY_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_webhook_deliveries_webhook_id_created_at_id", "webhook_id", "created_at", "id"),
    )


# --- reminders (issue 17 §3): each due or overdue inbox item is announced on the feed once -------------------------

REMINDER_STAGES = ("due", "overdue")


class ReminderRecord(Base):
    """One reminder emitted: the primary key is what makes it once. The worker inserts with ON CONFLICT DO NOTHING in
    the transaction that appends the `reminder.<stage>` event, so however many workers run, and across restarts,
    only the one that inserted the row emits the event."""

    __tablename__ = "reminders"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    emitted_at: Mapped[datetime] = _created()

    __table_args__ = (CheckConstraint(_in("stage", REMINDER_STAGES), name="stage"),)


class DocumentCounterRecord(Base):
    """The document number register: the last number issued per (prefix, year). Incremented in the issuing
    transaction (the row stays locked until it ends), so numbers follow one another without gaps and a rolled-back
    decision gives its number back."""

    __tablename__ = "document_counters"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (CheckConstraint("last_no >= 1", name="last_no"),)


class DocumentRecord(Base):
    """An issued official document (批复, 认定, 整改通知, 撤销): its number, date, subject and the canonical content
    of the decision with its SHA-256 (the digest the transition's feed event records). Never changed once issued."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = _pk()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    number: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    # The register's N for a number it issued; NULL for an externally issued number.
    seq: Mapped[int | None] = mapped_column(Integer)
    external: Mapped[bool] = mapped_column(Boolean, nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    subject_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    subject_name: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    # Where the document is listed: an approval under its application and the center it creates.
    application_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id"))
    center_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("centers.id"))
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # clock_timestamp(), not now(): documents issued in one transaction (an assessment cycle) keep their order.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(_in("kind", list(DOCUMENT_KINDS)), name="kind"),
        CheckConstraint("subject_type IN ('application', 'center')", name="subject_type"),
        CheckConstraint("seq IS NULL OR seq >= 1", name="seq"),
        CheckConstraint("external = (seq IS NULL)", name="external"),
        Index("ix_documents_application_id_created_at_id", "application_id", "created_at", "id"),
        Index("ix_documents_center_id_created_at_id", "center_id", "created_at", "id"),
    )


class PublicityNoticeRecord(VersionedMixin, Base):
    """公示: a list the province intends to approve (拟支持名单) or recognize (拟认定名单), published for a number of
    working days on the official PRC calendar (issue 16 §3)."""

    __tablename__ = "publicity_notices"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    working_days: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint(_in("kind", publicity.KINDS), name="kind"),
        CheckConstraint("ends_on >= starts_on", name="period"),
        CheckConstraint("working_days BETWEEN 1 AND 30", name="working_days"),
        Index("ix_publicity_notices_created_at_id", "created_at", "id"),
    )


class PublicitySubjectRecord(Base):
    """One entry of a notice, as published: the name, lead organization and field are copied when it is published,
    so the notice keeps saying what it said."""

    __tablename__ = "publicity_subjects"

    notice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publicity_notices.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    lead_org_name: Mapped[str] = mapped_column(String(200), nullable=False)
    field: Mapped[str] = mapped_column(String(64), nullable=False)


class PublicityObjectionRecord(VersionedMixin, Base):
    """异议 against one subject of a notice, recorded by the province on behalf of the objector. The objector's name
    and contact are read by the province only, never written to the feed."""

    __tablename__ = "publicity_objections"
    __mapper_args__ = {"version_id_col": VersionedMixin.version, "eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = _pk()
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("publicity_notices.id"), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    objector_name: Mapped[str] = mapped_column(String(200), nullable=False)
    objector_contact: Mapped[str] = mapped_column(String(200), nullable=False)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()

    __table_args__ = (
        CheckConstraint(_in("status", publicity.OBJECTION_STATUSES), name="status"),
        Index("ix_publicity_objections_notice_subject", "notice_id", "subject_id"),
        Index("ix_publicity_objections_notice_created_at_id", "notice_id", "created_at", "id"),
    )
