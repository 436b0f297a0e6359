"""instructor fixes (issue 12): blank answers count in the stored sums; cohort names unique per owner

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:45:00

- Item analysis and the topic heatmap read sums stored as attempts finish (revision 0003), which
  left out the questions an attempt presented but the learner left blank, while the attempt's score
  counted them as 0. Now every presented question counts, a blank one with score 0: the sums of the
  attempts already finished are recounted by that rule (downgrade recounts them by the old one).
- A cohort's name was unique across all instructors (and refusing a taken name told one instructor
  of another's cohort); now it is unique per owner: (owner_id, name).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNIQUE_PER_OWNER = "uq_cohort_owner_id_name"


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohort_name"))
        batch_op.create_index(batch_op.f("ix_cohort_name"), ["name"], unique=False)
        # A unique index rather than a table constraint: on SQLite a constraint means rebuilding the
        # table (batch mode copies and drops `cohort`), which the foreign keys from enrollment and
        # assignment refuse while the migration's transaction keeps them on. It refuses the same rows.
        batch_op.create_index(UNIQUE_PER_OWNER, ["owner_id", "name"], unique=True)
    _recount(conn, blanks=True)


def downgrade() -> None:
    conn = op.get_bind()
    _recount(conn, blanks=False)
    with op.batch_alter_table("cohort", schema=None) as batch_op:
        batch_op.drop_index(UNIQUE_PER_OWNER)
        batch_op.drop_index(batch_op.f("ix_cohort_name"))
        # Fails where two owners now share a name: rename one first.
        batch_op.create_index(batch_op.f("ix_cohort_name"), ["name"], unique=True)


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
_MOMENTS = ("sx", "sxx", "sy", "syy", "sxy")


def _recount(conn: sa.Connection, *, blanks: bool) -> None:
    """Refill the attempt totals, item sums and topic sums from the answers, as quizapp.item_sums
    keeps them: finished assignment attempts; x an answer's score, y the rest of its attempt's
    score; choice counts for choice questions. With `blanks`, every question the attempt presented
    (its assignment's list) counts, a blank one as x = 0; without, only the answered ones do (the
    rule before this revision)."""
    a, r, q, aq = _attempt, _response, _question, _listed
    total = sa.select(sa.func.coalesce(sa.func.sum(r.c.score), 0.0)).where(r.c.attempt_id == a.c.id)
    conn.execute(sa.update(a).where(a.c.state == "finished").values(score=total.scalar_subquery()))

    finished = (a.c.mode == "assignment", a.c.state == "finished", a.c.assignment_id.is_not(None))
    if blanks:
        rows = (
            sa.select()
            .select_from(a)
            .join(aq, aq.c.assignment_id == a.c.assignment_id)
            .outerjoin(r, (r.c.attempt_id == a.c.id) & (r.c.question_id == aq.c.question_id))
            .where(*finished)
        )
        qid = aq.c.question_id
        x = sa.func.coalesce(r.c.score, 0.0)
    else:
        rows = sa.select().select_from(r).join(a, a.c.id == r.c.attempt_id).where(*finished)
        qid = r.c.question_id
        x = r.c.score
    y = a.c.score - x

    sums = {
        (aid, question): {"n": 0, "picks": {}, **dict.fromkeys(_MOMENTS, 0.0)}
        for aid, question in conn.execute(sa.select(aq.c.assignment_id, aq.c.question_id))
    }
    grouped = rows.add_columns(
        a.c.assignment_id,
        qid,
        sa.func.count(),
        sa.func.sum(x),
        sa.func.sum(x * x),
        sa.func.sum(y),
        sa.func.sum(y * y),
        sa.func.sum(x * y),
    ).group_by(a.c.assignment_id, qid)
    for aid, question, n, *moments in conn.execute(grouped):
        row = sums.setdefault((aid, question), {"n": 0, "picks": {}})
        row.update(n=int(n), **{k: float(v) for k, v in zip(_MOMENTS, moments, strict=True)})
    # json has no equality on PostgreSQL: group choice answers by their text. Blanks pick nothing.
    text = sa.cast(r.c.answer, sa.Text)
    picked = (
        rows.add_columns(a.c.assignment_id, qid, text, sa.func.count())
        .join(q, q.c.id == qid)
        .where(q.c.type.in_(_CHOICE_TYPES), r.c.attempt_id.is_not(None))
        .group_by(a.c.assignment_id, qid, text)
    )
    for aid, question, raw, n in conn.execute(picked):
        answer = json.loads(raw) if raw is not None else None
        picks = sums[(aid, question)]["picks"]
        for choice in [] if answer is None else answer if isinstance(answer, list) else [answer]:
            picks[str(choice)] = picks.get(str(choice), 0) + int(n)
    conn.execute(sa.delete(_itemsum))
    if sums:
        conn.execute(
            sa.insert(_itemsum),
            [{"assignment_id": k[0], "question_id": k[1], **v} for k, v in sums.items()],
        )

    per_topic = (
        rows.add_columns(a.c.assignment_id, a.c.user_id, q.c.topic, sa.func.sum(x), sa.func.count())
        .join(q, q.c.id == qid)
        .where(a.c.user_id.is_not(None))
        .group_by(a.c.assignment_id, a.c.user_id, q.c.topic)
    )
    conn.execute(sa.delete(_topicsum))
    conn.execute(
        sa.insert(_topicsum).from_select(["assignment_id", "user_id", "topic", "total", "n"], per_topic)
    )
