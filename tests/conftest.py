import os
import socket
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from quizapp.db import make_engine
from quizapp.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("QUIZAPP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def fast_hashing(request, monkeypatch):
    """Argon2id at its lowest cost, so tests that make users stay quick; `real_argon2` tests keep the real cost."""
    if request.node.get_closest_marker("real_argon2"):
        yield
        return
    from argon2 import PasswordHasher

    from quizapp import auth, sessions

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    sessions._dummy_hash.cache_clear()
    yield
    sessions._dummy_hash.cache_clear()


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A migrated, empty database on each engine; PostgreSQL gets a schema of its own, dropped after."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        return
    if not _pg_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432, and CI must run the PostgreSQL tests")
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def write_bank(tmp_path):
    """Write YAML question files into a fresh folder: write_bank({"a.yaml": "..."}) -> folder."""
    folder = tmp_path / "questions"

    def _write(files: dict[str, str]) -> Path:
        folder.mkdir(exist_ok=True)
        for name, body in files.items():
            (folder / name).write_text(body, encoding="utf-8")
        return folder

    return _write
