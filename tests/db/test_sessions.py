import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from quizapp import sessions
from quizapp.auth import AccountError, create_user
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied, Actor
from quizapp.models import AnonClaim, LoginSession, User, utcnow
from quizapp.sessions import (
    GENERIC_FAILURE,
    SignInError,
    list_users,
    purge_expired,
    resolve,
    resolve_account,
    revoke_all,
    set_role,
    sign_in,
    sign_out,
    sign_up,
    token_hash,
)

PW = "correct horse battery"


def _user(engine, name, role="learner"):
    with write_session(engine) as s:
        return create_user(session=s, username=name, role=role, password=PW).id


def _sign_in(engine, name, password=PW, now=None):
    with write_session(engine) as s:
        return sign_in(session=s, username=name, password=password, now=now)


def _failure(engine, name, password, now=None):
    with pytest.raises(SignInError) as err:
        _sign_in(engine, name, password, now)
    return str(err.value)


def _resolve(engine, token, now=None):
    with read_session(engine) as s:
        return resolve(session=s, token=token, now=now)


def _admin(engine, name="root"):
    return Actor(user_id=_user(engine, name, "admin"), role="admin")


def test_only_the_token_hash_is_stored(engine):
    """The cookie's token signs in; the table holds its SHA-256 and never the token itself."""
    uid = _user(engine, "alice")
    token = _sign_in(engine, "alice")
    assert len(token) >= 43
    with read_session(engine) as s:
        rows = s.exec(select(LoginSession)).all()
    assert [r.token_hash for r in rows] == [token_hash(token)]
    assert token not in rows[0].token_hash
    assert _resolve(engine, token) == Actor(user_id=uid, role="learner")
    with read_session(engine) as s:
        assert resolve_account(session=s, token=token).username == "alice"


@pytest.mark.parametrize("token", [None, "", "made-up-token"])
def test_unknown_token_resolves_to_nobody(engine, token):
    _user(engine, "alice")
    _sign_in(engine, "alice")
    assert _resolve(engine, token) is None


def test_session_expires(engine, monkeypatch):
    monkeypatch.setenv("QUIZAPP_SESSION_DAYS", "2")
    _user(engine, "alice")
    token = _sign_in(engine, "alice")
    assert _resolve(engine, token, now=utcnow() + timedelta(days=1, hours=23)) is not None
    assert _resolve(engine, token, now=utcnow() + timedelta(days=2, minutes=1)) is None


def test_sign_out_revokes_only_that_session(engine):
    _user(engine, "alice")
    laptop, phone = _sign_in(engine, "alice"), _sign_in(engine, "alice")
    with write_session(engine) as s:
        sign_out(session=s, token=laptop)
    assert _resolve(engine, laptop) is None
    assert _resolve(engine, phone) is not None


def test_revoke_all_signs_out_everywhere(engine):
    uid = _user(engine, "alice")
    tokens = [_sign_in(engine, "alice") for _ in range(2)]
    with write_session(engine) as s:
        assert revoke_all(session=s, user_id=uid) == 2
    assert all(_resolve(engine, t) is None for t in tokens)


def test_every_failure_reads_the_same(engine):
    """Unknown user and wrong password give one message, so neither reveals which."""
    _user(engine, "alice")
    assert _failure(engine, "nobody", PW) == GENERIC_FAILURE
    assert _failure(engine, "alice", "wrong password") == GENERIC_FAILURE


def test_wrong_passwords_never_lock_the_account(engine):
    """Issue 15: no one can lock an account for its owner; slowing guesses is the routes' throttle
    (per name and address, tests/web/test_throttle_routes.py)."""
    _user(engine, "alice")
    for _ in range(12):
        _failure(engine, "alice", "wrong password")
    assert _resolve(engine, _sign_in(engine, "alice")) is not None
    with read_session(engine) as s:
        user = s.exec(select(User)).one()
        assert user.failed_logins == 0 and user.locked_until is None


def test_the_password_check_holds_no_database_lock(engine, monkeypatch):
    """Argon2 is slow on purpose; while it runs, other requests can still write (SQLite's one lock)."""
    _user(engine, "alice")
    real, writes = sessions.verify_password, []

    def verify_while_another_request_writes(stored, password):
        with write_session(engine) as other:
            other.add(User(username=f"other{len(writes)}"))
        writes.append(1)
        return real(stored, password)

    monkeypatch.setattr(sessions, "verify_password", verify_while_another_request_writes)
    assert _sign_in(engine, "alice")
    _failure(engine, "alice", "wrong password")
    assert len(writes) == 2


def test_passwords_never_reach_the_log(engine, caplog):
    _user(engine, "alice")
    with caplog.at_level(logging.DEBUG):
        _failure(engine, "alice", "my secret guess 123")
        _failure(engine, "nobody", "my secret guess 123")
        _sign_in(engine, "alice")
    assert "my secret guess" not in caplog.text and PW not in caplog.text


# Sign-up and sign-in adopting a browser's anonymous progress: tests/db/test_devices.py.


def test_sign_up_refuses_a_taken_name_in_any_case(engine):
    _user(engine, "alice")
    with pytest.raises(AccountError, match="taken"), write_session(engine) as s:
        sign_up(session=s, username="Alice", password=PW)


def test_roles_change_only_by_an_admin(engine):
    root = _admin(engine)
    uid = _user(engine, "alice")
    teacher = Actor(user_id=_user(engine, "teacher", "instructor"), role="instructor")
    learner = Actor(user_id=uid, role="learner")
    for who in (learner, teacher, Actor.anonymous()):
        with pytest.raises(AccessDenied), write_session(engine) as s:
            set_role(session=s, actor=who, user_id=uid, role="admin")
        with pytest.raises(AccessDenied), read_session(engine) as s:
            list_users(session=s, actor=who)
    # An Actor that claims admin is checked against the database.
    with pytest.raises(AccessDenied), write_session(engine) as s:
        set_role(session=s, actor=Actor(user_id=uid, role="admin"), user_id=uid, role="admin")
    with pytest.raises(AccountError, match="role must be"), write_session(engine) as s:
        set_role(session=s, actor=root, user_id=uid, role="superuser")

    token = _sign_in(engine, "alice")
    with write_session(engine) as s:
        set_role(session=s, actor=root, user_id=uid, role="instructor")
    assert _resolve(engine, token) is None  # signed out, so the new role applies from the next sign-in
    assert _resolve(engine, _sign_in(engine, "alice")).role == "instructor"
    with read_session(engine) as s:
        rows = list_users(session=s, actor=root)
    assert [(r.username, r.role) for r in rows] == [
        ("alice", "instructor"),
        ("root", "admin"),
        ("teacher", "instructor"),
    ]
    assert not any(hasattr(r, "password_hash") for r in rows)


def test_the_last_admin_cannot_step_down(engine):
    root = _admin(engine)
    with pytest.raises(AccountError, match="last admin"), write_session(engine) as s:
        set_role(session=s, actor=root, user_id=root.user_id, role="learner")
    other = _admin(engine, "second")
    with write_session(engine) as s:
        set_role(session=s, actor=root, user_id=root.user_id, role="learner")
    with pytest.raises(AccountError, match="last admin"), write_session(engine) as s:
        set_role(session=s, actor=other, user_id=other.user_id, role="instructor")


def test_purge_drops_only_what_has_expired(engine):
    _user(engine, "alice")
    token = _sign_in(engine, "alice")
    with write_session(engine) as s:  # claim tickets left from before the device cookie
        s.add(AnonClaim(ticket_hash="a" * 64, anon_key="k1", expires_at=utcnow() - timedelta(seconds=1)))
        s.add(AnonClaim(ticket_hash="b" * 64, anon_key="k2", expires_at=utcnow() + timedelta(hours=1)))
    with write_session(engine) as s:
        assert purge_expired(session=s) == 1
    with read_session(engine) as s:
        assert s.exec(select(AnonClaim)).one().anon_key == "k2"
    assert _resolve(engine, token) is not None
    with write_session(engine) as s:
        assert purge_expired(session=s, now=utcnow() + timedelta(days=15)) == 2
    assert _resolve(engine, token) is None
