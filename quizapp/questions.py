"""Read the bank: question views, filters, FAQ search and counts. No writes."""

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, true
from sqlmodel import Session, col, select

from quizapp.bank.schema import TOPICS
from quizapp.models import Question, QuestionVersion


@dataclass(frozen=True)
class QuestionView:
    id: str
    version_id: int
    version: int
    kind: str
    type: str
    topic: str
    difficulty: int
    data: dict[str, Any]

    @property
    def prompt(self) -> str:
        return self.data["prompt"]

    @property
    def explanation(self) -> str:
        return self.data["explanation"]

    @property
    def topic_title(self) -> str:
        return TOPICS.get(self.topic, self.topic)

    @property
    def demo(self) -> str | None:
        return self.data.get("demo")

    @property
    def demo_params(self) -> dict[str, Any]:
        return self.data.get("demo_params") or {}


def visible_to(viewer_id: int | None = None) -> ColumnElement[bool]:
    """The one filter for every list of questions: the public bank (no owner), instructors' questions
    their owner has published, and, when `viewer_id` is given, that person's own. Practice, review,
    search, the FAQ, `bank list` and mock interviews pass no viewer; an instructor's question pickers
    pass theirs."""
    shown = col(Question.owner_id).is_(None) | (col(Question.published) == true())
    if viewer_id is not None:
        shown = shown | (col(Question.owner_id) == viewer_id)
    return shown


def _current():
    return select(Question, QuestionVersion).join(
        QuestionVersion,
        (QuestionVersion.question_id == Question.id) & (QuestionVersion.version == Question.current_version),
    )


def _view(q: Question, v: QuestionVersion) -> QuestionView:
    return QuestionView(q.id, v.id, v.version, q.kind, q.type, q.topic, q.difficulty, v.data)  # type: ignore[arg-type]


def get_question(*, session: Session, question_id: str) -> QuestionView | None:
    row = session.exec(_current().where(Question.id == question_id)).first()
    return _view(*row) if row else None


def list_questions(
    *,
    session: Session,
    kinds: list[str] | None = None,
    topics: list[str] | None = None,
    difficulties: list[int] | None = None,
    types: list[str] | None = None,
    ids: list[str] | None = None,
    viewer_id: int | None = None,
    any_owner: bool = False,
) -> list[QuestionView]:
    """Active questions matching every filter given, ordered by topic then id: those `visible_to`
    the viewer, or, with `any_owner`, every one (the questions an assignment already holds)."""
    stmt = _current().where(Question.active == True)  # noqa: E712
    if not any_owner:
        stmt = stmt.where(visible_to(viewer_id))
    if kinds:
        stmt = stmt.where(col(Question.kind).in_(kinds))
    if topics:
        stmt = stmt.where(col(Question.topic).in_(topics))
    if difficulties:
        stmt = stmt.where(col(Question.difficulty).in_(difficulties))
    if types:
        stmt = stmt.where(col(Question.type).in_(types))
    if ids is not None:
        stmt = stmt.where(col(Question.id).in_(ids))
    stmt = stmt.order_by(Question.topic, Question.id)
    return [_view(q, v) for q, v in session.exec(stmt).all()]


def pick_ids(
    *,
    session: Session,
    kinds: list[str],
    topics: list[str] | None,
    difficulties: list[int] | None,
    types: list[str] | None,
    seed: int,
    limit: int | None = None,
    viewer_id: int | None = None,
) -> list[str]:
    """The ids of matching active questions (`visible_to` the viewer) in a shuffled order that a seed
    makes repeatable."""
    stmt = select(Question.id).where(
        Question.active == True,  # noqa: E712
        col(Question.kind).in_(kinds),
        visible_to(viewer_id),
    )
    if topics:
        stmt = stmt.where(col(Question.topic).in_(topics))
    if difficulties:
        stmt = stmt.where(col(Question.difficulty).in_(difficulties))
    if types:
        stmt = stmt.where(col(Question.type).in_(types))
    ids = sorted(session.exec(stmt).all())
    random.Random(seed).shuffle(ids)
    return ids[:limit] if limit else ids


def search_faq(*, session: Session, text: str = "", topics: list[str] | None = None) -> list[QuestionView]:
    """FAQ entries whose prompt, answer, explanation or tags contain every word of `text`."""
    words = [w.lower() for w in text.split() if w.strip()]
    out = []
    for view in list_questions(session=session, kinds=["faq"], topics=topics):
        d = view.data
        hay = " ".join(
            [d["prompt"], str(d.get("answer", "")), d["explanation"], " ".join(d.get("tags", []))]
        ).lower()
        if all(w in hay for w in words):
            out.append(view)
    return out


def counts_by_topic(*, session: Session) -> list[dict[str, Any]]:
    """Active questions per topic and kind, for the home page."""
    stmt = (
        select(Question.topic, Question.kind, func.count())
        .where(Question.active == True, visible_to())  # noqa: E712
        .group_by(Question.topic, Question.kind)
    )
    table: dict[str, dict[str, Any]] = {}
    for topic, kind, n in session.exec(stmt).all():
        row = table.setdefault(
            topic, {"topic": topic, "title": TOPICS.get(topic, topic), "faq": 0, "interview": 0, "quiz": 0}
        )
        row[kind] = n
    for row in table.values():
        row["total"] = row["faq"] + row["interview"] + row["quiz"]
    return sorted(
        table.values(), key=lambda r: list(TOPICS).index(r["topic"]) if r["topic"] in TOPICS else 99
    )


def questions_by_demo(*, session: Session) -> dict[str, list[QuestionView]]:
    """Active questions grouped by the demo they link to."""
    out: dict[str, list[QuestionView]] = {}
    for view in list_questions(session=session):
        if view.demo:
            out.setdefault(view.demo, []).append(view)
    return out
