import statistics

import pytest
from sqlmodel import select

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.grading import grade
from quizapp.identity import Actor
from quizapp.models import Assignment, Attempt, Cohort, Enrollment, QuestionVersion, Response, User
from quizapp.sample_data import SampleDataError, make_sample_data
from quizapp.stats import gradebook
from tests.utils.bank import SAMPLE

# Enough gradable questions that learner scores can spread out.
EXTRA = "\n".join(
    f"""- id: gen-{i}
  kind: quiz
  type: single
  topic: cnn
  difficulty: {1 + i % 3}
  prompt: Generated question {i}?
  choices: [right, wrong one, wrong two, wrong three]
  answer: right
  explanation: Because it is.
"""
    for i in range(20)
)


@pytest.fixture
def bank(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE, "g.yaml": EXTRA})).questions)
    return engine


def test_sample_data_is_finished_genuinely_graded_and_varied(bank):
    with write_session(bank) as s:
        summary = make_sample_data(session=s, learners=60, questions=12, seed=3)
    assert summary.learners == 60 and len(summary.assignments) == 2
    assert summary.instructor == "instructor" and summary.instructor_password
    with read_session(bank) as s:
        attempts = s.exec(select(Attempt)).all()
        assert len(attempts) == summary.attempts > 60
        assert {(a.mode, a.state) for a in attempts} == {("assignment", "finished")}
        assert all(a.finished_at > a.started_at for a in attempts)
        responses = s.exec(select(Response, QuestionVersion).join(QuestionVersion)).all()
        when = {a.id: (a.started_at, a.finished_at) for a in attempts}
        assert all(when[r.attempt_id][0] < r.answered_at < when[r.attempt_id][1] for r, _ in responses)
        assert len(responses) == summary.responses == summary.attempts * 12
        for r, v in responses:
            g = grade(v.data, r.answer)
            assert (g.score, g.correct) == (r.score, r.correct), (r.question_id, r.answer)
            assert 1_000 <= r.time_taken_ms <= 30 * 60_000
            assert v.data["type"] != "open"  # assignments use auto-graded questions only
        assert 0.2 < statistics.mean(r.score for r, _ in responses) < 0.9
        assert (
            len({r.answer if not isinstance(r.answer, list) else tuple(r.answer) for r, _ in responses}) > 10
        )
        owner = s.exec(select(User).where(User.username == "instructor")).one()
        cohort = s.exec(select(Cohort)).one()
        assert cohort.owner_id == owner.id and len(cohort.join_code) == 8
        assert len(s.exec(select(Enrollment)).all()) == 60
        book = gradebook(session=s, actor=Actor(user_id=owner.id, role="instructor"), cohort_id=cohort.id)
    first = [r.cells[book.assignments[0].id].best for r in book.rows]
    done = [x for x in first if x is not None]
    # Learners differ in ability: scores spread out, and some did not finish every assignment.
    assert statistics.pstdev(done) > 0.12 and max(done) - min(done) > 0.4
    assert 0.7 < book.completion() < 1.0


def test_a_second_cohort_reuses_the_instructor(bank):
    with write_session(bank) as s:
        first = make_sample_data(session=s, learners=5)
    with write_session(bank) as s:
        second = make_sample_data(session=s, learners=5, cohort="Second cohort")
    assert first.instructor_password and second.instructor_password is None
    with read_session(bank) as s:
        names = s.exec(select(User.username).where(User.role == "learner")).all()
        assert len(names) == len(set(names)) == 10
        assert len(s.exec(select(Assignment)).all()) == 4


def test_clear_errors(engine, bank):
    with write_session(bank) as s:
        make_sample_data(session=s, learners=3)
    with pytest.raises(SampleDataError, match="already have a cohort"), write_session(bank) as s:
        make_sample_data(session=s, learners=3)


def test_needs_a_bank(engine):
    with pytest.raises(SampleDataError, match="quizapp init"), write_session(engine) as s:
        make_sample_data(session=s, learners=3)
