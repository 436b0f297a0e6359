"""Assignment answers feed spaced review when the attempt finishes, and not before its feedback is due."""

from datetime import timedelta

from sqlmodel import select

from quizapp import review
from quizapp.assignments import create_assignment, save_answer, start_or_resume, submit_attempt
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.models import ReviewLog, utcnow
from tests.utils.bank import SAMPLE


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def _setup(engine, write_bank, **assignment):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        t = create_user(session=s, username="teach", role="instructor", password="a long enough password")
        a = create_user(session=s, username="ann", role="learner", password="a long enough password")
        teach, ann = Actor(user_id=t.id, role="instructor"), Actor(user_id=a.id)
    cohort = _w(engine, create_cohort, actor=teach, name="Cohort")
    _w(engine, join_cohort, actor=ann, code=cohort.join_code)
    asg = _w(
        engine,
        create_assignment,
        actor=teach,
        cohort_id=cohort.id,
        title="Quiz",
        question_ids=["s-single", "s-tf"],
        **assignment,
    )
    return ann, asg


def _take(engine, ann, asg):
    attempt = _w(engine, start_or_resume, actor=ann, assignment_id=asg.id)
    _w(engine, save_answer, actor=ann, attempt_id=attempt, question_id="s-single", answer="Max pooling")
    _w(engine, save_answer, actor=ann, attempt_id=attempt, question_id="s-tf", answer=False)
    return attempt


def _logs(engine):
    with read_session(engine) as s:
        return {lg.question_id: (lg.rating, lg.source) for lg in s.exec(select(ReviewLog)).all()}


def test_answers_update_cards_when_the_attempt_is_submitted(engine, write_bank):
    ann, asg = _setup(engine, write_bank, feedback="immediate")
    attempt = _take(engine, ann, asg)
    assert _logs(engine) == {}  # not while the attempt is open
    _w(engine, submit_attempt, actor=ann, attempt_id=attempt)
    assert _logs(engine) == {"s-single": (3, "assignment"), "s-tf": (1, "assignment")}
    _w(engine, submit_attempt, actor=ann, attempt_id=attempt)  # again: nothing twice
    with write_session(engine) as s:
        assert review.release_assignments(session=s, actor=ann) == 0
    assert len(_logs(engine)) == 2


def test_feedback_after_the_due_date_keeps_the_schedule_back_until_then(engine, write_bank):
    due = utcnow() + timedelta(days=2)
    ann, asg = _setup(engine, write_bank, feedback="after_due", due_at=due)
    attempt = _take(engine, ann, asg)
    _w(engine, submit_attempt, actor=ann, attempt_id=attempt)
    with write_session(engine) as s:
        assert review.release_assignments(session=s, actor=ann) == 0
    assert _logs(engine) == {}  # the schedule would tell which answers were wrong
    with read_session(engine) as s:
        assert review.due(session=s, actor=ann).learning == 0
    with read_session(engine) as s:
        assert not review.assignments_to_release(session=s, actor=ann)
        assert review.assignments_to_release(session=s, actor=ann, now=due + timedelta(minutes=1))
    with write_session(engine) as s:
        assert review.release_assignments(session=s, actor=ann, now=due + timedelta(minutes=1)) == 2
    assert _logs(engine) == {"s-single": (3, "assignment"), "s-tf": (1, "assignment")}
