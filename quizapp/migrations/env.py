from alembic import context
from sqlmodel import SQLModel

import quizapp.models  # noqa: F401  (registers the tables)
from quizapp.db import get_engine, make_engine

config = context.config
target_metadata = SQLModel.metadata


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Autogenerate leaves the search index alone: it is made by hand in revision 0006 (an FTS5 virtual
    table and its shadow tables on SQLite, a table with a generated tsvector on PostgreSQL)."""
    return not (type_ == "table" and name is not None and name.startswith("questionsearch"))


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url) if url else get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
