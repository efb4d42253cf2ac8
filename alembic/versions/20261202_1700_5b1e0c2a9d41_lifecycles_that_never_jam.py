"""lifecycles that never jam: review rounds, resubmission deadlines, extension requests, the accepted state, task
book change requests

Revision ID: 5b1e0c2a9d41
Revises: 872de9637444
Create Date: 2026-12-02 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c2a9d41"
down_revision: str | None = "872de9637444"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CENTER_STATES_OLD = "'approved', 'under_construction', 'acceptance_pending', 'recognized', 'rectifying', 'revoked', 'exited'"
CENTER_STATES_NEW = (
    "'approved', 'under_construction', 'acceptance_pending', 'accepted', 'recognized', 'rectifying', 'revoked', 'exited'"
)
KINDS_OLD = "'name', 'lead_org', 'research_direction', 'director', 'participants'"
KINDS_NEW = "'name', 'lead_org', 'research_direction', 'director', 'participants', 'task_book'"


def _replace_check(name: str, table: str, condition: str) -> None:
    op.drop_constraint(op.f(name), table, type_="check")
    op.create_check_constraint(op.f(name), table, condition)


def upgrade() -> None:
    op.add_column("applications", sa.Column("review_round", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "applications", sa.Column("revised_since_review", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column("applications", sa.Column("resubmit_by", sa.Date(), nullable=True))
    op.add_column("review_scores", sa.Column("round", sa.Integer(), server_default="1", nullable=False))
    op.drop_constraint(op.f("pk_review_scores"), "review_scores", type_="primary")
    op.create_primary_key(op.f("pk_review_scores"), "review_scores", ["application_id", "expert_id", "round"])
    op.add_column("centers", sa.Column("extension_requested_on", sa.Date(), nullable=True))
    op.add_column("centers", sa.Column("extension_requested_months", sa.Integer(), nullable=True))
    op.add_column("centers", sa.Column("task_book_version", sa.Integer(), server_default="1", nullable=False))
    op.add_column("centers", sa.Column("accepted_on", sa.Date(), nullable=True))
    _replace_check("ck_centers_status", "centers", f"status IN ({CENTER_STATES_NEW})")
    _replace_check("ck_change_requests_kind", "change_requests", f"kind IN ({KINDS_NEW})")


def downgrade() -> None:
    op.execute("DELETE FROM change_requests WHERE kind = 'task_book'")
    _replace_check("ck_change_requests_kind", "change_requests", f"kind IN ({KINDS_OLD})")
    # An accepted center was recognized in the old lifecycle's terms.
    op.execute("UPDATE centers SET status = 'recognized' WHERE status = 'accepted'")
    _replace_check("ck_centers_status", "centers", f"status IN ({CENTER_STATES_OLD})")
    op.drop_column("centers", "accepted_on")
    op.drop_column("centers", "task_book_version")
    op.drop_column("centers", "extension_requested_months")
    op.drop_column("centers", "extension_requested_on")
    # One sheet per expert again: keep each expert's latest round.
    op.execute(
        "DELETE FROM review_scores s USING review_scores t WHERE t.application_id = s.application_id "
        "AND t.expert_id = s.expert_id AND t.round > s.round"
    )
    op.drop_constraint(op.f("pk_review_scores"), "review_scores", type_="primary")
    op.create_primary_key(op.f("pk_review_scores"), "review_scores", ["application_id", "expert_id"])
    op.drop_column("review_scores", "round")
    op.drop_column("applications", "resubmit_by")
    op.drop_column("applications", "revised_since_review")
    op.drop_column("applications", "review_round")
