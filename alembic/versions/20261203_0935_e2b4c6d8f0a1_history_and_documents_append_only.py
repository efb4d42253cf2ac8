"""transitions (every state change's history) and documents (the numbered official documents) become append-only,
as the event feed is: the database itself refuses UPDATE and DELETE

Revision ID: e2b4c6d8f0a1
Revises: e1a7c0de5e90
Create Date: 2026-12-03 09:35:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e2b4c6d8f0a1"
down_revision: str | None = "e1a7c0de5e90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("transitions", "documents")


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION refuse_change_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only();
        """)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS refuse_change_append_only()")
