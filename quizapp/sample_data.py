"""A cohort with assignments and simulated, realistic finished attempts, for trying the instructor
views and for benchmarks.

Learners differ in ability (theta ~ N(0, 1)); each question gets a difficulty from its bank
difficulty plus noise and a discrimination of its own, and P(right) is logistic in ability minus
difficulty, with a guessing floor for choice questions. Every stored answer is a real answer as a
learner would give it (a distractor, a wrong number typed as text, a set of ticks missing one) and
its score is what quizapp.grading.grade gives it. Assignments hold auto-graded questions only, as
quizapp.assignments requires. Rows go in with bulk inserts (COPY on PostgreSQL), so 5,000 learners
and 1,000,000 answers take about a minute. Sample learners have no password: they cannot sign in;
the instructor can.
"""

import bisect
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session, col, select

from quizapp import item_sums
from quizapp.assignments import GRADED_TYPES, create_assignment
from quizapp.auth import create_user
from quizapp.cohorts import CohortError, create_cohort
from quizapp.grading import AnswerError, grade, readable_pattern
from quizapp.identity import Actor
from quizapp.models import (
    Attempt,
    Cohort,
    Enrollment,
    Response,
    User,
    utcnow,
)
from quizapp.questions import QuestionView, list_questions

INSTRUCTOR = "instructor"
CHUNK = 20_000  # rows per bulk insert
# Typical seconds a person spends per question type (median of a log-normal).
SECONDS = {"single": 25, "multi": 45, "truefalse": 12, "numeric": 70, "short": 35}


class SampleDataError(ValueError):
    """Sample data cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class SampleSummary:
    cohort_id: int
    cohort: str
    join_code: str
    instructor: str
    instructor_password: str | None  # set only when the instructor was created now: shown once
    learners: int
    assignments: list[str]
    attempts: int
    responses: int


# --- answers that grade as intended -----------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    """A ready-made answer with its real grade, and its JSON text for the fast insert paths."""

    answer: Any
    score: float
    correct: bool
    json: str


@dataclass
class _Pool:
    """A question's ready-made answers: the right one and the wrong ones, each graded by grade()."""

    view: QuestionView
    right: _Option
    wrong: list[_Option]
    wrong_cdf: list[float]  # cumulative pick weights: some distractors attract more than others
    guess: float  # chance of a right answer by guessing
    a: float  # discrimination (IRT slope)
    b: float  # difficulty (IRT location)

    def pick(self, p_right: float, u: float, w: float) -> _Option:
        """Right with probability p_right; else a distractor by weight (u, w: uniform draws)."""
        if u < p_right:
            return self.right
        return self.wrong[min(bisect.bisect_left(self.wrong_cdf, w), len(self.wrong) - 1)]


def _typed(x: float) -> str:
    """A number as a learner types it: 30, 0.25, 1e-05."""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _wrong_numbers(data: dict) -> list[float]:
    x, tol = float(data["answer"]), float(data["tolerance"])
    step = max(abs(x) * 0.5, 10 * tol, 1.0)
    return [x + step, x - step, x * 10 if x else 1.0, round(x + 2 * step, 6)]


def _multi_variants(data: dict) -> list[list[str]]:
    right = [c for c in data["choices"] if c in data["answer"]]
    others = [c for c in data["choices"] if c not in data["answer"]]
    out = []
    if len(right) > 1:
        out += [[c for c in right if c != drop] for drop in right]  # one missed: partial credit
    out += [right + [o] for o in others]  # one too many
    if others:
        out += [right[:-1] + [others[0]]] if len(right) > 1 else [[others[0]]]
    return [v for v in out if v]


def _candidates(view: QuestionView) -> tuple[list[Any], list[Any]]:
    d = view.data
    t = view.type
    if t == "single":
        return [d["answer"]], [c for c in d["choices"] if c != d["answer"]]
    if t == "multi":
        return [[c for c in d["choices"] if c in d["answer"]]], _multi_variants(d)
    if t == "truefalse":
        return [bool(d["answer"])], [not d["answer"]]
    if t == "numeric":
        return [_typed(float(d["answer"]))], [_typed(x) for x in _wrong_numbers(d)]
    if t == "short":
        plain = [p for p in (readable_pattern(x) for x in d["answers"]) if p]
        return plain[:1], ["I am not sure", "overfitting of the weights"]
    return [], []  # open answers are self-rated: assignments do not use them


def _option(data: dict, answer: Any) -> _Option | None:
    try:
        g = grade(data, answer)
    except AnswerError:
        return None
    return _Option(answer, g.score, g.correct, json.dumps(answer))


def _pool(view: QuestionView, rng: np.random.Generator) -> _Pool | None:
    right, wrong = _candidates(view)
    # Keep only answers whose real grade is what we mean them to be.
    rights = [o for o in (_option(view.data, r) for r in right) if o is not None and o.score == 1.0]
    wrongs = [o for o in (_option(view.data, w) for w in wrong) if o is not None and o.score < 1.0]
    if not rights or not wrongs:
        return None
    guess = {"single": 1 / max(2, len(view.data.get("choices") or [])), "truefalse": 0.5}.get(view.type, 0.0)
    return _Pool(
        view=view,
        right=rights[0],
        wrong=wrongs,
        wrong_cdf=np.cumsum(rng.dirichlet(np.ones(len(wrongs)))).tolist(),
        guess=guess,
        a=float(np.exp(rng.normal(0.2, 0.45))),
        b=(view.difficulty - 2) * 0.9 + float(rng.normal(0.0, 0.6)),
    )


# --- rows --------------------------------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "cohort"


def _instructor(session: Session, owner: str | None = None) -> tuple[User, str | None]:
    """The cohort's owner: the named existing instructor (or admin), else the sample instructor,
    created when missing."""
    user = session.exec(select(User).where(User.username == (owner or INSTRUCTOR))).first()
    if owner and user is None:
        raise SampleDataError(f"no user called {owner!r} (--owner); add them with `quizapp user add`")
    if owner and user is not None and user.role not in ("instructor", "admin"):
        raise SampleDataError(f"{owner!r} is a {user.role}; the owner must be an instructor or an admin")
    if user is not None:
        if user.role not in ("instructor", "admin"):
            raise SampleDataError(
                f"the user {INSTRUCTOR!r} exists as a {user.role}; make them an instructor or remove them"
            )
        return user, None
    password = secrets.token_urlsafe(12)
    return create_user(session=session, username=INSTRUCTOR, role="instructor", password=password), password


def _learner_prefix(session: Session, cohort: Cohort) -> str:
    prefix = f"{_slug(cohort.name)}-"
    if session.exec(select(User.id).where(col(User.username).startswith(prefix))).first() is not None:
        prefix = f"{_slug(cohort.name)}{cohort.id}-"
    return prefix


def _bulk(session: Session, model: Any, rows: list[dict], returning: bool = False) -> list[int]:
    """Core executemany on the session's connection: the ORM's per-row bookkeeping would cost
    more than the database does."""
    if not rows:
        return []
    table = model.__table__
    conn = session.connection()
    if returning:
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.execute(stmt, rows).scalars())
    conn.execute(insert(table), rows)
    return []


def make_sample_data(
    *,
    session: Session,
    learners: int = 30,
    cohort: str = "Demo cohort",
    seed: int = 0,
    assignments: int = 2,
    questions: int = 10,
    attempts: int = 2,
    completion: float = 0.9,
    retake: float = 0.35,
    owner: str | None = None,
) -> SampleSummary:
    """Create the instructor (if missing), a cohort, `learners` enrolled learners, `assignments`
    assignments of `questions` bank questions each, and finished attempts: each learner finishes each
    assignment with probability `completion`, and retakes it with probability `retake` (up to
    `attempts` attempts). Needs the bank: run `quizapp init` first."""
    if learners < 1 or assignments < 1 or questions < 1 or attempts < 1:
        raise SampleDataError("learners, assignments, questions and attempts must be at least 1")
    rng = np.random.default_rng(seed)
    bank = list_questions(session=session, kinds=["quiz", "interview"], types=GRADED_TYPES)
    pools = [p for p in (_pool(v, rng) for v in bank) if p is not None]
    if not pools:
        raise SampleDataError("the question bank is empty: run `quizapp init` first")
    owner_user, password = _instructor(session, owner)
    teacher = Actor(user_id=owner_user.id, role=owner_user.role)
    try:
        group = create_cohort(session=session, actor=teacher, name=cohort)
    except CohortError as exc:
        raise SampleDataError(f"{exc} (--cohort)") from exc
    assert group.id is not None
    now = utcnow()

    prefix = _learner_prefix(session, group)
    user_ids = _bulk(
        session,
        User,
        [
            {
                "username": f"{prefix}{i:04d}",
                "role": "learner",
                "password_hash": None,
                "failed_logins": 0,
                "created_at": now - timedelta(days=29),
            }
            for i in range(1, learners + 1)
        ],
        returning=True,
    )
    _bulk(
        session,
        Enrollment,
        [{"cohort_id": group.id, "user_id": u, "joined_at": now - timedelta(days=28)} for u in user_ids],
    )

    theta = rng.normal(0.0, 1.0, learners)
    speed = np.exp(rng.normal(0.0, 0.3, learners))  # some people are quicker than others
    titles, made_ids, n_attempts, n_responses = [], [], 0, 0
    for k in range(assignments):
        chosen = [pools[i] for i in rng.choice(len(pools), size=min(questions, len(pools)), replace=False)]
        opens = now - timedelta(days=7 * (assignments - k) + 5)  # one a week, the last due 5 days ago
        title = f"Sample assignment {k + 1}"
        a = create_assignment(
            session=session,
            actor=teacher,
            cohort_id=group.id,
            title=title,
            question_ids=[p.view.id for p in chosen],
            time_limit_s=max(600, 120 * len(chosen)),
            attempts_allowed=attempts,
            opens_at=opens,
            due_at=opens + timedelta(days=7),
        )
        assert a.id is not None
        titles.append(title)
        made_ids.append(a.id)
        made = _simulate(
            session, a.id, opens, chosen, user_ids, theta, speed, rng, attempts, completion, retake
        )
        n_attempts += made[0]
        n_responses += made[1]
    # The answers went in by the bulk path, not attempt by attempt: compute the stored totals and
    # item sums from them in one pass.
    item_sums.rebuild(session, made_ids)
    return SampleSummary(
        cohort_id=group.id,
        cohort=cohort,
        join_code=group.join_code,
        instructor=owner_user.username,
        instructor_password=password,
        learners=learners,
        assignments=titles,
        attempts=n_attempts,
        responses=n_responses,
    )


def _simulate(
    session: Session,
    assignment_id: int,
    opens: Any,
    chosen: list[_Pool],
    user_ids: list[int],
    theta: np.ndarray,
    speed: np.ndarray,
    rng: np.random.Generator,
    max_attempts: int,
    completion: float,
    retake: float,
) -> tuple[int, int]:
    """Insert the finished attempts and their answers for one assignment, a block of learners at a time."""
    n_attempts = n_responses = 0
    n_q = len(chosen)
    block = max(1, CHUNK // max(1, n_q))
    guess = np.array([p.guess for p in chosen])
    slope = np.array([p.a for p in chosen])
    location = np.array([p.b for p in chosen])
    seconds = np.array([SECONDS[p.view.type] for p in chosen], dtype=float)
    for start in range(0, len(user_ids), block):
        sittings = []  # (learner index, attempt number)
        for i in range(start, min(start + block, len(user_ids))):
            if rng.random() >= completion:
                continue
            n = 1
            while n < max_attempts and rng.random() < retake:
                n += 1
            sittings += [(i, j) for j in range(n)]
        plans, attempt_rows = [], []
        for i, j in sittings:
            began = opens + timedelta(
                days=float(rng.uniform(0, 3)) + 1.5 * j, minutes=float(rng.uniform(0, 600))
            )
            ability = theta[i] + 0.3 * j  # a retake goes a little better
            p_right = (guess + (1 - guess) / (1 + np.exp(-1.7 * slope * (ability - location)))).tolist()
            u, w = rng.random(n_q).tolist(), rng.random(n_q).tolist()
            ms = (1000 * seconds * speed[i] * np.exp(rng.normal(0, 0.5, n_q))).astype(int)
            clock = np.cumsum(ms).tolist()
            answers = [
                (p, p.pick(p_right[q], u[q], w[q]), t, began + timedelta(milliseconds=c))
                for q, (p, t, c) in enumerate(zip(chosen, ms.tolist(), clock, strict=True))
            ]
            plans.append(answers)
            attempt_rows.append(
                {
                    "user_id": user_ids[i],
                    "assignment_id": assignment_id,
                    "mode": "assignment",
                    "state": "finished",
                    "started_at": began,
                    "finished_at": answers[-1][3] + timedelta(seconds=float(rng.uniform(3, 30))),
                }
            )
        ids = _bulk(session, Attempt, attempt_rows, returning=True)
        rows = [
            (attempt_id, p.view.id, p.view.version_id, option, ms, at)
            for attempt_id, answers in zip(ids, plans, strict=True)
            for p, option, ms, at in answers
        ]
        _insert_responses(session, rows)
        n_attempts += len(ids)
        n_responses += len(rows)
    return n_attempts, n_responses


_RESPONSE_COLUMNS = (
    "attempt_id",
    "question_id",
    "question_version_id",
    "answer",
    "score",
    "correct",
    "time_taken_ms",
    "answered_at",
)


def _insert_responses(session: Session, rows: list[tuple[int, str, int, _Option, int, datetime]]) -> None:
    """The fast path for a million answers: COPY on PostgreSQL, the driver's executemany with
    ready-made JSON on SQLite; Core executemany elsewhere. All in the session's transaction."""
    conn = session.connection()
    dialect = conn.dialect.name
    columns = ", ".join(_RESPONSE_COLUMNS)
    raw = conn.connection.dbapi_connection
    if dialect == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY response ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for a, q, v, o, ms, at in rows:
                copy.write_row((a, q, v, o.json, o.score, o.correct, ms, at))
        return
    if dialect == "sqlite":
        # SQLAlchemy's own storage formats: JSON text, naive UTC "YYYY-MM-DD HH:MM:SS.ffffff", 0/1.
        cur = raw.cursor()  # type: ignore[union-attr]
        cur.executemany(
            f"INSERT INTO response ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(a, q, v, o.json, o.score, int(o.correct), ms, _sqlite_time(at)) for a, q, v, o, ms, at in rows],
        )
        cur.close()
        return
    values = [(a, q, v, o.answer, o.score, o.correct, ms, at) for a, q, v, o, ms, at in rows]
    _bulk(session, Response, [dict(zip(_RESPONSE_COLUMNS, row, strict=True)) for row in values])


def _sqlite_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
