"""Database tables. What is stored here; what pages show is built by the domain modules."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint, false, true
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
    # Names are unique per owner: two instructors may each have a "Spring" cohort. A unique index, not
    # a table constraint: SQLite adds one without rebuilding the table (migration 0005).
    __table_args__ = (Index("uq_cohort_owner_id_name", "owner_id", "name", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, max_length=80)
    join_code: str = Field(index=True, unique=True, max_length=16)
    owner_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()
    archived_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))  # read-only
    join_open: bool = Field(default=True, sa_column_kwargs={"server_default": true()})  # the code admits


class Enrollment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    joined_at: datetime = _ts()
    # Removed by the instructor: no longer in the cohort, their attempts kept and marked as removed.
    removed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


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
    # Each attempt draws its own question and choice order (stored in Attempt.layout).
    shuffle: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class AssignmentOverride(SQLModel, table=True):
    """One learner's exceptions to an assignment's rules: extra attempts, a later due date, a longer
    time limit (None: the assignment's own)."""

    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    extra_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    time_limit_s: int | None = None


class AssignmentQuestion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("assignment_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    position: int
    question_id: str = Field(foreign_key="question.id", max_length=80)


class Question(SQLModel, table=True):
    """One row per stable id; the content lives in versions."""

    # Spaced review walks the active deck in this order to introduce new questions.
    __table_args__ = (Index("ix_question_deck", "active", "kind", "difficulty", "topic", "id"),)

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(index=True, max_length=16)
    type: str = Field(max_length=16)
    topic: str = Field(index=True, max_length=64)
    difficulty: int
    source: str = Field(default="", max_length=255)
    current_version: int = 1
    active: bool = Field(default=True, index=True)
    updated_at: datetime = _ts()
    # None: the public bank, synced from questions/. Otherwise the instructor who imported or wrote it
    # (quizapp.owned_questions); seen only by them until published (quizapp.questions.visible_to).
    owner_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    published: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


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
    # A practice or review sitting's plan (question queue, position, filters), so a reload resumes it.
    plan: dict | None = Field(default=None, sa_column=Column(JSON))
    # True once this attempt's answers have updated the learner's review cards (assignments whose
    # feedback waits for the due date update them only then, so the schedule leaks no result).
    cards_applied: bool = False
    # A shuffled assignment attempt's order: {"seed", "questions": [ids], "choices": {id: [indices]}}.
    layout: dict | None = Field(default=None, sa_column=Column(JSON))


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


class ReviewCard(SQLModel, table=True):
    """One learner's FSRS memory state for one question (py-fsrs `Card` fields), updated in place by
    each review; the history lives in ReviewLog. The owner is a user or an anonymous identity."""

    __table_args__ = (
        UniqueConstraint("user_id", "question_id"),
        UniqueConstraint("anon_key", "question_id"),
        Index("ix_reviewcard_user_due", "user_id", "due"),
        Index("ix_reviewcard_anon_due", "anon_key", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    anon_key: str | None = Field(default=None, max_length=64)
    question_id: str = Field(foreign_key="question.id", max_length=80, index=True)
    state: int = 1  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_review: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reps: int = 0
    lapses: int = 0
    created_at: datetime = _ts()


class ReviewLog(SQLModel, table=True):
    """One review of a card: when, the rating, what it came from, and the card before and after.

    Rows are only added; the one exception is the learner changing the rating of the answer just
    given (Easy instead of Good, or the Review page's four buttons), which rewrites that row's rating
    and result from its own `before` snapshot while it is still the card's latest review."""

    __table_args__ = (
        Index("ix_reviewlog_user_time", "user_id", "reviewed_at"),
        Index("ix_reviewlog_anon_time", "anon_key", "reviewed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="reviewcard.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    anon_key: str | None = Field(default=None, max_length=64)
    question_id: str = Field(foreign_key="question.id", max_length=80)
    # The graded answer behind this review; unique, so a repeated submit updates the card once.
    response_id: int | None = Field(default=None, foreign_key="response.id", unique=True)
    source: str = Field(default="practice", max_length=16)  # practice | review | assignment | mock | cli
    rating: int  # fsrs.Rating: 1 again, 2 hard, 3 good, 4 easy
    score: float | None = None
    first: bool = False  # the card's first review (a new card introduced)
    state_before: int | None = None  # None for a new card
    before: dict | None = Field(default=None, sa_column=Column(JSON))  # the card before, fsrs to_dict()
    due_after: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stability_after: float | None = None
    reviewed_at: datetime = _ts()
    duration_ms: int | None = None


class LearnerSettings(SQLModel, table=True):
    """Per-learner review settings; a learner without a row has the defaults."""

    __table_args__ = (UniqueConstraint("user_id"), UniqueConstraint("anon_key"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    anon_key: str | None = Field(default=None, max_length=64)
    new_per_day: int = 20
    reviews_per_day: int = 200
    desired_retention: float = 0.9
    updated_at: datetime = _ts()


class Bookmark(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "question_id"), UniqueConstraint("anon_key", "question_id"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    anon_key: str | None = Field(default=None, max_length=64, index=True)
    question_id: str = Field(foreign_key="question.id", max_length=80)
    created_at: datetime = _ts()


class AnonDevice(SQLModel, table=True):
    """An anonymous browser: the SHA-256 of the random token in its HttpOnly cookie, and the anonymous
    key its progress is stored under. Purged, with that progress, once past its expiry."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    anon_key: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    adopted_by: int | None = Field(default=None, foreign_key="user.id")


class DemoResult(SQLModel, table=True):
    """A finished demo run, shared by every server process: found by the SHA-256 of its key (demo,
    canonical params, seed, device kind, demo code version); what the page and the CLI show, with the
    figures as plotly JSON. Pruned by count per demo (quizapp.demo_store)."""

    __tablename__ = "demoresult"
    __table_args__ = (Index("ix_demoresult_slug_created", "slug", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, index=True, max_length=64)
    slug: str = Field(max_length=64)
    params: str  # canonical JSON, sorted keys
    seed: int
    device_kind: str = Field(max_length=16)
    code_version: str = Field(max_length=32)
    device: str = Field(max_length=32)
    elapsed_s: float
    steps_done: int = 0
    steps_total: int | None = None
    metrics: str  # JSON
    claims: str  # JSON
    figures: str  # JSON: a list of plotly figures
    created_at: datetime = _ts()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC, so say so."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
