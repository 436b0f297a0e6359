"""Spaced review in a real browser: a due card is reviewed with rating previews, leaves the queue, and
comes back once its interval has passed; a practice session's end review offers a retry."""

from datetime import timedelta

import pytest
from fsrs import Rating
from playwright.sync_api import expect
from sqlalchemy import update
from sqlmodel import select

from quizapp import review
from quizapp.db import make_engine, write_session
from quizapp.identity import Actor
from quizapp.models import ReviewCard, User, utcnow
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e
PW = "review in the browser"


def _metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label)
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def _pass_time(engine, user_id: int, days: float) -> None:
    """Let time pass for one learner's cards: every date moves back, as if `days` had gone by."""
    with write_session(engine) as s:
        for card in s.exec(select(ReviewCard).where(ReviewCard.user_id == user_id)).all():
            s.exec(
                update(ReviewCard)
                .where(ReviewCard.id == card.id)
                .values(
                    due=card.due - timedelta(days=days), last_review=card.last_review - timedelta(days=days)
                )
            )


def test_review_a_due_card_then_time_brings_it_back(browser, server, e2e_db):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    page.goto(f"{server}/auth/signup")
    page.get_by_label("Username").fill("e2e-reviewer")
    page.get_by_label("Password", exact=True).fill(PW)
    page.get_by_label("Password again").fill(PW)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{server}/")
    wait_idle(page)

    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        user_id = s.exec(select(User.id).where(User.username == "e2e-reviewer")).one()
        me = Actor(user_id=user_id)
        review.save_settings(session=s, actor=me, new_per_day=0)
        # Learnt ten days ago with Easy: its review date has come.
        review.record(
            session=s,
            actor=me,
            question_id="s-tf",
            rating=Rating.Easy,
            source="cli",
            now=utcnow() - timedelta(days=30),
        )

    page.reload()
    wait_idle(page)
    page.get_by_text("1 due today").wait_for()
    page.get_by_role("link", name="Review now").click()
    wait_idle(page)
    assert _metric(page, "To review") == "1"
    screenshot(page, "review-overview")
    page.get_by_role("button", name="Review 1 now").click()
    wait_idle(page)
    page.get_by_text("ReLU's derivative is 0 for negative inputs.").wait_for()
    page.get_by_test_id("stRadio").get_by_text("True", exact=True).click()
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    page.get_by_text("Correct.", exact=True).wait_for()
    buttons = [page.get_by_role("button", name=n).first for n in ("Again ·", "Hard ·", "Good ·", "Easy ·")]
    labels = [b.inner_text().splitlines()[0].strip() for b in buttons]  # the label, not the key badge
    assert labels[0].endswith("min") and labels[3].endswith(("d", "mo", "y")), labels
    screenshot(page, "review-ratings")
    page.keyboard.press("4")  # Easy, by its key
    wait_idle(page)
    page.get_by_role("button", name="See the session review").click()
    wait_idle(page)
    page.get_by_text("Session complete").wait_for()
    assert _metric(page, "To review") == "0" and _metric(page, "Learning") == "0"
    screenshot(page, "review-session-done")

    with write_session(engine) as s:
        card = s.exec(select(ReviewCard).where(ReviewCard.user_id == user_id)).one()
        interval = review._utc(card.due) - review._utc(card.last_review)
    assert interval > timedelta(days=20)  # Easy on a card already learnt: weeks
    _pass_time(engine, user_id, interval.total_seconds() / 86400 + 1)
    page.goto(f"{server}/review")
    wait_idle(page)
    assert _metric(page, "To review") == "1"
    page.goto(f"{server}/progress")
    wait_idle(page)
    page.get_by_text("Reviews due over the next 30 days").wait_for()
    screenshot(page, "progress-memory")
    engine.dispose()
    ctx.close()


def _answer_wrong(page) -> None:
    form = page.get_by_test_id("stForm")
    form.locator('[data-testid="stRadio"], [data-testid="stTextInput"]').first.wait_for()
    if form.get_by_test_id("stRadio").count():
        page.get_by_test_id("stRadio").get_by_text("Dropout", exact=True).click()
    else:
        page.get_by_label("Your answer (a number)").fill("1")
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    page.get_by_text("Not quite. The answer:").wait_for()


def test_practice_session_review_and_retry(page, server):
    """Two cnn questions, both missed: the session review lists both, and the retry survives a reload."""
    page.goto(f"{server}/practice?topic=cnn")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    wait_idle(page)
    page.get_by_text("Question 1 of 2").wait_for()
    _answer_wrong(page)
    assert page.get_by_test_id("stMain").get_by_text("0.0 / 1").is_visible()  # the score, on the page
    page.get_by_role("button", name="Next question").click()
    wait_idle(page)
    page.get_by_text("Question 2 of 2").wait_for()
    _answer_wrong(page)
    page.get_by_role("button", name="See the session review").click()
    wait_idle(page)
    page.get_by_text("Session complete").wait_for()
    page.get_by_text("Review of the session").wait_for()
    expect(page.get_by_test_id("stMain").locator("details")).to_have_count(2)  # one per question
    screenshot(page, "practice-session-review")
    page.get_by_role("button", name="Retry the 2 I missed").click()
    wait_idle(page)
    page.get_by_text("Question 1 of 2").wait_for()
    page.reload()  # the session survives a reload
    wait_idle(page)
    page.get_by_text("Question 1 of 2").wait_for()


def test_the_running_score_shows_at_phone_width(browser, server):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    page.goto(f"{server}/practice?topic=activation-functions")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    wait_idle(page)
    page.get_by_test_id("stRadio").get_by_text("False", exact=True).click()
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    page.get_by_text("Not quite. The answer: True").wait_for()
    score = page.get_by_test_id("stMain").get_by_text("0.0 / 1")
    assert score.is_visible() and score.bounding_box()["x"] >= 0
    delta = page.get_by_test_id("stMetricDelta")
    assert "wrong" in delta.inner_text()
    screenshot(page, "practice-phone")
    ctx.close()
