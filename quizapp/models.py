"""Database tables. What is stored here; what pages show is built by the domain modules."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, **kw))


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    role: str = Field(default="learner", max_length=16)  # learner | instructor | admin
    password_hash: str | None = Field(default=None, max_length=255)
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = _ts()


class LoginSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the random token is stored; the cookie holds the token."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class AnonClaim(SQLModel, table=True):
    """A one-time ticket that hands an anonymous browser session's progress to the account signing up."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_hash: str = Field(index=True, unique=True, max_length=64)
    anon_key: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Cohort(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=80)
    join_code: str = Field(index=True, unique=True, max_length=16)
    owner_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()


class Enrollment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    joined_at: datetime = _ts()


class Assignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    title: str = Field(max_length=120)
    time_limit_s: int | None = None  # None: untimed
    attempts_allowed: int = 1  # 0: unlimited
    opens_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    feedback: str = Field(default="after_submit", max_length=16)  # immediate | after_submit | after_due
    created_at: datetime = _ts()


class AssignmentQuestion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("assignment_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    position: int
    question_id: str = Field(foreign_key="question.id", max_length=80)


class Question(SQLModel, table=True):
    """One row per stable id; the content lives in versions."""

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(index=True, max_length=16)
    type: str = Field(max_length=16)
    topic: str = Field(index=True, max_length=64)
    difficulty: int
    source: str = Field(default="", max_length=255)
    current_version: int = 1
    active: bool = Field(default=True, index=True)
    updated_at: datetime = _ts()


class QuestionVersion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=80)
    version: int
    content_hash: str = Field(max_length=64)
    data: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class Attempt(SQLModel, table=True):
    """A sitting: a practice session, an assignment attempt, a review or a mock interview."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    anon_key: str | None = Field(default=None, index=True, max_length=64)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    mode: str = Field(default="practice", max_length=16)  # practice | assignment | review | mock
    state: str = Field(default="open", max_length=16)  # open | finished
    started_at: datetime = _ts()
    deadline_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # The sum of its answers' scores, stored when it finishes (quizapp.item_sums.record_finished), so
    # the gradebook reads one row per attempt instead of summing every answer.
    score: float | None = None


class ItemSum(SQLModel, table=True):
    """Running sums over the finished attempts at one assignment question, kept up to date as each
    attempt finishes, from which item analysis reads facility and discrimination at once.

    x is the answer's score, y the rest of its attempt's score (the attempt total minus x); n counts
    answers; picks counts how often each choice was picked (choice questions)."""

    assignment_id: int = Field(foreign_key="assignment.id", primary_key=True)
    question_id: str = Field(foreign_key="question.id", primary_key=True, max_length=80)
    n: int = 0
    sx: float = 0.0
    sxx: float = 0.0
    sy: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0
    picks: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TopicSum(SQLModel, table=True):
    """One learner's answers on one topic in one assignment's finished attempts: their summed score
    and how many, kept as attempts finish; the instructor's topic heatmap adds these up."""

    assignment_id: int = Field(foreign_key="assignment.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    topic: str = Field(primary_key=True, max_length=64)
    total: float = 0.0
    n: int = 0


class Response(SQLModel, table=True):
    """One graded answer; at most one per attempt and question, so a repeated submit changes nothing."""

    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        Index("ix_response_question_version", "question_version_id"),
        Index("ix_response_question", "question_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    question_id: str = Field(foreign_key="question.id", max_length=80)
    question_version_id: int = Field(foreign_key="questionversion.id")
    answer: Any = Field(default=None, sa_column=Column(JSON))
    score: float
    correct: bool
    time_taken_ms: int | None = None
    answered_at: datetime = _ts()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC, so say so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
