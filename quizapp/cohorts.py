"""Cohorts: instructors create them, learners join with a code, the owner reads the roster."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from quizapp.identity import AccessDenied, Actor
from quizapp.models import Cohort, Enrollment, User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud and typed
CODE_LENGTH = 8
TEACHING_ROLES = ("instructor", "admin")


class CohortError(ValueError):
    """A cohort request that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    username: str
    joined_at: datetime


def require_teacher(actor: Actor) -> None:
    if actor.user_id is None or actor.role not in TEACHING_ROLES:
        raise AccessDenied("only instructors and admins can do this")


def owned_cohort(*, session: Session, actor: Actor, cohort_id: int) -> Cohort:
    """The cohort, if the actor owns it (or is an admin)."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or not (
        actor.role == "admin" or (actor.role == "instructor" and cohort.owner_id == actor.user_id)
    ):
        raise AccessDenied(f"cohort {cohort_id} is not one of yours")
    return cohort


def is_enrolled(*, session: Session, user_id: int, cohort_id: int) -> bool:
    stmt = select(Enrollment.id).where(
        Enrollment.cohort_id == cohort_id, Enrollment.user_id == user_id, col(Enrollment.removed_at).is_(None)
    )
    return session.exec(stmt).first() is not None


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Cohort.id).where(Cohort.join_code == code)).first() is None:
            return code


def create_cohort(*, session: Session, actor: Actor, name: str) -> Cohort:
    require_teacher(actor)
    name = " ".join(name.split())
    if not 2 <= len(name) <= 80:
        raise CohortError("a cohort name is 2 to 80 characters")
    assert actor.user_id is not None
    # Unique per owner: another instructor's cohorts are neither in the way nor named here.
    mine = select(Cohort.id).where(Cohort.owner_id == actor.user_id, Cohort.name == name)
    if session.exec(mine).first() is not None:
        raise CohortError(f"you already have a cohort called {name!r}; choose another name")
    cohort = Cohort(name=name, join_code=_new_code(session), owner_id=actor.user_id)
    session.add(cohort)
    session.flush()
    return cohort


def join_cohort(*, session: Session, actor: Actor, code: str) -> Cohort:
    """Enrol the signed-in actor; joining twice is harmless."""
    if actor.user_id is None:
        raise AccessDenied("sign in (or sign up) to join a cohort")
    normalised = code.strip().upper().replace(" ", "").replace("-", "")
    cohort = session.exec(select(Cohort).where(Cohort.join_code == normalised)).first()
    if cohort is None or cohort.archived_at is not None:
        raise CohortError("no cohort has that join code; check it with your instructor")
    assert cohort.id is not None
    if is_enrolled(session=session, user_id=actor.user_id, cohort_id=cohort.id):
        return cohort
    if not cohort.join_open:
        raise CohortError("this cohort is not taking new learners; ask your instructor")
    # A learner the instructor removed comes back through a code that still admits (rotate it to stop that).
    earlier = session.exec(
        select(Enrollment).where(Enrollment.cohort_id == cohort.id, Enrollment.user_id == actor.user_id)
    ).first()
    if earlier is not None:
        earlier.removed_at = None
        session.add(earlier)
    else:
        session.add(Enrollment(cohort_id=cohort.id, user_id=actor.user_id))
    session.flush()
    return cohort


def my_cohorts(*, session: Session, actor: Actor, archived: bool = False) -> list[Cohort]:
    """Admins: all; instructors: the ones they own; learners: the ones they joined (and were not
    removed from). Archived cohorts only with `archived`."""
    if actor.user_id is None:
        return []
    if actor.role == "admin":
        stmt = select(Cohort)
    elif actor.role == "instructor":
        stmt = select(Cohort).where(Cohort.owner_id == actor.user_id)
    else:
        stmt = (
            select(Cohort)
            .join(Enrollment, Enrollment.cohort_id == Cohort.id)
            .where(Enrollment.user_id == actor.user_id, col(Enrollment.removed_at).is_(None))
        )
    if not archived:
        stmt = stmt.where(col(Cohort.archived_at).is_(None))
    return list(session.exec(stmt.order_by(Cohort.name)).all())


def roster(*, session: Session, actor: Actor, cohort_id: int) -> list[RosterEntry]:
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    stmt = (
        select(User.id, User.username, Enrollment.joined_at)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.cohort_id == cohort_id, col(Enrollment.removed_at).is_(None))
        .order_by(col(User.username))
    )
    return [RosterEntry(uid, name, joined) for uid, name, joined in session.exec(stmt).all()]
