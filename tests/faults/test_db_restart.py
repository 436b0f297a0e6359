"""PostgreSQL drops every connection (a restart, a failover) while pages are in use: the next request
succeeds (the pool pings before lending a connection), and a write caught in flight either commits
once or fails in a way the page reports: never a silent loss."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from quizapp import db
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import make_engine, read_session, write_session
from quizapp.identity import Actor
from quizapp.migrate import upgrade
from quizapp.models import Response
from quizapp.practice import start_attempt, submit_answer
from quizapp.ui import sitting
from quizapp.ui.common import NOT_SAVED
from tests.conftest import PG_BASE, _pg_reachable
from tests.ui.conftest import APP
from tests.utils.bank import SAMPLE

DROP_ALL = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.fixture
def pg_url(write_bank):
    """A database of its own (dropping all its connections touches no other test), with the bank."""
    if not _pg_reachable():
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432")
    name = f"faults_{uuid.uuid4().hex[:10]}"
    server = make_engine(PG_BASE).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        engine = make_engine(url)
        with write_session(engine) as s:
            sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        engine.dispose()
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def drop_all_connections(url: str) -> int:
    admin = make_engine(url)
    with admin.begin() as conn:
        n = len(conn.execute(text(DROP_ALL)).all())
    admin.dispose()
    return n


def _answers(engine) -> list[Response]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return list(s.exec(select(Response)).all())


def test_the_next_request_after_all_connections_drop_succeeds(pg_url):
    engine = make_engine(pg_url)
    me = Actor.anonymous()
    with write_session(engine) as s:
        attempt = start_attempt(session=s, actor=me)
    sessions = [Session(engine) for _ in range(4)]  # several pooled connections, as busy pages hold
    for s in sessions:
        s.exec(text("SELECT 1")).all()
    for s in sessions:
        s.close()
    assert drop_all_connections(pg_url) >= 4
    with read_session(engine) as s:  # a read, then a write: neither sees the dead connections
        assert s.exec(text("SELECT count(*) FROM question")).scalar() == 7
    with write_session(engine) as s:
        submit_answer(session=s, actor=me, attempt_id=attempt, question_id="s-tf", answer=True)
    assert [r.question_id for r in _answers(engine)] == ["s-tf"]
    engine.dispose()


def test_a_write_in_flight_fails_loudly_and_a_retry_stores_it_once(pg_url):
    engine = make_engine(pg_url)
    me = Actor.anonymous()
    with write_session(engine) as s:
        attempt = start_attempt(session=s, actor=me)
    with pytest.raises(OperationalError), write_session(engine) as s:
        submit_answer(session=s, actor=me, attempt_id=attempt, question_id="s-num", answer="30")
        drop_all_connections(pg_url)  # the server goes away before the commit
    assert _answers(engine) == []  # not stored, and the caller was told
    for _ in range(2):  # the learner tries again (twice, as an impatient one would)
        with write_session(engine) as s:
            submit_answer(session=s, actor=me, attempt_id=attempt, question_id="s-num", answer="30")
    assert [(r.question_id, r.score) for r in _answers(engine)] == [("s-num", 1.0)]
    engine.dispose()


def test_the_practice_page_survives_a_restart_and_reports_a_lost_write(pg_url, monkeypatch):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", pg_url)
    engine = db.get_engine()
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/practice.py").run()
    at.multiselect[3].set_value(["truefalse"])
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception

    drop_all_connections(pg_url)  # between two clicks: the page carries on
    at.run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert any("ReLU's derivative" in m.value for m in at.markdown)

    real = sitting.submit_answer

    def submit_then_lose_the_server(**kw):  # type: ignore[no-untyped-def]
        result = real(**kw)
        drop_all_connections(pg_url)  # before the commit
        return result

    monkeypatch.setattr(sitting, "submit_answer", submit_then_lose_the_server)
    at.radio[0].set_value("True")
    next(b for b in at.button if b.label == "Submit").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [NOT_SAVED]
    assert _answers(engine) == []

    monkeypatch.setattr(sitting, "submit_answer", real)
    next(b for b in at.button if b.label == "Submit").click().run()
    assert [s.value for s in at.success] == ["Correct."]
    assert len(_answers(engine)) == 1
    db._engine_for.cache_clear()
    engine.dispose()
