"""attachments (content-addressed documents of applications and centers) and the formal review (形式审查) with the
application's new `incomplete` state (issue 16 §1-2)

Revision ID: a1f0c3d5e7b9
Revises: c3a1d2e4f6b8
Create Date: 2026-12-03 06:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "a1f0c3d5e7b9"
down_revision: str | None = "c3a1d2e4f6b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPLICATION_STATES_OLD = (
    "'draft', 'submitted', 'returned', 'recommended', 'not_recommended', 'withdrawn', 'under_review', 'reviewed', "
    "'revising', 'approved', 'rejected'"
)
APPLICATION_STATES_NEW = (
    "'draft', 'submitted', 'returned', 'recommended', 'incomplete', 'not_recommended', 'withdrawn', 'under_review', "
    "'reviewed', 'revising', 'approved', 'rejected'"
)
KINDS = (
    "'audit_report', 'rd_audit', 'patent_certificate', 'talent_proof', 'integrity_pledge', 'construction_plan_pdf', "
    "'acceptance_report', 'annual_report', 'task_book', 'change_request', 'objection', 'other'"
)
MEDIA_TYPES = (
    "'application/pdf', 'image/png', 'image/jpeg', 'application/ofd', "
    "'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', "
    "'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/zip'"
)


def _replace_check(name: str, table: str, condition: str) -> None:
    op.drop_constraint(op.f(name), table, type_="check")
    op.create_check_constraint(op.f(name), table, condition)


def upgrade() -> None:
    _replace_check("ck_applications_status", "applications", f"status IN ({APPLICATION_STATES_NEW})")
    op.add_column("applications", sa.Column("submitted_attachments", postgresql.JSONB(), nullable=True))
    op.add_column("applications", sa.Column("formal_review_outcome", sa.String(length=16), nullable=True))
    op.create_check_constraint(
        op.f("ck_applications_formal_review_outcome"),
        "applications",
        "formal_review_outcome IS NULL OR formal_review_outcome IN ('complete', 'incomplete')",
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploader_role", sa.String(length=32), nullable=False),
        sa.Column("uploader_org_id", sa.UUID(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("subject_type IN ('application', 'center')", name=op.f("ck_attachments_subject_type")),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_attachments_kind")),
        sa.CheckConstraint(f"media_type IN ({MEDIA_TYPES})", name=op.f("ck_attachments_media_type")),
        sa.CheckConstraint("size > 0", name=op.f("ck_attachments_size")),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_attachments_sha256")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_sha256"), "attachments", ["sha256"], unique=False)
    op.create_index(
        "ix_attachments_subject", "attachments", ["subject_type", "subject_id", "uploaded_at", "id"], unique=False
    )
    op.create_table(
        "formal_reviews",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("verdicts", postgresql.JSONB(), nullable=False),
        sa.Column("missing", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attachments", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("outcome IN ('complete', 'incomplete')", name=op.f("ck_formal_reviews_outcome")),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_formal_reviews_application_id_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_formal_reviews")),
    )
    op.create_index(
        "ix_formal_reviews_application_recorded_at",
        "formal_reviews",
        ["application_id", "recorded_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_formal_reviews_application_recorded_at", table_name="formal_reviews")
    op.drop_table("formal_reviews")
    op.drop_index("ix_attachments_subject", table_name="attachments")
    op.drop_index(op.f("ix_attachments_sha256"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_constraint(op.f("ck_applications_formal_review_outcome"), "applications", type_="check")
    op.drop_column("applications", "formal_review_outcome")
    op.drop_column("applications", "submitted_attachments")
    # An application awaiting completed material goes back to awaiting the province's decision.
    op.execute("UPDATE applications SET status = 'recommended' WHERE status = 'incomplete'")
    _replace_check("ck_applications_status", "applications", f"status IN ({APPLICATION_STATES_OLD})")
