from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import Session, select

from quizapp import item_sums, stats
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.grading import grade
from quizapp.identity import AccessDenied, Actor
from quizapp.models import (
    Assignment,
    AssignmentQuestion,
    Attempt,
    Cohort,
    Enrollment,
    QuestionVersion,
    Response,
    User,
    utcnow,
)
from tests.utils.bank import SAMPLE

T0 = utcnow() - timedelta(days=3)


# --- building a small cohort by hand -------------------------------------------------------------


def add_user(s: Session, name: str, role: str = "learner") -> Actor:
    user = User(username=name, role=role)
    s.add(user)
    s.flush()
    return Actor(user_id=user.id, role=role)


def add_cohort(s: Session, name: str, owner: Actor, learners: list[Actor]) -> int:
    cohort = Cohort(name=name, join_code=name.upper()[:8], owner_id=owner.user_id)
    s.add(cohort)
    s.flush()
    for learner in learners:
        s.add(Enrollment(cohort_id=cohort.id, user_id=learner.user_id))
    s.flush()
    return cohort.id


def add_assignment(s: Session, cohort_id: int, title: str, question_ids: list[str]) -> int:
    a = Assignment(cohort_id=cohort_id, title=title, attempts_allowed=0)
    s.add(a)
    s.flush()
    for pos, qid in enumerate(question_ids):
        s.add(AssignmentQuestion(assignment_id=a.id, position=pos, question_id=qid))
    item_sums.add_questions(s, a.id, question_ids)
    s.flush()
    return a.id


def add_attempt(
    s: Session,
    who: Actor,
    assignment_id: int | None,
    answers: dict,
    *,
    minutes: int = 0,
    state: str = "finished",
    mode: str = "assignment",
    time_ms: int | None = 1000,
) -> int:
    """An attempt whose answers are graded for real; finished `minutes` after T0."""
    started = T0 + timedelta(minutes=minutes)
    attempt = Attempt(
        user_id=who.user_id,
        assignment_id=assignment_id,
        mode=mode,
        state=state,
        started_at=started,
        finished_at=started + timedelta(minutes=5) if state == "finished" else None,
    )
    s.add(attempt)
    s.flush()
    for qid, answer in answers.items():
        version = s.exec(select(QuestionVersion).where(QuestionVersion.question_id == qid)).one()
        g = grade(version.data, answer)
        s.add(
            Response(
                attempt_id=attempt.id,
                question_id=qid,
                question_version_id=version.id,
                answer=answer,
                score=g.score,
                correct=g.correct,
                time_taken_ms=time_ms,
                answered_at=started + timedelta(minutes=1),
            )
        )
    s.flush()
    if state == "finished":  # what finishing an attempt stores (quizapp.assignments._finish)
        item_sums.record_finished(s, attempt)
    return attempt.id


RIGHT = {"s-single": "Max pooling", "s-tf": True, "s-num": "30"}
WRONG = {"s-single": "Dropout", "s-tf": False, "s-num": "31"}


@pytest.fixture
def bank(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    return engine


@pytest.fixture
def klass(bank):
    """A cohort: assignment A (single, tf, num) and B (multi); four learners; noise around it."""
    with write_session(bank) as s:
        p = {n: add_user(s, n) for n in ["ann", "bob", "cat", "dan", "eve"]}
        p["teach"] = add_user(s, "teach", "instructor")
        p["other"] = add_user(s, "other", "instructor")
        p["root"] = add_user(s, "root", "admin")
        cid = add_cohort(s, "Spring", p["teach"], [p["ann"], p["bob"], p["cat"], p["dan"]])
        a = add_assignment(s, cid, "Quiz A", ["s-single", "s-tf", "s-num"])
        b = add_assignment(s, cid, "Quiz B", ["s-multi"])
        # ann: 2/3 first, then 0 later: best 2/3, last 0
        add_attempt(s, p["ann"], a, {**RIGHT, "s-tf": False}, minutes=0)
        add_attempt(s, p["ann"], a, WRONG, minutes=60)
        # bob answered one of three before finishing: 1/3
        add_attempt(s, p["bob"], a, {"s-single": "Max pooling"}, minutes=10, time_ms=None)
        # cat has an attempt open, none finished
        add_attempt(s, p["cat"], a, {"s-single": "Max pooling"}, state="open")
        # dan: B with one of three right picks: 1/3
        add_attempt(s, p["dan"], b, {"s-multi": ["Dropout"]}, minutes=20)
        # noise that must not count: practice answers, another cohort's assignment
        add_attempt(s, p["ann"], None, RIGHT, mode="practice")
        elsewhere = add_cohort(s, "Autumn", p["other"], [p["eve"], p["bob"]])
        c = add_assignment(s, elsewhere, "Quiz C", ["s-single"])
        add_attempt(s, p["bob"], c, {"s-single": "Dropout"})
    return bank, p, cid, a, b


def _read(engine, fn, **kw):
    with read_session(engine) as s:
        return fn(session=s, **kw)


# --- gradebook -------------------------------------------------------------------------------------


def test_gradebook_best_last_attempts_and_completion(klass):
    engine, p, cid, a, b = klass
    book = _read(engine, stats.gradebook, actor=p["teach"], cohort_id=cid)
    assert [c.title for c in book.assignments] == ["Quiz A", "Quiz B"]
    assert [c.questions for c in book.assignments] == [3, 1]
    rows = {r.username: r for r in book.rows}
    assert list(rows) == ["ann", "bob", "cat", "dan"]  # enrolled only, by name; eve is elsewhere
    ann = rows["ann"].cells[a]
    assert ann.best == pytest.approx(2 / 3) and ann.last == 0.0 and ann.attempts == 2 and ann.completed
    bob = rows["bob"].cells[a]
    assert bob.best == pytest.approx(1 / 3) and bob.last == pytest.approx(1 / 3) and bob.attempts == 1
    cat = rows["cat"].cells[a]
    assert cat.best is None and cat.attempts == 0 and cat.in_progress and not cat.completed
    assert rows["dan"].cells[b].best == pytest.approx(1 / 3)
    assert rows["dan"].cells[a].best is None
    assert book.completion() == pytest.approx(3 / 8)
    assert book.completion(a) == pytest.approx(2 / 4)
    dist = _read(engine, stats.score_distribution, actor=p["teach"], cohort_id=cid)
    assert sorted((d["username"], d["assignment"]) for d in dist) == [
        ("ann", "Quiz A"),
        ("bob", "Quiz A"),
        ("dan", "Quiz B"),
    ]


def test_stored_sums_take_in_attempts_finished_later(klass):
    """The stored totals and item sums take in newly finished attempts exactly: a recount from the
    answers gives the same figures."""
    engine, p, cid, a, _ = klass
    _read(engine, stats.gradebook, actor=p["teach"], cohort_id=cid)
    before = _read(engine, stats.item_analysis, actor=p["teach"], cohort_id=cid, assignment_id=a)
    with write_session(engine) as s:
        add_attempt(s, p["cat"], a, RIGHT, minutes=90)
        add_attempt(s, p["bob"], a, RIGHT, minutes=95)
    book = _read(engine, stats.gradebook, actor=p["teach"], cohort_id=cid)
    rows = {r.username: r.cells[a] for r in book.rows}
    assert rows["cat"].best == 1.0 and rows["cat"].attempts == 1
    assert rows["bob"].best == 1.0 and rows["bob"].last == 1.0 and rows["bob"].attempts == 2
    topped_up = _read(engine, stats.item_analysis, actor=p["teach"], cohort_id=cid, assignment_id=a)
    with write_session(engine) as s:
        item_sums.rebuild(s)
    fresh = _read(engine, stats.item_analysis, actor=p["teach"], cohort_id=cid, assignment_id=a)
    assert topped_up == fresh and topped_up != before
    # bob's first attempt left s-tf and s-num blank: they count, as 0
    assert {i.question_id: i.n for i in fresh} == {"s-single": 5, "s-tf": 5, "s-num": 5}


# --- who may read what -----------------------------------------------------------------------------


def test_only_the_owner_or_an_admin_reads_cohort_figures(klass):
    engine, p, cid, _, _ = klass
    for fn in (stats.gradebook, stats.item_analysis, stats.topic_heatmap, stats.score_distribution):
        for outsider in (p["ann"], p["other"], Actor.anonymous()):
            with pytest.raises(AccessDenied):
                _read(engine, fn, actor=outsider, cohort_id=cid)
        _read(engine, fn, actor=p["root"], cohort_id=cid)
    # an instructor's own cohort id does not open someone else's figures
    with pytest.raises(AccessDenied):
        _read(engine, stats.gradebook, actor=Actor(user_id=p["other"].user_id, role="learner"), cohort_id=cid)


def test_learner_reads_only_their_own_report(klass):
    engine, p, cid, a, _ = klass
    own = _read(engine, stats.learner_report, actor=p["ann"], cohort_id=cid, user_id=p["ann"].user_id)
    assert own.username == "ann" and len(own.attempts) == 2
    with pytest.raises(AccessDenied):
        _read(engine, stats.learner_report, actor=p["ann"], cohort_id=cid, user_id=p["bob"].user_id)
    with pytest.raises(AccessDenied):  # eve is not in this cohort, even asking about herself
        _read(engine, stats.learner_report, actor=p["eve"], cohort_id=cid, user_id=p["eve"].user_id)
    with pytest.raises(AccessDenied):
        _read(engine, stats.learner_report, actor=p["other"], cohort_id=cid, user_id=p["ann"].user_id)
    for reader in (p["teach"], p["root"]):
        _read(engine, stats.learner_report, actor=reader, cohort_id=cid, user_id=p["bob"].user_id)


def test_learner_report_scores_topics_and_time(klass):
    engine, p, cid, a, _ = klass
    ann = _read(engine, stats.learner_report, actor=p["teach"], cohort_id=cid, user_id=p["ann"].user_id)
    assert [(x.assignment, round(x.score, 4), x.answered, x.questions) for x in ann.attempts] == [
        ("Quiz A", 0.6667, 3, 3),
        ("Quiz A", 0.0, 3, 3),
    ]
    assert ann.total_time_ms == 6 * 1000  # the answers' own timings
    topics = {t["topic"]: t for t in ann.topics}
    assert topics["cnn"]["answered"] == 4 and topics["cnn"]["score"] == pytest.approx(0.5)
    assert topics["activation-functions"]["score"] == 0.0
    bob = _read(engine, stats.learner_report, actor=p["teach"], cohort_id=cid, user_id=p["bob"].user_id)
    assert [x.time_spent_ms for x in bob.attempts] == [5 * 60 * 1000]  # no timings: finished - started


# --- item analysis -------------------------------------------------------------------------------

SINGLE = [
    "Max pooling",
    "Max pooling",
    "Max pooling",
    "Dropout",
    "Max pooling",
    "Batch norm",
    "Dropout",
    "Max pooling",
]
MULTI = [
    ["Dropout", "Weight decay", "Early stopping"],
    ["Dropout", "Weight decay"],
    ["Dropout", "Weight decay", "Early stopping"],
    ["Dropout"],
    ["A larger learning rate"],
    ["Early stopping"],
    ["Dropout", "A larger learning rate"],
    ["Weight decay", "Early stopping"],
]
NUM = ["30", "30", "31", "30", "29", "31", "31", "30"]


@pytest.fixture
def answered(bank):
    """Eight finished attempts at one assignment; the true/false item is right for everyone."""
    with write_session(bank) as s:
        teach = add_user(s, "teach", "instructor")
        people = [add_user(s, f"learner{i}") for i in range(8)]
        cid = add_cohort(s, "Items", teach, people)
        a = add_assignment(s, cid, "Items quiz", ["s-single", "s-multi", "s-tf", "s-num"])
        for i, who in enumerate(people):
            answers = {"s-single": SINGLE[i], "s-multi": MULTI[i], "s-tf": True, "s-num": NUM[i]}
            add_attempt(s, who, a, answers, minutes=i)
    return bank, teach, cid, a


def test_item_analysis_matches_a_hand_computation(answered):
    engine, teach, cid, a = answered
    items = _read(engine, stats.item_analysis, actor=teach, cohort_id=cid)
    assert [i.question_id for i in items] == ["s-single", "s-multi", "s-tf", "s-num"]
    with read_session(engine) as s:
        data = {v.question_id: v.data for v in s.exec(select(QuestionVersion)).all()}
    scores = np.array(
        [
            [grade(data["s-single"], SINGLE[i]).score for i in range(8)],
            [grade(data["s-multi"], MULTI[i]).score for i in range(8)],
            [1.0] * 8,
            [grade(data["s-num"], NUM[i]).score for i in range(8)],
        ]
    )
    totals = scores.sum(axis=0)
    for k, item in enumerate(items):
        x = scores[k]
        assert item.n == 8
        assert item.facility == pytest.approx(x.mean())
        if item.question_id == "s-tf":
            assert item.sd == 0.0 and item.discrimination_index is None
            assert item.flag  # everyone right: facility 1.0 is outside 0.1..0.9
            continue
        assert item.sd == pytest.approx(x.std(ddof=1))
        expected = 100 * np.corrcoef(x, totals - x)[0, 1]
        assert item.discrimination_index == pytest.approx(expected)
        assert item.flag == (expected < 30 or not 0.1 <= x.mean() <= 0.9)


def test_choice_counts(answered):
    engine, teach, cid, a = answered
    items = {
        i.question_id: i
        for i in _read(engine, stats.item_analysis, actor=teach, cohort_id=cid, assignment_id=a)
    }
    assert items["s-single"].choice_counts == {"Max pooling": 5, "Batch norm": 1, "Dropout": 2}
    assert items["s-multi"].choice_counts == {
        "Dropout": 5,
        "Weight decay": 4,
        "A larger learning rate": 2,
        "Early stopping": 4,
    }
    assert items["s-tf"].choice_counts == {"True": 8, "False": 0}
    assert items["s-num"].choice_counts is None


def test_review_flag_rules():
    assert stats.needs_review(0.5, 20.0, 50, True)
    assert not stats.needs_review(0.5, 45.0, 50, True)
    assert stats.needs_review(0.95, 45.0, 50, True) and stats.needs_review(0.05, 45.0, 50, True)
    assert stats.needs_review(0.5, None, 50, False)  # everyone scored the same partial credit
    assert not stats.needs_review(0.5, None, 1, True)  # one answer: nothing to judge by
    assert stats.pearson(3, 1.0, 3.0, 1.0, 3.0, 1.0) is None  # rest constant: undefined


def test_topic_heatmap(klass):
    engine, p, cid, a, b = klass
    heat = _read(engine, stats.topic_heatmap, actor=p["teach"], cohort_id=cid)
    assert heat["users"] == ["ann", "bob", "dan"]
    assert heat["topics"] == sorted(heat["topics"], key=lambda t: heat["titles"][heat["topics"].index(t)])
    cell = dict(zip(heat["topics"], heat["scores"][0], strict=True))
    assert cell["cnn"] == pytest.approx(0.5) and cell["activation-functions"] == 0.0
    assert cell["regularization"] is None
