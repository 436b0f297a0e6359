"""Account upkeep: change your own password, an admin resets one (a new password shown once) or
clears the sign-in delays of an account (quizapp/throttle.py). A changed or reset password signs the user out
everywhere else."""

import secrets

from sqlmodel import Session, select

from quizapp.auth import AccountError, check_new_password, hash_password, verify_password
from quizapp.identity import AccessDenied, Actor
from quizapp.models import User
from quizapp.sessions import _require_admin, revoke_all
from quizapp.throttle import get_throttle


def change_password(*, session: Session, actor: Actor, old: str, new: str) -> None:
    """The signed-in user's own password; the old one is required. Other sessions are signed out
    (the caller keeps the current one by signing in again, or stays as it is)."""
    if actor.user_id is None:
        raise AccessDenied("sign in to change your password")
    user = session.get(User, actor.user_id)
    if user is None:
        raise AccessDenied("sign in to change your password")
    check_new_password(new, username=user.username)
    if not user.password_hash or not verify_password(user.password_hash, old):
        raise AccountError("the current password is not right")
    if old == new:
        raise AccountError("the new password is the same as the current one")
    user.password_hash = hash_password(new)
    session.add(user)
    session.flush()


def _by_name(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise LookupError(f"no user called {username!r}")
    return user


def set_password(*, session: Session, username: str, password: str) -> User:
    """Set a password without the old one (the CLI, run by whoever holds the database; an admin's
    reset): also clears a lockout and signs the user out everywhere."""
    user = _by_name(session, username)
    check_new_password(password, username=username)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    revoke_all(session=session, user_id=user.id)  # type: ignore[arg-type]
    session.flush()
    return user


def reset_password(*, session: Session, actor: Actor, username: str) -> str:
    """An admin gives a user a new random password; returned once, to be passed on, never stored."""
    _require_admin(session, actor)
    password = secrets.token_urlsafe(12)
    set_password(session=session, username=username, password=password)
    return password


def unlock(*, session: Session, username: str) -> bool:
    """Clear the account's sign-in delays from every address (the throttle of this process, or the
    shared one in Redis) and the lockout columns older versions set; True if anything was cleared."""
    user = _by_name(session, username)
    was = user.locked_until is not None or user.failed_logins > 0
    if was:
        user.failed_logins, user.locked_until = 0, None
        session.add(user)
        session.flush()
    return get_throttle().clear(user.username) > 0 or was


def unlock_user(*, session: Session, actor: Actor, username: str) -> bool:
    _require_admin(session, actor)
    return unlock(session=session, username=username)
