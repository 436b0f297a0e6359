"""Resumable sittings, mistakes and bookmarks on both engines."""

import pytest

from quizapp import sittings
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.practice import submit_answer
from tests.utils.bank import SAMPLE


@pytest.fixture
def bank(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    return engine


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


def test_a_sitting_resumes_and_a_double_next_moves_once(bank):
    me = Actor.anonymous()
    a = _w(bank, sittings.start, actor=me, mode="practice", queue=["s-tf", "s-single"])
    _w(bank, submit_answer, actor=me, attempt_id=a, question_id="s-tf", answer=True)
    with read_session(bank) as s:
        sit = sittings.resume(session=s, actor=me, mode="practice")
    assert sit is not None and sit.attempt_id == a and sit.current == "s-tf" and sit.answers["s-tf"].correct
    _w(bank, sittings.advance, actor=me, attempt_id=a, from_pos=0)
    again = _w(bank, sittings.advance, actor=me, attempt_id=a, from_pos=0)  # a second click, another tab
    assert again.pos == 1 and again.current == "s-single" and not again.finished
    done = _w(bank, sittings.advance, actor=me, attempt_id=a, from_pos=1)
    assert done.finished and done.done
    with read_session(bank) as s:
        assert sittings.resume(session=s, actor=me, mode="practice") is None
        assert sittings.finished_sitting(session=s, actor=me, attempt_id=a).attempt_id == a
        assert sittings.finished_sitting(session=s, actor=Actor.anonymous(), attempt_id=a) is None


def test_starting_a_new_sitting_closes_the_open_one_and_others_cannot_read_it(bank):
    me, other = Actor.anonymous(), Actor.anonymous()
    first = _w(bank, sittings.start, actor=me, mode="practice", queue=["s-tf"])
    second = _w(bank, sittings.start, actor=me, mode="practice", queue=["s-single"])
    with read_session(bank) as s:
        assert sittings.resume(session=s, actor=me, mode="practice").attempt_id == second
        assert sittings.load(session=s, actor=me, attempt_id=first).finished
        assert sittings.resume(session=s, actor=other, mode="practice") is None
        with pytest.raises(AccessDenied):
            sittings.load(session=s, actor=other, attempt_id=second)
    with pytest.raises(ValueError, match="at least one question"):
        _w(bank, sittings.start, actor=me, mode="practice", queue=[])


def test_mistakes_follow_the_latest_answer_and_marks_are_idempotent(bank):
    me = Actor.anonymous()
    a = _w(bank, sittings.start, actor=me, mode="practice", queue=["s-tf", "s-single"])
    _w(bank, submit_answer, actor=me, attempt_id=a, question_id="s-tf", answer=False)
    _w(bank, submit_answer, actor=me, attempt_id=a, question_id="s-single", answer="Max pooling")
    with read_session(bank) as s:
        assert sittings.mistakes(session=s, actor=me) == ["s-tf"]
    b = _w(bank, sittings.start, actor=me, mode="practice", queue=["s-tf"])
    _w(bank, submit_answer, actor=me, attempt_id=b, question_id="s-tf", answer=True)
    with read_session(bank) as s:
        assert sittings.mistakes(session=s, actor=me) == []
    for _ in range(2):
        _w(bank, sittings.set_bookmark, actor=me, question_id="s-num", on=True)
    with read_session(bank) as s:
        assert sittings.bookmarked(session=s, actor=me) == ["s-num"]
        assert sittings.bookmarked(session=s, actor=Actor.anonymous()) == []
    _w(bank, sittings.set_bookmark, actor=me, question_id="s-num", on=False)
    with read_session(bank) as s:
        assert sittings.bookmarked(session=s, actor=me) == []
    with pytest.raises(LookupError):
        _w(bank, sittings.set_bookmark, actor=me, question_id="nope", on=True)
