"""full-text search index over every active question (issue 10, part 4)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:45:00

SQLite: an FTS5 virtual table `questionsearch` (porter stemming over unicode61), one row per active
question whose rowid is the indexed question version's id. PostgreSQL: a table `questionsearch` with a
generated, weighted tsvector (english) and a GIN index over it. `quizapp init` fills and refreshes the
index after syncing the bank (quizapp.search.reindex); this revision only creates it, empty.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQLITE_TABLE = """
CREATE VIRTUAL TABLE questionsearch USING fts5(
    question_id UNINDEXED,
    kind UNINDEXED,
    type UNINDEXED,
    topic UNINDEXED,
    prompt,
    tags,
    answer,
    explanation,
    choices,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""

POSTGRES_TABLE = """
CREATE TABLE questionsearch (
    question_id VARCHAR(80) PRIMARY KEY REFERENCES question (id),
    version_id INTEGER NOT NULL,
    kind VARCHAR(16) NOT NULL,
    type VARCHAR(16) NOT NULL,
    topic VARCHAR(64) NOT NULL,
    prompt TEXT NOT NULL,
    tags TEXT NOT NULL,
    answer TEXT NOT NULL,
    explanation TEXT NOT NULL,
    choices TEXT NOT NULL,
    document TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', prompt), 'A')
        || setweight(to_tsvector('english', tags), 'A')
        || setweight(to_tsvector('english', answer), 'B')
        || setweight(to_tsvector('english', explanation), 'C')
        || setweight(to_tsvector('english', choices), 'D')
    ) STORED
)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        return
    op.execute(POSTGRES_TABLE)
    # Keep each document inline (compressed) rather than out of line in TOAST: ranking reads the document
    # of every matching row, and fetching it from TOAST made a common word's search several times slower.
    op.execute("ALTER TABLE questionsearch ALTER COLUMN document SET STORAGE MAIN")
    op.execute("CREATE INDEX ix_questionsearch_document ON questionsearch USING GIN (document)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS questionsearch")
