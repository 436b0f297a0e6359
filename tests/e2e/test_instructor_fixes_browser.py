"""Issue 12's page defects in a real browser: a page's address opened by someone it is not for
says so with a sign-in link back; an expired attempt lists as submitted; the gradebook's scores."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from quizapp.assignments import create_assignment, save_answer, start_attempt
from quizapp.auth import create_user
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import make_engine, write_session
from quizapp.identity import Actor
from quizapp.models import utcnow
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e

PW = "correct horse battery"


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


def _user(e2e_db: str, name: str, role: str) -> Actor:
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        user = create_user(session=s, username=name, role=role, password=PW)
    engine.dispose()
    return Actor(user_id=user.id, role=role)


def _sign_in_here(page, username: str) -> None:  # type: ignore[no-untyped-def]
    """On the sign-in page: fill it in and send it."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()


def test_anonymous_visitor_at_assignments_signs_in_and_comes_back(context, server, e2e_db):
    _user(e2e_db, "gate-learner", "learner")
    page = context.new_page()
    page.goto(f"{server}/assignments")
    wait_idle(page)
    page.get_by_text("Sign in to see this.").wait_for()
    link = page.get_by_role("link", name="Sign in to see Assignments")
    expect(link).to_have_attribute("href", "/auth/signin?next=/assignments")
    screenshot(page, "gate-anonymous-assignments")
    link.click()
    page.wait_for_url(f"{server}/auth/signin?next=/assignments")
    _sign_in_here(page, "gate-learner")
    page.wait_for_url(f"{server}/assignments")
    wait_idle(page)
    page.get_by_label("Join a cohort").wait_for()  # the real page, signed in


def test_learner_at_teach_is_told_it_needs_an_instructor(context, server, e2e_db):
    _user(e2e_db, "gate-student", "learner")
    page = context.new_page()
    page.goto(f"{server}/auth/signin?next=/teach")
    _sign_in_here(page, "gate-student")
    page.wait_for_url(f"{server}/teach")
    wait_idle(page)
    page.get_by_text("This page needs an instructor's account. Sign in with one to see this.").wait_for()
    link = page.get_by_role("link", name="Sign in to see Cohorts and scores")
    expect(link).to_have_attribute("href", "/auth/signin?next=/teach")
    # Not in the learner's menu: the page only answers its address.
    expect(page.get_by_test_id("stSidebarNav").get_by_text("Cohorts and scores")).to_have_count(0)
    screenshot(page, "gate-learner-teach")


def test_expired_attempt_lists_as_submitted_and_the_gradebook_sorts_numbers(context, server, e2e_db):
    teacher = _user(e2e_db, "fix-prof", "instructor")
    learners = [_user(e2e_db, f"fix-l{i}", "learner") for i in range(3)]
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        cohort = create_cohort(session=s, actor=teacher, name="Fixes class")
        for who in learners:
            join_cohort(session=s, actor=who, code=cohort.join_code)
        asg = create_assignment(
            session=s,
            actor=teacher,
            cohort_id=cohort.id,
            title="Timed check",
            question_ids=["s-single", "s-tf", "s-num"],
            time_limit_s=60,
            attempts_allowed=3,
        )
    began = utcnow() - timedelta(minutes=10)
    # Scores 1/3, 2/3, 3/3 by time-out: as text they would sort 100%, 33%, 67%.
    for k, who in enumerate(learners):
        with write_session(engine) as s:
            att = start_attempt(session=s, actor=who, assignment_id=asg.id, now=began)
        for qid, answer in [("s-tf", True), ("s-single", "Max pooling"), ("s-num", "30")][: k + 1]:
            with write_session(engine) as s:
                save_answer(session=s, actor=who, attempt_id=att, question_id=qid, answer=answer, now=began)
    engine.dispose()

    page = context.new_page()
    page.goto(f"{server}/auth/signin?next=/assignments")
    _sign_in_here(page, "fix-l0")
    page.wait_for_url(f"{server}/assignments")
    wait_idle(page)
    page.get_by_text("UTC when its time ran out; score").wait_for()
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    page.get_by_role("button", name="Start attempt 2 of 3").wait_for()
    page.get_by_text("2 attempts left; starting uses one.").wait_for()
    screenshot(page, "learner-expired-attempt-listed")

    prof = context.browser.new_context(viewport={"width": 1280, "height": 1000})
    prof.set_default_timeout(60_000)
    tp = prof.new_page()
    tp.goto(f"{server}/auth/signin?next=/teach")
    _sign_in_here(tp, "fix-prof")
    tp.wait_for_url(f"{server}/teach")
    wait_idle(tp)
    grid = tp.get_by_test_id("stDataFrame").first
    grid.wait_for()
    grid.locator("th", has_text="Timed check: best").wait_for(state="attached")
    # The grid is drawn on a canvas; its accessible copy holds the cells: numbers, not text.
    cells = grid.locator("td")
    # learner, best, last, attempts, review link (issue 12's attempt review)
    assert cells.all_inner_texts()[:4] == ["fix-l0", "0.3333333333333333", "0.3333333333333333", "1"]
    box = grid.bounding_box()
    assert box is not None
    for _ in range(2):  # click the column's header twice: sorted high to low
        tp.mouse.click(box["x"] + 150, box["y"] + 17)
        tp.wait_for_timeout(300)
    expect(cells.first).to_have_text("fix-l2")
    learners = cells.all_inner_texts()[::5]
    assert learners == ["fix-l2", "fix-l1", "fix-l0"]  # 100%, 66.67%, 33.33%: by value
    screenshot(tp, "instructor-gradebook-sorted")
    prof.close()


def test_saved_answers_fill_their_forms_and_no_score_shows_before_the_due_date(context, server, e2e_db):
    teacher = _user(e2e_db, "due-prof", "instructor")
    learner = _user(e2e_db, "due-learner", "learner")
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        cohort = create_cohort(session=s, actor=teacher, name="Due class")
        join_cohort(session=s, actor=learner, code=cohort.join_code)
        asg = create_assignment(
            session=s,
            actor=teacher,
            cohort_id=cohort.id,
            title="Due later",
            question_ids=["s-single", "s-multi", "s-num"],
            attempts_allowed=2,
            feedback="after_due",
            due_at=utcnow() + timedelta(days=2),
        )
    with write_session(engine) as s:
        att = start_attempt(session=s, actor=learner, assignment_id=asg.id)
    for qid, answer in [("s-single", "Dropout"), ("s-multi", ["Dropout", "Weight decay"]), ("s-num", "31")]:
        with write_session(engine) as s:
            save_answer(session=s, actor=learner, attempt_id=att, question_id=qid, answer=answer)
    engine.dispose()

    page = context.new_page()
    page.goto(f"{server}/auth/signin?next=/assignments")
    _sign_in_here(page, "due-learner")
    page.wait_for_url(f"{server}/assignments")
    wait_idle(page)
    page.get_by_role("button", name="Resume attempt 1").click()
    wait_idle(page)
    page.get_by_text("3 of 3 answered").wait_for()
    forms = page.get_by_test_id("stForm")
    expect(forms).to_have_count(3)
    expect(forms.nth(0).get_by_role("radio", name="Dropout")).to_be_checked()
    expect(forms.nth(1).get_by_role("checkbox", name="Weight decay")).to_be_checked()
    expect(forms.nth(1).get_by_role("checkbox", name="Early stopping")).not_to_be_checked()
    expect(forms.nth(2).get_by_label("Your answer (a number)")).to_have_value("31")
    screenshot(page, "learner-change-answer-prefilled")
    page.get_by_text("I have finished: hand in this attempt").click()
    page.get_by_role("button", name="Submit attempt").click()
    wait_idle(page)
    page.get_by_text("Submitted at ").wait_for()
    page.get_by_text("Your score and feedback show after the due date").wait_for()
    expect(page.get_by_text(re.compile(r"\d+%"))).to_have_count(0)
    screenshot(page, "learner-submitted-before-due")
    page.get_by_role("button", name="Back to my assignments").click()
    wait_idle(page)
    page.get_by_text("the score shows after the due date").wait_for()
    expect(page.get_by_text(re.compile(r"Best score|\d+%"))).to_have_count(0)
    screenshot(page, "learner-list-before-due")
