"""course management (issue 12): per-learner overrides, shuffled attempts, removed learners, archived cohorts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:00:00

- assignment.shuffle: each attempt presents the questions, and each question's choices, in an order
  drawn from a seed of its own, stored with the attempt (attempt.layout) so a resume shows the same order.
- assignmentoverride: one learner's extra attempts, later due date or longer time limit.
- enrollment.removed_at: a learner removed from a cohort keeps their attempts, marked as removed.
- cohort.archived_at (read-only, hidden by default) and cohort.join_open (the join code can be disabled).

Columns are added in place (no batch mode): attempt, assignment, cohort and user are referenced by
other tables, and copying them would trip the foreign keys once they hold data.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("assignment", sa.Column("shuffle", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("attempt", sa.Column("layout", sa.JSON(), nullable=True))
    op.add_column("enrollment", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cohort", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cohort", sa.Column("join_open", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "assignmentoverride",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("extra_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_limit_s", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment_id", "user_id"),
    )
    op.create_index("ix_assignmentoverride_assignment_id", "assignmentoverride", ["assignment_id"])


def downgrade() -> None:
    op.drop_index("ix_assignmentoverride_assignment_id", table_name="assignmentoverride")
    op.drop_table("assignmentoverride")
    for table, column in [
        ("cohort", "join_open"),
        ("cohort", "archived_at"),
        ("enrollment", "removed_at"),
        ("attempt", "layout"),
        ("assignment", "shuffle"),
    ]:
        op.drop_column(table, column)
