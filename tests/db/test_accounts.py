"""Issue 12, accounts: change your own password, an admin resets one or unlocks an account, and the
CLI's `user passwd` / `user unlock` / `sample-data --owner`, on SQLite and PostgreSQL."""

import io
import sys

import pytest
from sqlmodel import select

from quizapp.accounts import change_password, reset_password, unlock_user
from quizapp.auth import AccountError, create_user
from quizapp.cli import main
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Cohort, LoginSession, User
from quizapp.sessions import SignInError, resolve, sign_in
from quizapp.throttle import get_throttle, reset_default

PW = "a long enough password"


def _users(engine):
    with write_session(engine) as s:
        made = {
            n: create_user(session=s, username=n, role=r, password=PW)
            for n, r in [("boss", "admin"), ("teach", "instructor"), ("ann", "learner")]
        }
        return {n: Actor(user_id=u.id, role=u.role) for n, u in made.items()}


def _sign_in(engine, name, password):
    with write_session(engine) as s:
        return sign_in(session=s, username=name, password=password)


def test_change_own_password_needs_the_old_one(engine):
    who = _users(engine)
    with pytest.raises(AccountError, match="current password"), write_session(engine) as s:
        change_password(session=s, actor=who["ann"], old="wrong password!", new="a brand new password")
    with pytest.raises(AccountError, match="at least"), write_session(engine) as s:
        change_password(session=s, actor=who["ann"], old=PW, new="short")
    with write_session(engine) as s:
        change_password(session=s, actor=who["ann"], old=PW, new="a brand new password")
    with pytest.raises(SignInError):
        _sign_in(engine, "ann", PW)
    assert _sign_in(engine, "ann", "a brand new password")


@pytest.fixture
def throttle(monkeypatch):
    """The process's throttle, in memory and fresh."""
    monkeypatch.delenv("QUIZAPP_REDIS_URL", raising=False)
    reset_default()
    yield get_throttle()
    reset_default()


def test_admin_resets_a_password_once_and_unlocks(engine, throttle):
    who = _users(engine)
    token = _sign_in(engine, "ann", PW)
    for _ in range(throttle.limits.free_failures):
        throttle.failed("Ann", "10.0.0.7")
    assert throttle.wait("ann", "10.0.0.7") > 0
    for name in ("teach", "ann"):
        with pytest.raises(AccessDenied), write_session(engine) as s:
            unlock_user(session=s, actor=who[name], username="ann")
    with write_session(engine) as s:
        assert unlock_user(session=s, actor=who["boss"], username="ann") is True
    assert throttle.wait("ann", "10.0.0.7") == 0
    with write_session(engine) as s:
        assert unlock_user(session=s, actor=who["boss"], username="ann") is False
    with write_session(engine) as s:
        new = reset_password(session=s, actor=who["boss"], username="ann")
    with read_session(engine) as s:
        assert new not in (s.exec(select(User.password_hash).where(User.username == "ann")).one() or "")
        assert resolve(session=s, token=token) is None  # signed out everywhere
        assert all(
            x.revoked_at for x in s.exec(select(LoginSession)).all() if x.user_id == who["ann"].user_id
        )
    assert _sign_in(engine, "ann", new)
    with pytest.raises(AccessDenied), write_session(engine) as s:
        reset_password(session=s, actor=who["teach"], username="ann")


def test_cli_user_passwd_and_unlock(db_url, engine, monkeypatch, capsys, throttle):
    _users(engine)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert main(["user", "passwd", "ann", "--password-stdin"]) == 0
    assert _sign_in(engine, "ann", "another long password")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["user", "passwd", "ann", "--password-stdin"]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert main(["user", "passwd", "nobody", "--password-stdin"]) == 2
    capsys.readouterr()
    assert main(["user", "unlock", "ann"]) == 0
    out = capsys.readouterr()
    assert "'ann' was not locked" in out.out and "QUIZAPP_REDIS_URL" in out.err
    assert main(["user", "unlock", "nobody"]) == 2


def test_cli_unlock_clears_the_shared_throttle_in_redis(db_url, engine, monkeypatch, capsys):
    """With QUIZAPP_REDIS_URL the server's delays live in Redis, where `quizapp user unlock` clears
    them for every address."""
    import socket
    import uuid

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    name = f"ann{uuid.uuid4().hex[:8]}"
    with write_session(engine) as s:
        create_user(session=s, username=name, role="learner", password=PW)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("QUIZAPP_REDIS_URL", "redis://127.0.0.1:6379/0")
    reset_default()
    try:
        server = get_throttle()  # as the server process would hold it
        # Addresses of this run only: Redis outlives the test, and an address's own budget (every name
        # tried from it) is not what unlock clears.
        net = uuid.uuid4().int % 250 + 1
        one, two = f"10.{net}.{uuid.uuid4().int % 250 + 1}.1", f"10.{net}.{uuid.uuid4().int % 250 + 1}.2"
        for address in (one, two):
            for _ in range(server.limits.free_failures):
                server.failed(name, address)
        assert server.wait(name, one) > 0
        reset_default()  # the CLI is another process
        assert main(["user", "unlock", name]) == 0
        assert f"unlocked {name!r}" in capsys.readouterr().out
        assert server.wait(name, one) == 0 and server.wait(name, two) == 0
    finally:
        reset_default()


def test_sample_data_owner(db_url, engine, write_bank, monkeypatch, capsys):
    from quizapp.bank.loader import load_bank
    from quizapp.bank.sync import sync_bank
    from tests.utils.bank import SAMPLE

    who = _users(engine)
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    assert main(["sample-data", "--learners", "3", "--owner", "teach", "--cohort", "Mine"]) == 0
    assert "owned by 'teach'" in capsys.readouterr().out
    with read_session(engine) as s:
        assert s.exec(select(Cohort.owner_id).where(Cohort.name == "Mine")).one() == who["teach"].user_id
    assert main(["sample-data", "--learners", "3", "--owner", "ann", "--cohort", "Theirs"]) == 1
    assert "must be an instructor" in capsys.readouterr().err
    assert main(["sample-data", "--learners", "3", "--owner", "ghost", "--cohort", "Theirs"]) == 1
