"""structured annual-report figures and results recorded from an assessment scheme's proposal (issue 17 §2)

Revision ID: f6a1c2d3e4b5
Revises: 9c3f1b7e2a10
Create Date: 2026-12-03 06:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f6a1c2d3e4b5"
down_revision: str | None = "9c3f1b7e2a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both nullable: reports filed before figures existed, and results typed in by hand, stay as they are.
    op.add_column("annual_reports", sa.Column("figures", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("assessment_entries", sa.Column("proposal", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("assessment_entries", "proposal")
    op.drop_column("annual_reports", "figures")
