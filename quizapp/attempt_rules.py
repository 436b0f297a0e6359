"""The rules one learner's attempt follows (the assignment's, with that learner's override) and a
shuffled attempt's stored order. Used by quizapp.assignments (taking) and quizapp.course (managing)."""

import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from quizapp.models import Assignment, AssignmentOverride, as_utc
from quizapp.questions import QuestionView


@dataclass(frozen=True)
class Rules:
    """The rules one learner's attempts follow: the assignment's, with their override applied."""

    attempts_allowed: int  # 0: unlimited
    due_at: datetime | None
    time_limit_s: int | None
    override: bool = False


def rules_for(session: Session, a: Assignment, user_id: int | None) -> Rules:
    o = None
    if user_id is not None:
        o = session.exec(
            select(AssignmentOverride).where(
                AssignmentOverride.assignment_id == a.id, AssignmentOverride.user_id == user_id
            )
        ).first()
    if o is None:
        return Rules(a.attempts_allowed, as_utc(a.due_at), a.time_limit_s)
    allowed = a.attempts_allowed + o.extra_attempts if a.attempts_allowed else 0
    due = as_utc(a.due_at)
    if o.due_at is not None and (due is None or as_utc(o.due_at) > due):  # type: ignore[operator]
        due = as_utc(o.due_at)
    limit = a.time_limit_s
    if a.time_limit_s and o.time_limit_s and o.time_limit_s > a.time_limit_s:
        limit = o.time_limit_s
    return Rules(allowed, due, limit, True)


def make_layout(questions: list[QuestionView], seed: int) -> dict[str, Any]:
    """A shuffled attempt's order from its seed: the question ids, and per choice question the order
    of its choices (indices into the question's own list)."""
    rng = random.Random(seed)
    order = [q.id for q in questions]
    rng.shuffle(order)
    choices = {}
    for q in questions:
        n = len(q.data.get("choices") or [])
        if q.type in ("single", "multi") and n > 1:
            perm = list(range(n))
            rng.shuffle(perm)
            choices[q.id] = perm
    return {"seed": seed, "questions": order, "choices": choices}


def new_layout(questions: list[QuestionView]) -> dict[str, Any]:
    return make_layout(questions, random.randrange(2**31))


def apply_layout(questions: list[QuestionView], layout: dict[str, Any] | None) -> list[QuestionView]:
    """The questions in the attempt's stored order, each choice list in its stored order (answers
    name choices by their text, so grading and regrading do not depend on the order)."""
    if not layout:
        return questions
    rank = {q: i for i, q in enumerate(layout.get("questions") or [])}
    ordered = sorted(questions, key=lambda q: rank.get(q.id, len(rank)))
    out = []
    for q in ordered:
        perm = (layout.get("choices") or {}).get(q.id)
        choices = q.data.get("choices") or []
        if perm and sorted(perm) == list(range(len(choices))):
            q = replace(q, data={**q.data, "choices": [choices[i] for i in perm]})
        out.append(q)
    return out
