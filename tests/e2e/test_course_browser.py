"""Issue 12's new instructor views in a real browser, screenshots looked at: the attempt review
reached from the gradebook, item analysis with choice shares, the heatmap with 2 and 40 learners,
assignment management with dates in the browser's time zone."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from quizapp.assignments import create_assignment, save_answer, start_attempt, submit_attempt
from quizapp.auth import create_user
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import make_engine, write_session
from quizapp.identity import Actor
from quizapp.sample_data import make_sample_data
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e

PW = "correct horse battery"


def _sign_in(browser, server, username, *, zone="UTC", next_="/teach"):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, timezone_id=zone)
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    page.goto(f"{server}/auth/signin?next={next_}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}{next_}")
    wait_idle(page)
    return ctx, page


def test_attempt_review_item_shares_heatmap_and_paris_dates(browser, server, e2e_db):
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        prof = create_user(session=s, username="course-prof", role="instructor", password=PW)
        kids = [
            create_user(session=s, username=f"course-l{i}", role="learner", password=PW) for i in range(2)
        ]
    teacher = Actor(user_id=prof.id, role="instructor")
    learners = [Actor(user_id=k.id, role="learner") for k in kids]
    with write_session(engine) as s:
        cohort = create_cohort(session=s, actor=teacher, name="A course")
        for who in learners:
            join_cohort(session=s, actor=who, code=cohort.join_code)
        asg = create_assignment(
            session=s,
            actor=teacher,
            cohort_id=cohort.id,
            title="Quiz one",
            question_ids=["s-single", "s-tf", "s-num"],
            due_at=datetime(2031, 3, 1, 16, 0, tzinfo=UTC),
        )
    attempt_ids = []
    for who, picks in zip(learners, [("Max pooling", "30"), ("Dropout", "31")], strict=True):
        with write_session(engine) as s:
            t = start_attempt(session=s, actor=who, assignment_id=asg.id)
        attempt_ids.append(t)
        for qid, ans in [("s-single", picks[0]), ("s-num", picks[1])]:
            with write_session(engine) as s:
                save_answer(
                    session=s, actor=who, attempt_id=t, question_id=qid, answer=ans, time_taken_ms=5000
                )
        with write_session(engine) as s:
            submit_attempt(session=s, actor=who, attempt_id=t)
    engine.dispose()

    ctx, page = _sign_in(browser, server, "course-prof", zone="Europe/Paris")
    # Dates in the browser's zone: 16:00 UTC is 17:00 in Paris.
    page.get_by_role("tab", name="Assignments").click()
    page.get_by_text("due 2031-03-01 17:00 Europe/Paris").wait_for()
    page.get_by_text("Manage Quiz one").click()
    page.get_by_role("tab", name="Overrides").wait_for()
    screenshot(page, "course-assignment-manage")
    # The heatmap with two learners, each labelled.
    page.get_by_role("tab", name="Gradebook").click()
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    heat = page.locator(".js-plotly-plot").filter(has_text="Accuracy by topic and learner")
    heat.wait_for()
    for name in ("course-l0", "course-l1"):
        assert heat.locator(".ytick text", has_text=name).count() == 1
    heat.screenshot(path=str(_screens() / "course-heatmap-2.png"))
    # Only the open tab is drawn: the item analysis and the assignment form are not in the page.
    expect(page.get_by_text("What learners answered")).to_have_count(0)
    expect(page.get_by_label("Title", exact=True)).to_have_count(0)
    # Item analysis: by text, the share of each choice, the key marked.
    page.get_by_role("tab", name="Item analysis").click()
    page.get_by_text("What learners answered").wait_for()
    expect(page.locator(".js-plotly-plot")).to_have_count(0)  # the gradebook's charts are gone
    page.get_by_text("Which layer shrinks a feature map", exact=False).first.wait_for()
    page.locator("summary", has_text="Which layer shrinks").click()
    screenshot(page, "course-item-analysis")
    # The attempt review, opened from the gradebook's link (a relative link: same server).
    link = f"{server}/attempt?id={attempt_ids[0]}"  # course-l0's attempt (the e2e database is shared)
    page.goto(link)
    wait_idle(page)
    page.get_by_text("course-l0: Quiz one, attempt 1").wait_for()
    page.get_by_text("Their answer:").first.wait_for()
    page.get_by_text("Key:").first.wait_for()
    screenshot(page, "course-attempt-review")
    ctx.close()


def test_heatmap_with_forty_learners_labels_them_all(browser, server, e2e_db):
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        create_user(session=s, username="forty-prof", role="instructor", password=PW)
    with write_session(engine) as s:
        made = make_sample_data(session=s, learners=40, cohort="Forty", owner="forty-prof", seed=3)
    with write_session(engine) as s:
        from sqlmodel import select

        from quizapp.models import Cohort
        from quizapp.stats import topic_heatmap

        cohort = s.exec(select(Cohort).where(Cohort.name == made.cohort)).one()
        shown = topic_heatmap(
            session=s, actor=Actor(user_id=cohort.owner_id, role="instructor"), cohort_id=cohort.id
        )["users"]
    engine.dispose()
    ctx, page = _sign_in(browser, server, "forty-prof")
    heat = page.locator(".js-plotly-plot").filter(has_text="Accuracy by topic and learner")
    heat.scroll_into_view_if_needed()
    heat.wait_for()
    labels = heat.locator(".ytick text").all_text_contents()
    assert len(labels) == len(set(labels)) == len(shown) >= 35  # every learner with a finished attempt
    assert sorted(labels) == sorted(shown)
    heat.screenshot(path=str(_screens() / "course-heatmap-40.png"))
    screenshot(page, "course-heatmap-40-page")
    ctx.close()


def _screens():  # type: ignore[no-untyped-def]
    from tests.e2e.conftest import SCREENS

    SCREENS.mkdir(exist_ok=True)
    return SCREENS
