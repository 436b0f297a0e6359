"""Managing a course: edit, close or delete an assignment, per-learner overrides, shuffled attempts,
and the cohort's roster and join code. Every call checks that the actor owns the cohort."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from quizapp.assignments import FEEDBACK, AssignmentError, _finish, question_ids_of
from quizapp.attempt_rules import Rules, apply_layout, make_layout, new_layout, rules_for  # noqa: F401
from quizapp.cohorts import CohortError, _new_code, owned_cohort
from quizapp.identity import AccessDenied, Actor
from quizapp.models import (
    Assignment,
    AssignmentOverride,
    AssignmentQuestion,
    Attempt,
    Cohort,
    Enrollment,
    ItemSum,
    TopicSum,
    User,
    as_utc,
    utcnow,
)
from quizapp.questions import QuestionView, get_question, list_questions

# What may still change once a learner has started an attempt (Moodle's rule: the rest would make
# attempts already made incomparable with later ones).
LATE_FIELDS = ("opens_at", "due_at", "attempts_allowed")
FIELDS = ("title", "time_limit_s", "attempts_allowed", "opens_at", "due_at", "feedback", "shuffle")


def _owned_assignment(
    session: Session, actor: Actor, assignment_id: int, *, writing: bool = True
) -> Assignment:
    a = session.get(Assignment, assignment_id)
    if a is None:
        raise AccessDenied(f"assignment {assignment_id} is not one of yours")
    cohort = owned_cohort(session=session, actor=actor, cohort_id=a.cohort_id)
    if writing and cohort.archived_at is not None:
        raise AssignmentError(f"the cohort {cohort.name!r} is archived: it is read-only")
    return a


def attempts_count(session: Session, assignment_id: int) -> int:
    stmt = select(func.count()).select_from(Attempt).where(Attempt.assignment_id == assignment_id)
    return int(session.exec(stmt).one())


def update_assignment(*, session: Session, actor: Actor, assignment_id: int, **changes: Any) -> Assignment:
    """Change an assignment's settings: any of FIELDS until the first attempt starts, then only the
    dates and the number of attempts. A field left out (or given as it is) is not a change."""
    a = _owned_assignment(session, actor, assignment_id)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"not assignment settings: {', '.join(sorted(unknown))}")
    if "opens_at" in changes:
        changes["opens_at"] = as_utc(changes["opens_at"])
    if "due_at" in changes:
        changes["due_at"] = as_utc(changes["due_at"])
    if "title" in changes:
        changes["title"] = " ".join(str(changes["title"]).split())
    real = {
        k: v
        for k, v in changes.items()
        if (as_utc(getattr(a, k)) if k.endswith("_at") else getattr(a, k)) != v
    }
    if not real:
        return a
    started = attempts_count(session, assignment_id)
    frozen = sorted(set(real) - set(LATE_FIELDS))
    if started and frozen:
        raise AssignmentError(
            f"{started} attempt(s) have started, so only the dates and the number of attempts may change "
            f"(not {', '.join(frozen)})"
        )
    title = real.get("title", a.title)
    if not 2 <= len(title) <= 120:
        raise AssignmentError("a title is 2 to 120 characters")
    if (
        "title" in real
        and session.exec(
            select(Assignment.id).where(
                Assignment.cohort_id == a.cohort_id, Assignment.title == title, Assignment.id != a.id
            )
        ).first()
    ):
        raise AssignmentError(f"this cohort already has an assignment called {title!r}")
    if real.get("feedback", a.feedback) not in FEEDBACK:
        raise AssignmentError(f"feedback must be one of {', '.join(FEEDBACK)}")
    limit = real.get("time_limit_s", a.time_limit_s)
    if limit is not None and not 30 <= limit <= 24 * 3600:
        raise AssignmentError("a time limit is between 30 seconds and 24 hours")
    allowed = real.get("attempts_allowed", a.attempts_allowed)
    if allowed < 0 or allowed > 100:
        raise AssignmentError("attempts allowed is 0 (unlimited) to 100")
    opens, due = real.get("opens_at", as_utc(a.opens_at)), real.get("due_at", as_utc(a.due_at))
    if opens and due and due <= opens:
        raise AssignmentError("the due date must come after the opening date")
    for k, v in real.items():
        setattr(a, k, v)
    session.add(a)
    session.flush()
    return a


def close_assignment(
    *, session: Session, actor: Actor, assignment_id: int, now: datetime | None = None
) -> int:
    """Close it now: the due date becomes now (for every learner: later due dates of overrides too)
    and attempts still running are submitted as they stand. Returns how many were submitted."""
    now = now or utcnow()
    a = _owned_assignment(session, actor, assignment_id)
    if a.due_at is None or as_utc(a.due_at) > now:  # type: ignore[operator]
        a.due_at = now
        if a.opens_at is not None and as_utc(a.opens_at) >= now:  # type: ignore[operator]
            a.opens_at = None
        session.add(a)
    for o in session.exec(select(AssignmentOverride).where(AssignmentOverride.assignment_id == a.id)).all():
        if o.due_at is not None and as_utc(o.due_at) > now:  # type: ignore[operator]
            o.due_at = now
            session.add(o)
    running = session.exec(
        select(Attempt).where(Attempt.assignment_id == a.id, Attempt.state == "open").with_for_update()
    ).all()
    closed = sum(_finish(session, t, now, locked=True) for t in running)
    session.flush()
    return closed


def delete_assignment(*, session: Session, actor: Actor, assignment_id: int) -> None:
    """Delete an assignment no one has started; once there is an attempt, close it instead."""
    a = _owned_assignment(session, actor, assignment_id)
    started = attempts_count(session, assignment_id)
    if started:
        raise AssignmentError(f"{started} attempt(s) exist: close the assignment instead of deleting it")
    for table in (AssignmentQuestion, ItemSum, TopicSum, AssignmentOverride):
        session.exec(delete(table).where(table.assignment_id == assignment_id))  # type: ignore[call-overload]
    session.delete(a)
    session.flush()


def drawn_questions(*, session: Session, actor: Actor, assignment_id: int) -> list[QuestionView]:
    """The questions the assignment presents, in its order (retired ones included)."""
    _owned_assignment(session, actor, assignment_id, writing=False)
    ids = question_ids_of(session=session, assignment_id=assignment_id)
    by_id = {v.id: v for v in list_questions(session=session, ids=ids, any_owner=True)}
    for q in ids:  # retired since the draw: still presented by this assignment, so still listed
        if q not in by_id and (view := get_question(session=session, question_id=q)) is not None:
            by_id[q] = view
    return [by_id[q] for q in ids if q in by_id]


# --- per-learner overrides -------------------------------------------------------------------------


def set_override(
    *,
    session: Session,
    actor: Actor,
    assignment_id: int,
    user_id: int,
    extra_attempts: int = 0,
    due_at: datetime | None = None,
    time_limit_s: int | None = None,
) -> AssignmentOverride | None:
    """Give one learner extra attempts, a later due date or a longer time limit. Only more, never
    less; all defaults remove the override (None is returned)."""
    a = _owned_assignment(session, actor, assignment_id)
    enrolled = session.exec(
        select(Enrollment.id).where(Enrollment.cohort_id == a.cohort_id, Enrollment.user_id == user_id)
    ).first()
    if enrolled is None:
        raise AccessDenied("that learner is not in this cohort")
    if not 0 <= extra_attempts <= 100:
        raise AssignmentError("extra attempts are 0 to 100")
    due_at = as_utc(due_at)
    if due_at is not None and a.due_at is not None and due_at <= as_utc(a.due_at):  # type: ignore[operator]
        raise AssignmentError("an override's due date must come after the assignment's")
    if time_limit_s is not None:
        if not a.time_limit_s:
            raise AssignmentError("the assignment is untimed: there is no time limit to lengthen")
        if not a.time_limit_s < time_limit_s <= 24 * 3600:
            raise AssignmentError(
                "an override's time limit must be longer than the assignment's (at most 24 hours)"
            )
    o = session.exec(
        select(AssignmentOverride).where(
            AssignmentOverride.assignment_id == assignment_id, AssignmentOverride.user_id == user_id
        )
    ).first()
    if not extra_attempts and due_at is None and time_limit_s is None:
        if o is not None:
            session.delete(o)
            session.flush()
        return None
    o = o or AssignmentOverride(assignment_id=assignment_id, user_id=user_id)
    o.extra_attempts, o.due_at, o.time_limit_s = extra_attempts, due_at, time_limit_s
    session.add(o)
    session.flush()
    return o


@dataclass(frozen=True)
class OverrideLine:
    user_id: int
    username: str
    extra_attempts: int
    due_at: datetime | None
    time_limit_s: int | None


def overrides_of(*, session: Session, actor: Actor, assignment_id: int) -> list[OverrideLine]:
    _owned_assignment(session, actor, assignment_id, writing=False)
    stmt = (
        select(AssignmentOverride, User.username)
        .join(User, col(User.id) == AssignmentOverride.user_id)
        .where(AssignmentOverride.assignment_id == assignment_id)
        .order_by(col(User.username))
    )
    return [
        OverrideLine(o.user_id, name, o.extra_attempts, as_utc(o.due_at), o.time_limit_s)
        for o, name in session.exec(stmt).all()
    ]


# --- cohorts ---------------------------------------------------------------------------------------


def _owned_cohort_for_change(session: Session, actor: Actor, cohort_id: int) -> Cohort:
    cohort = owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if cohort.archived_at is not None:
        raise CohortError(f"the cohort {cohort.name!r} is archived: it is read-only")
    return cohort


def remove_learner(
    *, session: Session, actor: Actor, cohort_id: int, user_id: int, now: datetime | None = None
) -> None:
    """Take a learner out of the cohort. Their attempts stay (the gradebook marks them removed);
    an attempt still running is submitted as it stands."""
    now = now or utcnow()
    _owned_cohort_for_change(session, actor, cohort_id)
    e = session.exec(
        select(Enrollment).where(Enrollment.cohort_id == cohort_id, Enrollment.user_id == user_id)
    ).first()
    if e is None or e.removed_at is not None:
        raise CohortError("that learner is not in this cohort")
    e.removed_at = now
    session.add(e)
    running = session.exec(
        select(Attempt)
        .where(
            Attempt.user_id == user_id,
            Attempt.state == "open",
            col(Attempt.assignment_id).in_(select(Assignment.id).where(Assignment.cohort_id == cohort_id)),
        )
        .with_for_update()
    ).all()
    for t in running:
        _finish(session, t, now, locked=True)
    session.flush()


def rotate_join_code(*, session: Session, actor: Actor, cohort_id: int) -> str:
    """A new join code (the old one stops working); also opens joining again."""
    cohort = _owned_cohort_for_change(session, actor, cohort_id)
    cohort.join_code = _new_code(session)
    cohort.join_open = True
    session.add(cohort)
    session.flush()
    return cohort.join_code


def set_join_open(*, session: Session, actor: Actor, cohort_id: int, open_: bool) -> None:
    cohort = _owned_cohort_for_change(session, actor, cohort_id)
    cohort.join_open = open_
    session.add(cohort)
    session.flush()


def archive_cohort(
    *, session: Session, actor: Actor, cohort_id: int, archived: bool = True, now: datetime | None = None
) -> None:
    """Archive (read-only: no joining, no new attempts, no changes; hidden from the default list) or
    bring back. Attempts still running when it is archived are submitted as they stand."""
    now = now or utcnow()
    cohort = owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if archived and cohort.archived_at is None:
        running = session.exec(
            select(Attempt)
            .where(
                Attempt.state == "open",
                col(Attempt.assignment_id).in_(
                    select(Assignment.id).where(Assignment.cohort_id == cohort_id)
                ),
            )
            .with_for_update()
        ).all()
        for t in running:
            _finish(session, t, now, locked=True)
        cohort.archived_at = now
    elif not archived:
        cohort.archived_at = None
    session.add(cohort)
    session.flush()
