"""Issue 12's defects, in the domain, on SQLite and PostgreSQL: expired attempts, feedback timing,
blank answers in the statistics and the export, cohort names per owner."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from quizapp import exports, item_sums, stats
from quizapp.assignments import (
    AssignmentError,
    create_assignment,
    learner_assignments,
    resume_attempt,
    save_answer,
    start_attempt,
    submit_attempt,
    view_attempt,
)
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Attempt, Cohort, utcnow
from tests.utils.bank import SAMPLE

PW = "a long enough password"
QUESTIONS = ["s-single", "s-tf", "s-num"]


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def _r(engine, fn, **kw):
    with read_session(engine) as s:
        return fn(session=s, **kw)


@pytest.fixture
def world(engine, write_bank):
    """The sample bank, an instructor with a cohort, four learners in it."""
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        people = {
            n: create_user(session=s, username=n, role=r, password=PW)
            for n, r in [("teach", "instructor"), ("other", "instructor")]
            + [(f"ln{i}", "learner") for i in range(4)]
        }
        who = {n: Actor(user_id=u.id, role=u.role) for n, u in people.items()}
    cohort = _w(engine, create_cohort, actor=who["teach"], name="Fixes")
    for i in range(4):
        _w(engine, join_cohort, actor=who[f"ln{i}"], code=cohort.join_code)
    return engine, who, cohort.id


def _assignment(engine, who, cohort_id, **kw):
    return _w(
        engine,
        create_assignment,
        actor=who["teach"],
        cohort_id=cohort_id,
        title=kw.pop("title", "Quiz"),
        question_ids=QUESTIONS,
        **kw,
    )


def _attempts(engine, user_id: int) -> list[Attempt]:
    with Session(engine) as s:
        return list(s.exec(select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.id)).all())


# --- 1. an expired attempt is submitted, never silently replaced -------------------------------------


def test_expired_attempt_is_listed_as_submitted_with_its_result(world):
    engine, who, cid = world
    asg = _assignment(engine, who, cid, time_limit_s=60, attempts_allowed=3)
    t0 = utcnow()
    att = _w(engine, start_attempt, actor=who["ln0"], assignment_id=asg.id, now=t0)
    _w(engine, save_answer, actor=who["ln0"], attempt_id=att, question_id="s-tf", answer=True, now=t0)
    # The time ran out and nothing swept it: the learner's list must not offer to resume it.
    (status,) = _w(engine, learner_assignments, actor=who["ln0"], now=t0 + timedelta(seconds=120))
    assert status.open_attempt_id is None
    (line,) = status.history
    assert line.attempt_id == att and line.finished_at is not None and line.timed_out
    assert line.score == pytest.approx(1 / 3) and line.answered == 1
    assert status.best_score == pytest.approx(1 / 3)
    assert status.can_start and status.attempts_used == 1 and status.attempts_left == 2
    assert [a.state for a in _attempts(engine, who["ln0"].user_id)] == ["finished"]


def test_resuming_an_expired_attempt_submits_it_and_starts_nothing(world):
    engine, who, cid = world
    asg = _assignment(engine, who, cid, time_limit_s=60, attempts_allowed=2)
    t0 = utcnow()
    att = _w(engine, start_attempt, actor=who["ln1"], assignment_id=asg.id, now=t0)
    assert _w(engine, resume_attempt, actor=who["ln1"], attempt_id=att, now=t0 + timedelta(seconds=30))
    with pytest.raises(AssignmentError, match="still running"):  # a new one is never started over it
        _w(engine, start_attempt, actor=who["ln1"], assignment_id=asg.id, now=t0 + timedelta(seconds=30))
    # Resume after the time ran out: the attempt is submitted as it stood, and that is all.
    assert not _w(engine, resume_attempt, actor=who["ln1"], attempt_id=att, now=t0 + timedelta(seconds=90))
    (only,) = _attempts(engine, who["ln1"].user_id)
    assert only.id == att and only.state == "finished"
    assert not _w(engine, resume_attempt, actor=who["ln1"], attempt_id=att, now=t0 + timedelta(seconds=95))
    with pytest.raises(AccessDenied):
        _w(engine, resume_attempt, actor=who["ln2"], attempt_id=att)
    # Starting the second (last) attempt is its own, explicit step.
    second = _w(
        engine, start_attempt, actor=who["ln1"], assignment_id=asg.id, now=t0 + timedelta(seconds=100)
    )
    assert second != att
    (status,) = _w(engine, learner_assignments, actor=who["ln1"], now=t0 + timedelta(seconds=101))
    assert status.open_attempt_id == second and status.attempts_left == 0
    assert [line.number for line in status.history] == [1, 2] and status.history[1].finished_at is None


# --- 2. no score before feedback is due ------------------------------------------------------------


def test_scores_stay_hidden_until_feedback_is_due(world):
    engine, who, cid = world
    now = utcnow()
    asg = _assignment(
        engine, who, cid, due_at=now + timedelta(hours=2), feedback="after_due", attempts_allowed=2
    )
    att = _w(engine, start_attempt, actor=who["ln2"], assignment_id=asg.id, now=now)
    _w(engine, save_answer, actor=who["ln2"], attempt_id=att, question_id="s-tf", answer=False, now=now)
    _w(engine, submit_attempt, actor=who["ln2"], attempt_id=att, now=now + timedelta(minutes=1))
    (status,) = _w(engine, learner_assignments, actor=who["ln2"], now=now + timedelta(minutes=2))
    assert status.best_score is None and not status.feedback_visible
    (line,) = status.history
    assert line.score is None and line.finished_at is not None and not line.timed_out
    view = _w(engine, view_attempt, actor=who["ln2"], attempt_id=att, now=now + timedelta(minutes=2))
    assert view.finished and not view.feedback_visible and view.shown_score is None
    later = now + timedelta(hours=3)
    (status,) = _w(engine, learner_assignments, actor=who["ln2"], now=later)
    assert status.best_score == 0.0 and status.history[0].score == 0.0 and status.feedback_visible
    assert _w(engine, view_attempt, actor=who["ln2"], attempt_id=att, now=later).shown_score == 0.0


# --- 4. a blank question counts 0 everywhere ---------------------------------------------------------


@pytest.fixture
def blanks(world):
    """l0..l2 leave s-tf blank; l3 answers everything right. All four submit."""
    engine, who, cid = world
    asg = _assignment(engine, who, cid)
    for i in range(4):
        me = who[f"ln{i}"]
        att = _w(engine, start_attempt, actor=me, assignment_id=asg.id)
        answers = {"s-single": "Max pooling", "s-num": "30" if i % 2 else "31"}
        if i == 3:
            answers["s-tf"] = True
        for qid, answer in answers.items():
            _w(engine, save_answer, actor=me, attempt_id=att, question_id=qid, answer=answer)
        _w(engine, submit_attempt, actor=me, attempt_id=att)
    return engine, who, cid, asg.id


def test_blank_answers_count_in_item_analysis_and_the_heatmap(blanks):
    engine, who, cid, aid = blanks
    items = {i.question_id: i for i in _r(engine, stats.item_analysis, actor=who["teach"], cohort_id=cid)}
    tf = items["s-tf"]
    assert tf.n == 4 and tf.facility == pytest.approx(0.25)  # not n=1, facility 1.0
    assert tf.choice_counts == {"True": 1, "False": 0}  # a blank picks nothing
    assert tf.discrimination_index is not None  # the learner who answered it scored best
    assert all(i.n == 4 for i in items.values())
    book = _r(engine, stats.gradebook, actor=who["teach"], cohort_id=cid)
    scores = {r.username: r.cells[aid].best for r in book.rows}
    assert scores == pytest.approx({"ln0": 1 / 3, "ln1": 2 / 3, "ln2": 1 / 3, "ln3": 1.0})
    heat = _r(engine, stats.topic_heatmap, actor=who["teach"], cohort_id=cid)
    cells = {
        u: dict(zip(heat["topics"], row, strict=True))
        for u, row in zip(heat["users"], heat["scores"], strict=True)
    }
    assert cells["ln0"]["activation-functions"] == 0.0  # left blank: 0, not a missing cell
    assert cells["ln3"]["activation-functions"] == 1.0
    report = _r(engine, stats.learner_report, actor=who["teach"], cohort_id=cid, user_id=who["ln0"].user_id)
    topics = {t["topic"]: t for t in report.topics}
    assert (
        topics["activation-functions"]["questions"] == 1 and topics["activation-functions"]["answered"] == 0
    )
    assert topics["activation-functions"]["score"] == 0.0
    # The stored sums equal a recount by the same rule.
    before = _r(engine, stats.item_analysis, actor=who["teach"], cohort_id=cid)
    with write_session(engine) as s:
        item_sums.rebuild(s)
    after = _r(engine, stats.item_analysis, actor=who["teach"], cohort_id=cid)
    assert [(i.question_id, i.n, i.choice_counts) for i in after] == [
        (i.question_id, i.n, i.choice_counts) for i in before
    ]
    for x, y in zip(after, before, strict=True):
        assert x.facility == pytest.approx(y.facility) and x.sd == pytest.approx(y.sd)


def test_responses_export_has_the_answer_and_a_row_per_blank(blanks):
    engine, who, cid, aid = blanks
    text = _r(engine, exports.responses_csv, actor=who["teach"], cohort_id=cid)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "attempt_id",
        "username",
        "assignment",
        "question_id",
        "answer",
        "score",
        "answered_at",
    ]
    assert len(rows) == 4 * 3  # every presented question of every finished attempt
    # in attempt order, then the assignment's question order
    assert [r["question_id"] for r in rows[:3]] == QUESTIONS
    blank = [r for r in rows if r["question_id"] == "s-tf" and r["username"] != "ln3"]
    assert len(blank) == 3
    assert all(r["answer"] == "" and r["score"] == "0.0000" and r["answered_at"] == "" for r in blank)
    (right,) = [r for r in rows if r["question_id"] == "s-tf" and r["username"] == "ln3"]
    assert right["answer"] == "True" and right["score"] == "1.0000" and right["answered_at"].endswith("Z")
    assert {r["answer"] for r in rows if r["question_id"] == "s-single"} == {"Max pooling"}
    assert {r["answer"] for r in rows if r["question_id"] == "s-num"} == {"30", "31"}


def test_answer_cells_are_readable_and_safe():
    assert exports.answer_text(["Dropout", "Weight decay"]) == "Dropout; Weight decay"
    assert exports.answer_text(False) == "False" and exports.answer_text(None) == ""
    assert exports.answer_text("-0.5") == "-0.5" and exports.answer_text("1e-3") == "1e-3"
    assert exports.answer_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exports.answer_text("-2+3") == "'-2+3"


# --- 7. cohort names are unique per owner -------------------------------------------------------------


def test_cohort_names_are_unique_per_owner_in_the_database(world):
    """The migrated schema itself: the same name for another owner is fine, twice for one is not."""
    engine, who, cid = world
    with write_session(engine) as s:
        s.add(Cohort(name="Fixes", join_code="OTHER234", owner_id=who["other"].user_id))
    with pytest.raises(IntegrityError), write_session(engine) as s:
        s.add(Cohort(name="Fixes", join_code="AGAIN234", owner_id=who["teach"].user_id))
    theirs = _w(engine, create_cohort, actor=who["other"], name="Spring")
    mine = _w(engine, create_cohort, actor=who["teach"], name="Spring")
    assert theirs.id != mine.id
