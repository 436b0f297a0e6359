"""owned questions (issue 13): questions imported or written by an instructor

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:10:00

- question.owner_id: NULL for the public bank synced from questions/; otherwise the instructor who
  imported or wrote the question. Owned ids are namespaced `u<owner_id>-<slug>`.
- question.published: an owned question is seen only by its owner (and admins) until published.

Columns are added in place (no batch mode): question is referenced by other tables, and copying it
would trip the foreign keys once they hold data. SQLite cannot add a constraint to a table in place,
so there owner_id is a plain integer column (the domain sets it from a user it has looked up);
PostgreSQL gets the foreign key.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("question", sa.Column("owner_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key("fk_question_owner_id_user", "question", "user", ["owner_id"], ["id"])
    op.add_column("question", sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_question_owner_id", "question", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_question_owner_id", table_name="question")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_question_owner_id_user", "question", type_="foreignkey")
    op.drop_column("question", "published")
    op.drop_column("question", "owner_id")
