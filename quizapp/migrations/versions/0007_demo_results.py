"""stored demo results, shared by every server process (issue 14, part 2)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00

One row per finished run, found by the SHA-256 of (demo, canonical params, seed, device kind, demo
code version). A run of changed demo code has a new key, so an old result is never answered; old rows
go when quizapp.demo_store prunes by count per demo.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demoresult",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("params", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("device_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("code_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("steps_total", sa.Integer(), nullable=True),
        sa.Column("metrics", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claims", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("figures", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("demoresult", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demoresult_key_hash"), ["key_hash"], unique=True)
        batch_op.create_index("ix_demoresult_slug_created", ["slug", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demoresult", schema=None) as batch_op:
        batch_op.drop_index("ix_demoresult_slug_created")
        batch_op.drop_index(batch_op.f("ix_demoresult_key_hash"))
    op.drop_table("demoresult")
