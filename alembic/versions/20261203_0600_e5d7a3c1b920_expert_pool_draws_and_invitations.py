"""expert pool draws and invitations (issue 17 §1): experts' region, active flag and declared conflicts; panel
members' invitation status and reply deadline; the scoring deadline; reproducible panel draws

Revision ID: e5d7a3c1b920
Revises: f6a1c2d3e4b5
Create Date: 2026-12-03 06:02:53+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e5d7a3c1b920"
down_revision: str | None = "f6a1c2d3e4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panel_draws",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("seed_hash", sa.String(length=64), nullable=False),
        sa.Column("pool_digest", sa.String(length=64), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pool", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("refs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("members", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("backups", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("backups_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("replacements", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_panel_draws_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_draws")),
    )
    op.create_index(
        "ix_panel_draws_application_id_created_at", "panel_draws", ["application_id", "created_at"], unique=False
    )
    op.add_column("applications", sa.Column("scores_due_on", sa.Date(), nullable=True))
    op.add_column("experts", sa.Column("region", sa.String(length=100), nullable=True))
    op.add_column("experts", sa.Column("active", sa.Boolean(), server_default="true", nullable=False))
    op.add_column(
        "experts",
        sa.Column("conflicts", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
    )
    # Existing members were set by hand: they count as accepted.
    op.add_column("panel_members", sa.Column("status", sa.String(length=16), server_default="accepted", nullable=False))
    op.add_column("panel_members", sa.Column("reply_by", sa.Date(), nullable=True))
    op.add_column("panel_members", sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(op.f("ck_panel_members_status"), "panel_members", "status IN ('invited', 'accepted')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_panel_members_status"), "panel_members", type_="check")
    op.drop_column("panel_members", "responded_at")
    op.drop_column("panel_members", "reply_by")
    op.drop_column("panel_members", "status")
    op.drop_column("experts", "conflicts")
    op.drop_column("experts", "active")
    op.drop_column("experts", "region")
    op.drop_column("applications", "scores_due_on")
    op.drop_index("ix_panel_draws_application_id_created_at", table_name="panel_draws")
    op.drop_table("panel_draws")
