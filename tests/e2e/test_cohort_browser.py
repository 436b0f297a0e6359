import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from quizapp.auth import create_user
from quizapp.db import make_engine, write_session
from quizapp.models import Cohort
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e

PW = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/auth/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    wait_idle(page)


def _no_dialogs(page, fired: list) -> None:  # type: ignore[no-untyped-def]
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))


def test_instructor_sets_work_learner_takes_it_instructor_sees_the_score(browser, server, e2e_db):
    """Cohort, assignment, join, take, score: across two browsers, with script payloads shown as text."""
    engine = make_engine(e2e_db)
    with write_session(engine) as s:
        create_user(session=s, username="prof", role="instructor", password=PW)
    fired: list[str] = []

    teacher_ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    teacher_ctx.set_default_timeout(60_000)
    teacher = teacher_ctx.new_page()
    _no_dialogs(teacher, fired)
    _sign_in(teacher, server, "prof")
    teacher.goto(f"{server}/teach")
    wait_idle(teacher)
    teacher.get_by_text("Create a cohort").click()
    teacher.get_by_label("Cohort name").fill(f"Night {XSS}")
    teacher.get_by_role("button", name="Create", exact=True).click()
    wait_idle(teacher)
    teacher.get_by_text(f"Created Night {XSS}.").wait_for()
    with Session(engine) as s:
        code = s.exec(select(Cohort).where(Cohort.name == f"Night {XSS}")).one().join_code
    teacher.get_by_role("tab", name="Assignments").click()
    wait_idle(teacher)
    teacher.get_by_label("Title", exact=True).fill(f"Check {XSS}")
    teacher.get_by_label("How many questions").fill("3")
    for topic in ("Convolutional networks", "Backpropagation and gradient"):
        teacher.get_by_label("Topics (none = all)").click()
        teacher.keyboard.type(topic)
        teacher.keyboard.press("Enter")
    teacher.keyboard.press("Escape")
    teacher.get_by_role("button", name="Create assignment").click()
    wait_idle(teacher)
    # Confirmed after the rerun, and the form is empty again for the next one.
    teacher.get_by_text(f"Created Check {XSS}: its learners see it on their Assignments page.").wait_for()
    expect(teacher.get_by_label("Title", exact=True)).to_have_value("")
    screenshot(teacher, "instructor-assignment-created")
    teacher.get_by_text(f"Check {XSS}", exact=False).first.wait_for()

    learner_ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    learner_ctx.set_default_timeout(60_000)
    learner = learner_ctx.new_page()
    _no_dialogs(learner, fired)
    learner.goto(f"{server}/auth/signup")
    learner.get_by_label("Username").fill("stud")
    learner.get_by_label("Password", exact=True).fill(PW)
    learner.get_by_label("Password again").fill(PW)
    learner.get_by_role("button", name="Sign up").click()
    learner.wait_for_url(f"{server}/")
    learner.goto(f"{server}/assignments")
    wait_idle(learner)
    learner.get_by_label("Join a cohort").fill(code)
    learner.get_by_role("button", name="Join").click()
    wait_idle(learner)
    learner.get_by_text(f"You joined Night {XSS}.").wait_for()
    learner.get_by_role("button", name="Start").click()
    wait_idle(learner)
    learner.get_by_text("Time left").wait_for()
    learner.get_by_text("0 of 3 answered").wait_for()
    # The timer fragment reruns every second, so "the script is idle" can be true mid-save: wait for
    # the page itself to show how many answers are saved before picking the next unanswered form.
    save = learner.get_by_role("button", name="Save answer")
    change = learner.get_by_role("button", name="Change answer")
    widgets = '[data-testid="stRadio"], [data-testid="stTextInput"], [data-testid="stTextArea"]'
    for done in range(1, 4):
        expect(change).to_have_count(done - 1, timeout=60_000)
        expect(save).to_have_count(4 - done, timeout=60_000)
        block = learner.get_by_test_id("stForm").filter(has=save).first
        widget = block.locator(widgets).first
        widget.wait_for()
        if widget.get_attribute("data-testid") == "stRadio":
            block.get_by_text("Max pooling", exact=True).click()
        elif "(a number)" in widget.inner_text():
            block.get_by_label("Your answer (a number)").fill("30")
        else:
            block.get_by_role("textbox").fill(XSS)
        block.get_by_role("button", name="Save answer").click()
        learner.get_by_text(f"{done} of 3 answered").wait_for()
    learner.get_by_text(f"Saved: {XSS}").wait_for()
    learner.get_by_text("I have finished: hand in this attempt").click()
    learner.get_by_role("button", name="Submit attempt").click()
    wait_idle(learner)
    learner.get_by_text("Submitted. Score:").wait_for()
    screenshot(learner, "learner-submitted")

    teacher.reload()
    wait_idle(teacher)
    teacher.get_by_role("tab", name="Gradebook").click()
    wait_idle(teacher)
    metrics = teacher.get_by_test_id("stMetric")
    metrics.filter(has_text="Learners").get_by_text("1", exact=True).wait_for()
    metrics.filter(has_text="Completion").get_by_text("100%", exact=True).wait_for()
    teacher.get_by_text(
        "Accuracy by topic and learner"
    ).first.wait_for()  # the heatmap, drawn from her answers
    screenshot(teacher, "instructor-gradebook")
    assert fired == [], f"a script ran: {fired}"
    assert teacher.locator("img[src='x']").count() == 0 and learner.locator("img[src='x']").count() == 0
