"""reminders: each due or overdue inbox item is announced on the feed once (issue 17 §3)

Revision ID: b7a1c4e9d2f3
Revises: e5d7a3c1b920
Create Date: 2026-12-03 06:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b7a1c4e9d2f3"
down_revision: str | None = "e5d7a3c1b920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("emitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("stage IN ('due', 'overdue')", name=op.f("ck_reminders_stage")),
        sa.PrimaryKeyConstraint("kind", "subject_type", "subject_id", "due_on", "stage", name=op.f("pk_reminders")),
    )


def downgrade() -> None:
    op.drop_table("reminders")
