"""Practice and review sittings that outlive a reload: the plan (question queue and position) is stored
with the attempt, and the answers are its responses. Also the learner's mistakes and bookmarks."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from quizapp.grading import grade
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Attempt, Bookmark, Question, QuestionVersion, Response, utcnow
from quizapp.practice import finish_attempt, get_attempt, start_attempt
from quizapp.questions import visible_to
from quizapp.review import owned_by

SITTING_MODES = ("practice", "review")


@dataclass(frozen=True)
class Answered:
    response_id: int
    answer: Any
    score: float
    correct: bool
    expected: str


@dataclass(frozen=True)
class Sitting:
    attempt_id: int
    mode: str
    queue: list[str]
    pos: int
    answers: dict[str, Answered]
    label: str
    finished: bool = False

    @property
    def done(self) -> bool:
        return self.pos >= len(self.queue)

    @property
    def current(self) -> str | None:
        return None if self.done else self.queue[self.pos]


def start(*, session: Session, actor: Actor, mode: str, queue: list[str], label: str = "") -> int:
    """A new sitting over these questions; an unfinished sitting of the same mode is closed first."""
    if mode not in SITTING_MODES:
        raise ValueError(f"mode must be one of {', '.join(SITTING_MODES)}")
    if not queue:
        raise ValueError("a sitting needs at least one question")
    for old in session.exec(
        select(Attempt).where(owned_by(Attempt, actor), Attempt.mode == mode, Attempt.state == "open")
    ).all():
        assert old.id is not None
        finish_attempt(session=session, actor=actor, attempt_id=old.id)
    attempt_id = start_attempt(session=session, actor=actor, mode=mode)
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    attempt.plan = {"queue": list(queue), "pos": 0, "label": label}
    session.add(attempt)
    session.flush()
    return attempt_id


def _answers(session: Session, attempt_id: int) -> dict[str, Answered]:
    rows = session.exec(
        select(Response, QuestionVersion.data)
        .join(QuestionVersion, col(QuestionVersion.id) == Response.question_version_id)
        .where(Response.attempt_id == attempt_id)
    ).all()
    out = {}
    for r, data in rows:
        assert r.id is not None
        out[r.question_id] = Answered(r.id, r.answer, r.score, r.correct, grade(data, r.answer).expected)
    return out


def _sitting(session: Session, attempt: Attempt) -> Sitting:
    assert attempt.id is not None
    plan = attempt.plan or {}
    return Sitting(
        attempt_id=attempt.id,
        mode=attempt.mode,
        queue=list(plan.get("queue", [])),
        pos=int(plan.get("pos", 0)),
        answers=_answers(session, attempt.id),
        label=str(plan.get("label", "")),
        finished=attempt.state == "finished",
    )


def resume(*, session: Session, actor: Actor, mode: str) -> Sitting | None:
    """The learner's sitting of this mode still in progress (any tab, any reload), or None."""
    attempt = session.exec(
        select(Attempt)
        .where(
            owned_by(Attempt, actor),
            Attempt.mode == mode,
            Attempt.state == "open",
            col(Attempt.plan).is_not(None),
        )
        .order_by(col(Attempt.started_at).desc(), col(Attempt.id).desc())
    ).first()
    return None if attempt is None else _sitting(session, attempt)


def load(*, session: Session, actor: Actor, attempt_id: int) -> Sitting:
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id)
    if attempt.plan is None:
        raise AccessDenied(f"attempt {attempt_id} is not a practice or review sitting")
    return _sitting(session, attempt)


def advance(*, session: Session, actor: Actor, attempt_id: int, from_pos: int) -> Sitting:
    """Move on from position `from_pos` (a second click or another tab that already moved on changes
    nothing); past the last question the sitting finishes."""
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id, for_update=True)
    plan = dict(attempt.plan or {})
    if attempt.state == "open" and int(plan.get("pos", 0)) == from_pos:
        plan["pos"] = from_pos + 1
        attempt.plan = plan
        session.add(attempt)
        session.flush()
        if plan["pos"] >= len(plan.get("queue", [])):
            finish_attempt(session=session, actor=actor, attempt_id=attempt_id)
    return _sitting(session, attempt)


def abandon(*, session: Session, actor: Actor, attempt_id: int) -> None:
    finish_attempt(session=session, actor=actor, attempt_id=attempt_id)


def finished_sitting(*, session: Session, actor: Actor, attempt_id: int | None) -> Sitting | None:
    """The actor's finished sitting with this id, for its end-of-session review; None when there is
    none (no id, not finished, or not this actor's: e.g. after signing out in another tab)."""
    if attempt_id is None:
        return None
    try:
        sit = load(session=session, actor=actor, attempt_id=attempt_id)
    except AccessDenied:
        return None
    return sit if sit.finished else None


def last_finished(*, session: Session, actor: Actor, mode: str) -> Sitting | None:
    attempt = session.exec(
        select(Attempt)
        .where(
            owned_by(Attempt, actor),
            Attempt.mode == mode,
            Attempt.state == "finished",
            col(Attempt.plan).is_not(None),
        )
        .order_by(col(Attempt.finished_at).desc(), col(Attempt.id).desc())
    ).first()
    return None if attempt is None else _sitting(session, attempt)


# Mistakes and bookmarks ---------------------------------------------------------------------------


def mistakes(*, session: Session, actor: Actor) -> list[str]:
    """Active questions whose latest answer by this learner (anywhere) scored below full, latest first."""
    latest = (
        select(Response.question_id, func.max(Response.id).label("last_id"))
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .where(owned_by(Attempt, actor))
        .group_by(Response.question_id)
        .subquery()
    )
    rows = session.exec(
        select(Response.question_id)
        .join(latest, latest.c.last_id == Response.id)
        .join(Question, col(Question.id) == Response.question_id)
        .where(Response.score < 0.999, Question.active == True, visible_to())  # noqa: E712
        .order_by(col(Response.id).desc())
    ).all()
    return list(rows)


def bookmarked(*, session: Session, actor: Actor) -> list[str]:
    rows = session.exec(
        select(Bookmark.question_id)
        .join(Question, col(Question.id) == Bookmark.question_id)
        .where(owned_by(Bookmark, actor), Question.active == True, visible_to())  # noqa: E712
        .order_by(col(Bookmark.created_at).desc(), col(Bookmark.id).desc())
    ).all()
    return list(rows)


def is_bookmarked(*, session: Session, actor: Actor, question_id: str) -> bool:
    stmt = select(Bookmark.id).where(owned_by(Bookmark, actor), Bookmark.question_id == question_id)
    return session.exec(stmt).first() is not None


def set_bookmark(*, session: Session, actor: Actor, question_id: str, on: bool) -> bool:
    """Mark or unmark a question; idempotent (a double click leaves one mark). Returns the new state."""
    existing = session.exec(
        select(Bookmark).where(owned_by(Bookmark, actor), Bookmark.question_id == question_id)
    ).first()
    if on and existing is None:
        if session.get(Question, question_id) is None:
            raise LookupError(f"no question {question_id!r}")
        mark = Bookmark(
            user_id=actor.user_id,
            anon_key=None if actor.user_id is not None else actor.anon_key,
            question_id=question_id,
            created_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(mark)
        except IntegrityError:
            pass  # marked by a concurrent click
    elif not on and existing is not None:
        session.delete(existing)
        session.flush()
    return on
