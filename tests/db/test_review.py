"""Spaced review on both engines: cards follow graded answers, queues, limits, ratings, time travel."""

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating, Scheduler
from sqlmodel import select

from quizapp import review
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.models import ReviewCard, ReviewLog
from quizapp.practice import start_attempt, submit_answer
from tests.utils.bank import SAMPLE

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def bank(engine, write_bank):
    report = load_bank(write_bank({"s.yaml": SAMPLE}))
    with write_session(engine) as session:
        sync_bank(session=session, loaded=report.questions)
    return engine


@pytest.fixture
def at(monkeypatch):
    """Set the review clock: at(datetime) travels there."""

    def _set(when: datetime) -> None:
        monkeypatch.setattr(review, "clock", lambda: when)

    _set(T0)
    return _set


def _answer(engine, actor, qid, answer, mode="practice"):
    with write_session(engine) as s:
        attempt = start_attempt(session=s, actor=actor, mode=mode)
    with write_session(engine) as s:
        return submit_answer(session=s, actor=actor, attempt_id=attempt, question_id=qid, answer=answer)


def _card(engine, actor, qid):
    with read_session(engine) as s:
        return review.card_state(session=s, actor=actor, question_id=qid)


def test_graded_answers_map_to_ratings(bank, at):
    me = Actor.anonymous()
    _answer(bank, me, "s-single", "Max pooling")  # full -> Good
    _answer(bank, me, "s-tf", False)  # wrong -> Again
    _answer(bank, me, "s-multi", ["Dropout"])  # partial -> Hard
    with read_session(bank) as s:
        logs = {lg.question_id: lg for lg in s.exec(select(ReviewLog)).all()}
    assert {q: lg.rating for q, lg in logs.items()} == {
        "s-single": int(Rating.Good),
        "s-tf": int(Rating.Again),
        "s-multi": int(Rating.Hard),
    }
    assert all(lg.first and lg.source == "practice" for lg in logs.values())
    assert review.rating_for_score(0.0) == Rating.Again
    assert review.rating_for_score(0.5) == Rating.Hard
    assert review.rating_for_score(1.0) == Rating.Good


def test_card_matches_fsrs_and_survives_a_new_session(bank, at):
    """The stored card is what py-fsrs computes, read back from the database in a new session."""
    me = Actor.anonymous()
    _answer(bank, me, "s-single", "Max pooling")
    sched = Scheduler(enable_fuzzing=False)
    from fsrs import Card

    expected, _ = sched.review_card(Card(), Rating.Good, review_datetime=T0)
    row = _card(bank, me, "s-single")
    assert row is not None and row.reps == 1
    assert review._utc(row.due) == expected.due
    assert row.stability == pytest.approx(expected.stability)
    assert row.difficulty == pytest.approx(expected.difficulty)


def test_repeated_submit_updates_the_card_once(bank, at):
    me = Actor.anonymous()
    with write_session(bank) as s:
        attempt = start_attempt(session=s, actor=me)
    for _ in range(3):
        with write_session(bank) as s:
            submit_answer(session=s, actor=me, attempt_id=attempt, question_id="s-tf", answer=True)
    with read_session(bank) as s:
        assert len(s.exec(select(ReviewLog)).all()) == 1
    assert _card(bank, me, "s-tf").reps == 1


def test_record_with_the_same_response_is_idempotent(bank, at):
    me = Actor.anonymous()
    res = _answer(bank, me, "s-tf", True)
    with write_session(bank) as s:
        again = review.record_graded(
            session=s, actor=me, question_id="s-tf", score=1.0, response_id=res.response_id, source="review"
        )
    assert again.rating == "good"
    assert _card(bank, me, "s-tf").reps == 1


def test_due_queue_leaves_and_comes_back_with_time(bank, at):
    """Reviewed now, the card leaves the queue; travelling past its due date brings it back."""
    me = Actor(user_id=None, anon_key="learner-x")
    with read_session(bank) as s:
        before = review.due(session=s, actor=me)
    assert before.learning == before.review == 0 and "s-single" in before.due  # new
    res = _answer(bank, me, "s-single", "Max pooling")
    with write_session(bank) as s:
        out = review.rerate(session=s, actor=me, response_id=res.response_id, rating=Rating.Easy)
    assert out.rating == "easy" and out.interval_days >= 1
    with read_session(bank) as s:
        now = review.due(session=s, actor=me)
    assert "s-single" not in now.due
    at(out.due + timedelta(minutes=1))
    with read_session(bank) as s:
        later = review.due(session=s, actor=me)
        count = review.due_count(session=s, actor=me)
    assert later.review == 1 and later.due[0] == "s-single" and count == 1


def test_learning_card_is_due_within_minutes_after_again(bank, at):
    me = Actor.anonymous()
    _answer(bank, me, "s-tf", False)
    at(T0 + timedelta(minutes=11))
    with read_session(bank) as s:
        d = review.due(session=s, actor=me)
    assert d.learning == 1 and d.due[0] == "s-tf"


def test_rerate_is_recomputed_from_the_snapshot_and_refused_after_a_later_review(bank, at):
    me = Actor.anonymous()
    res = _answer(bank, me, "s-single", "Max pooling")
    with write_session(bank) as s:
        prev = review.previews(session=s, actor=me, response_id=res.response_id)
        easy = review.rerate(session=s, actor=me, response_id=res.response_id, rating=Rating.Easy)
        easy_again = review.rerate(session=s, actor=me, response_id=res.response_id, rating=Rating.Easy)
    assert prev["again"] < prev["hard"] <= prev["good"] < prev["easy"]
    assert easy.due - T0 == prev["easy"] and easy_again.due == easy.due
    assert _card(bank, me, "s-single").reps == 1
    with read_session(bank) as s:
        assert len(s.exec(select(ReviewLog)).all()) == 1
    at(easy.due + timedelta(hours=1))
    _answer(bank, me, "s-single", "Dropout")
    with write_session(bank) as s, pytest.raises(review.ReviewError, match="reviewed again"):
        review.rerate(session=s, actor=me, response_id=res.response_id, rating=Rating.Good)


def test_daily_limits_cap_new_and_review_cards(bank, at):
    me = Actor.anonymous()
    with write_session(bank) as s:
        review.save_settings(session=s, actor=me, new_per_day=2, reviews_per_day=1)
    with read_session(bank) as s:
        d = review.due(session=s, actor=me)
    assert d.new == 2
    _answer(bank, me, "s-single", "Max pooling")
    with read_session(bank) as s:
        assert review.due(session=s, actor=me).new == 1  # one new card introduced today
    with write_session(bank) as s:
        for qid in ("s-tf", "s-multi"):
            review.record(session=s, actor=me, question_id=qid, rating=Rating.Easy, source="cli")
    at(T0 + timedelta(days=60))
    with read_session(bank) as s:
        d = review.due(session=s, actor=me)
    assert d.review == 1 and d.new == 2  # three review cards due, one allowed a day; a new day


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"desired_retention": 0.5}, "desired retention must be from 0.7 to 0.97"),
        ({"desired_retention": 0.99}, "desired retention"),
        ({"desired_retention": float("nan")}, "desired retention"),
        ({"new_per_day": -1}, "new per day must be from 0 to 500"),
        ({"reviews_per_day": 2.5}, "whole number"),
        ({"reviews_per_day": "many"}, "reviews per day must be a number"),
    ],
)
def test_out_of_range_settings_are_refused_and_nothing_changes(bank, values, message):
    me = Actor.anonymous()
    with pytest.raises(review.SettingsError, match=message), write_session(bank) as s:
        review.save_settings(session=s, actor=me, **values)
    with read_session(bank) as s:
        assert review.get_settings(session=s, actor=me) == review.Settings()


def test_retention_setting_changes_intervals(bank, at):
    a, b = Actor.anonymous(), Actor.anonymous()
    with write_session(bank) as s:
        review.save_settings(session=s, actor=b, desired_retention=0.97)
        ea = review.record(session=s, actor=a, question_id="s-tf", rating=Rating.Easy, source="cli")
        eb = review.record(session=s, actor=b, question_id="s-tf", rating=Rating.Easy, source="cli")
    assert eb.interval_days < ea.interval_days


def test_retired_question_leaves_the_queue_but_keeps_history(bank, at, write_bank, tmp_path):
    me = Actor.anonymous()
    _answer(bank, me, "s-tf", False)
    import re

    rest = re.sub(r"- id: s-tf\n(?:  .*\n)+", "", SAMPLE)
    folder = tmp_path / "retired"
    folder.mkdir()
    (folder / "s.yaml").write_text(rest, encoding="utf-8")
    with write_session(bank) as s:
        report = sync_bank(session=s, loaded=load_bank(folder).questions)
    assert report.retired == ["s-tf"]
    at(T0 + timedelta(days=2))
    with read_session(bank) as s:
        d = review.due(session=s, actor=me)
        assert "s-tf" not in d.due and d.learning == 0
        assert len(s.exec(select(ReviewLog)).all()) == 1
        assert review.forecast(session=s, actor=me)[0]["count"] == 0


def test_forecast_and_stats(bank, at):
    me = Actor.anonymous()
    with write_session(bank) as s:
        good = review.record(session=s, actor=me, question_id="s-single", rating=Rating.Good, source="cli")
        review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Easy, source="cli")
    with read_session(bank) as s:
        fc = review.forecast(session=s, actor=me)
    assert len(fc) == 30 and fc[0]["date"] == "2026-12-01"
    assert sum(r["count"] for r in fc) == 2
    # Review the Good card when due, failing it: retention counts it as one fail among review cards.
    at(good.due + timedelta(days=1))
    with write_session(bank) as s:
        review.record(session=s, actor=me, question_id="s-single", rating=Rating.Good, source="cli")
    at(good.due + timedelta(days=30))
    with write_session(bank) as s:
        review.record(session=s, actor=me, question_id="s-single", rating=Rating.Again, source="cli")
    with read_session(bank) as s:
        st = review.stats(session=s, actor=me)
    assert st.cards == 2
    assert 0 < st.knowledge < 2 and st.mean_retrievability == pytest.approx(st.knowledge / 2)
    assert {r["topic"] for r in st.by_topic} == {"cnn", "activation-functions"}
    assert st.streak == 1 and len(st.days) >= 2


def test_retention_counts_first_review_of_the_day_only(bank, at):
    me = Actor.anonymous()
    with write_session(bank) as s:
        out = review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Easy, source="cli")
    at(out.due + timedelta(hours=1))
    with write_session(bank) as s:
        review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Again, source="cli")
    at(out.due + timedelta(hours=1, minutes=20))
    with write_session(bank) as s:
        review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Good, source="cli")
    with read_session(bank) as s:
        st = review.stats(session=s, actor=me)
    assert st.retention_n == 1 and st.retention == 0.0


def test_streak_counts_consecutive_days(bank, at):
    me = Actor.anonymous()
    for day in (0, 1, 2, 4, 5):
        at(T0 + timedelta(days=day))
        with write_session(bank) as s:
            review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Again, source="cli")
    with read_session(bank) as s:
        assert review.stats(session=s, actor=me).streak == 2
    at(T0 + timedelta(days=6))
    with read_session(bank) as s:
        assert review.stats(session=s, actor=me).streak == 2  # none yet today: yesterday's run counts
    at(T0 + timedelta(days=8))
    with read_session(bank) as s:
        assert review.stats(session=s, actor=me).streak == 0


def test_a_clock_that_goes_back_never_moves_a_card_before_its_last_review(bank, at):
    me = Actor.anonymous()
    with write_session(bank) as s:
        review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Good, source="cli")
    at(T0 - timedelta(hours=3))
    with write_session(bank) as s:
        review.record(session=s, actor=me, question_id="s-tf", rating=Rating.Good, source="cli")
    row = _card(bank, me, "s-tf")
    assert review._utc(row.last_review) == T0 and review._utc(row.due) > T0


def test_learners_see_only_their_own_cards(bank, at):
    a, b = Actor.anonymous(), Actor.anonymous()
    res = _answer(bank, a, "s-tf", True)
    with read_session(bank) as s:
        assert review.card_state(session=s, actor=b, question_id="s-tf") is None
        assert review.stats(session=s, actor=b).cards == 0
    with write_session(bank) as s, pytest.raises(review.ReviewError):
        review.rerate(session=s, actor=b, response_id=res.response_id, rating=Rating.Again)


def test_unknown_question_is_refused(bank, at):
    with write_session(bank) as s, pytest.raises(review.ReviewError, match="no question 'nope'"):
        review.record(
            session=s, actor=Actor.anonymous(), question_id="nope", rating=Rating.Good, source="cli"
        )


def test_cards_table_holds_one_row_per_learner_and_question(bank, at):
    me = Actor.anonymous()
    for ans in (True, False, True):
        _answer(bank, me, "s-tf", ans)
    with read_session(bank) as s:
        rows = s.exec(select(ReviewCard)).all()
        logs = s.exec(select(ReviewLog).order_by(ReviewLog.id)).all()
    assert len(rows) == 1 and rows[0].reps == 3
    assert [lg.first for lg in logs] == [True, False, False]


def test_the_home_count_agrees_with_the_queue(bank, at):
    """due(with_ids=False), which Home uses, counts what the Review page's queue holds."""
    me = Actor.anonymous()

    def both():
        with read_session(bank) as s:
            full, quick = review.due(session=s, actor=me), review.due(session=s, actor=me, with_ids=False)
        assert (quick.new, quick.learning, quick.review) == (full.new, full.learning, full.review)
        return full

    assert both().new == 6
    with write_session(bank) as s:
        for qid in ("s-tf", "s-single", "s-multi", "s-num", "s-short"):
            review.record(session=s, actor=me, question_id=qid, rating=Rating.Again, source="cli")
        review.record(session=s, actor=me, question_id="s-faq", rating=Rating.Again, source="cli")  # not deck
    review._deck_cache.clear()
    at(T0 + timedelta(minutes=5))
    d = both()
    assert d.new == 1 and d.learning == 6
