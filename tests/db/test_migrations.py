from alembic import command
from sqlalchemy import inspect, text

from quizapp.db import make_engine
from quizapp.migrate import alembic_config


def test_upgrade_keeps_data_and_downgrade_reverses(db_url):
    """From a populated first revision to head and back: existing users survive the new columns."""
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0001")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO \"user\" (username, role, created_at) VALUES ('old', 'learner', CURRENT_TIMESTAMP)"
            )
        )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT failed_logins FROM \"user\" WHERE username = 'old'")).scalar_one() == 0
        )
    assert {"cohort", "enrollment", "assignment", "loginsession"} <= set(inspect(engine).get_table_names())
    command.downgrade(cfg, "base")
    assert "question" not in inspect(engine).get_table_names()
    engine.dispose()


def test_0004_keeps_attempts_and_marks_them_applied(db_url):
    """Attempts made before spaced review keep their rows and are not replayed into cards."""
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0003")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO attempt (anon_key, mode, state, started_at) VALUES ('k', 'practice', 'open', CURRENT_TIMESTAMP)"
            )
        )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT cards_applied, plan FROM attempt")).one() == (True, None)
    tables = set(inspect(engine).get_table_names())
    assert {"reviewcard", "reviewlog", "learnersettings", "bookmark", "anondevice"} <= tables
    command.downgrade(cfg, "0003")
    assert "reviewcard" not in inspect(engine).get_table_names()
    engine.dispose()
