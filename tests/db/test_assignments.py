from datetime import timedelta

import pytest
from sqlmodel import Session, select

from quizapp.assignments import (
    AssignmentError,
    TimeUp,
    close_expired_attempts,
    create_assignment,
    expired_attempts_waiting,
    learner_assignments,
    save_answer,
    start_or_resume,
    submit_attempt,
    view_attempt,
)
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import CohortError, create_cohort, join_cohort, my_cohorts, roster
from quizapp.db import write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Response, utcnow
from tests.utils.bank import SAMPLE

PW = "a long enough password"


@pytest.fixture
def world(engine, write_bank):
    """A bank, two instructors, an admin and two learners."""
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        people = {
            name: create_user(session=s, username=name, role=role, password=PW)
            for name, role in [
                ("teach", "instructor"),
                ("other", "instructor"),
                ("root", "admin"),
                ("ann", "learner"),
                ("bob", "learner"),
            ]
        }
        actors = {n: Actor(user_id=u.id, role=u.role) for n, u in people.items()}
    return engine, actors


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def test_only_teachers_create_cohorts_and_codes_let_learners_join(world):
    engine, a = world
    with pytest.raises(AccessDenied):
        _w(engine, create_cohort, actor=a["ann"], name="Spring")
    cohort = _w(engine, create_cohort, actor=a["teach"], name="Spring")
    code, cid = cohort.join_code, cohort.id
    with pytest.raises(CohortError, match="you already have a cohort called 'Spring'"):
        _w(engine, create_cohort, actor=a["teach"], name=" Spring ")
    theirs = _w(engine, create_cohort, actor=a["other"], name="Spring")  # unique per owner
    assert theirs.id != cohort.id and theirs.join_code != cohort.join_code
    with pytest.raises(AccessDenied):
        _w(engine, join_cohort, actor=Actor.anonymous(), code=code)
    with pytest.raises(CohortError):
        _w(engine, join_cohort, actor=a["ann"], code="NOPE1234")
    _w(engine, join_cohort, actor=a["ann"], code=code.lower())
    _w(engine, join_cohort, actor=a["ann"], code=code)  # twice: still one enrolment
    assert [r.username for r in _w(engine, roster, actor=a["teach"], cohort_id=cid)] == ["ann"]
    assert [r.username for r in _w(engine, roster, actor=a["root"], cohort_id=cid)] == ["ann"]
    for intruder in ("other", "ann", "bob"):
        with pytest.raises(AccessDenied):
            _w(engine, roster, actor=a[intruder], cohort_id=cid)
    assert [c.name for c in _w(engine, my_cohorts, actor=a["ann"])] == ["Spring"]
    assert _w(engine, my_cohorts, actor=a["bob"]) == []
    assert [c.id for c in _w(engine, my_cohorts, actor=a["other"])] == [theirs.id]


def _cohort_with(engine, a, **assignment):
    cohort = _w(engine, create_cohort, actor=a["teach"], name="C1")
    _w(engine, join_cohort, actor=a["ann"], code=cohort.join_code)
    kw = {"question_ids": ["s-single", "s-num", "s-tf"], **assignment}
    return _w(engine, create_assignment, actor=a["teach"], cohort_id=cohort.id, title="Quiz 1", **kw)


def test_assignment_by_draw_and_by_id_and_refusals(world):
    engine, a = world
    cohort = _w(engine, create_cohort, actor=a["teach"], name="C2")
    drawn = _w(
        engine,
        create_assignment,
        actor=a["teach"],
        cohort_id=cohort.id,
        title="Draw",
        topics=["cnn"],
        count=2,
    )
    assert drawn.id
    with pytest.raises(AssignmentError, match="only 2 question"):
        _w(
            engine,
            create_assignment,
            actor=a["teach"],
            cohort_id=cohort.id,
            title="Too many",
            topics=["cnn"],
            count=3,
        )
    with pytest.raises(AssignmentError, match="not active questions: nope"):
        _w(
            engine,
            create_assignment,
            actor=a["teach"],
            cohort_id=cohort.id,
            title="Bad",
            question_ids=["nope"],
        )
    with pytest.raises(AccessDenied):
        _w(engine, create_assignment, actor=a["other"], cohort_id=cohort.id, title="Hijack", count=1)


def test_take_resume_submit_and_attempt_limit(world):
    engine, a = world
    asg = _cohort_with(engine, a, attempts_allowed=1)
    with pytest.raises(AccessDenied):
        _w(engine, start_or_resume, actor=a["bob"], assignment_id=asg.id)  # not enrolled
    first = _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id)
    assert _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id) == first  # a reload resumes
    _w(engine, save_answer, actor=a["ann"], attempt_id=first, question_id="s-single", answer="Dropout")
    _w(engine, save_answer, actor=a["ann"], attempt_id=first, question_id="s-single", answer="Max pooling")
    _w(engine, save_answer, actor=a["ann"], attempt_id=first, question_id="s-tf", answer=True)
    with pytest.raises(AccessDenied):
        _w(engine, save_answer, actor=a["ann"], attempt_id=first, question_id="s-short", answer="x")
    with pytest.raises(AccessDenied):
        _w(engine, view_attempt, actor=a["bob"], attempt_id=first)
    view = _w(engine, view_attempt, actor=a["ann"], attempt_id=first)
    assert not view.feedback_visible and view.score == pytest.approx(2 / 3)
    _w(engine, submit_attempt, actor=a["ann"], attempt_id=first)
    _w(engine, submit_attempt, actor=a["ann"], attempt_id=first)
    view = _w(engine, view_attempt, actor=a["ann"], attempt_id=first)
    assert view.finished and view.feedback_visible
    with Session(engine) as s:
        assert len(s.exec(select(Response).where(Response.attempt_id == first)).all()) == 2
    with pytest.raises(AssignmentError, match="already submitted"):
        _w(engine, save_answer, actor=a["ann"], attempt_id=first, question_id="s-num", answer="30")
    with pytest.raises(AssignmentError, match="attempt"):
        _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id)
    (status,) = _w(engine, learner_assignments, actor=a["ann"])
    assert (
        status.best_score == pytest.approx(2 / 3)
        and not status.can_start
        and status.reason == "no attempts left"
    )


def test_immediate_feedback_makes_the_first_answer_final(world):
    engine, a = world
    asg = _cohort_with(engine, a, feedback="immediate")
    att = _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id)
    first = _w(engine, save_answer, actor=a["ann"], attempt_id=att, question_id="s-single", answer="Dropout")
    again = _w(
        engine, save_answer, actor=a["ann"], attempt_id=att, question_id="s-single", answer="Max pooling"
    )
    assert first["score"] == 0 and again["score"] == 0 and again["duplicate"]
    assert _w(engine, view_attempt, actor=a["ann"], attempt_id=att).feedback_visible


def test_time_running_out_submits_the_attempt(world):
    engine, a = world
    asg = _cohort_with(engine, a, time_limit_s=60)
    t0 = utcnow()
    att = _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id, now=t0)
    _w(
        engine,
        save_answer,
        actor=a["ann"],
        attempt_id=att,
        question_id="s-tf",
        answer=True,
        now=t0 + timedelta(seconds=30),
    )
    view = _w(engine, view_attempt, actor=a["ann"], attempt_id=att, now=t0 + timedelta(seconds=40))
    assert 19 <= view.seconds_left <= 21
    with pytest.raises(TimeUp):
        _w(
            engine,
            save_answer,
            actor=a["ann"],
            attempt_id=att,
            question_id="s-num",
            answer="30",
            now=t0 + timedelta(seconds=90),
        )
    view = _w(engine, view_attempt, actor=a["ann"], attempt_id=att, now=t0 + timedelta(seconds=91))
    assert view.finished and set(view.answers) == {"s-tf"}


def test_expired_attempts_are_closed_for_the_gradebook(world):
    engine, a = world
    asg = _cohort_with(engine, a, time_limit_s=60, attempts_allowed=2)
    t0 = utcnow()
    att = _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id, now=t0)
    assert not _w(engine, expired_attempts_waiting, now=t0 + timedelta(seconds=61))  # within the grace
    assert _w(engine, expired_attempts_waiting, now=t0 + timedelta(seconds=63))
    assert _w(engine, close_expired_attempts, now=t0 + timedelta(seconds=30)) == 0
    assert _w(engine, close_expired_attempts, now=t0 + timedelta(seconds=120)) == 1
    assert not _w(engine, expired_attempts_waiting, now=t0 + timedelta(seconds=120))
    assert _w(engine, view_attempt, actor=a["ann"], attempt_id=att).finished
    second = _w(
        engine, start_or_resume, actor=a["ann"], assignment_id=asg.id, now=t0 + timedelta(seconds=130)
    )
    assert second != att


def test_windows_and_after_due_feedback(world):
    engine, a = world
    now = utcnow()
    asg = _cohort_with(
        engine, a, opens_at=now + timedelta(hours=1), due_at=now + timedelta(hours=2), feedback="after_due"
    )
    with pytest.raises(AssignmentError, match="opens at"):
        _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id, now=now)
    att = _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id, now=now + timedelta(minutes=61))
    _w(engine, submit_attempt, actor=a["ann"], attempt_id=att, now=now + timedelta(minutes=62))
    assert not _w(
        engine, view_attempt, actor=a["ann"], attempt_id=att, now=now + timedelta(minutes=63)
    ).feedback_visible
    assert _w(
        engine, view_attempt, actor=a["ann"], attempt_id=att, now=now + timedelta(hours=3)
    ).feedback_visible
    with pytest.raises(AssignmentError, match="was due"):
        _w(engine, start_or_resume, actor=a["ann"], assignment_id=asg.id, now=now + timedelta(hours=3))
