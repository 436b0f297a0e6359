"""What one learner answered in one assignment attempt, for the cohort's instructor: every question as
the learner saw it (the version they answered, in their attempt's order), their answer, the key, the
score and the time spent. And, per assignment, the answers learners gave most often."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from quizapp.attempt_rules import apply_layout
from quizapp.cohorts import owned_cohort
from quizapp.grading import _expected
from quizapp.identity import AccessDenied, Actor
from quizapp.item_sums import CHOICE_TYPES
from quizapp.models import (
    Assignment,
    AssignmentQuestion,
    Attempt,
    Cohort,
    Enrollment,
    QuestionVersion,
    Response,
    User,
    as_utc,
)
from quizapp.questions import QuestionView, list_questions


@dataclass(frozen=True)
class AnswerLine:
    number: int  # 1-based, in the order the learner saw the questions
    question: QuestionView  # the version answered (the current one for a blank)
    answer: Any  # None: left blank
    key: str  # the expected answer, as text
    score: float  # 0..1; a blank scores 0
    correct: bool
    time_taken_ms: int | None
    answered_at: datetime | None


@dataclass(frozen=True)
class AttemptReport:
    attempt_id: int
    cohort_id: int
    cohort: str
    assignment_id: int
    assignment: str
    user_id: int
    username: str
    removed: bool  # the learner was removed from the cohort since
    number: int  # this learner's 1st, 2nd, ... attempt at the assignment
    state: str  # open | finished
    started_at: datetime
    finished_at: datetime | None
    deadline_at: datetime | None
    timed_out: bool
    shuffled: bool
    lines: list[AnswerLine]

    @property
    def score(self) -> float:
        return sum(line.score for line in self.lines) / max(1, len(self.lines))

    @property
    def answered(self) -> int:
        return sum(line.answer is not None for line in self.lines)

    @property
    def time_spent_ms(self) -> int:
        timed = sum(line.time_taken_ms or 0 for line in self.lines)
        if timed:
            return timed
        end = as_utc(self.finished_at)
        return max(0, int((end - as_utc(self.started_at)).total_seconds() * 1000)) if end else 0  # type: ignore[operator]


def attempt_report(*, session: Session, actor: Actor, attempt_id: int) -> AttemptReport:
    """An assignment attempt as its learner saw and answered it; read by the cohort's owner or an admin."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.mode != "assignment" or attempt.assignment_id is None:
        raise AccessDenied(f"attempt {attempt_id} is not an assignment attempt of yours to read")
    a = session.get(Assignment, attempt.assignment_id)
    assert a is not None
    try:
        cohort: Cohort = owned_cohort(session=session, actor=actor, cohort_id=a.cohort_id)
    except AccessDenied:
        raise AccessDenied(f"attempt {attempt_id} is not an assignment attempt of yours to read") from None
    user = session.get(User, attempt.user_id)
    assert user is not None
    removed = session.exec(
        select(Enrollment.removed_at).where(
            Enrollment.cohort_id == a.cohort_id, Enrollment.user_id == user.id
        )
    ).first()
    earlier = session.exec(
        select(Attempt.id).where(
            Attempt.assignment_id == a.id,
            Attempt.user_id == attempt.user_id,
            (col(Attempt.started_at) < attempt.started_at)
            | ((col(Attempt.started_at) == attempt.started_at) & (col(Attempt.id) < attempt.id)),
        )
    ).all()
    ids = list(
        session.exec(
            select(AssignmentQuestion.question_id)
            .where(AssignmentQuestion.assignment_id == a.id)
            .order_by(col(AssignmentQuestion.position))
        ).all()
    )
    responses = {
        r.question_id: (r, v)
        for r, v in session.exec(
            select(Response, QuestionVersion)
            .join(QuestionVersion, col(QuestionVersion.id) == Response.question_version_id)
            .where(Response.attempt_id == attempt_id)
        ).all()
    }
    current = {v.id: v for v in list_questions(session=session, ids=ids, any_owner=True)}
    views = []
    for qid in ids:
        if qid in responses:
            _, v = responses[qid]
            base = current.get(qid)
            views.append(
                QuestionView(
                    id=qid,
                    version_id=v.id,  # type: ignore[arg-type]
                    version=v.version,
                    kind=base.kind if base else v.data.get("kind", "quiz"),
                    type=v.data["type"],
                    topic=base.topic if base else v.data.get("topic", ""),
                    difficulty=base.difficulty if base else int(v.data.get("difficulty", 1)),
                    data=v.data,
                )
            )
        elif qid in current:
            views.append(current[qid])
    lines = []
    for number, q in enumerate(apply_layout(views, attempt.layout), 1):
        r = responses.get(q.id, (None, None))[0]
        lines.append(
            AnswerLine(
                number,
                q,
                None if r is None else r.answer,
                _expected(q.data),
                0.0 if r is None else float(r.score),
                False if r is None else bool(r.correct),
                None if r is None else r.time_taken_ms,
                None if r is None else r.answered_at,
            )
        )
    deadline, finished = as_utc(attempt.deadline_at), as_utc(attempt.finished_at)
    return AttemptReport(
        attempt_id=attempt_id,
        cohort_id=a.cohort_id,
        cohort=cohort.name,
        assignment_id=a.id,  # type: ignore[arg-type]
        assignment=a.title,
        user_id=user.id,  # type: ignore[arg-type]
        username=user.username,
        removed=removed is not None,
        number=len(earlier) + 1,
        state=attempt.state,
        started_at=as_utc(attempt.started_at),  # type: ignore[arg-type]
        finished_at=finished,
        deadline_at=deadline,
        timed_out=bool(deadline and finished and finished >= deadline),
        shuffled=attempt.layout is not None,
        lines=lines,
    )


def learner_attempts(
    *, session: Session, actor: Actor, cohort_id: int, user_id: int
) -> list[tuple[int, str, int, str]]:
    """Every assignment attempt of one learner in the cohort (open ones too): (attempt id, assignment
    title, attempt number, state), oldest first, for picking one to review."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    stmt = (
        select(Attempt.id, Attempt.assignment_id, Assignment.title, Attempt.state)
        .join(Assignment, col(Assignment.id) == Attempt.assignment_id)
        .where(Assignment.cohort_id == cohort_id, Attempt.user_id == user_id, Attempt.mode == "assignment")
        .order_by(col(Attempt.started_at), col(Attempt.id))
    )
    seen: Counter[int] = Counter()
    out = []
    for attempt_id, assignment_id, title, state in session.exec(stmt).all():
        seen[assignment_id] += 1
        out.append((int(attempt_id), title, seen[assignment_id], state))
    return out


def _answer_key(answer: Any) -> str:
    if isinstance(answer, bool):
        return "True" if answer else "False"
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    if isinstance(answer, str):
        return " ".join(answer.split()).lower()
    return str(answer)


def common_answers(
    *, session: Session, actor: Actor, cohort_id: int, assignment_id: int, top: int = 5
) -> dict[str, list[tuple[str, int, bool]]]:
    """Per numeric or short-answer question of the assignment: its most common answers in finished
    attempts, as (answer text, how many, whether it scored full marks), most common first. Typed text
    is compared without case or extra spaces."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    a = session.get(Assignment, assignment_id)
    if a is None or a.cohort_id != cohort_id:
        raise LookupError(f"assignment {assignment_id} is not in cohort {cohort_id}")
    ids = [
        v.id
        for v in list_questions(
            session=session,
            ids=list(
                session.exec(
                    select(AssignmentQuestion.question_id).where(
                        AssignmentQuestion.assignment_id == assignment_id
                    )
                ).all()
            ),
            any_owner=True,
        )
        if v.type not in CHOICE_TYPES
    ]
    if not ids:
        return {}
    stmt = (
        select(Response.question_id, Response.answer, Response.correct)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .where(
            Attempt.assignment_id == assignment_id,
            Attempt.mode == "assignment",
            Attempt.state == "finished",
            col(Response.question_id).in_(ids),
        )
    )
    counts: dict[str, Counter[str]] = {q: Counter() for q in ids}
    right: dict[tuple[str, str], bool] = {}
    for qid, answer, correct in session.exec(stmt).all():
        if answer is None:
            continue
        k = _answer_key(answer)
        counts[qid][k] += 1
        right[(qid, k)] = right.get((qid, k), False) or bool(correct)
    return {q: [(k, n, right[(q, k)]) for k, n in c.most_common(top)] for q, c in counts.items() if c}
