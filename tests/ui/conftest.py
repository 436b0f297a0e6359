from pathlib import Path

import pytest

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import make_engine, write_session
from quizapp.migrate import upgrade
from tests.utils.bank import SAMPLE

APP = str(Path(__file__).resolve().parents[2] / "quizapp" / "ui" / "app.py")


@pytest.fixture
def app_db(tmp_path, monkeypatch, write_bank):
    """The app pointed at a fresh SQLite database holding the sample bank."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    engine = make_engine(url)
    with write_session(engine) as session:
        sync_bank(session=session, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", url)
    yield engine
    engine.dispose()
