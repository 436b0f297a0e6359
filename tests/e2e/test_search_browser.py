"""Search in a real browser against the real question bank: "dropout" finds the dropout interview answer first."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import make_engine, write_session
from quizapp.migrate import upgrade
from tests.conftest import ROOT
from tests.e2e.conftest import running_server, screenshot, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bank_server(tmp_path_factory):
    """`quizapp serve` against a database holding the real questions/ folder."""
    url = f"sqlite:///{tmp_path_factory.mktemp('search-db') / 'bank.db'}"
    upgrade(url)
    engine = make_engine(url)
    report = load_bank(ROOT / "questions")
    assert report.ok, report.errors
    with write_session(engine) as session:
        sync_bank(session=session, loaded=report.questions)
    engine.dispose()
    quizapp = shutil.which("quizapp", path=str(Path(sys.executable).parent)) or "quizapp"
    with running_server([quizapp, "serve"], {**os.environ, "QUIZAPP_DATABASE_URL": url}) as base:
        yield base


def test_typing_dropout_shows_the_dropout_interview_answer_first(browser, bank_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{bank_server}/faq")
        wait_idle(page)
        page.get_by_role("heading", name="FAQ & search").wait_for()
        box = page.get_by_role("textbox", name="Search")
        box.fill("dropout")
        box.press("Enter")
        wait_idle(page)
        first = page.locator(".st-key-hit-1")
        first.wait_for()
        assert "Explain what dropout does to a network's activations" in first.inner_text()
        assert "Interview" in first.inner_text()
        assert first.locator("mark, span").filter(has_text="dropout").count() >= 1  # highlighted
        first.get_by_text("Answer and explanation").click()
        first.get_by_text("Model answer").wait_for()
        link = first.get_by_role("link", name="See it live")
        assert "demo=dropout" in (link.get_attribute("href") or "")
        assert "q=dropout" in page.url
        screenshot(page, "search-dropout")
    finally:
        context.close()
