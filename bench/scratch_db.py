"""A throwaway, migrated database for a benchmark: a temporary SQLite file, or a PostgreSQL schema of
its own at 127.0.0.1:5432 that is dropped afterwards."""

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from quizapp.db import make_engine
from quizapp.migrate import upgrade

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_database(engine_name: str) -> Iterator[str]:
    """Yield the URL of an empty database at the latest migration on `sqlite` or `postgresql`."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_BASE)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
        upgrade(url)
        yield url
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
