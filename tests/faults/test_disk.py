"""A full disk or a read-only database file (SQLite): an answer is refused with a clear message on the
page, nothing crashes or is corrupted, reads keep working, and the answer saves once space is back."""

import pytest
from sqlalchemy import event, text
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
from quizapp.ui.common import DATABASE_DOWN, NOT_SAVED
from tests.ui.conftest import APP, app_db  # noqa: F401  (the fixture)
from tests.utils.bank import SAMPLE

LONG = "vanishing gradients " + "and more " * 30_000  # about 270 kB: needs fresh pages to store


def _fill_up(engine) -> None:  # type: ignore[no-untyped-def]
    """Every connection the engine opens from now on may not grow the file: SQLite's own 'disk full'."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM")  # no free pages left to reuse
        (pages,) = raw.driver_connection.execute("PRAGMA page_count").fetchone()
    finally:
        raw.close()
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _cap(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")


def _integrity(path: str) -> str:
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        result = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    engine.dispose()
    return result


def test_a_full_disk_refuses_the_write_keeps_reads_and_corrupts_nothing(tmp_path, write_bank):
    path = tmp_path / "full.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    me = Actor.anonymous()
    with write_session(engine) as s:
        attempt = start_attempt(session=s, actor=me)
    _fill_up(engine)
    with pytest.raises(OperationalError) as refused, write_session(engine) as s:
        submit_answer(session=s, actor=me, attempt_id=attempt, question_id="s-short", answer=LONG)
    # SQLite rolls the whole transaction back on SQLITE_FULL, so the savepoint's own rollback fails
    # next; the first error is the one that says why.
    causes, exc = [], refused.value
    while exc is not None:
        causes.append(str(exc))
        exc = exc.__context__
    assert any("database or disk is full" in c for c in causes), causes
    with read_session(engine) as s:  # reads still work, and nothing half-written shows
        assert s.exec(text("SELECT count(*) FROM question")).scalar() == 7
        assert s.exec(select(Response)).all() == []
    engine.dispose()
    assert _integrity(str(path)) == "ok"
    roomy = make_engine(f"sqlite:///{path}")  # space again: the same answer saves, once
    for _ in range(2):
        with write_session(roomy) as s:
            submit_answer(session=s, actor=me, attempt_id=attempt, question_id="s-short", answer=LONG)
    with read_session(roomy) as s:
        assert len(s.exec(select(Response)).all()) == 1
    roomy.dispose()


def _practice(at: AppTest, qtype: str) -> AppTest:
    at.switch_page("views/practice.py").run()
    at.multiselect[3].set_value([qtype])
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Submit").click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("fault", ["read-only file", "disk full"])
def test_the_practice_page_says_the_answer_was_not_saved(app_db, monkeypatch, fault):  # noqa: F811
    url = str(app_db.url)
    path = app_db.url.database
    at = _practice(AppTest.from_file(APP, default_timeout=30), "short")
    broken = f"sqlite:///file:{path}?mode=ro&uri=true"
    if fault == "read-only file":
        monkeypatch.setenv("QUIZAPP_DATABASE_URL", broken)
    else:
        _fill_up(db.get_engine())
    at.text_input[0].set_value(LONG)
    _submit(at)
    assert [e.value for e in at.error] == [NOT_SAVED]
    assert any("Name the problem" in m.value for m in at.markdown)  # the question is still there
    with Session(app_db) as s:
        assert s.exec(select(Response)).all() == []
    assert _integrity(path) == "ok"

    monkeypatch.setenv("QUIZAPP_DATABASE_URL", url)
    db._engine_for.cache_clear()  # the server restarted with room again
    _submit(at)
    assert [e.value for e in at.error] == ["Not quite. The answer: vanishing gradients"]  # graded now
    with Session(app_db) as s:
        assert len(s.exec(select(Response)).all()) == 1

    if fault == "disk full":
        return  # the way on below rewrites a row in place: a full disk still lets that through
    # A button whose callback writes (the way on to the session review) fails kindly too.
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", broken)
    next(b for b in at.button if b.label == "See the session review").click().run()
    assert not at.exception, at.exception
    assert DATABASE_DOWN in [e.value for e in at.error]
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", url)
    db._engine_for.cache_clear()
    next(b for b in at.button if b.label == "See the session review").click().run()
    assert any(s.value == "Session complete" for s in at.subheader)
