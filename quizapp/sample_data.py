"""A cohort with assignments and simulated, realistic finished attempts, for trying the instructor
views and for benchmarks.

Learners differ in ability (theta ~ N(0, 1)); each question gets a difficulty from its bank
difficulty plus noise and a discrimination of its own, and P(right) is logistic in ability minus
difficulty, with a guessing floor for choice questions. Every stored answer is a real answer
(a wrong choice, a wrong number, ticked key points...) and its score is what quizapp.grading.grade
gives it. Rows go in with bulk inserts, so 5,000 learners and 1,000,000 answers take seconds.
Sample learners have no password: they cannot sign in; the instructor can.
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session, col, select

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
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
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


@dataclass
class _Pool:
    """A question's ready-made answers: the right ones and the wrong ones, each with its grade."""

    view: QuestionView
    right: list[Any]
    wrong: list[Any]
    wrong_cdf: np.ndarray  # cumulative pick weights: some distractors attract more than others
    guess: float  # chance of a right answer by guessing
    a: float  # discrimination (IRT slope)
    b: float  # difficulty (IRT location)


def _wrong_numbers(data: dict) -> list[Any]:
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
        return [d["answer"]], _wrong_numbers(d)
    if t == "short":
        plain = [p for p in (readable_pattern(x) for x in d["answers"]) if p]
        return plain[:1], ["I am not sure", "overfitting of the weights"]
    return [], []  # open answers are self-rated: assignments do not use them


def _pool(view: QuestionView, rng: np.random.Generator) -> _Pool | None:
    right, wrong = _candidates(view)
    # Keep only answers whose real grade is what we mean them to be.
    right = [r for r in right if _safe_grade(view.data, r) == 1.0]
    wrong = [w for w in wrong if (g := _safe_grade(view.data, w)) is not None and g < 1.0]
    if not right or not wrong:
        return None
    guess = {"single": 1 / max(2, len(view.data.get("choices") or [])), "truefalse": 0.5}.get(view.type, 0.0)
    return _Pool(
        view=view,
        right=right,
        wrong=wrong,
        wrong_cdf=np.cumsum(rng.dirichlet(np.ones(max(1, len(wrong))))),
        guess=guess,
        a=float(np.exp(rng.normal(0.2, 0.45))),
        b=(view.difficulty - 2) * 0.9 + float(rng.normal(0.0, 0.6)),
    )


def _safe_grade(data: dict, answer: Any) -> float | None:
    try:
        return grade(data, answer).score
    except AnswerError:
        return None


class _Grader:
    """grade() of each distinct (question, answer) once: a million answers repeat a few hundred."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str], tuple[float, bool]] = {}

    def __call__(self, view: QuestionView, answer: Any) -> tuple[float, bool]:
        key = (view.id, json.dumps(answer, sort_keys=True))
        hit = self._memo.get(key)
        if hit is None:
            g = grade(view.data, answer)
            hit = self._memo[key] = (g.score, g.correct)
        return hit


def _answer(pool: _Pool, p_right: float, u: float, w: float) -> Any:
    """A learner's answer: right with probability p_right (u, w: uniform draws for this answer)."""
    if u < p_right:
        return pool.right[0]
    return pool.wrong[min(int(np.searchsorted(pool.wrong_cdf, w)), len(pool.wrong) - 1)]


# --- rows --------------------------------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "cohort"


def _instructor(session: Session) -> tuple[User, str | None]:
    user = session.exec(select(User).where(User.username == INSTRUCTOR)).first()
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


def _bulk(session: Session, model: type, rows: list[dict], returning: bool = False) -> list[int]:
    if not rows:
        return []
    if returning:
        stmt = insert(model).returning(model.id, sort_by_parameter_order=True)  # type: ignore[attr-defined]
        return [r[0] for r in session.execute(stmt, rows).all()]
    session.execute(insert(model), rows)
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
    owner, password = _instructor(session)
    teacher = Actor(user_id=owner.id, role=owner.role)
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
    grader = _Grader()
    titles, n_attempts, n_responses = [], 0, 0
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
        made = _simulate(
            session, a.id, opens, chosen, user_ids, theta, speed, rng, grader, attempts, completion, retake
        )
        n_attempts += made[0]
        n_responses += made[1]
    return SampleSummary(
        cohort_id=group.id,
        cohort=cohort,
        join_code=group.join_code,
        instructor=owner.username,
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
    grader: _Grader,
    max_attempts: int,
    completion: float,
    retake: float,
) -> tuple[int, int]:
    """Insert the finished attempts and their answers for one assignment, a block of learners at a time."""
    n_attempts = n_responses = 0
    block = max(1, CHUNK // max(1, len(chosen)))
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
        n_q = len(chosen)
        for i, j in sittings:
            began = opens + timedelta(
                days=float(rng.uniform(0, 3)) + 1.5 * j, minutes=float(rng.uniform(0, 600))
            )
            ability = theta[i] + 0.3 * j  # a retake goes a little better
            p_right = guess + (1 - guess) / (1 + np.exp(-1.7 * slope * (ability - location)))
            u, w = rng.random(n_q), rng.random(n_q)
            ms = (1000 * seconds * speed[i] * np.exp(rng.normal(0, 0.5, n_q))).astype(int)
            clock = np.cumsum(ms)
            answers = [
                (
                    p,
                    _answer(p, p_right[q], u[q], w[q]),
                    int(ms[q]),
                    began + timedelta(milliseconds=int(clock[q])),
                )
                for q, p in enumerate(chosen)
            ]
            finished = answers[-1][3] + timedelta(seconds=float(rng.uniform(3, 30)))
            plans.append(answers)
            attempt_rows.append(
                {
                    "user_id": user_ids[i],
                    "assignment_id": assignment_id,
                    "mode": "assignment",
                    "state": "finished",
                    "started_at": began,
                    "finished_at": finished,
                }
            )
        ids = _bulk(session, Attempt, attempt_rows, returning=True)
        rows = []
        for attempt_id, answers in zip(ids, plans, strict=True):
            for p, answer, ms, at in answers:
                score, correct = grader(p.view, answer)
                rows.append(
                    {
                        "attempt_id": attempt_id,
                        "question_id": p.view.id,
                        "question_version_id": p.view.version_id,
                        "answer": answer,
                        "score": score,
                        "correct": correct,
                        "time_taken_ms": ms,
                        "answered_at": at,
                    }
                )
        for c in range(0, len(rows), CHUNK):
            _bulk(session, Response, rows[c : c + CHUNK])
        n_attempts += len(ids)
        n_responses += len(rows)
    return n_attempts, n_responses
