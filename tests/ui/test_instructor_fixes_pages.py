"""Issue 12's defects as the pages show them (AppTest): expired attempts, scores before feedback is
due, the gradebook's numeric columns, the new-assignment confirmation, saved answers in their forms."""

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
from quizapp.assignments import create_assignment, save_answer, start_attempt, submit_attempt
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import write_session
from quizapp.identity import Actor
from quizapp.models import Assignment, Attempt, utcnow
from tests.ui.conftest import APP

CODE_CHOICES = """\
- id: t-code
  kind: quiz
  type: multi
  topic: regularization
  difficulty: 1
  prompt: Which of these PyTorch modules regularize?
  choices: ["`nn.Dropout`", "`nn.ReLU`", "`nn.BatchNorm1d`"]
  answer: ["`nn.Dropout`", "`nn.BatchNorm1d`"]
  explanation: Dropout regularizes; batch norm does a little as a side effect; ReLU does not.
"""


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


@pytest.fixture
def klass(app_db, write_bank):
    """An instructor's cohort with one learner, and a question whose choices are code."""
    folder = write_bank({"t.yaml": CODE_CHOICES})
    with write_session(app_db) as s:
        sync_bank(session=s, loaded=load_bank(folder).questions)
        users = {
            n: create_user(session=s, username=n, role=r, password="a long enough password")
            for n, r in [("teach", "instructor"), ("ann", "learner")]
        }
    who = {n: Actor(user_id=u.id, role=u.role) for n, u in users.items()}
    cohort = _w(app_db, create_cohort, actor=who["teach"], name="Evening")
    _w(app_db, join_cohort, actor=who["ann"], code=cohort.join_code)
    return app_db, who, cohort.id


def _assignment(engine, who, cohort_id, **kw):
    kw.setdefault("question_ids", ["s-single", "s-tf", "s-num"])
    return _w(engine, create_assignment, actor=who["teach"], cohort_id=cohort_id, title="Week 1", **kw)


def _page(monkeypatch, who: Actor, page: str, view: str | None = None) -> AppTest:
    """`page` as `who`; on the Teach page, `view` is the open tab (only its content is drawn)."""
    monkeypatch.setattr(common, "actor", lambda: who)
    at = AppTest.from_file(APP, default_timeout=30).run()
    if view:
        at.session_state["teach-view"] = view
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _shown(at: AppTest) -> str:
    return "\n".join(
        e.value for kind in ("markdown", "caption", "success", "info", "warning") for e in at.get(kind)
    )


# --- 1 ----------------------------------------------------------------------------------------------


def test_an_expired_attempt_is_listed_as_submitted_and_a_new_one_is_an_explicit_choice(klass, monkeypatch):
    engine, who, cid = klass
    asg = _assignment(engine, who, cid, time_limit_s=60, attempts_allowed=3)
    began = utcnow() - timedelta(minutes=5)
    att = _w(engine, start_attempt, actor=who["ann"], assignment_id=asg.id, now=began)
    _w(engine, save_answer, actor=who["ann"], attempt_id=att, question_id="s-tf", answer=True, now=began)
    at = _page(monkeypatch, who["ann"], "views/assignments.py")
    assert not [b for b in at.button if b.label.startswith("Resume")]  # its time ran out: nothing to resume
    shown = _shown(at)
    assert "Attempt 1: submitted " in shown and "UTC when its time ran out; score **33%**" in shown
    assert "2 attempts left; starting uses one." in shown
    with Session(engine) as s:
        assert [a.state for a in s.exec(select(Attempt)).all()] == ["finished"]
    _button(at, "Start attempt 2 of 3").click().run()  # the explicit choice
    assert not at.exception, at.exception
    with Session(engine) as s:
        assert [a.state for a in s.exec(select(Attempt).order_by(Attempt.id)).all()] == ["finished", "open"]


def test_resume_offers_the_running_attempt(klass, monkeypatch):
    engine, who, cid = klass
    asg = _assignment(engine, who, cid, time_limit_s=600, attempts_allowed=2)
    att = _w(engine, start_attempt, actor=who["ann"], assignment_id=asg.id)
    at = _page(monkeypatch, who["ann"], "views/assignments.py")
    assert not [b for b in at.button if b.label.startswith("Start")]
    _button(at, "Resume attempt 1").click().run()
    assert not at.exception, at.exception
    assert at.session_state["as_attempt"] == att and any(m.label == "Time left" for m in at.metric)


# --- 2 ----------------------------------------------------------------------------------------------


def test_no_score_shows_before_the_due_date_when_feedback_waits_for_it(klass, monkeypatch):
    engine, who, cid = klass
    _assignment(
        engine, who, cid, feedback="after_due", attempts_allowed=2, due_at=utcnow() + timedelta(days=2)
    )
    at = _page(monkeypatch, who["ann"], "views/assignments.py")
    _button(at, "Start attempt 1 of 2").click().run()
    radio = next(r for r in at.radio if "Max pooling" in r.options)
    radio.set_value("Batch norm")
    next(b for b in at.button if b.label == "Save answer" and b.form_id == radio.form_id).click().run()
    next(c for c in at.checkbox if c.label.startswith("I have finished")).check().run()
    _button(at, "Submit attempt").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Submitted at ")
    assert "after the due date" in at.info[0].value
    assert "%" not in _shown(at) and "Score" not in _shown(at)
    _button(at, "Back to my assignments").click().run()
    shown = _shown(at)
    assert "Attempt 1: submitted" in shown and "the score shows after the due date" in shown
    assert "%" not in shown and "Best score" not in shown


# --- 3 ----------------------------------------------------------------------------------------------


def test_the_gradebook_holds_numbers_shown_as_percentages(klass, monkeypatch):
    engine, who, cid = klass
    asg = _assignment(engine, who, cid)
    att = _w(engine, start_attempt, actor=who["ann"], assignment_id=asg.id)
    _w(engine, save_answer, actor=who["ann"], attempt_id=att, question_id="s-tf", answer=True)
    _w(engine, submit_attempt, actor=who["ann"], attempt_id=att)
    at = _page(monkeypatch, who["teach"], "views/teach.py")
    book = at.dataframe[0]
    frame = book.value
    assert frame["Week 1: best"].dtype.kind == "f" and frame["Week 1: best"][0] == pytest.approx(1 / 3)
    config = json.loads(book.proto.columns)
    assert config["Week 1: best"]["type_config"]["format"] == "percent"
    assert config["Week 1: last"]["type_config"]["format"] == "percent"


# --- 5 ----------------------------------------------------------------------------------------------


def test_creating_an_assignment_confirms_it_and_empties_the_form(klass, monkeypatch):
    engine, who, cid = klass
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Assignments")
    next(t for t in at.text_input if t.label == "Title").set_value("Week 2")
    next(n for n in at.number_input if n.label == "How many questions").set_value(2)
    _button(at, "Create assignment").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Created Week 2") for s in at.success)
    assert next(t for t in at.text_input if t.label == "Title").value == ""
    assert next(n for n in at.number_input if n.label == "How many questions").value == 10
    with Session(engine) as s:
        assert [a.title for a in s.exec(select(Assignment)).all()] == ["Week 2"]
    # A refused one keeps what was typed.
    next(t for t in at.text_input if t.label == "Title").set_value("Week 2")
    _button(at, "Create assignment").click().run()
    assert "already has an assignment" in at.error[0].value
    assert next(t for t in at.text_input if t.label == "Title").value == "Week 2"


# --- 6 ----------------------------------------------------------------------------------------------


def test_change_answer_forms_start_from_the_saved_answer(klass, monkeypatch):
    engine, who, cid = klass
    asg = _assignment(engine, who, cid, question_ids=["s-single", "t-code", "s-num"])
    att = _w(engine, start_attempt, actor=who["ann"], assignment_id=asg.id)
    for qid, answer in [("s-single", "Dropout"), ("t-code", ["`nn.Dropout`", "`nn.ReLU`"]), ("s-num", "31")]:
        _w(engine, save_answer, actor=who["ann"], attempt_id=att, question_id=qid, answer=answer)
    # A fresh browser session (a reload): the forms show what is saved.
    at = _page(monkeypatch, who["ann"], "views/assignments.py")
    _button(at, "Resume attempt 1").click().run()
    assert not at.exception, at.exception
    assert next(r for r in at.radio if "Max pooling" in r.options).value == "Dropout"
    ticks = {c.label: c.value for c in at.checkbox if c.label.startswith("`nn.")}
    assert ticks == {"`nn.Dropout`": True, "`nn.ReLU`": True, "`nn.BatchNorm1d`": False}
    assert next(t for t in at.text_input if t.label == "Your answer (a number)").value == "31"
    assert len([b for b in at.button if b.label == "Change answer"]) == 3
    # Saved choices are drawn as markdown (code, not raw backticks in plain text).
    assert not [t.value for t in at.text if "`" in t.value]
    assert "Saved: `nn.Dropout`; `nn.ReLU`" in [m.value for m in at.markdown]
