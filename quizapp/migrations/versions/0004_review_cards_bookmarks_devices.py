"""review cards and log (FSRS), learner settings, bookmarks, anonymous devices, resumable sittings

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:40:00

Attempts that exist already are marked as applied: spaced review starts from the answers given after
this revision, and no history is replayed.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anondevice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("anon_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adopted_by"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("anondevice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anondevice_anon_key"), ["anon_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_anondevice_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "bookmark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("anon_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("anon_key", "question_id"),
        sa.UniqueConstraint("user_id", "question_id"),
    )
    with op.batch_alter_table("bookmark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookmark_anon_key"), ["anon_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookmark_user_id"), ["user_id"], unique=False)

    op.create_table(
        "learnersettings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("anon_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("new_per_day", sa.Integer(), nullable=False),
        sa.Column("reviews_per_day", sa.Integer(), nullable=False),
        sa.Column("desired_retention", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("anon_key"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "reviewcard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("anon_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("stability", sa.Float(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_review", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("anon_key", "question_id"),
        sa.UniqueConstraint("user_id", "question_id"),
    )
    with op.batch_alter_table("reviewcard", schema=None) as batch_op:
        batch_op.create_index("ix_reviewcard_anon_due", ["anon_key", "due"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviewcard_question_id"), ["question_id"], unique=False)
        batch_op.create_index("ix_reviewcard_user_due", ["user_id", "due"], unique=False)

    op.create_table(
        "reviewlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("anon_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("state_before", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("due_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stability_after", sa.Float(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["reviewcard.id"],
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id"),
    )
    with op.batch_alter_table("reviewlog", schema=None) as batch_op:
        batch_op.create_index("ix_reviewlog_anon_time", ["anon_key", "reviewed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviewlog_card_id"), ["card_id"], unique=False)
        batch_op.create_index("ix_reviewlog_user_time", ["user_id", "reviewed_at"], unique=False)

    op.create_index("ix_question_deck", "question", ["active", "kind", "difficulty", "topic", "id"])
    # Plain ADD COLUMN on both engines: batch mode would copy the attempt table on SQLite, which the
    # answers' foreign keys refuse once there is data.
    op.add_column("attempt", sa.Column("plan", sa.JSON(), nullable=True))
    op.add_column("attempt", sa.Column("cards_applied", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE attempt SET cards_applied = :t").bindparams(t=True))


def downgrade() -> None:
    op.drop_index("ix_question_deck", table_name="question")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a plain column in place; batch mode would copy the table, and with
        # foreign keys on, the answers that point at attempts refuse the old table's DROP.
        op.execute("ALTER TABLE attempt DROP COLUMN cards_applied")
        op.execute("ALTER TABLE attempt DROP COLUMN plan")
    else:
        op.drop_column("attempt", "cards_applied")
        op.drop_column("attempt", "plan")

    with op.batch_alter_table("reviewlog", schema=None) as batch_op:
        batch_op.drop_index("ix_reviewlog_user_time")
        batch_op.drop_index(batch_op.f("ix_reviewlog_card_id"))
        batch_op.drop_index("ix_reviewlog_anon_time")

    op.drop_table("reviewlog")
    with op.batch_alter_table("reviewcard", schema=None) as batch_op:
        batch_op.drop_index("ix_reviewcard_user_due")
        batch_op.drop_index(batch_op.f("ix_reviewcard_question_id"))
        batch_op.drop_index("ix_reviewcard_anon_due")

    op.drop_table("reviewcard")
    op.drop_table("learnersettings")
    with op.batch_alter_table("bookmark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookmark_user_id"))
        batch_op.drop_index(batch_op.f("ix_bookmark_anon_key"))

    op.drop_table("bookmark")
    with op.batch_alter_table("anondevice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anondevice_token_hash"))
        batch_op.drop_index(batch_op.f("ix_anondevice_anon_key"))

    op.drop_table("anondevice")
