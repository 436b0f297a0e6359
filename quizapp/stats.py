"""What instructors read: gradebook, a learner's report, item analysis and chart data for one cohort.

Everything is computed over the graded answers of the cohort's finished assignment attempts
(Attempt.mode 'assignment', state 'finished', assignment in the cohort). An attempt's score is the sum
of its response scores over the assignment's number of questions, so an unanswered question counts 0.
The heavy lifting is grouped SQL; Python only walks the grouped rows (attempts, questions, learners).
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, cast, func
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from quizapp.bank.schema import TOPICS
from quizapp.cohorts import is_enrolled, owned_cohort
from quizapp.identity import AccessDenied, Actor
from quizapp.models import (
    Assignment,
    AssignmentQuestion,
    Attempt,
    Enrollment,
    Question,
    QuestionVersion,
    Response,
    User,
)

# Moodle's review thresholds: a question separates strong from weak learners too little, or is too
# easy or too hard to tell anyone apart.
MIN_DISCRIMINATION = 30.0
FACILITY_RANGE = (0.1, 0.9)
CHOICE_TYPES = ("single", "multi", "truefalse")


# --- what counts -------------------------------------------------------------------------------


def graded_attempts(cohort_id: int) -> list[ColumnElement[bool]]:
    """The filter every figure here shares: finished assignment attempts of the cohort."""
    return [
        Attempt.mode == "assignment",
        Attempt.state == "finished",
        col(Attempt.assignment_id).in_(select(Assignment.id).where(Assignment.cohort_id == cohort_id)),
    ]


def _assignments(session: Session, cohort_id: int) -> list[tuple[Assignment, int]]:
    """The cohort's assignments in creation order, each with its number of questions."""
    n_questions = (
        select(AssignmentQuestion.assignment_id, func.count().label("n"))
        .group_by(AssignmentQuestion.assignment_id)
        .subquery()
    )
    stmt = (
        select(Assignment, func.coalesce(n_questions.c.n, 0))
        .outerjoin(n_questions, n_questions.c.assignment_id == Assignment.id)
        .where(Assignment.cohort_id == cohort_id)
        .order_by(Assignment.created_at, Assignment.id)
    )
    return [(a, int(n)) for a, n in session.exec(stmt).all()]


def _fraction(total: float | None, n_questions: int) -> float | None:
    if total is None or n_questions <= 0:
        return None
    return min(1.0, float(total) / n_questions)


# --- gradebook ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentColumn:
    id: int
    title: str
    questions: int
    attempts_allowed: int
    due_at: datetime | None


@dataclass(frozen=True)
class Cell:
    best: float | None  # 0..1; None: no finished attempt
    last: float | None  # the score of the most recently finished attempt
    attempts: int  # finished attempts
    in_progress: bool  # an attempt is open now

    @property
    def completed(self) -> bool:
        return self.attempts > 0


@dataclass(frozen=True)
class GradebookRow:
    user_id: int
    username: str
    cells: dict[int, Cell]  # by assignment id; every assignment of the cohort has a cell

    @property
    def completed(self) -> int:
        return sum(c.completed for c in self.cells.values())


@dataclass(frozen=True)
class Gradebook:
    cohort_id: int
    cohort: str
    assignments: list[AssignmentColumn]
    rows: list[GradebookRow]  # every enrolled learner, by username

    def completion(self, assignment_id: int | None = None) -> float:
        """Share of (learner, assignment) cells with a finished attempt; of one assignment if given."""
        ids = [a.id for a in self.assignments] if assignment_id is None else [assignment_id]
        cells = [r.cells[i] for r in self.rows for i in ids]
        return sum(c.completed for c in cells) / len(cells) if cells else 0.0


def _attempt_totals(cohort_id: int) -> Any:
    """One row per finished attempt: its learner, assignment, finish time and summed score."""
    return (
        select(
            col(Attempt.id).label("attempt_id"),
            col(Attempt.user_id).label("user_id"),
            col(Attempt.assignment_id).label("assignment_id"),
            col(Attempt.finished_at).label("finished_at"),
            func.coalesce(func.sum(Response.score), 0.0).label("total"),
        )
        .select_from(Attempt)
        .outerjoin(Response, col(Response.attempt_id) == Attempt.id)
        .where(*graded_attempts(cohort_id))
        .group_by(Attempt.id, Attempt.user_id, Attempt.assignment_id, Attempt.finished_at)
        .subquery()
    )


def _best_last(session: Session, cohort_id: int) -> dict[tuple[int, int], tuple[float, float, int]]:
    """(user, assignment) -> (best total, last total, finished attempts), in one grouped query."""
    per = _attempt_totals(cohort_id)
    newest_first = func.row_number().over(
        partition_by=(per.c.user_id, per.c.assignment_id),
        order_by=(per.c.finished_at.desc(), per.c.attempt_id.desc()),
    )
    ranked = select(per, newest_first.label("rn")).subquery()
    stmt = select(
        ranked.c.user_id,
        ranked.c.assignment_id,
        func.max(ranked.c.total),
        func.max(case((ranked.c.rn == 1, ranked.c.total))),
        func.count(),
    ).group_by(ranked.c.user_id, ranked.c.assignment_id)
    return {(u, a): (best, last, int(n)) for u, a, best, last, n in session.exec(stmt).all()}


def _open_attempts(session: Session, cohort_id: int) -> set[tuple[int, int]]:
    stmt = (
        select(Attempt.user_id, Attempt.assignment_id)
        .where(
            Attempt.mode == "assignment",
            Attempt.state == "open",
            col(Attempt.assignment_id).in_(select(Assignment.id).where(Assignment.cohort_id == cohort_id)),
        )
        .distinct()
    )
    return {(u, a) for u, a in session.exec(stmt).all()}


def _learners(session: Session, cohort_id: int) -> list[tuple[int, str]]:
    stmt = (
        select(User.id, User.username)
        .join(Enrollment, col(Enrollment.user_id) == User.id)
        .where(Enrollment.cohort_id == cohort_id)
        .order_by(User.username)
    )
    return [(int(i), name) for i, name in session.exec(stmt).all()]


def gradebook(*, session: Session, actor: Actor, cohort_id: int) -> Gradebook:
    """Enrolled learners by assignments: best and last score (0..1), attempts and completion."""
    cohort = owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    assignments = _assignments(session, cohort_id)
    totals = _best_last(session, cohort_id)
    open_now = _open_attempts(session, cohort_id)
    rows = []
    for user_id, username in _learners(session, cohort_id):
        cells = {}
        for a, nq in assignments:
            assert a.id is not None
            best, last, n = totals.get((user_id, a.id), (None, None, 0))
            cells[a.id] = Cell(_fraction(best, nq), _fraction(last, nq), n, (user_id, a.id) in open_now)
        rows.append(GradebookRow(user_id, username, cells))
    columns = [
        AssignmentColumn(a.id, a.title, nq, a.attempts_allowed, a.due_at)  # type: ignore[arg-type]
        for a, nq in assignments
    ]
    return Gradebook(cohort_id, cohort.name, columns, rows)


def score_distribution(*, session: Session, actor: Actor, cohort_id: int) -> list[dict[str, Any]]:
    """Long-format rows for a histogram: one per learner and assignment they finished, best score."""
    book = gradebook(session=session, actor=actor, cohort_id=cohort_id)
    return [
        {
            "assignment_id": a.id,
            "assignment": a.title,
            "user_id": row.user_id,
            "username": row.username,
            "best": row.cells[a.id].best,
            "last": row.cells[a.id].last,
        }
        for a in book.assignments
        for row in book.rows
        if row.cells[a.id].completed
    ]


# --- one learner -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptSummary:
    attempt_id: int
    assignment_id: int
    assignment: str
    started_at: datetime
    finished_at: datetime | None
    score: float | None  # 0..1
    answered: int
    questions: int
    time_spent_ms: int


@dataclass(frozen=True)
class LearnerReport:
    user_id: int
    username: str
    attempts: list[AttemptSummary]  # finished attempts, oldest first
    topics: list[dict[str, Any]]  # topic, title, answered, score (mean 0..1), correct
    total_time_ms: int


def _may_read_learner(session: Session, actor: Actor, cohort_id: int, user_id: int) -> bool:
    try:
        owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
        return True
    except AccessDenied:
        # Anyone else reads only their own record, and only in a cohort they belong to.
        return actor.user_id == user_id and is_enrolled(session=session, user_id=user_id, cohort_id=cohort_id)


def _elapsed_ms(started: datetime, finished: datetime | None) -> int:
    if finished is None:
        return 0
    return max(0, int((finished - started).total_seconds() * 1000))


def learner_report(*, session: Session, actor: Actor, cohort_id: int, user_id: int) -> LearnerReport:
    """A learner's finished attempts in the cohort, accuracy by topic and time spent.

    Read by the cohort's owner, an admin, or the learner themself (enrolled in the cohort)."""
    if not _may_read_learner(session, actor, cohort_id, user_id):
        raise AccessDenied("that learner's record is not yours to read")
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user with id {user_id}")
    questions = {a.id: (a.title, nq) for a, nq in _assignments(session, cohort_id)}
    mine = [*graded_attempts(cohort_id), Attempt.user_id == user_id]
    stmt = (
        select(
            Attempt.id,
            Attempt.assignment_id,
            Attempt.started_at,
            Attempt.finished_at,
            func.sum(Response.score),
            func.count(col(Response.id)),
            func.sum(Response.time_taken_ms),
        )
        .select_from(Attempt)
        .outerjoin(Response, col(Response.attempt_id) == Attempt.id)
        .where(*mine)
        .group_by(Attempt.id, Attempt.assignment_id, Attempt.started_at, Attempt.finished_at)
        .order_by(Attempt.started_at, Attempt.id)
    )
    attempts = []
    for attempt_id, assignment_id, started, finished, total, answered, timed in session.exec(stmt).all():
        title, nq = questions[assignment_id]
        # The answers' own timings when the page recorded them; else the wall time of the sitting.
        spent = int(timed) if timed else _elapsed_ms(started, finished)
        attempts.append(
            AttemptSummary(
                attempt_id,
                assignment_id,
                title,
                started,
                finished,
                _fraction(total or 0.0, nq),
                int(answered),
                nq,
                spent,
            )
        )
    by_topic = (
        select(
            Question.topic,
            func.count(),
            func.avg(Response.score),
            func.sum(case((col(Response.correct), 1), else_=0)),
        )
        .select_from(Response)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .join(Question, col(Question.id) == Response.question_id)
        .where(*mine)
        .group_by(Question.topic)
    )
    topics = sorted(
        (
            {
                "topic": t,
                "title": TOPICS.get(t, t),
                "answered": int(n),
                "score": float(avg or 0.0),
                "correct": int(c or 0),
            }
            for t, n, avg, c in session.exec(by_topic).all()
        ),
        key=lambda r: r["title"],
    )
    total_time = sum(a.time_spent_ms for a in attempts)
    return LearnerReport(user_id, user.username, attempts, topics, total_time)


# --- item analysis -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemStats:
    assignment_id: int
    assignment: str
    question_id: str
    type: str
    topic: str
    prompt: str
    n: int  # graded answers
    facility: float  # mean score, 0..1
    sd: float | None  # sample standard deviation of the item score; None below 2 answers
    discrimination_index: float | None  # 100 x corrected item-total correlation; None when undefined
    flag: bool  # worth reviewing (see `needs_review`)
    choice_counts: dict[str, int] | None  # single/multi/truefalse: times each choice was picked


def pearson(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float | None:
    """Pearson correlation from sums; None when either side has no variance (or n < 2)."""
    if n < 2:
        return None
    vx = n * sxx - sx * sx
    vy = n * syy - sy * sy
    # Relative thresholds: an all-equal column leaves only rounding error behind.
    if vx <= 1e-10 * n * sxx or vy <= 1e-10 * n * syy:
        return None
    r = (n * sxy - sx * sy) / math.sqrt(vx * vy)
    return max(-1.0, min(1.0, r))


def needs_review(facility: float, discrimination: float | None, n: int, item_varies: bool) -> bool:
    """Moodle's rule: discrimination under 30 or facility outside 0.1..0.9.

    An undefined discrimination flags the item when every answer scored the same (it separates no
    one), and not when only the rest of the attempt was constant or there are under 2 answers
    (nothing to judge by; the facility rule still applies)."""
    low, high = FACILITY_RANGE
    if not low <= facility <= high:
        return True
    if discrimination is None:
        return n >= 2 and not item_varies
    return discrimination < MIN_DISCRIMINATION


def _item_sums(session: Session, cohort_id: int, assignment_id: int | None) -> list[tuple]:
    """Per (assignment, question): n, Σx, Σx², Σy, Σy², Σxy with x the item score and y the rest of
    the attempt's score (attempt total minus x), in one grouped query over the answers."""
    totals = (
        select(
            col(Response.attempt_id).label("attempt_id"),
            col(Attempt.assignment_id).label("assignment_id"),
            func.sum(Response.score).label("total"),
        )
        .select_from(Response)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .where(*graded_attempts(cohort_id))
        .group_by(Response.attempt_id, Attempt.assignment_id)
    )
    if assignment_id is not None:
        totals = totals.where(Attempt.assignment_id == assignment_id)
    t = totals.subquery()
    x = col(Response.score)
    y = t.c.total - x
    stmt = (
        select(
            t.c.assignment_id,
            Response.question_id,
            func.count(),
            func.sum(x),
            func.sum(x * x),
            func.sum(y),
            func.sum(y * y),
            func.sum(x * y),
        )
        .select_from(Response)
        .join(t, t.c.attempt_id == Response.attempt_id)
        .group_by(t.c.assignment_id, Response.question_id)
    )
    return list(session.exec(stmt).all())


def _choice_counts(
    session: Session, cohort_id: int, assignment_id: int | None, question_ids: list[str]
) -> dict[tuple[int, str], dict[str, int]]:
    """(assignment, question) -> {choice: times picked}; answers grouped in SQL by their JSON text."""
    if not question_ids:
        return {}
    # json has no equality operator on PostgreSQL, so group by its text; parse the few groups here.
    answer_text = cast(Response.answer, Text)
    stmt = (
        select(Attempt.assignment_id, Response.question_id, answer_text, func.count())
        .select_from(Response)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .where(*graded_attempts(cohort_id), col(Response.question_id).in_(question_ids))
        .group_by(Attempt.assignment_id, Response.question_id, answer_text)
    )
    if assignment_id is not None:
        stmt = stmt.where(Attempt.assignment_id == assignment_id)
    out: dict[tuple[int, str], dict[str, int]] = {}
    for a_id, q_id, raw, n in session.exec(stmt).all():
        picked = json.loads(raw) if isinstance(raw, str) else raw
        if picked is None:
            continue
        counts = out.setdefault((a_id, q_id), {})
        for choice in picked if isinstance(picked, list) else [picked]:
            key = str(choice)
            counts[key] = counts.get(key, 0) + int(n)
    return out


def _choices(data: dict[str, Any]) -> list[str]:
    if data["type"] == "truefalse":
        return ["True", "False"]
    return [str(c) for c in data.get("choices") or []]


def item_analysis(
    *, session: Session, actor: Actor, cohort_id: int, assignment_id: int | None = None
) -> list[ItemStats]:
    """Per assignment question: n, facility, sd, discrimination index, review flag, choice counts.

    The discrimination index is Moodle's: 100 x the Pearson correlation between the item's score and
    the rest of the attempt's score (the attempt total minus this item), over the graded answers.
    A question used by two assignments gets one row per assignment (their totals differ in length)."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    titles = {a.id: a.title for a, _ in _assignments(session, cohort_id)}
    if assignment_id is not None and assignment_id not in titles:
        raise LookupError(f"assignment {assignment_id} is not in cohort {cohort_id}")
    sums = _item_sums(session, cohort_id, assignment_id)
    qids = sorted({q for _, q, *_ in sums})
    current = session.exec(
        select(Question, QuestionVersion)
        .join(
            QuestionVersion,
            (col(QuestionVersion.question_id) == Question.id)
            & (col(QuestionVersion.version) == Question.current_version),
        )
        .where(col(Question.id).in_(qids))
    ).all()
    info = {q.id: (q, v.data) for q, v in current}
    picks = _choice_counts(
        session, cohort_id, assignment_id, [q for q in qids if info[q][0].type in CHOICE_TYPES]
    )
    position = {
        (aq.assignment_id, aq.question_id): aq.position
        for aq in session.exec(
            select(AssignmentQuestion).where(col(AssignmentQuestion.assignment_id).in_(list(titles)))
        ).all()
    }
    out = []
    for a_id, q_id, n, sx, sxx, sy, syy, sxy in sums:
        n, sx, sxx, sy, syy, sxy = int(n), float(sx), float(sxx), float(sy), float(syy), float(sxy)
        q, data = info[q_id]
        facility = sx / n
        var = (sxx - sx * sx / n) / (n - 1) if n >= 2 else None
        sd = math.sqrt(max(0.0, var)) if var is not None else None
        r = pearson(n, sx, sy, sxx, syy, sxy)
        disc = None if r is None else 100.0 * r
        item_varies = n >= 2 and n * sxx - sx * sx > 1e-10 * n * sxx
        counts = None
        if q.type in CHOICE_TYPES:
            seen = picks.get((a_id, q_id), {})
            counts = {c: seen.get(c, 0) for c in _choices(data)}
            counts.update({c: k for c, k in seen.items() if c not in counts})  # choices of older versions
        out.append(
            ItemStats(
                assignment_id=a_id,
                assignment=titles[a_id],
                question_id=q_id,
                type=q.type,
                topic=q.topic,
                prompt=data["prompt"],
                n=n,
                facility=facility,
                sd=sd,
                discrimination_index=disc,
                flag=needs_review(facility, disc, n, item_varies),
                choice_counts=counts,
            )
        )
    order = list(titles)
    out.sort(key=lambda s: (order.index(s.assignment_id), position.get((s.assignment_id, s.question_id), 0)))
    return out


# --- heatmap -----------------------------------------------------------------------------------


def topic_heatmap(*, session: Session, actor: Actor, cohort_id: int) -> dict[str, Any]:
    """Learner x topic mean score (0..1) over their graded answers, ready for a heatmap:
    {"users": [...], "user_ids": [...], "topics": [...], "titles": [...], "scores": [[float|None]]}.
    Only answered questions count here (a topic mean, not an attempt score)."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    stmt = (
        select(Attempt.user_id, User.username, Question.topic, func.avg(Response.score))
        .select_from(Response)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .join(User, col(User.id) == Attempt.user_id)
        .join(Question, col(Question.id) == Response.question_id)
        .where(*graded_attempts(cohort_id))
        .group_by(Attempt.user_id, User.username, Question.topic)
    )
    cells, names = {}, {}
    for u, name, t, s in session.exec(stmt).all():
        cells[(u, t)] = float(s)
        names[u] = name
    user_ids = sorted(names, key=lambda u: names[u])
    topics = sorted({t for _, t in cells}, key=lambda t: TOPICS.get(t, t))
    return {
        "users": [names.get(u, str(u)) for u in user_ids],
        "user_ids": user_ids,
        "topics": topics,
        "titles": [TOPICS.get(t, t) for t in topics],
        "scores": [[cells.get((u, t)) for t in topics] for u in user_ids],
    }
