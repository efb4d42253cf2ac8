"""the feed's Merkle tree: stored perfect-subtree hashes for inclusion and consistency proofs (issue 14)

Revision ID: 9c3f1b7e2a10
Revises: 5b1e0c2a9d41
Create Date: 2026-12-02 20:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c3f1b7e2a10"
down_revision: str | None = "5b1e0c2a9d41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_nodes")),
        sa.CheckConstraint("level >= 0 AND level < 64 AND idx >= 0", name=op.f("ck_log_nodes_position")),
        sa.CheckConstraint("octet_length(hash) = 32", name=op.f("ck_log_nodes_sha256")),
    )
    # Like the feed, the tree is append-only: the database refuses UPDATE and DELETE (the feed's own function).
    op.execute("""
        CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes
        FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS log_nodes_append_only ON log_nodes")
    op.drop_table("log_nodes")
