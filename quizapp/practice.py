"""Practice sittings: start an attempt, submit answers once, and read the actor's own progress."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from quizapp import item_sums, review
from quizapp.bank.schema import TOPICS
from quizapp.grading import Grade, grade
from quizapp.identity import AccessDenied, Actor
from quizapp.models import Attempt, Question, QuestionVersion, Response, utcnow
from quizapp.questions import get_question


@dataclass(frozen=True)
class SubmitResult:
    response_id: int
    grade: Grade
    duplicate: bool  # True when this attempt had already answered the question: nothing new was stored


def _owned(attempt: Attempt, actor: Actor) -> bool:
    if actor.user_id is not None:
        return attempt.user_id == actor.user_id
    return attempt.user_id is None and attempt.anon_key == actor.anon_key


def _scope(stmt: Any, actor: Actor) -> Any:
    if actor.user_id is not None:
        return stmt.where(Attempt.user_id == actor.user_id)
    return stmt.where(col(Attempt.user_id).is_(None), Attempt.anon_key == actor.anon_key)


def start_attempt(*, session: Session, actor: Actor, mode: str = "practice") -> int:
    attempt = Attempt(user_id=actor.user_id, anon_key=None if actor.user_id else actor.anon_key, mode=mode)
    session.add(attempt)
    session.flush()
    assert attempt.id is not None
    return attempt.id


def get_attempt(*, session: Session, actor: Actor, attempt_id: int, for_update: bool = False) -> Attempt:
    """The actor's own attempt; `for_update` locks its row (PostgreSQL) so a save and a submit
    serialise, and reads it afresh even if this session already holds it."""
    lock = for_update or None
    attempt = session.get(Attempt, attempt_id, with_for_update=lock, populate_existing=lock)
    if attempt is None or not _owned(attempt, actor):
        raise AccessDenied(f"attempt {attempt_id} is not yours")
    return attempt


def _existing(session: Session, attempt_id: int, question_id: str) -> Response | None:
    return session.exec(
        select(Response).where(Response.attempt_id == attempt_id, Response.question_id == question_id)
    ).first()


def _result_of(session: Session, response: Response, duplicate: bool) -> SubmitResult:
    version = session.get(QuestionVersion, response.question_version_id)
    assert version is not None and response.id is not None
    expected = grade(version.data, response.answer).expected
    return SubmitResult(response.id, Grade(response.score, response.correct, expected), duplicate)


def submit_answer(
    *,
    session: Session,
    actor: Actor,
    attempt_id: int,
    question_id: str,
    answer: Any,
    time_taken_ms: int | None = None,
) -> SubmitResult:
    """Grade and store one answer. A second submit for the same question in the same attempt stores
    nothing and returns the first grade. Raises AnswerError for an empty or malformed answer."""
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id)
    if attempt.state != "open":
        raise AccessDenied(f"attempt {attempt_id} is finished")
    prior = _existing(session, attempt_id, question_id)
    if prior is not None:
        return _result_of(session, prior, duplicate=True)
    view = get_question(session=session, question_id=question_id)
    if view is None:
        raise LookupError(f"no question {question_id!r}")
    result = grade(view.data, answer)
    response = Response(
        attempt_id=attempt_id,
        question_id=question_id,
        question_version_id=view.version_id,
        answer=answer,
        score=result.score,
        correct=result.correct,
        time_taken_ms=time_taken_ms,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        # Another request stored this answer between our check and insert (PostgreSQL, concurrent submit).
        prior = _existing(session, attempt_id, question_id)
        if prior is None:
            raise
        return _result_of(session, prior, duplicate=True)
    assert response.id is not None
    if attempt.mode != "assignment":
        # Practice, review and mock answers update the learner's spaced-review card at once;
        # assignment answers do when their attempt finishes (quizapp.review.assignment_finished).
        review.record_graded(
            session=session,
            actor=actor,
            question_id=question_id,
            score=result.score,
            response_id=response.id,
            source=attempt.mode,
            duration_ms=time_taken_ms,
        )
    return SubmitResult(response.id, result, duplicate=False)


def finish_attempt(*, session: Session, actor: Actor, attempt_id: int) -> None:
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id, for_update=True)
    if attempt.state == "open":
        attempt.state, attempt.finished_at = "finished", utcnow()
        item_sums.record_finished(session, attempt)


def claim_anonymous(*, session: Session, anon_key: str, user_id: int) -> int:
    """Move an anonymous browser session's attempts to a user who just signed up or in."""
    attempts = session.exec(
        select(Attempt).where(Attempt.anon_key == anon_key, col(Attempt.user_id).is_(None))
    ).all()
    for a in attempts:
        a.user_id = user_id
    return len(attempts)


def history(*, session: Session, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
    """The actor's own answers, newest first."""
    stmt = (
        select(Response, Question.topic, QuestionVersion.data)
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(Question, Question.id == Response.question_id)
        .join(QuestionVersion, QuestionVersion.id == Response.question_version_id)
    )
    stmt = (
        _scope(stmt, actor).order_by(col(Response.answered_at).desc(), col(Response.id).desc()).limit(limit)
    )
    return [
        {
            "answered_at": r.answered_at,
            "question_id": r.question_id,
            "topic": topic,
            "topic_title": TOPICS.get(topic, topic),
            "prompt": data["prompt"],
            "score": r.score,
            "correct": r.correct,
        }
        for r, topic, data in session.exec(stmt).all()
    ]


def accuracy_by_topic(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Per topic: answers given, mean score (0..1) and how many were fully right."""
    stmt = (
        select(
            Question.topic,
            func.count(),
            func.avg(Response.score),
            func.sum(case((col(Response.correct), 1), else_=0)),
        )
        .join(Attempt, Attempt.id == Response.attempt_id)
        .join(Question, Question.id == Response.question_id)
        .group_by(Question.topic)
    )
    rows = session.exec(_scope(stmt, actor)).all()
    return sorted(
        (
            {
                "topic": t,
                "title": TOPICS.get(t, t),
                "answered": int(n),
                "score": float(avg or 0.0),
                "correct": int(c or 0),
            }
            for t, n, avg, c in rows
        ),
        key=lambda r: r["title"],
    )
