"""stored attempt totals, per-question item sums and per-learner topic sums

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:40:00

The gradebook, item analysis and topic heatmap used to sum every answer on each request; now an
attempt's total, its answers' item sums and its learner's topic sums are stored as it finishes.
This adds the column and the tables, then fills them from the answers already there.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlmodel import Session

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attempt", sa.Column("score", sa.Float(), nullable=True))

    op.create_table(
        "itemsum",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sx", sa.Float(), nullable=False),
        sa.Column("sxx", sa.Float(), nullable=False),
        sa.Column("sy", sa.Float(), nullable=False),
        sa.Column("syy", sa.Float(), nullable=False),
        sa.Column("sxy", sa.Float(), nullable=False),
        sa.Column("picks", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.PrimaryKeyConstraint("assignment_id", "question_id"),
    )

    op.create_table(
        "topicsum",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("assignment_id", "user_id", "topic"),
    )

    # Fill them from the answers already stored (the same code the sample data uses).
    from quizapp import item_sums

    with Session(bind=op.get_bind()) as session:
        item_sums.rebuild(session)


def downgrade() -> None:
    op.drop_table("topicsum")
    op.drop_table("itemsum")
    # Not batch mode: on SQLite that copies the table, which foreign keys from response forbid;
    # SQLite has dropped columns in place since 3.35.
    op.drop_column("attempt", "score")
