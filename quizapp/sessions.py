"""Signing in and out: server-side sessions and roles. Repeated failures are slowed per (name, client
address) by quizapp/throttle.py in the /auth/ routes; no account is ever locked for everyone.

The browser holds a random token; the database holds only its SHA-256, so a leaked table signs nobody in.
"""

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from quizapp.auth import ROLES, AccountError, create_user, hash_password, needs_rehash, verify_password
from quizapp.identity import AccessDenied, Actor
from quizapp.models import AnonClaim, LoginSession, User, utcnow

# One text for every failure, so a reply never tells whether the username exists.
GENERIC_FAILURE = "Wrong username or password."


class SignInError(Exception):
    """A sign-in that failed; the message is always GENERIC_FAILURE."""

    def __init__(self) -> None:
        super().__init__(GENERIC_FAILURE)


@dataclass(frozen=True)
class Account:
    """Who a session token belongs to: what pages need to draw the account box."""

    actor: Actor
    username: str


@dataclass(frozen=True)
class UserRow:
    """A user as the admin page shows it; no password hash."""

    id: int
    username: str
    role: str
    created_at: datetime
    locked_until: datetime | None


def session_lifetime() -> timedelta:
    return timedelta(days=float(os.environ.get("QUIZAPP_SESSION_DAYS", "14")))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _open_session(session: Session, user: User, now: datetime) -> str:
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(user_id=user.id, token_hash=token_hash(token), expires_at=now + session_lifetime())
    )
    session.flush()
    return token


def sign_in(*, session: Session, username: str, password: str, now: datetime | None = None) -> str:
    """Check the password and open a session; returns the raw token for the cookie.

    Commits its own transaction before the Argon2 check (up to a second on a small server), so the
    check never holds SQLite's write lock. Counting failures is the caller's (the /auth/ routes'
    throttle, keyed on name and client address): nothing here locks an account."""
    now = now or utcnow()
    found = session.exec(select(User.id, User.password_hash).where(User.username == username)).first()
    session.commit()
    user_id, stored = found if found is not None else (None, None)
    # An unknown name costs the same Argon2 work as a real one, so timing does not tell them apart.
    ok = verify_password(stored or _dummy_hash(), password)
    if user_id is None or not stored or not ok:
        raise SignInError()
    user = session.exec(select(User).where(User.id == user_id)).one()
    if user.password_hash != stored:  # changed (reset) while the hash was being checked
        raise SignInError()
    if needs_rehash(stored):
        user.password_hash = hash_password(password)
    session.add(user)
    return _open_session(session, user, now)


def sign_up(*, session: Session, username: str, password: str) -> str:
    """Create a learner and sign them in. Raises AccountError with a message for the person (taken
    name, short password). The /auth/ routes then adopt the browser's anonymous progress
    (quizapp.devices.adopt_device) in the same transaction."""
    now = utcnow()
    try:
        # No savepoint here: opening one would start the transaction (and SQLite's write lock) before
        # create_user has done its slow hashing.
        user = create_user(session=session, username=username, role="learner", password=password)
    except IntegrityError:
        # The same name signed up in a concurrent request between the check and the insert.
        session.rollback()
        raise AccountError(f"the username {username!r} is taken") from None
    return _open_session(session, user, now)


def resolve_account(*, session: Session, token: str | None, now: datetime | None = None) -> Account | None:
    """The account behind a session token, or None when it is unknown, expired or revoked."""
    if not token:
        return None
    now = now or utcnow()
    row = session.exec(
        select(LoginSession, User)
        .join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    login, user = row
    if login.revoked_at is not None or _utc(login.expires_at) <= now:
        return None
    return Account(actor=Actor(user_id=user.id, role=user.role), username=user.username)


def resolve(*, session: Session, token: str | None, now: datetime | None = None) -> Actor | None:
    account = resolve_account(session=session, token=token, now=now)
    return account.actor if account else None


def sign_out(*, session: Session, token: str | None) -> None:
    if not token:
        return
    login = session.exec(select(LoginSession).where(LoginSession.token_hash == token_hash(token))).first()
    if login is not None and login.revoked_at is None:
        login.revoked_at = utcnow()
        session.add(login)


def revoke_all(*, session: Session, user_id: int) -> int:
    """Sign a user out everywhere; returns how many sessions were open."""
    open_ = session.exec(
        select(LoginSession).where(LoginSession.user_id == user_id, col(LoginSession.revoked_at).is_(None))
    ).all()
    now = utcnow()
    for login in open_:
        login.revoked_at = now
        session.add(login)
    return len(open_)


def purge_expired(*, session: Session, now: datetime | None = None) -> int:
    """Delete login sessions past their expiry, and claim tickets (the sign-up links of before the
    device cookie; quizapp/devices.py replaced them) past theirs; returns how many rows went.
    `quizapp purge` and `quizapp init` run it through quizapp.devices.purge."""
    now = now or utcnow()
    gone = session.exec(delete(LoginSession).where(col(LoginSession.expires_at) < now)).rowcount
    return gone + session.exec(delete(AnonClaim).where(col(AnonClaim.expires_at) < now)).rowcount


# Administration ------------------------------------------------------------------------------------


def _require_admin(session: Session, actor: Actor) -> None:
    # Checked against the database, not only the Actor, so a demoted admin loses the right at once.
    if actor.role != "admin" or actor.user_id is None:
        raise AccessDenied("only an admin can manage users")
    me = session.get(User, actor.user_id)
    if me is None or me.role != "admin":
        raise AccessDenied("only an admin can manage users")


def list_users(*, session: Session, actor: Actor) -> list[UserRow]:
    _require_admin(session, actor)
    users = session.exec(select(User).order_by(col(User.username))).all()
    return [
        UserRow(
            id=u.id or 0,
            username=u.username,
            role=u.role,
            created_at=_utc(u.created_at),
            locked_until=_utc(u.locked_until) if u.locked_until else None,
        )
        for u in users
    ]


def set_role(*, session: Session, actor: Actor, user_id: int, role: str) -> None:
    """Change a user's role and sign them out everywhere, so the new role applies from their next page."""
    _require_admin(session, actor)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    # Lock every admin row (PostgreSQL) so two admins demoting each other cannot both succeed.
    admins = session.exec(select(User).where(User.role == "admin").with_for_update()).all()
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"no user with id {user_id}")
    if user.role == role:
        return
    if user.role == "admin" and len(admins) <= 1:
        raise AccountError("this is the last admin; make someone else an admin first")
    user.role = role
    session.add(user)
    revoke_all(session=session, user_id=user_id)
