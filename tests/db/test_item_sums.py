"""Stored attempt totals and item sums: kept as attempts finish, equal to a recount from the answers."""

from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlmodel import select

from quizapp import item_sums, stats
from quizapp.assignments import (
    close_expired_attempts,
    create_assignment,
    save_answer,
    start_or_resume,
    submit_attempt,
    view_attempt,
)
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import make_engine, read_session, write_session
from quizapp.identity import Actor
from quizapp.migrate import alembic_config
from quizapp.models import Attempt, ItemSum, TopicSum, User, utcnow
from quizapp.sample_data import make_sample_data
from tests.utils.bank import SAMPLE

QUESTIONS = ["s-single", "s-multi", "s-tf", "s-num"]
# (single, multi, tf, num) per learner; None leaves the question unanswered
ANSWERS = {
    "learner0": ("Max pooling", ["Dropout", "Weight decay"], True, "30"),
    "learner1": ("Dropout", ["Dropout"], False, "30"),
    "learner2": ("Max pooling", ["Early stopping"], True, None),
    "learner3": (None, ["Dropout", "Weight decay", "Early stopping"], False, "12"),
    "learner4": ("Max pooling", ["Early stopping"], True, "30"),
}


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def _answer(engine, who: Actor, attempt_id: int, qid: str, answer, at) -> None:  # type: ignore[no-untyped-def]
    _w(engine, save_answer, actor=who, attempt_id=attempt_id, question_id=qid, answer=answer, now=at)


def _snapshot(engine) -> tuple[dict, dict, dict]:
    """(item sums, attempt totals, topic sums) as stored."""
    with read_session(engine) as s:
        sums = {
            (r.assignment_id, r.question_id): (r.n, r.sx, r.sxx, r.sy, r.syy, r.sxy, dict(r.picks))
            for r in s.exec(select(ItemSum)).all()
        }
        # Columns by name: the snapshot is also read at older revisions, whose attempt table lacks
        # columns that later ones add.
        scores = dict(s.exec(select(Attempt.id, Attempt.score).where(Attempt.state == "finished")).all())
        topics = {
            (r.assignment_id, r.user_id, r.topic): (r.total, r.n) for r in s.exec(select(TopicSum)).all()
        }
    return sums, scores, topics


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], tuple):  # the sums, then the choice counts (exact)
            assert a[k][:-1] == pytest.approx(b[k][:-1]) and a[k][-1] == b[k][-1], k
        else:
            assert a[k] == pytest.approx(b[k]), k


@pytest.fixture
def taken(engine, write_bank):
    """Five learners take one assignment through the real flow: submitted, resubmitted, timed out
    (closed by the sweep, and by the learner's own reload), a second attempt; one left open."""
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        users = {
            n: create_user(
                session=s,
                username=n,
                role="learner" if n != "teach" else "instructor",
                password="a long enough password",
            )
            for n in ["teach", *ANSWERS]
        }
        who = {n: Actor(user_id=u.id, role=u.role) for n, u in users.items()}
    cohort = _w(engine, create_cohort, actor=who["teach"], name="Sums")
    for n in ANSWERS:
        _w(engine, join_cohort, actor=who[n], code=cohort.join_code)
    asg = _w(
        engine,
        create_assignment,
        actor=who["teach"],
        cohort_id=cohort.id,
        title="Quiz",
        question_ids=QUESTIONS,
        time_limit_s=600,
        attempts_allowed=3,
    )
    t0 = utcnow()
    for i, (name, answers) in enumerate(ANSWERS.items()):
        att = _w(engine, start_or_resume, actor=who[name], assignment_id=asg.id, now=t0)
        for qid, answer in zip(QUESTIONS, answers, strict=True):
            if answer is not None:
                _answer(engine, who[name], att, qid, answer, t0 + timedelta(seconds=10))
        if i < 2:
            _w(engine, submit_attempt, actor=who[name], attempt_id=att, now=t0 + timedelta(seconds=20))
            _w(engine, submit_attempt, actor=who[name], attempt_id=att, now=t0 + timedelta(seconds=21))
        elif i == 2:
            _w(engine, view_attempt, actor=who[name], attempt_id=att, now=t0 + timedelta(seconds=700))
    assert _w(engine, close_expired_attempts, now=t0 + timedelta(seconds=700)) == 2  # learner3, learner4
    again = _w(
        engine, start_or_resume, actor=who["learner1"], assignment_id=asg.id, now=t0 + timedelta(seconds=800)
    )
    _answer(engine, who["learner1"], again, "s-single", "Max pooling", t0 + timedelta(seconds=810))
    _w(engine, submit_attempt, actor=who["learner1"], attempt_id=again, now=t0 + timedelta(seconds=820))
    left_open = _w(
        engine, start_or_resume, actor=who["learner0"], assignment_id=asg.id, now=t0 + timedelta(seconds=900)
    )
    _answer(engine, who["learner0"], left_open, "s-tf", False, t0 + timedelta(seconds=910))
    return engine, who, cohort.id, asg.id


def test_sums_kept_as_attempts_finish_equal_a_recount(taken):
    engine, who, cid, aid = taken
    live_sums, live_scores, live_topics = _snapshot(engine)
    assert len(live_scores) == 6 and all(v is not None for v in live_scores.values())
    # every question each of the 6 finished attempts presented, answered or left blank
    assert all(live_sums[(aid, q)][0] == 6 for q in QUESTIONS)
    # learner2's blank s-num (closed on reload) and learner1's three blanks in attempt 2 score 0
    assert live_sums[(aid, "s-num")][1] == pytest.approx(3.0)  # 30 right: learner0, learner1, learner4
    assert live_sums[(aid, "s-multi")][6] == {"Dropout": 3, "Weight decay": 2, "Early stopping": 3}
    assert live_sums[(aid, "s-tf")][6] == {"True": 3, "False": 2}  # the open attempt's False is not counted
    with write_session(engine) as s:
        item_sums.rebuild(s)
    rebuilt_sums, rebuilt_scores, rebuilt_topics = _snapshot(engine)
    _close(live_sums, rebuilt_sums)
    _close(live_scores, rebuilt_scores)
    _close(live_topics, rebuilt_topics)
    # learner1: two finished attempts; the second answered the cnn single-choice question only, and
    # its three blanks count as 0 in their topics
    me = who["learner1"].user_id
    assert live_topics[(aid, me, "cnn")][1] == 4 and live_topics[(aid, me, "regularization")][1] == 2
    assert live_topics[(aid, me, "regularization")][0] == pytest.approx(1 / 3)  # ["Dropout"], then blank


def test_resubmitting_adds_nothing(taken):
    engine, who, cid, aid = taken
    before = _snapshot(engine)
    with read_session(engine) as s:
        first = s.exec(
            select(Attempt).where(Attempt.user_id == who["learner0"].user_id, Attempt.state == "finished")
        ).one()
    _w(engine, submit_attempt, actor=who["learner0"], attempt_id=first.id)
    _w(engine, close_expired_attempts, now=utcnow() + timedelta(days=1))  # closes l0's open attempt
    after_sums, after_scores, _ = _snapshot(engine)
    assert after_scores[first.id] == before[1][first.id]
    assert after_sums[(aid, "s-tf")][0] == before[0][(aid, "s-tf")][0] + 1  # only the newly closed attempt
    # its blank s-single counts too, as 0, and picks nothing
    single, single_before = after_sums[(aid, "s-single")], before[0][(aid, "s-single")]
    assert single[0] == single_before[0] + 1 and single[1] == single_before[1]
    assert single[-1] == single_before[-1]


def test_migration_fills_the_stored_sums_from_existing_answers(db_url):
    """A database with answers but no stored sums (revision 0002) gets them on upgrade, and the
    instructor's figures read the same as before."""
    cfg = alembic_config(db_url)
    engine = make_engine(db_url)
    with write_session(engine) as s:
        # the real bank: sample data draws its questions from it
        sync_bank(session=s, loaded=load_bank(Path(__file__).resolve().parents[2] / "questions").questions)
        made = make_sample_data(
            session=s,
            learners=30,
            cohort="Mig",
            assignments=2,
            questions=8,
            attempts=2,
            completion=0.9,
            retake=0.5,
        )
    with read_session(engine) as s:
        owner = s.exec(select(User).where(User.username == made.instructor)).one()
        teacher = Actor(user_id=owner.id, role=owner.role)
        book = stats.gradebook(session=s, actor=teacher, cohort_id=made.cohort_id)
        heat = stats.topic_heatmap(session=s, actor=teacher, cohort_id=made.cohort_id)
        items = stats.item_analysis(session=s, actor=teacher, cohort_id=made.cohort_id)
    before = _snapshot(engine)
    assert items and all(i.n > 0 for i in items)
    command.downgrade(cfg, "0002")
    command.upgrade(cfg, "head")
    after = _snapshot(engine)
    for was, now in zip(before, after, strict=True):
        _close(was, now)
    with read_session(engine) as s:
        assert stats.gradebook(session=s, actor=teacher, cohort_id=made.cohort_id) == book
        heat_after = stats.topic_heatmap(session=s, actor=teacher, cohort_id=made.cohort_id)
    assert {k: v for k, v in heat_after.items() if k != "scores"} == {
        k: v for k, v in heat.items() if k != "scores"
    }
    for row_after, row in zip(heat_after["scores"], heat["scores"], strict=True):
        assert row_after == pytest.approx(row)
    with read_session(engine) as s:
        again = stats.item_analysis(session=s, actor=teacher, cohort_id=made.cohort_id)
    assert [(i.question_id, i.n, i.choice_counts) for i in again] == [
        (i.question_id, i.n, i.choice_counts) for i in items
    ]
    for x, y in zip(again, items, strict=True):
        assert x.facility == pytest.approx(y.facility)
        assert (x.discrimination_index is None) == (y.discrimination_index is None)
        if x.discrimination_index is not None:
            assert x.discrimination_index == pytest.approx(y.discrimination_index)
    engine.dispose()


def test_migration_0005_recounts_blank_answers_as_zero(taken, db_url):
    """Sums stored before revision 0005 left blanks out; upgrading recounts them by the new rule, to
    what finishing the attempts now stores, and downgrading restores the old figures."""
    engine, who, cid, aid = taken
    live = _snapshot(engine)
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0004")
    old_sums, old_scores, old_topics = _snapshot(engine)
    answered = {"s-single": 5, "s-multi": 5, "s-tf": 5, "s-num": 4}  # blanks left out
    assert {q: old_sums[(aid, q)][0] for q in QUESTIONS} == answered
    assert old_scores == pytest.approx(live[1])
    assert old_sums[(aid, "s-multi")][-1] == live[0][(aid, "s-multi")][-1]  # blanks pick nothing
    me = who["learner1"].user_id
    assert old_topics[(aid, me, "cnn")][1] == 3
    command.upgrade(cfg, "head")
    after = _snapshot(engine)
    assert all(after[0][(aid, q)][0] == 6 for q in QUESTIONS)  # all 6 finished attempts presented each
    for was, now in zip(live, after, strict=True):
        _close(was, now)
    with write_session(engine) as s:
        item_sums.rebuild(s)
    for was, now in zip(live, _snapshot(engine), strict=True):
        _close(was, now)
