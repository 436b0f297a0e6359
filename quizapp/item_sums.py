"""What the instructor's statistics need, stored as attempts finish instead of computed per request.

When an attempt finishes, `record_finished` (in the same transaction) stores its total score on the
attempt, folds each question it presented into the `ItemSum` row of its (assignment, question): n,
Σx, Σx², Σy, Σy², Σxy (x the answer's score, y the rest of the attempt's score) and the choice
counts, and adds the learner's score and count per topic to `TopicSum`.

One rule everywhere: every question an assignment attempt presented counts, answered or not; a
question left blank scores 0 (x = 0) and adds to n, the moments and the topic count, but to no
choice count. The presented questions are the assignment's list (AssignmentQuestion). The gradebook then reads one row
per attempt, item analysis one row per question and the topic heatmap one row per learner and topic,
however many answers there are. `rebuild` recomputes all of it from the answers (bulk sample data
and the tests that hold the two ways equal; migration 0003 has its own copy of the recount, over
the tables as they stood then, and migration 0005 one that counts blank answers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Text, case, cast, delete, func, insert, null, update
from sqlmodel import Session, col, select

from quizapp.models import AssignmentQuestion, Attempt, ItemSum, Question, Response, TopicSum

CHOICE_TYPES = ("single", "multi", "truefalse")


def picked_choices(answer: Any) -> list[str]:
    """The choices an answer picked, as item analysis counts them: each entry of a list (multi), or
    the answer itself (single; True/False for true/false)."""
    if answer is None:
        return []
    return [str(c) for c in answer] if isinstance(answer, list) else [str(answer)]


def _choice_ids(session: Session, question_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(question_ids))
    if not ids:
        return set()
    stmt = select(Question.id).where(col(Question.id).in_(ids), col(Question.type).in_(CHOICE_TYPES))
    return set(session.exec(stmt).all())


def _add_topic_sums(session: Session, attempt: Attempt, topic_of: dict[str, str], by_question: dict) -> None:
    per_topic: dict[str, tuple[float, int]] = {}
    for qid, (x, _) in by_question.items():
        total, n = per_topic.get(topic_of[qid], (0.0, 0))
        per_topic[topic_of[qid]] = (total + x, n + 1)
    stmt = (
        select(TopicSum)
        .where(
            TopicSum.assignment_id == attempt.assignment_id,
            TopicSum.user_id == attempt.user_id,
            col(TopicSum.topic).in_(sorted(per_topic)),
        )
        .order_by(col(TopicSum.topic))
        .with_for_update()
    )
    rows = {r.topic: r for r in session.exec(stmt).all()}
    for topic in sorted(per_topic):
        total, n = per_topic[topic]
        row = rows.get(topic) or TopicSum(
            assignment_id=attempt.assignment_id, user_id=attempt.user_id, topic=topic
        )
        row.total += total
        row.n += n
        session.add(row)


def add_questions(session: Session, assignment_id: int, question_ids: Iterable[str]) -> None:
    """Empty sums for an assignment's questions (called when the assignment is created)."""
    for qid in question_ids:
        session.add(ItemSum(assignment_id=assignment_id, question_id=qid))


def presented_questions(session: Session, assignment_id: int) -> list[str]:
    """The questions an attempt at this assignment presents (its list), sorted by id."""
    stmt = select(AssignmentQuestion.question_id).where(AssignmentQuestion.assignment_id == assignment_id)
    return sorted(session.exec(stmt).all())


def record_finished(session: Session, attempt: Attempt) -> None:
    """Store the attempt's total and, for an assignment attempt, add every question it presented to
    the item and topic sums: an answered one with its score, a blank one with 0.

    Call it once, as the attempt changes to finished, in the transaction that finishes it (the
    caller holds the attempt's row, so no answer can land after the sums are taken). The item rows
    are locked in question order, so two attempts finishing at once cannot deadlock."""
    rows = session.exec(
        select(Response.question_id, Response.score, Response.answer).where(Response.attempt_id == attempt.id)
    ).all()
    total = float(sum(score for _, score, _ in rows))
    attempt.score = total
    session.add(attempt)
    if attempt.mode != "assignment" or attempt.assignment_id is None:
        return
    presented = presented_questions(session, attempt.assignment_id)
    if not presented:
        return
    answered = {qid: (float(score), answer) for qid, score, answer in rows}
    by_question = {qid: answered.get(qid, (0.0, None)) for qid in presented}
    stmt = (
        select(ItemSum)
        .where(ItemSum.assignment_id == attempt.assignment_id, col(ItemSum.question_id).in_(presented))
        .order_by(col(ItemSum.question_id))
        .with_for_update()
    )
    sums = {s.question_id: s for s in session.exec(stmt).all()}
    kinds = session.exec(
        select(Question.id, Question.type, Question.topic).where(col(Question.id).in_(presented))
    ).all()
    choice_ids = {qid for qid, kind, _ in kinds if kind in CHOICE_TYPES}
    if attempt.user_id is not None:
        _add_topic_sums(session, attempt, {qid: topic for qid, _, topic in kinds}, by_question)
    for qid in presented:
        x, answer = by_question[qid]
        y = total - x
        s = sums.get(qid)
        if s is None:  # a question the assignment did not list when its sums were made
            s = ItemSum(assignment_id=attempt.assignment_id, question_id=qid)
        s.n += 1
        s.sx += x
        s.sxx += x * x
        s.sy += y
        s.syy += y * y
        s.sxy += x * y
        if qid in choice_ids and answer is not None:
            picks = dict(s.picks or {})  # a new dict: the JSON column notices assignment, not mutation
            for choice in picked_choices(answer):
                picks[choice] = picks.get(choice, 0) + 1
            s.picks = picks
        session.add(s)
    session.flush()


def _presented(in_scope: list[Any]) -> Any:
    """Every (finished assignment attempt, question it presented), with the answer when there is
    one (an outer join: a blank question has no Response row)."""
    return (
        select()
        .select_from(Attempt)
        .join(AssignmentQuestion, col(AssignmentQuestion.assignment_id) == Attempt.assignment_id)
        .outerjoin(
            Response,
            (col(Response.attempt_id) == Attempt.id)
            & (col(Response.question_id) == AssignmentQuestion.question_id),
        )
        .where(
            col(Attempt.mode) == "assignment",
            col(Attempt.state) == "finished",
            col(Attempt.assignment_id).is_not(None),
            *in_scope,
        )
    )


def rebuild(session: Session, assignment_ids: list[int] | None = None) -> None:
    """Recompute attempt totals and item sums from the answers, for the given assignments (all when
    None), by the same rule as `record_finished`: every presented question counts, a blank one as 0.
    Finished attempts only; open ones get their total when they finish."""
    in_scope: list[Any] = [] if assignment_ids is None else [col(Attempt.assignment_id).in_(assignment_ids)]
    total = (
        select(func.coalesce(func.sum(Response.score), 0.0))
        .where(Response.attempt_id == Attempt.id)
        .scalar_subquery()
    )
    session.execute(
        update(Attempt)
        .where(col(Attempt.state) == "finished", *in_scope)
        .values(score=total)
        .execution_options(synchronize_session=False)
    )
    a_scope: list[Any] = [] if assignment_ids is None else [col(ItemSum.assignment_id).in_(assignment_ids)]
    session.execute(delete(ItemSum).where(*a_scope))
    aq_stmt = select(AssignmentQuestion.assignment_id, AssignmentQuestion.question_id)
    if assignment_ids is not None:
        aq_stmt = aq_stmt.where(col(AssignmentQuestion.assignment_id).in_(assignment_ids))
    sums: dict[tuple[int, str], ItemSum] = {
        (a, q): ItemSum(assignment_id=a, question_id=q) for a, q in session.exec(aq_stmt).all()
    }
    choice_ids = sorted(_choice_ids(session, [q for _, q in sums]))
    question = col(AssignmentQuestion.question_id)
    x = func.coalesce(col(Response.score), 0.0)
    y = col(Attempt.score) - x
    # Choice answers are grouped by their JSON text too (json has no equality on PostgreSQL): a few
    # groups more per question, summed back together below. A blank answer's text is NULL.
    picked: Any = (
        case((question.in_(choice_ids), cast(Response.answer, Text))) if choice_ids else null()
    ).label("picked")
    keys: list[Any] = [Attempt.assignment_id, question] + ([picked] if choice_ids else [])
    stmt = (
        _presented(in_scope)
        .add_columns(
            Attempt.assignment_id,
            question,
            picked,
            func.count(),
            func.sum(x),
            func.sum(x * x),
            func.sum(y),
            func.sum(y * y),
            func.sum(x * y),
        )
        .group_by(*keys)
    )
    for a_id, q_id, raw, n, sx, sxx, sy, syy, sxy in session.execute(stmt).all():
        s = sums.setdefault((a_id, q_id), ItemSum(assignment_id=a_id, question_id=q_id))
        s.n += int(n)
        s.sx += float(sx)
        s.sxx += float(sxx)
        s.sy += float(sy)
        s.syy += float(syy)
        s.sxy += float(sxy)
        if isinstance(raw, str):
            picks = dict(s.picks)
            for choice in picked_choices(json.loads(raw)):
                picks[choice] = picks.get(choice, 0) + int(n)
            s.picks = picks
    session.add_all(sums.values())
    session.flush()
    _rebuild_topic_sums(session, in_scope, assignment_ids)


def _rebuild_topic_sums(session: Session, in_scope: list[Any], assignment_ids: list[int] | None) -> None:
    """One INSERT ... SELECT: a learner's presented questions per (assignment, topic), blanks as 0,
    summed in the database."""
    scope: list[Any] = [] if assignment_ids is None else [col(TopicSum.assignment_id).in_(assignment_ids)]
    session.execute(delete(TopicSum).where(*scope))
    grouped = (
        _presented(in_scope)
        .add_columns(
            Attempt.assignment_id,
            Attempt.user_id,
            Question.topic,
            func.sum(func.coalesce(col(Response.score), 0.0)),
            func.count(),
        )
        .join(Question, col(Question.id) == AssignmentQuestion.question_id)
        .where(col(Attempt.user_id).is_not(None))
        .group_by(Attempt.assignment_id, Attempt.user_id, Question.topic)
    )
    columns = ["assignment_id", "user_id", "topic", "total", "n"]
    session.execute(insert(TopicSum).from_select(columns, grouped))
    session.flush()
