import pytest
from sqlmodel import Session, select

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.grading import AnswerError
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Response
from quizapp.practice import accuracy_by_topic, claim_anonymous, history, start_attempt, submit_answer
from tests.utils.bank import SAMPLE


@pytest.fixture
def bank(engine, write_bank):
    report = load_bank(write_bank({"s.yaml": SAMPLE}))
    with write_session(engine) as session:
        sync_bank(session=session, loaded=report.questions)
    return engine


def _attempt(engine, actor):
    with write_session(engine) as s:
        return start_attempt(session=s, actor=actor)


def _submit(engine, actor, attempt_id, qid, answer):
    with write_session(engine) as s:
        return submit_answer(session=s, actor=actor, attempt_id=attempt_id, question_id=qid, answer=answer)


def test_repeated_submit_records_one_answer(bank):
    me = Actor.anonymous()
    a = _attempt(bank, me)
    first = _submit(bank, me, a, "s-single", "Max pooling")
    again = _submit(bank, me, a, "s-single", "Dropout")
    assert first.grade.correct and not first.duplicate
    assert again.duplicate and again.grade.correct and again.response_id == first.response_id
    with Session(bank) as s:
        assert len(s.exec(select(Response)).all()) == 1


def test_empty_answer_records_nothing(bank):
    me = Actor.anonymous()
    a = _attempt(bank, me)
    with pytest.raises(AnswerError):
        _submit(bank, me, a, "s-short", "   ")
    with Session(bank) as s:
        assert s.exec(select(Response)).all() == []


def test_progress_is_scoped_to_the_asker(bank):
    me, other = Actor.anonymous(), Actor.anonymous()
    mine, theirs = _attempt(bank, me), _attempt(bank, other)
    _submit(bank, me, mine, "s-single", "Max pooling")
    _submit(bank, me, mine, "s-num", "31")
    _submit(bank, other, theirs, "s-tf", True)
    with read_session(bank) as s:
        assert {h["question_id"] for h in history(session=s, actor=me)} == {"s-single", "s-num"}
        assert {h["question_id"] for h in history(session=s, actor=other)} == {"s-tf"}
        by_topic = {r["topic"]: r for r in accuracy_by_topic(session=s, actor=me)}
    assert by_topic["cnn"]["answered"] == 2 and by_topic["cnn"]["correct"] == 1
    assert by_topic["cnn"]["score"] == pytest.approx(0.5)


def test_cannot_answer_in_someone_elses_attempt(bank):
    me, other = Actor.anonymous(), Actor.anonymous()
    mine = _attempt(bank, me)
    with pytest.raises(AccessDenied):
        _submit(bank, other, mine, "s-single", "Max pooling")


def test_answers_keep_the_version_they_answered(bank, write_bank):
    me = Actor.anonymous()
    a = _attempt(bank, me)
    first = _submit(bank, me, a, "s-num", "30")
    report = load_bank(
        write_bank({"s.yaml": SAMPLE.replace("answer: 30\n  tolerance: 0", "answer: 30\n  tolerance: 1")})
    )
    with write_session(bank) as s:
        sync_bank(session=s, loaded=report.questions)
    with Session(bank) as s:
        resp = s.get(Response, first.response_id)
        assert resp is not None
        from quizapp.models import QuestionVersion

        assert s.get(QuestionVersion, resp.question_version_id).version == 1


def test_signing_up_keeps_anonymous_progress(bank):
    from quizapp.auth import create_user

    anon = Actor.anonymous()
    a = _attempt(bank, anon)
    _submit(bank, anon, a, "s-tf", True)
    with write_session(bank) as s:
        user = create_user(session=s, username="newbie", role="learner", password="correct horse battery")
        assert claim_anonymous(session=s, anon_key=anon.anon_key, user_id=user.id) == 1
        uid = user.id
    with read_session(bank) as s:
        assert [h["question_id"] for h in history(session=s, actor=Actor(user_id=uid))] == ["s-tf"]
        assert history(session=s, actor=anon) == []
