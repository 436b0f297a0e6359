"""Anonymous devices (quizapp/devices.py) on both engines: make, resolve, renew, adopt, purge."""

import json
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from quizapp import devices
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cli import main
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.models import (
    AnonDevice,
    Attempt,
    Bookmark,
    LearnerSettings,
    LoginSession,
    Response,
    ReviewCard,
    ReviewLog,
    as_utc,
    utcnow,
)
from quizapp.practice import history, start_attempt, submit_answer
from quizapp.sessions import resolve, sign_in, sign_up, token_hash
from tests.utils.bank import SAMPLE

PW = "correct horse battery"


@pytest.fixture
def bank(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    return engine


def _resolve(engine, token, now=None):
    with write_session(engine) as s:
        return devices.resolve_device(session=s, token=token, now=now)


def _device(engine, token):
    with read_session(engine) as s:
        return s.exec(select(AnonDevice).where(AnonDevice.token_hash == token_hash(token))).one()


ANSWERS = {"s-tf": True, "s-num": 30, "s-single": "Max pooling"}


def _practise(engine, actor, *question_ids):
    """One practice attempt answering these questions right; the response ids."""
    with write_session(engine) as s:
        attempt = start_attempt(session=s, actor=actor)
        return [
            submit_answer(
                session=s, actor=actor, attempt_id=attempt, question_id=q, answer=ANSWERS[q]
            ).response_id
            for q in question_ids
        ]


def _owner(actor):
    return {"user_id": actor.user_id, "anon_key": None if actor.user_id else actor.anon_key}


def _card(engine, actor, question_id, last_review, reviews=1):
    """A review card with `reviews` log rows, the way the review module stores them."""
    with write_session(engine) as s:
        card = ReviewCard(
            **_owner(actor),
            question_id=question_id,
            state=2,
            stability=3.0,
            difficulty=5.0,
            due=last_review + timedelta(days=3),
            last_review=last_review,
            reps=reviews,
        )
        s.add(card)
        s.flush()
        for i in range(reviews):
            s.add(
                ReviewLog(
                    card_id=card.id,
                    **_owner(actor),
                    question_id=question_id,
                    rating=3,
                    due_after=card.due,
                    reviewed_at=last_review - timedelta(days=reviews - 1 - i),
                )
            )
        return card.id


def _user(engine, name):
    with write_session(engine) as s:
        user = create_user(session=s, username=name, role="learner", password=PW)
        return Actor(user_id=user.id)


def _count(engine, model, *where):
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


# Devices ------------------------------------------------------------------------------------------


def test_a_device_is_made_on_first_sight_and_stores_only_the_hash(engine):
    token = devices.new_token()
    key = _resolve(engine, token)
    assert key and _resolve(engine, token) == key
    row = _device(engine, token)
    assert row.anon_key == key and row.adopted_by is None
    assert as_utc(row.expires_at) - as_utc(row.created_at) == timedelta(days=90)
    with read_session(engine) as s:
        assert [r.token_hash for r in s.exec(select(AnonDevice)).all()] == [token_hash(token)]
    assert _resolve(engine, devices.new_token()) not in (None, key)  # another browser, another key


@pytest.mark.parametrize("token", [None, "", "short", "x" * 43 + "!", "a" * 44, 42])
def test_a_malformed_token_names_no_device(engine, token):
    assert _resolve(engine, token) is None
    assert _count(engine, AnonDevice) == 0


def test_the_expiry_slides_at_most_once_a_day(engine, monkeypatch):
    monkeypatch.setenv("QUIZAPP_ANON_DAYS", "30")
    token, start = devices.new_token(), utcnow()
    key = _resolve(engine, token, start)
    assert as_utc(_device(engine, token).expires_at) == start + timedelta(days=30)
    assert _resolve(engine, token, start + timedelta(hours=20)) == key
    assert as_utc(_device(engine, token).expires_at) == start + timedelta(days=30)  # not yet a day
    later = start + timedelta(days=2)
    assert _resolve(engine, token, later) == key
    row = _device(engine, token)
    assert as_utc(row.last_seen_at) == later and as_utc(row.expires_at) == later + timedelta(days=30)


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "inf", "ninety", "4000"])
def test_a_bad_lifetime_is_refused_with_its_bounds(monkeypatch, raw):
    monkeypatch.setenv("QUIZAPP_ANON_DAYS", raw)
    with pytest.raises(ValueError, match="QUIZAPP_ANON_DAYS must be a number of days above 0"):
        devices.anon_lifetime()


def test_progress_survives_because_the_same_cookie_gives_the_same_identity(bank):
    token = devices.new_token()
    first = Actor.anonymous(_resolve(bank, token))
    _practise(bank, first, "s-tf")
    again = Actor.anonymous(_resolve(bank, token))  # a reload or a browser restart: a new session
    with read_session(bank) as s:
        assert [h["question_id"] for h in history(session=s, actor=again)] == ["s-tf"]


# Adoption -----------------------------------------------------------------------------------------


def _sign_in_adopting(engine, username, token):
    """What the /auth/signin route does: sign in and adopt in one transaction."""
    with write_session(engine) as s:
        session_token = sign_in(session=s, username=username, password=PW)
        me = resolve(session=s, token=session_token)
        return me, devices.adopt_device(session=s, token=token, user_id=me.user_id)


def test_sign_in_adopts_answers_cards_logs_bookmarks_and_settings(bank):
    alice = _user(bank, "alice")
    token = devices.new_token()
    anon = Actor.anonymous(_resolve(bank, token))
    _practise(bank, anon, "s-tf", "s-num")  # each graded answer updates a review card and logs it
    with write_session(bank) as s:
        s.add(Bookmark(anon_key=anon.anon_key, question_id="s-num"))
        s.add(LearnerSettings(anon_key=anon.anon_key, new_per_day=5))

    me, moved = _sign_in_adopting(bank, "alice", token)
    assert me.user_id == alice.user_id
    assert moved == devices.Adoption(answers=2, attempts=1, cards=2, bookmarks=1, settings=1)
    with read_session(bank) as s:
        assert sorted(h["question_id"] for h in history(session=s, actor=alice)) == ["s-num", "s-tf"]
        assert history(session=s, actor=anon) == []
        attempt = s.exec(select(Attempt)).one()
        assert (attempt.user_id, attempt.anon_key) == (alice.user_id, None)
        for model, n in ((ReviewCard, 2), (ReviewLog, 2), (Bookmark, 1), (LearnerSettings, 1)):
            rows = s.exec(select(model)).all()
            assert [(r.user_id, r.anon_key) for r in rows] == [(alice.user_id, None)] * n, model.__name__
        assert s.exec(select(LearnerSettings)).one().new_per_day == 5
    assert _device(bank, token).adopted_by == alice.user_id
    assert _resolve(bank, token) is None  # that token no longer names an anonymous identity
    # A second sign-in with the same (stale) cookie moves nothing twice.
    assert _sign_in_adopting(bank, "alice", token)[1] == devices.Adoption()


def test_collisions_keep_the_card_reviewed_last_and_the_accounts_bookmarks_and_settings(bank):
    alice = _user(bank, "alice")
    token = devices.new_token()
    anon = Actor.anonymous(_resolve(bank, token))
    now = utcnow()
    # s-tf: the account reviewed it last; s-num: this browser did; s-single: only this browser has it.
    mine_tf = _card(bank, alice, "s-tf", now - timedelta(days=1), reviews=2)
    theirs_tf = _card(bank, anon, "s-tf", now - timedelta(days=5), reviews=1)
    mine_num = _card(bank, alice, "s-num", now - timedelta(days=9), reviews=1)
    theirs_num = _card(bank, anon, "s-num", now - timedelta(hours=2), reviews=3)
    theirs_single = _card(bank, anon, "s-single", now, reviews=1)
    with write_session(bank) as s:
        s.add(Bookmark(user_id=alice.user_id, question_id="s-tf"))
        s.add(Bookmark(anon_key=anon.anon_key, question_id="s-tf"))
        s.add(Bookmark(anon_key=anon.anon_key, question_id="s-num"))
        s.add(LearnerSettings(user_id=alice.user_id, desired_retention=0.85))
        s.add(LearnerSettings(anon_key=anon.anon_key, desired_retention=0.95))

    with write_session(bank) as s:
        moved = devices.adopt_device(session=s, token=token, user_id=alice.user_id)
    assert (moved.cards, moved.bookmarks, moved.settings) == (2, 1, 0)
    with read_session(bank) as s:
        cards = {c.question_id: c for c in s.exec(select(ReviewCard)).all()}
        assert {q: c.id for q, c in cards.items()} == {
            "s-tf": mine_tf,
            "s-num": theirs_num,
            "s-single": theirs_single,
        }
        assert all((c.user_id, c.anon_key) == (alice.user_id, None) for c in cards.values())
        logs = s.exec(select(ReviewLog)).all()
        assert all((g.user_id, g.anon_key) == (alice.user_id, None) for g in logs)
        by_card = {cid: sum(g.card_id == cid for g in logs) for cid in (mine_tf, theirs_num, theirs_single)}
        assert by_card == {mine_tf: 3, theirs_num: 4, theirs_single: 1}  # no review history lost
        assert s.get(ReviewCard, theirs_tf) is None and s.get(ReviewCard, mine_num) is None
        marks = s.exec(select(Bookmark.question_id, Bookmark.user_id)).all()
        assert sorted(marks) == [("s-num", alice.user_id), ("s-tf", alice.user_id)]
        settings = s.exec(select(LearnerSettings)).one()
        assert (settings.user_id, settings.desired_retention) == (alice.user_id, 0.85)


def test_sign_up_adopts_too_and_others_progress_stays_put(bank):
    token, other_token = devices.new_token(), devices.new_token()
    anon = Actor.anonymous(_resolve(bank, token))
    other = Actor.anonymous(_resolve(bank, other_token))
    _practise(bank, anon, "s-tf")
    _practise(bank, other, "s-num")
    with write_session(bank) as s:
        me = resolve(session=s, token=sign_up(session=s, username="newbie", password=PW))
        assert devices.adopt_device(session=s, token=token, user_id=me.user_id).answers == 1
    with read_session(bank) as s:
        assert [h["question_id"] for h in history(session=s, actor=me)] == ["s-tf"]
        assert [h["question_id"] for h in history(session=s, actor=other)] == ["s-num"]


def test_a_browser_with_no_device_row_brings_nothing(bank):
    alice = _user(bank, "alice")
    with write_session(bank) as s:
        for token in (devices.new_token(), None, "bad"):
            assert devices.adopt_device(session=s, token=token, user_id=alice.user_id) == devices.Adoption()
        assert devices.pending_answers(session=s, token=None) == 0


# Purge --------------------------------------------------------------------------------------------


def _anonymous_rows(engine, key):
    total = 0
    for model in (Attempt, ReviewCard, ReviewLog, Bookmark, LearnerSettings):
        total += _count(engine, model, model.anon_key == key, col(model.user_id).is_(None))
    return total


def test_purge_drops_expired_devices_with_all_their_progress(bank):
    start = utcnow()
    stale, fresh = devices.new_token(), devices.new_token()
    old = Actor.anonymous(_resolve(bank, stale, start - timedelta(days=100)))
    live = Actor.anonymous(_resolve(bank, fresh, start))
    alice = _user(bank, "alice")
    for actor in (old, live, alice):
        _practise(bank, actor, "s-tf", "s-num")  # two answers, two review cards, two log rows
        with write_session(bank) as s:
            s.add(Bookmark(**_owner(actor), question_id="s-num"))
            s.add(LearnerSettings(**_owner(actor)))
    with write_session(bank) as s:  # an expired sign-in session goes too
        s.add(LoginSession(user_id=alice.user_id, token_hash="c" * 64, expires_at=start - timedelta(days=1)))
    assert _anonymous_rows(bank, old.anon_key) == 7

    with write_session(bank) as s:
        report = devices.purge(session=s, now=start)
    assert report.as_dict() == {
        "devices": 1,
        "orphans": 0,
        "attempts": 1,
        "answers": 2,
        "review_cards": 2,
        "review_logs": 2,
        "settings": 1,
        "bookmarks": 1,
        "sessions": 1,
    }
    assert _anonymous_rows(bank, old.anon_key) == 0
    assert _anonymous_rows(bank, live.anon_key) == 7
    assert _count(bank, AnonDevice) == 1 and _resolve(bank, fresh) == live.anon_key
    with read_session(bank) as s:
        assert len(history(session=s, actor=alice)) == 2 and len(history(session=s, actor=live)) == 2
        assert _count(bank, ReviewLog, ReviewLog.user_id == alice.user_id) == 2
    # A purged browser that comes back starts afresh under the same cookie.
    assert _resolve(bank, stale, start) not in (None, old.anon_key)


def test_purge_keeps_adopted_progress_and_drops_idle_identities_without_a_device(bank, monkeypatch):
    monkeypatch.setenv("QUIZAPP_ANON_DAYS", "10")
    start = utcnow()
    alice = _user(bank, "alice")
    token = devices.new_token()
    anon = Actor.anonymous(_resolve(bank, token, start - timedelta(days=30)))
    _practise(bank, anon, "s-tf")
    with write_session(bank) as s:
        devices.adopt_device(session=s, token=token, user_id=alice.user_id)
    # A browser without cookies keeps a per-session key: long idle, it is unreachable; a recent one stays.
    idle, recent = Actor.anonymous(), Actor.anonymous()
    _practise(bank, idle, "s-num")
    _practise(bank, recent, "s-num")
    long_ago = start - timedelta(days=11)
    with write_session(bank) as s:
        for model, field in ((Attempt, "started_at"), (ReviewCard, "created_at"), (ReviewLog, "reviewed_at")):
            for row in s.exec(select(model).where(model.anon_key == idle.anon_key)).all():
                setattr(row, field, long_ago)
                s.add(row)
    with write_session(bank) as s:
        report = devices.purge(session=s, now=start)
    assert (report.devices, report.orphans, report.attempts, report.answers) == (1, 1, 1, 1)
    with read_session(bank) as s:
        assert [h["question_id"] for h in history(session=s, actor=alice)] == ["s-tf"]
        assert history(session=s, actor=idle) == []
        assert len(history(session=s, actor=recent)) == 1
    assert _count(bank, Response) == 2


def test_quizapp_purge_prints_counts_and_json(db_url, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    from quizapp.db import get_engine

    _resolve(get_engine(), devices.new_token(), utcnow() - timedelta(days=91))
    assert main(["purge"]) == 0
    assert "purged 1 expired anonymous browser(s)" in capsys.readouterr().out
    assert main(["purge", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["devices"] == 0
    monkeypatch.setenv("QUIZAPP_ANON_DAYS", "zero")
    assert main(["purge"]) == 2
    assert "QUIZAPP_ANON_DAYS" in capsys.readouterr().err
