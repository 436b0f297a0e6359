"""Issue 15, finding 5 (the pages outside demos and teach): names, titles, answers and messages that
come from a user or an instructor are drawn as plain text, never as markdown: no live link, no image
fetched."""

import pytest
from sqlmodel import select

from quizapp.assignments import create_assignment, save_answer, start_attempt, submit_attempt
from quizapp.db import write_session
from quizapp.models import Assignment, User
from tests.ui import test_course_pages as pages
from tests.ui.test_course_pages import _page, _text, _w

klass = pages.klass  # the same cohort as the course-page tests

LINK = "[click](https://evil.example)"
IMAGE = "![x](https://evil.example/x.png)"


def _live_markdown(text: str) -> bool:
    """Whether markdown text still holds an unescaped link or image."""
    return "](https://" in text or "](http" in text


def test_attempt_review_escapes_the_title_username_and_answer(klass, monkeypatch):
    engine, who, cid, a_id = klass
    with write_session(engine) as s:
        s.get(Assignment, a_id).title = LINK
        s.exec(select(User).where(User.username == "ann")).one().username = "ann_" + IMAGE
    short = _w(
        engine,
        create_assignment,
        actor=who["teach"],
        cohort_id=cid,
        title="Short",
        question_ids=["s-short"],
        attempts_allowed=1,
    ).id
    t = _w(engine, start_attempt, actor=who["ann"], assignment_id=short)
    # A backtick would close the code span the answer used to sit in, and free the link after it.
    _w(
        engine,
        save_answer,
        actor=who["ann"],
        attempt_id=t,
        question_id="s-short",
        answer=f"x` {LINK} `y",
        time_taken_ms=1000,
    )
    _w(engine, submit_attempt, actor=who["ann"], attempt_id=t)
    at = _page(monkeypatch, who["teach"], "views/attempt.py", id=str(t))
    title = at.title[0].value
    assert title.startswith(r"ann\_\!\[x\]\(https\://evil\.example/x\.png\)") and not _live_markdown(title)
    shown = _text(at)
    assert r"x\` \[click\]\(https\://evil\.example\) \`y" in shown and not _live_markdown(shown)


@pytest.mark.parametrize("name", [LINK, IMAGE])
def test_joining_a_cohort_shows_its_name_as_text(klass, monkeypatch, name):
    engine, who, cid, a_id = klass
    from quizapp.cohorts import create_cohort

    cohort = _w(engine, create_cohort, actor=who["teach"], name=name)
    at = _page(monkeypatch, who["bob"], "views/assignments.py")
    at.text_input[0].set_value(cohort.join_code)
    next(b for b in at.button if b.label == "Join").click().run()
    [msg] = [s.value for s in at.success if "You joined" in s.value]
    assert not _live_markdown(msg) and r"\(https\://evil\.example" in msg
    # A refused code is echoed nowhere as markdown either.
    at.text_input[0].set_value("[x](https://evil.example)")
    next(b for b in at.button if b.label == "Join").click().run()
    assert at.error and not any(_live_markdown(e.value) for e in at.error)


def test_the_assignment_list_and_cannot_start_reason_are_plain(klass, monkeypatch):
    engine, who, cid, a_id = klass
    with write_session(engine) as s:
        s.get(Assignment, a_id).title = LINK
    at = _page(monkeypatch, who["ann"], "views/assignments.py")
    shown = "\n".join(h.value for h in at.subheader) + _text(at)
    assert r"\[click\]" in shown and not _live_markdown(shown)


def test_the_users_page_shows_usernames_as_text(klass, monkeypatch):
    engine, who, cid, a_id = klass
    with write_session(engine) as s:
        s.exec(select(User).where(User.username == "ann")).one().username = "a" + LINK  # sorts first
    at = _page(monkeypatch, who["boss"], "views/users.py")
    next(s for s in at.selectbox if s.label == "Account").select_index(0)
    at.run()
    next(b for b in at.button if b.label == "Unlock").click().run()
    [msg] = [s.value for s in at.success if "sign-in delays" in s.value]
    assert r"a\[click\]\(https\://evil\.example\)" in msg and not _live_markdown(msg)
