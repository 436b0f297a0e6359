"""stored attempt totals, per-question item sums and per-learner topic sums

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:40:00

The gradebook, item analysis and topic heatmap used to sum every answer on each request; now an
attempt's total, its answers' item sums and its learner's topic sums are stored as it finishes.
This adds the column and the tables, then fills them from the answers already there.
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

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

    _backfill(op.get_bind())


# The tables as they stand at this revision: a migration must not lean on the app's models, which
# move on with later revisions.
_attempt = sa.table(
    "attempt",
    sa.column("id", sa.Integer),
    sa.column("assignment_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("mode", sa.String),
    sa.column("state", sa.String),
    sa.column("score", sa.Float),
)
_response = sa.table(
    "response",
    sa.column("attempt_id", sa.Integer),
    sa.column("question_id", sa.String),
    sa.column("score", sa.Float),
    sa.column("answer", sa.JSON),
)
_question = sa.table(
    "question", sa.column("id", sa.String), sa.column("type", sa.String), sa.column("topic", sa.String)
)
_listed = sa.table(
    "assignmentquestion", sa.column("assignment_id", sa.Integer), sa.column("question_id", sa.String)
)
_itemsum = sa.table(
    "itemsum",
    *(sa.column(c, sa.Integer) for c in ("assignment_id", "n")),
    sa.column("question_id", sa.String),
    *(sa.column(c, sa.Float) for c in ("sx", "sxx", "sy", "syy", "sxy")),
    sa.column("picks", sa.JSON),
)
_topicsum = sa.table(
    "topicsum",
    sa.column("assignment_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("topic", sa.String),
    sa.column("total", sa.Float),
    sa.column("n", sa.Integer),
)
_CHOICE_TYPES = ("single", "multi", "truefalse")


def _backfill(conn: sa.Connection) -> None:
    """Fill the new column and tables from the answers already stored, as quizapp.item_sums would
    keep them had they existed: finished attempts only; x an answer's score, y the rest of its
    attempt's score; choice counts for choice questions (each entry of a list answer counts)."""
    a, r, q = _attempt, _response, _question
    total = sa.select(sa.func.coalesce(sa.func.sum(r.c.score), 0.0)).where(r.c.attempt_id == a.c.id)
    conn.execute(sa.update(a).where(a.c.state == "finished").values(score=total.scalar_subquery()))

    graded = (
        sa.select()
        .select_from(r)
        .join(a, a.c.id == r.c.attempt_id)
        .where(a.c.mode == "assignment", a.c.state == "finished", a.c.assignment_id.is_not(None))
    )
    x, y = r.c.score, a.c.score - r.c.score
    sums = {
        (aid, qid): {"n": 0, "sx": 0.0, "sxx": 0.0, "sy": 0.0, "syy": 0.0, "sxy": 0.0, "picks": {}}
        for aid, qid in conn.execute(sa.select(_listed.c.assignment_id, _listed.c.question_id))
    }
    grouped = graded.add_columns(
        a.c.assignment_id,
        r.c.question_id,
        sa.func.count(),
        sa.func.sum(x),
        sa.func.sum(x * x),
        sa.func.sum(y),
        sa.func.sum(y * y),
        sa.func.sum(x * y),
    ).group_by(a.c.assignment_id, r.c.question_id)
    for aid, qid, n, *moments in conn.execute(grouped):
        row = sums.setdefault((aid, qid), {"n": 0, "picks": {}})
        row.update(
            n=int(n), **{k: float(v) for k, v in zip(("sx", "sxx", "sy", "syy", "sxy"), moments, strict=True)}
        )
    # json has no equality on PostgreSQL: group choice answers by their text.
    text = sa.cast(r.c.answer, sa.Text)
    picked = (
        graded.add_columns(a.c.assignment_id, r.c.question_id, text, sa.func.count())
        .join(q, q.c.id == r.c.question_id)
        .where(q.c.type.in_(_CHOICE_TYPES))
        .group_by(a.c.assignment_id, r.c.question_id, text)
    )
    for aid, qid, raw, n in conn.execute(picked):
        answer = json.loads(raw) if raw is not None else None
        picks = sums[(aid, qid)]["picks"]
        for choice in [] if answer is None else answer if isinstance(answer, list) else [answer]:
            picks[str(choice)] = picks.get(str(choice), 0) + int(n)
    if sums:
        conn.execute(
            sa.insert(_itemsum), [{"assignment_id": k[0], "question_id": k[1], **v} for k, v in sums.items()]
        )

    per_topic = (
        graded.add_columns(a.c.assignment_id, a.c.user_id, q.c.topic, sa.func.sum(r.c.score), sa.func.count())
        .join(q, q.c.id == r.c.question_id)
        .where(a.c.user_id.is_not(None))
        .group_by(a.c.assignment_id, a.c.user_id, q.c.topic)
    )
    conn.execute(
        sa.insert(_topicsum).from_select(["assignment_id", "user_id", "topic", "total", "n"], per_topic)
    )


def downgrade() -> None:
    op.drop_table("topicsum")
    op.drop_table("itemsum")
    # Not batch mode: on SQLite that copies the table, which foreign keys from response forbid;
    # SQLite has dropped columns in place since 3.35.
    op.drop_column("attempt", "score")
