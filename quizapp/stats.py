"""What instructors read: gradebook, a learner's report, item analysis and chart data for one cohort.

Everything is computed over the graded answers of the cohort's finished assignment attempts
(Attempt.mode 'assignment', state 'finished', assignment in the cohort). An attempt's score is the sum
of its response scores over the assignment's number of questions, so an unanswered question counts 0;
the same rule holds in item analysis, the heatmap and a learner's topics: every question a finished
attempt presented counts, a blank one with score 0.

The cohort-wide figures read what is stored as each attempt finishes (quizapp.item_sums): the
attempt's total (gradebook), per assignment question the sums that facility and discrimination come
from (item analysis), and per learner and topic a summed score (heatmap); none walks the answers.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from quizapp.bank.schema import TOPICS
from quizapp.cohorts import is_enrolled, owned_cohort
from quizapp.identity import AccessDenied, Actor
from quizapp.item_sums import CHOICE_TYPES, picked_choices
from quizapp.models import (
    Assignment,
    AssignmentQuestion,
    Attempt,
    Enrollment,
    ItemSum,
    Question,
    QuestionVersion,
    Response,
    TopicSum,
    User,
)

# Moodle's review thresholds: a question separates strong from weak learners too little, or is too
# easy or too hard to tell anyone apart.
MIN_DISCRIMINATION = 30.0
FACILITY_RANGE = (0.1, 0.9)

Where = list[ColumnElement[bool]]


# --- what counts -------------------------------------------------------------------------------


def graded_attempts(cohort_id: int) -> Where:
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
        .order_by(col(Assignment.created_at), col(Assignment.id))
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
    last_attempt_id: int | None = None  # the most recently finished attempt (to review it)

    @property
    def completed(self) -> bool:
        return self.attempts > 0

    @property
    def attempts_used(self) -> int:
        """What counts against the assignment's allowance: the finished ones and an open one."""
        return self.attempts + int(self.in_progress)


@dataclass(frozen=True)
class GradebookRow:
    user_id: int
    username: str
    cells: dict[int, Cell]  # by assignment id; every assignment of the cohort has a cell
    removed: bool = False  # taken out of the cohort by the instructor; their attempts are kept

    @property
    def completed(self) -> int:
        return sum(c.completed for c in self.cells.values())


@dataclass(frozen=True)
class Gradebook:
    cohort_id: int
    cohort: str
    assignments: list[AssignmentColumn]
    rows: list[GradebookRow]  # every enrolled learner, by username; then removed ones with attempts

    def completion(self, assignment_id: int | None = None) -> float:
        """Share of (learner, assignment) cells with a finished attempt; of one assignment if given.
        Removed learners do not count."""
        ids = [a.id for a in self.assignments] if assignment_id is None else [assignment_id]
        cells = [r.cells[i] for r in self.rows if not r.removed for i in ids]
        return sum(c.completed for c in cells) / len(cells) if cells else 0.0


@dataclass(frozen=True)
class _Tally:
    """One learner's finished attempts at one assignment: best and last total, how many."""

    best: float
    last: float
    last_key: tuple[datetime, int]  # (finished_at in UTC, attempt id): the latest wins
    attempts: int


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.min
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _tallies(session: Session, cohort_id: int) -> dict[tuple[int, int], _Tally]:
    """Best, last and count per (learner, assignment), from one row per finished attempt: its total
    is stored as it finishes (quizapp.item_sums), so no answer is read here."""
    stmt = select(
        Attempt.id,
        Attempt.user_id,
        Attempt.assignment_id,
        Attempt.finished_at,
        func.coalesce(Attempt.score, 0.0),
    ).where(*graded_attempts(cohort_id))
    tallies: dict[tuple[int, int], _Tally] = {}
    for attempt_id, user_id, assignment_id, finished_at, total in session.connection().execute(stmt):
        total, key = float(total), (_utc(finished_at), attempt_id)
        prior = tallies.get((user_id, assignment_id))
        if prior is None:
            tallies[(user_id, assignment_id)] = _Tally(total, total, key, 1)
            continue
        newer = key > prior.last_key
        tallies[(user_id, assignment_id)] = _Tally(
            max(prior.best, total),
            total if newer else prior.last,
            key if newer else prior.last_key,
            prior.attempts + 1,
        )
    return tallies


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


def _learners(session: Session, cohort_id: int) -> list[tuple[int, str, bool]]:
    """(id, username, removed): enrolled learners by username, then those removed from the cohort."""
    stmt = (
        select(User.id, User.username, col(Enrollment.removed_at).is_not(None))
        .join(Enrollment, col(Enrollment.user_id) == User.id)
        .where(Enrollment.cohort_id == cohort_id)
        .order_by(col(User.username))
    )
    rows = [(int(i), name, bool(gone)) for i, name, gone in session.connection().execute(stmt)]
    return sorted(rows, key=lambda r: r[2])


def gradebook(*, session: Session, actor: Actor, cohort_id: int) -> Gradebook:
    """Enrolled learners by assignments: best and last score (0..1), attempts and completion."""
    cohort = owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    assignments = _assignments(session, cohort_id)
    tallies = _tallies(session, cohort_id)
    open_now = _open_attempts(session, cohort_id)
    sizes = [(a.id, nq) for a, nq in assignments]
    rows = []
    has_attempts = {u for u, _ in tallies}
    for user_id, username, removed in _learners(session, cohort_id):
        if removed and user_id not in has_attempts:
            continue
        cells = {}
        for a_id, nq in sizes:
            t = tallies.get((user_id, a_id))  # type: ignore[arg-type]
            busy = (user_id, a_id) in open_now
            if t is None:
                cells[a_id] = Cell(None, None, 0, busy)
            else:
                cells[a_id] = Cell(
                    _fraction(t.best, nq), _fraction(t.last, nq), t.attempts, busy, t.last_key[1]
                )
        rows.append(GradebookRow(user_id, username, cells, removed))  # type: ignore[arg-type]
    columns = [
        AssignmentColumn(a.id, a.title, nq, a.attempts_allowed, a.due_at)  # type: ignore[arg-type]
        for a, nq in assignments
    ]
    return Gradebook(cohort_id, cohort.name, columns, rows)


def score_distribution(*, session: Session, actor: Actor, cohort_id: int) -> list[dict[str, Any]]:
    """Long-format rows for a histogram: one per learner and assignment they finished."""
    return distribution(gradebook(session=session, actor=actor, cohort_id=cohort_id))


def distribution(book: Gradebook) -> list[dict[str, Any]]:
    """`score_distribution` from a gradebook already read (no second read)."""
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
    # topic, title, questions (presented), answered, score (mean 0..1, a blank 0), correct
    topics: list[dict[str, Any]]
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
    # Every question the attempts presented, answered or not: a blank one scores 0.
    by_topic = (
        select(
            Question.topic,
            func.count(),
            func.count(col(Response.id)),
            func.avg(func.coalesce(col(Response.score), 0.0)),
            func.sum(case((col(Response.correct), 1), else_=0)),
        )
        .select_from(Attempt)
        .join(AssignmentQuestion, col(AssignmentQuestion.assignment_id) == Attempt.assignment_id)
        .outerjoin(
            Response,
            (col(Response.attempt_id) == Attempt.id)
            & (col(Response.question_id) == AssignmentQuestion.question_id),
        )
        .join(Question, col(Question.id) == AssignmentQuestion.question_id)
        .where(*mine)
        .group_by(Question.topic)
    )
    topics = sorted(
        (
            {
                "topic": t,
                "title": TOPICS.get(t, t),
                "questions": int(n),
                "answered": int(answered),
                "score": float(avg or 0.0),
                "correct": int(c or 0),
            }
            for t, n, answered, avg, c in session.exec(by_topic).all()
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
    n: int  # presented in finished attempts, blanks (score 0) included
    facility: float  # mean score, 0..1
    sd: float | None  # sample standard deviation of the item score; None below 2 answers
    discrimination_index: float | None  # 100 x corrected item-total correlation; None when undefined
    flag: bool  # worth reviewing (see `needs_review`)
    choice_counts: dict[str, int] | None  # single/multi/truefalse: times each choice was picked
    correct_choices: tuple[str, ...] = ()  # choice questions: the choices the key marks right

    @property
    def choice_shares(self) -> dict[str, float] | None:
        """Share of the learners presented the question who picked each choice (blanks count in n)."""
        if self.choice_counts is None:
            return None
        return {c: k / self.n if self.n else 0.0 for c, k in self.choice_counts.items()}


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


def _choices(data: dict[str, Any]) -> list[str]:
    if data["type"] == "truefalse":
        return ["True", "False"]
    return [str(c) for c in data.get("choices") or []]


def _item(a_id: int, title: str, q: Question, data: dict[str, Any], acc: ItemSum) -> ItemStats:
    n, sx, sxx = acc.n, acc.sx, acc.sxx
    facility = sx / n
    var = (sxx - sx * sx / n) / (n - 1) if n >= 2 else None
    r = pearson(n, sx, acc.sy, sxx, acc.syy, acc.sxy)
    disc = None if r is None else 100.0 * r
    item_varies = n >= 2 and n * sxx - sx * sx > 1e-10 * n * sxx
    counts, key = None, ()
    if q.type in CHOICE_TYPES:
        key = tuple(picked_choices(data.get("answer")))
        counts = {c: acc.picks.get(c, 0) for c in _choices(data)}
        counts.update({c: k for c, k in acc.picks.items() if c not in counts})  # older versions' choices
    return ItemStats(
        assignment_id=a_id,
        assignment=title,
        question_id=q.id,
        type=q.type,
        topic=q.topic,
        prompt=data["prompt"],
        n=n,
        facility=facility,
        sd=None if var is None else math.sqrt(max(0.0, var)),
        discrimination_index=disc,
        flag=needs_review(facility, disc, n, item_varies),
        choice_counts=counts,
        correct_choices=key,
    )


def item_analysis(
    *, session: Session, actor: Actor, cohort_id: int, assignment_id: int | None = None
) -> list[ItemStats]:
    """Per assignment question: n, facility, sd, discrimination index, review flag, choice counts.

    The discrimination index is Moodle's: 100 x the Pearson correlation between the item's score and
    the rest of the attempt's score (the attempt total minus this item), over the graded answers.
    A question used by two assignments gets one row per assignment (their totals differ in length).
    Rows come in assignment order, then question position."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    titles = {a.id: a.title for a, _ in _assignments(session, cohort_id)}
    if assignment_id is not None and assignment_id not in titles:
        raise LookupError(f"assignment {assignment_id} is not in cohort {cohort_id}")
    ids = list(titles) if assignment_id is None else [assignment_id]
    # Kept up to date as attempts finish (quizapp.item_sums); n = 0 until an attempt finishes.
    stored = session.exec(
        select(ItemSum).where(col(ItemSum.assignment_id).in_(ids), col(ItemSum.n) > 0)
    ).all()
    wanted = {(s.assignment_id, s.question_id): s for s in stored}
    current = session.exec(
        select(Question, QuestionVersion)
        .join(
            QuestionVersion,
            (col(QuestionVersion.question_id) == Question.id)
            & (col(QuestionVersion.version) == Question.current_version),
        )
        .where(col(Question.id).in_(sorted({q for _, q in wanted})))
    ).all()
    info = {q.id: (q, v.data) for q, v in current}
    position = {
        (aq.assignment_id, aq.question_id): aq.position
        for aq in session.exec(
            select(AssignmentQuestion).where(col(AssignmentQuestion.assignment_id).in_(list(titles)))
        ).all()
    }
    order = list(titles)
    keys = sorted(wanted, key=lambda k: (order.index(k[0]), position.get(k, 0), k[1]))
    return [_item(a_id, titles[a_id], *info[q_id], wanted[(a_id, q_id)]) for a_id, q_id in keys]


# --- heatmap -----------------------------------------------------------------------------------


def topic_heatmap(*, session: Session, actor: Actor, cohort_id: int) -> dict[str, Any]:
    """Learner x topic mean score (0..1) over the questions their finished attempts presented (a
    blank one scores 0), ready for a heatmap:
    {"users": [...], "user_ids": [...], "topics": [...], "titles": [...], "scores": [[float|None]]}."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    # Summed per learner, assignment and topic as attempts finish (quizapp.item_sums).
    stmt = (
        select(
            TopicSum.user_id, User.username, TopicSum.topic, func.sum(TopicSum.total), func.sum(TopicSum.n)
        )
        .join(User, col(User.id) == TopicSum.user_id)
        .where(
            col(TopicSum.assignment_id).in_(select(Assignment.id).where(Assignment.cohort_id == cohort_id))
        )
        .group_by(TopicSum.user_id, User.username, TopicSum.topic)
    )
    cells = {
        (int(user_id), topic): (username, float(total), int(n))
        for user_id, username, topic, total, n in session.connection().execute(stmt)
    }
    names = {u: name for (u, _), (name, _, _) in cells.items()}
    user_ids = sorted(names, key=lambda u: names[u])
    topics = sorted({t for _, t in cells}, key=lambda t: TOPICS.get(t, t))

    def mean(u: int, t: str) -> float | None:
        cell = cells.get((u, t))
        return cell[1] / cell[2] if cell and cell[2] else None

    return {
        "users": [names[u] for u in user_ids],
        "user_ids": user_ids,
        "topics": topics,
        "titles": [TOPICS.get(t, t) for t in topics],
        "scores": [[mean(u, t) for t in topics] for u in user_ids],
    }
