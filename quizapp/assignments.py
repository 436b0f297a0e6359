"""Assignments: set work for a cohort, take it under a time limit, submit it, see feedback when due."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from quizapp import item_sums, review
from quizapp.attempt_rules import apply_layout, new_layout, rules_for
from quizapp.cohorts import is_enrolled, owned_cohort
from quizapp.grading import grade
from quizapp.identity import AccessDenied, Actor
from quizapp.models import (
    Assignment,
    AssignmentQuestion,
    Attempt,
    Cohort,
    Enrollment,
    QuestionVersion,
    Response,
    as_utc,
    utcnow,
)
from quizapp.practice import get_attempt, submit_answer
from quizapp.questions import QuestionView, list_questions, pick_ids

FEEDBACK = {
    "immediate": "At once, per answer",
    "after_submit": "After submitting",
    "after_due": "After the due date",
}
GRADED_TYPES = ["single", "multi", "truefalse", "numeric", "short"]  # open answers are self-rated
GRACE = timedelta(seconds=2)  # a save that left the browser on time is not refused for network delay


class AssignmentError(ValueError):
    """An assignment request that cannot be done as asked; the message says why."""


class TimeUp(AssignmentError):
    """The attempt's time ran out; it has been submitted as it stood."""


@dataclass(frozen=True)
class AttemptLine:
    """One of the learner's attempts as their list shows it."""

    number: int  # 1 for the first attempt
    attempt_id: int
    started_at: datetime
    finished_at: datetime | None  # None: still open
    timed_out: bool  # submitted by the clock, as it stood
    answered: int
    score: float | None  # 0..1; None while open or until feedback shows


@dataclass
class AssignmentStatus:
    assignment: Assignment
    cohort_name: str
    questions: int
    attempts_used: int
    open_attempt_id: int | None
    best_score: float | None  # None until feedback shows (or nothing finished)
    state: str  # upcoming | open | closed
    can_start: bool
    reason: str = ""
    attempts_left: int | None = None  # None: unlimited (counting an open attempt as used)
    history: list[AttemptLine] = field(default_factory=list)  # oldest first
    feedback_visible: bool = False  # whether a finished attempt's score shows now
    # The learner's own rules: the assignment's, with their override (extra attempts, a later due
    # date, a longer time limit) applied.
    due_at: datetime | None = None
    time_limit_s: int | None = None
    attempts_allowed: int = 1


@dataclass
class AttemptView:
    attempt: Attempt
    assignment: Assignment
    questions: list[QuestionView]
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # question_id -> answer, score, correct
    seconds_left: float | None = None
    feedback_visible: bool = False
    due_at: datetime | None = None  # the learner's own due date (with their override)

    @property
    def finished(self) -> bool:
        return self.attempt.state == "finished"

    @property
    def score(self) -> float:
        return sum(a["score"] for a in self.answers.values()) / max(1, len(self.questions))

    @property
    def shown_score(self) -> float | None:
        """The score, once feedback may show it; None before."""
        return self.score if self.feedback_visible else None


def create_assignment(
    *,
    session: Session,
    actor: Actor,
    cohort_id: int,
    title: str,
    question_ids: list[str] | None = None,
    topics: list[str] | None = None,
    difficulties: list[int] | None = None,
    count: int | None = None,
    time_limit_s: int | None = None,
    attempts_allowed: int = 1,
    opens_at: datetime | None = None,
    due_at: datetime | None = None,
    feedback: str = "after_submit",
    seed: int | None = None,
    shuffle: bool = False,
) -> Assignment:
    """Questions are given one by one (`question_ids`) or drawn by topic, difficulty and count."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    title = " ".join(title.split())
    if not 2 <= len(title) <= 120:
        raise AssignmentError("a title is 2 to 120 characters")
    if feedback not in FEEDBACK:
        raise AssignmentError(f"feedback must be one of {', '.join(FEEDBACK)}")
    if time_limit_s is not None and not 30 <= time_limit_s <= 24 * 3600:
        raise AssignmentError("a time limit is between 30 seconds and 24 hours")
    if attempts_allowed < 0 or attempts_allowed > 100:
        raise AssignmentError("attempts allowed is 0 (unlimited) to 100")
    opens_at, due_at = as_utc(opens_at), as_utc(due_at)
    if opens_at and due_at and due_at <= opens_at:
        raise AssignmentError("the due date must come after the opening date")
    if session.exec(
        select(Assignment.id).where(Assignment.cohort_id == cohort_id, Assignment.title == title)
    ).first():
        raise AssignmentError(f"this cohort already has an assignment called {title!r}")
    kinds = ["quiz", "interview"]
    if question_ids:
        found = {v.id for v in list_questions(session=session, ids=question_ids, viewer_id=actor.user_id)}
        missing = [q for q in question_ids if q not in found]
        if missing:
            raise AssignmentError(f"not active questions: {', '.join(missing)}")
        chosen = list(dict.fromkeys(question_ids))
        open_ones = [
            v.id for v in list_questions(session=session, ids=chosen, types=["open"], viewer_id=actor.user_id)
        ]
        if open_ones:
            raise AssignmentError(
                f"open questions are self-rated, so they cannot be graded in an assignment: {', '.join(open_ones)}"
            )
    else:
        if not count or count < 1:
            raise AssignmentError("choose questions one by one, or give how many to draw")
        pool = pick_ids(
            session=session,
            kinds=kinds,
            topics=topics,
            difficulties=difficulties,
            types=GRADED_TYPES,
            seed=seed if seed is not None else random.randrange(2**31),
            viewer_id=actor.user_id,
        )
        if len(pool) < count:
            raise AssignmentError(
                f"only {len(pool)} question(s) match those topics and difficulties; ask for fewer"
            )
        chosen = pool[:count]
    assignment = Assignment(
        cohort_id=cohort_id,
        title=title,
        time_limit_s=time_limit_s,
        attempts_allowed=attempts_allowed,
        opens_at=opens_at,
        due_at=due_at,
        feedback=feedback,
        shuffle=shuffle,
    )
    session.add(assignment)
    session.flush()
    assert assignment.id is not None
    for pos, qid in enumerate(chosen):
        session.add(AssignmentQuestion(assignment_id=assignment.id, position=pos, question_id=qid))
    item_sums.add_questions(session, assignment.id, chosen)
    session.flush()
    return assignment


def assignments_of(*, session: Session, actor: Actor, cohort_id: int) -> list[Assignment]:
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    stmt = select(Assignment).where(Assignment.cohort_id == cohort_id).order_by(col(Assignment.created_at))
    return list(session.exec(stmt).all())


def question_ids_of(*, session: Session, assignment_id: int) -> list[str]:
    stmt = (
        select(AssignmentQuestion.question_id)
        .where(AssignmentQuestion.assignment_id == assignment_id)
        .order_by(col(AssignmentQuestion.position))
    )
    return list(session.exec(stmt).all())


def _window_state(a: Assignment, now: datetime, due_at: datetime | None = None) -> str:
    """upcoming | open | closed; `due_at` is the learner's own due date where an override moves it."""
    due = as_utc(due_at if due_at is not None else a.due_at)
    if a.opens_at and now < as_utc(a.opens_at):
        return "upcoming"
    if due and now >= due:
        return "closed"
    return "open"


def _finish(session: Session, attempt: Attempt, now: datetime, *, locked: bool = False) -> bool:
    """Submit the attempt as it stands: its total and its answers go into the stored statistics.

    Unless the caller read the row under a lock in this transaction (`locked`), it is re-read under
    one first, so an answer being saved at this moment either lands before the totals are taken or
    finds the attempt finished. True if this call finished it."""
    if not locked:
        session.refresh(attempt, with_for_update=True)
    if attempt.state != "open":
        return False
    deadline = as_utc(attempt.deadline_at)
    attempt.state = "finished"
    attempt.finished_at = min(now, deadline) if deadline else now
    item_sums.record_finished(session, attempt)
    review.assignment_finished(session, attempt, now)
    return True


def expired_attempts_waiting(*, session: Session, now: datetime | None = None) -> bool:
    """Whether some open assignment attempt's time has run out: a read, so a page can sweep
    (`close_expired_attempts`, a write) only when there is something to sweep."""
    now = now or utcnow()
    stmt = (
        select(Attempt.id)
        .where(
            Attempt.mode == "assignment",
            Attempt.state == "open",
            col(Attempt.deadline_at).is_not(None),
            col(Attempt.deadline_at) <= now - GRACE,
        )
        .limit(1)
    )
    return session.exec(stmt).first() is not None


def close_expired_attempts(
    *, session: Session, now: datetime | None = None, user_id: int | None = None
) -> int:
    """Submit, as they stand, the open assignment attempts whose time has run out (one learner's
    when `user_id` is given)."""
    now = now or utcnow()
    mine = [] if user_id is None else [Attempt.user_id == user_id]
    # Rows another transaction holds (an answer being saved, another sweep) are left for the next
    # sweep: waiting on them could deadlock two sweeps that met the same rows in another order.
    # Only expired rows are locked: an attempt still running is never held up by a sweep.
    stmt = (
        select(Attempt)
        .where(
            Attempt.mode == "assignment",
            Attempt.state == "open",
            col(Attempt.deadline_at).is_not(None),
            col(Attempt.deadline_at) <= now - GRACE,
            *mine,
        )
        .with_for_update(skip_locked=True)
    )
    closed = 0
    for attempt in session.exec(stmt).all():
        if as_utc(attempt.deadline_at) + GRACE <= now:  # type: ignore[operator]
            closed += _finish(session, attempt, now, locked=True)
    session.flush()
    return closed


def _timed_out(attempt: Attempt) -> bool:
    deadline, finished = as_utc(attempt.deadline_at), as_utc(attempt.finished_at)
    return deadline is not None and finished is not None and finished >= deadline


def learner_assignments(
    *, session: Session, actor: Actor, now: datetime | None = None
) -> list[AssignmentStatus]:
    """The actor's own assignments across the cohorts they joined, with each attempt they made.

    The actor's attempts whose time ran out are submitted first (a write), so the list never offers
    to resume one; scores show only once the assignment's feedback setting allows."""
    if actor.user_id is None:
        return []
    now = now or utcnow()
    close_expired_attempts(session=session, now=now, user_id=actor.user_id)
    stmt = (
        select(Assignment, Cohort.name)
        .join(Cohort, Cohort.id == Assignment.cohort_id)
        .join(Enrollment, Enrollment.cohort_id == Cohort.id)
        .where(Enrollment.user_id == actor.user_id, col(Enrollment.removed_at).is_(None))
        .order_by(col(Assignment.due_at), col(Assignment.id))
    )
    out = []
    for a, cohort_name in session.exec(stmt).all():
        rules = rules_for(session, a, actor.user_id)
        n = len(question_ids_of(session=session, assignment_id=a.id))  # type: ignore[arg-type]
        attempts = session.exec(
            select(Attempt)
            .where(Attempt.assignment_id == a.id, Attempt.user_id == actor.user_id)
            .order_by(col(Attempt.started_at), col(Attempt.id))
        ).all()
        answered = _answered_counts(session, [t.id for t in attempts])  # type: ignore[misc]
        open_attempt = next((t for t in attempts if t.state == "open"), None)
        history = []
        for number, t in enumerate(attempts, 1):
            done = t.state == "finished"
            visible = done and feedback_visible(a, t, now, rules.due_at)
            history.append(
                AttemptLine(
                    number,
                    t.id,  # type: ignore[arg-type]
                    t.started_at,
                    t.finished_at if done else None,
                    done and _timed_out(t),
                    answered.get(t.id, 0),  # type: ignore[arg-type]
                    (t.score or 0.0) / max(1, n) if visible else None,
                )
            )
        shown = [line.score for line in history if line.score is not None]
        state = _window_state(a, now, rules.due_at)
        used = len(attempts)
        left = None if not rules.attempts_allowed else max(0, rules.attempts_allowed - used)
        can, reason = True, ""
        if open_attempt is None:
            if state == "upcoming":
                can, reason = False, "not open yet"
            elif state == "closed":
                can, reason = False, "past the due date"
            elif left == 0:
                can, reason = False, "no attempts left"
        out.append(
            AssignmentStatus(
                a,
                cohort_name,
                n,
                used,
                open_attempt.id if open_attempt else None,
                max(shown, default=None),
                state,
                can,
                reason,
                attempts_left=left,
                history=history,
                feedback_visible=bool(shown),
                due_at=rules.due_at,
                time_limit_s=rules.time_limit_s,
                attempts_allowed=rules.attempts_allowed,
            )
        )
    return out


def _answered_counts(session: Session, attempt_ids: list[int]) -> dict[int, int]:
    if not attempt_ids:
        return {}
    stmt = (
        select(Response.attempt_id, func.count())
        .where(col(Response.attempt_id).in_(attempt_ids))
        .group_by(Response.attempt_id)
    )
    return {int(i): int(k) for i, k in session.exec(stmt).all()}


def _enrolled_assignment(session: Session, actor: Actor, assignment_id: int) -> Assignment:
    if actor.user_id is None:
        raise AccessDenied("sign in to take assignments")
    a = session.get(Assignment, assignment_id)
    if a is None or not is_enrolled(session=session, user_id=actor.user_id, cohort_id=a.cohort_id):
        raise AccessDenied(f"assignment {assignment_id} is not set for you")
    return a


def start_attempt(*, session: Session, actor: Actor, assignment_id: int, now: datetime | None = None) -> int:
    """A new attempt, when the rules allow one: the learner's explicit choice. Refused while an
    attempt is still running (resume that one instead)."""
    now = now or utcnow()
    a = _enrolled_assignment(session, actor, assignment_id)
    close_expired_attempts(session=session, now=now, user_id=actor.user_id)
    attempts = session.exec(
        select(Attempt).where(Attempt.assignment_id == a.id, Attempt.user_id == actor.user_id)
    ).all()
    if any(t.state == "open" for t in attempts):
        raise AssignmentError(f"an attempt at {a.title!r} is still running: resume it")
    cohort = session.get(Cohort, a.cohort_id)
    if cohort is not None and cohort.archived_at is not None:
        raise AssignmentError(f"the cohort {cohort.name!r} is archived: no new attempts")
    rules = rules_for(session, a, actor.user_id)
    state = _window_state(a, now, rules.due_at)
    if state == "upcoming":
        raise AssignmentError(f"{a.title!r} opens at {as_utc(a.opens_at):%Y-%m-%d %H:%M} UTC")
    if state == "closed":
        raise AssignmentError(f"{a.title!r} was due at {rules.due_at:%Y-%m-%d %H:%M} UTC")
    if rules.attempts_allowed and len(attempts) >= rules.attempts_allowed:
        raise AssignmentError(f"all {rules.attempts_allowed} attempt(s) at {a.title!r} are used")
    deadline = now + timedelta(seconds=rules.time_limit_s) if rules.time_limit_s else None
    if rules.due_at and (deadline is None or rules.due_at < deadline):
        deadline = rules.due_at
    layout = None
    if a.shuffle:  # this attempt's own order, kept with it: a resume and a regrade see the same
        ids = question_ids_of(session=session, assignment_id=a.id)  # type: ignore[arg-type]
        layout = new_layout(list_questions(session=session, ids=ids, any_owner=True))
    attempt = Attempt(
        user_id=actor.user_id,
        mode="assignment",
        assignment_id=a.id,
        started_at=now,
        deadline_at=deadline,
        layout=layout,
    )
    session.add(attempt)
    session.flush()
    return attempt.id  # type: ignore[return-value]


def resume_attempt(*, session: Session, actor: Actor, attempt_id: int, now: datetime | None = None) -> bool:
    """Open one of the actor's attempts again: True if it is still running. One whose time ran out
    is submitted as it stood first (False), so resuming never starts a new attempt."""
    now = now or utcnow()
    attempt, _ = _own_assignment_attempt(session, actor, attempt_id, lock=True)
    deadline = as_utc(attempt.deadline_at)
    if attempt.state == "open" and deadline is not None and deadline + GRACE <= now:
        _finish(session, attempt, now, locked=True)
        session.flush()
    return attempt.state == "open"


def start_or_resume(
    *, session: Session, actor: Actor, assignment_id: int, now: datetime | None = None
) -> int:
    """The actor's running attempt at this assignment, or a new one when the rules allow it (for
    scripts and tests; the page offers Resume and Start as separate choices)."""
    now = now or utcnow()
    a = _enrolled_assignment(session, actor, assignment_id)
    close_expired_attempts(session=session, now=now, user_id=actor.user_id)
    current = session.exec(
        select(Attempt.id).where(
            Attempt.assignment_id == a.id, Attempt.user_id == actor.user_id, Attempt.state == "open"
        )
    ).first()
    if current is not None:
        return current
    return start_attempt(session=session, actor=actor, assignment_id=assignment_id, now=now)


def _own_assignment_attempt(
    session: Session, actor: Actor, attempt_id: int, *, lock: bool = False
) -> tuple[Attempt, Assignment]:
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id, for_update=lock)
    if attempt.mode != "assignment" or attempt.assignment_id is None:
        raise AccessDenied(f"attempt {attempt_id} is not an assignment attempt")
    a = session.get(Assignment, attempt.assignment_id)
    assert a is not None
    return attempt, a


def feedback_visible(a: Assignment, attempt: Attempt, now: datetime, due_at: datetime | None = None) -> bool:
    """Whether the attempt's score and feedback show now. `due_at`: the learner's own due date (an
    override may extend it); with feedback after the due date, a learner who may still answer sees
    nothing until their own due date has passed."""
    if a.feedback == "immediate":
        return True
    due = as_utc(due_at) if due_at is not None else as_utc(a.due_at)
    if a.feedback == "after_due" and due is not None:
        return now >= due
    return attempt.state == "finished"


def view_attempt(
    *, session: Session, actor: Actor, attempt_id: int, now: datetime | None = None
) -> AttemptView:
    """The attempt as its owner sees it; an attempt whose time ran out is submitted first."""
    now = now or utcnow()
    attempt, a = _own_assignment_attempt(session, actor, attempt_id)
    deadline = as_utc(attempt.deadline_at)
    if attempt.state == "open" and deadline is not None and deadline + GRACE <= now:
        _finish(session, attempt, now)
        session.flush()
    ids = question_ids_of(session=session, assignment_id=a.id)  # type: ignore[arg-type]
    by_id = {v.id: v for v in list_questions(session=session, ids=ids, any_owner=True)}
    questions = apply_layout([by_id[q] for q in ids if q in by_id], attempt.layout)
    rows = session.exec(select(Response).where(Response.attempt_id == attempt_id)).all()
    answers = {r.question_id: {"answer": r.answer, "score": r.score, "correct": r.correct} for r in rows}
    left = None if deadline is None or attempt.state != "open" else max(0.0, (deadline - now).total_seconds())
    due = rules_for(session, a, attempt.user_id).due_at
    return AttemptView(attempt, a, questions, answers, left, feedback_visible(a, attempt, now, due), due)


def save_answer(
    *,
    session: Session,
    actor: Actor,
    attempt_id: int,
    question_id: str,
    answer: Any,
    time_taken_ms: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store an answer in an open attempt. With feedback at once the first answer is final (as in
    practice); otherwise a later answer replaces the earlier one until the attempt is submitted.
    Either way there is one stored answer per question."""
    now = now or utcnow()
    attempt, a = _own_assignment_attempt(session, actor, attempt_id, lock=True)
    if attempt.state != "open":
        raise AssignmentError("this attempt is already submitted")
    deadline = as_utc(attempt.deadline_at)
    if deadline is not None and deadline + GRACE <= now:
        _finish(session, attempt, now, locked=True)
        session.flush()
        raise TimeUp("time is up: the attempt was submitted with the answers saved before the deadline")
    if question_id not in question_ids_of(session=session, assignment_id=a.id):  # type: ignore[arg-type]
        raise AccessDenied(f"question {question_id!r} is not part of this assignment")
    existing = session.exec(
        select(Response).where(Response.attempt_id == attempt_id, Response.question_id == question_id)
    ).first()
    if existing is not None and a.feedback != "immediate":
        version = session.get(QuestionVersion, existing.question_version_id)
        assert version is not None
        result = grade(version.data, answer)
        existing.answer, existing.score, existing.correct = answer, result.score, result.correct
        existing.time_taken_ms, existing.answered_at = time_taken_ms, now
        session.flush()
        return {"answer": answer, "score": result.score, "correct": result.correct, "replaced": True}
    res = submit_answer(
        session=session,
        actor=actor,
        attempt_id=attempt_id,
        question_id=question_id,
        answer=answer,
        time_taken_ms=time_taken_ms,
    )
    return {
        "answer": answer,
        "score": res.grade.score,
        "correct": res.grade.correct,
        "replaced": False,
        "duplicate": res.duplicate,
    }


def submit_attempt(*, session: Session, actor: Actor, attempt_id: int, now: datetime | None = None) -> None:
    """Hand the attempt in; submitting twice changes nothing."""
    now = now or utcnow()
    attempt, _ = _own_assignment_attempt(session, actor, attempt_id, lock=True)
    _finish(session, attempt, now, locked=True)
    session.flush()
