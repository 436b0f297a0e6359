"""Passwords and users. Argon2id hashes; a password is never logged or stored in clear."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import Session, select

from quizapp.models import User

ROLES = ("learner", "instructor", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
MIN_PASSWORD = 10
# Hashing a megabyte of "password" would let one request burn a core; no real password is this long.
MAX_PASSWORD = 1024

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost


class AccountError(ValueError):
    """A sign-up or user change that cannot be made as asked; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the library now recommends."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def check_new_password(password: str, *, username: str | None = None) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must be at most {MAX_PASSWORD} characters long")
    if username and password.strip().lower() == username.lower():
        raise AccountError("the password must not be the username")


def username_taken(*, session: Session, username: str) -> bool:
    # Case-insensitive, so "Alice" cannot sign up beside "alice" and pass for her.
    stmt = select(User.id).where(func.lower(User.username) == username.lower())
    return session.exec(stmt).first() is not None


def create_user(*, session: Session, username: str, role: str, password: str) -> User:
    if not USERNAME.match(username):
        raise AccountError("a username is 3 to 64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    check_new_password(password, username=username)
    # Hash before the first query: on SQLite that query takes the write lock, and Argon2 is slow on purpose.
    password_hash = hash_password(password)
    if username_taken(session=session, username=username):
        raise AccountError(f"the username {username!r} is taken")
    user = User(username=username, role=role, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user
