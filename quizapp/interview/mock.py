"""Mock interviews: timed open questions answered in your own words, stored as a `mock` attempt.

The attempt's plan holds the queue, the position, each question's start time, the drafts and the
answers, so a reload or another device resumes at the same question with the same time left: the
server's clock decides when time is up. After the last question the learner reviews the server's
key-point verdicts; confirming stores one response per answered question (which feeds the review
cards) and finishes the attempt.
"""

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from quizapp.identity import AccessDenied, Actor
from quizapp.interview import keypoints
from quizapp.models import Attempt, Question, Response, utcnow
from quizapp.practice import finish_attempt, get_attempt, start_attempt, submit_answer
from quizapp.questions import QuestionView, get_question, list_questions
from quizapp.review import owned_by

MODE = "mock"
MAX_QUESTIONS = 10
MIN_SECONDS, MAX_SECONDS, DEFAULT_SECONDS = 60, 15 * 60, 3 * 60


class MockError(ValueError):
    """A request the interview cannot take (bad setup, empty answer, over the length limit)."""


def clock() -> datetime:
    """The server's clock for every deadline; tests replace it to travel in time."""
    return utcnow()


@dataclass(frozen=True)
class Mock:
    attempt_id: int
    queue: list[str]
    pos: int
    seconds: int
    started: dict[str, str]
    drafts: dict[str, str]
    answers: dict[str, dict[str, Any]]
    finished: bool

    @property
    def done(self) -> bool:
        return self.pos >= len(self.queue)

    @property
    def current(self) -> str | None:
        return None if self.done else self.queue[self.pos]

    def deadline(self) -> datetime | None:
        q = self.current
        return (
            None if q is None else datetime.fromisoformat(self.started[q]) + timedelta(seconds=self.seconds)
        )

    def remaining(self, now: datetime | None = None) -> float:
        end = self.deadline()
        return 0.0 if end is None else max(0.0, (end - (now or clock())).total_seconds())


def _view(attempt: Attempt) -> Mock:
    assert attempt.id is not None
    p = attempt.plan or {}
    return Mock(
        attempt.id,
        list(p.get("queue", [])),
        int(p.get("pos", 0)),
        int(p.get("seconds", DEFAULT_SECONDS)),
        dict(p.get("started", {})),
        dict(p.get("drafts", {})),
        dict(p.get("answers", {})),
        attempt.state == "finished",
    )


def candidates(*, session: Session, topics: list[str] | None = None) -> list[QuestionView]:
    """Open questions to be answered in words: interview ones first, then the other open ones."""
    found = list_questions(session=session, topics=topics or None, types=["open"])
    return sorted(found, key=lambda q: q.kind != "interview")


def start(*, session: Session, actor: Actor, question_ids: list[str], seconds: int = DEFAULT_SECONDS) -> int:
    if not 1 <= len(question_ids) <= MAX_QUESTIONS:
        raise MockError(f"choose 1 to {MAX_QUESTIONS} questions")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise MockError(f"time per question must be {MIN_SECONDS // 60} to {MAX_SECONDS // 60} minutes")
    for qid in question_ids:
        q = get_question(session=session, question_id=qid)
        if q is None or q.type != "open":
            raise MockError(f"{qid!r} is not an open question")
    for old in session.exec(
        select(Attempt).where(owned_by(Attempt, actor), Attempt.mode == MODE, Attempt.state == "open")
    ):
        assert old.id is not None
        finish_attempt(session=session, actor=actor, attempt_id=old.id)
    attempt_id = start_attempt(session=session, actor=actor, mode=MODE)
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id)
    attempt.plan = {
        "label": "Mock interview",
        "queue": list(question_ids),
        "pos": 0,
        "seconds": int(seconds),
        "started": {question_ids[0]: clock().isoformat()},
        "drafts": {},
        "answers": {},
    }
    session.add(attempt)
    session.flush()
    return attempt_id


def _move_on(attempt: Attempt, plan: dict[str, Any], *, timed_out: bool, now: datetime) -> None:
    qid = plan["queue"][plan["pos"]]
    started = datetime.fromisoformat(plan["started"][qid])
    used = min(float(plan["seconds"]), max(0.0, (now - started).total_seconds()))
    plan["answers"][qid] = {
        "text": plan["drafts"].get(qid, "").strip(),
        "time_used_s": round(used, 1),
        "timed_out": timed_out,
    }
    plan["pos"] += 1
    if plan["pos"] < len(plan["queue"]):
        # The next question's clock starts when the server moves on (a learner away for an hour meets
        # the next question with its full time, not a cascade of time-ups).
        plan["started"][plan["queue"][plan["pos"]]] = now.isoformat()
    attempt.plan = plan


def _apply_time(session: Session, attempt: Attempt) -> Mock:
    view = _view(attempt)
    now = clock()
    if attempt.state == "open" and not view.done and view.remaining(now) <= 0:
        plan = copy.deepcopy(attempt.plan)
        _move_on(attempt, plan, timed_out=True, now=now)
        session.add(attempt)
        session.flush()
        view = _view(attempt)
    return view


def current(*, session: Session, actor: Actor) -> Mock | None:
    """The learner's mock interview in progress (time-ups applied), or None."""
    attempt = session.exec(
        select(Attempt)
        .where(owned_by(Attempt, actor), Attempt.mode == MODE, Attempt.state == "open")
        .order_by(col(Attempt.started_at).desc(), col(Attempt.id).desc())
    ).first()
    if attempt is None:
        return None
    assert attempt.id is not None
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt.id, for_update=True)
    return _apply_time(session, attempt)


def _open(session: Session, actor: Actor, attempt_id: int) -> Attempt:
    attempt = get_attempt(session=session, actor=actor, attempt_id=attempt_id, for_update=True)
    if attempt.mode != MODE:
        raise AccessDenied(f"attempt {attempt_id} is not a mock interview")
    return attempt


def save_draft(*, session: Session, actor: Actor, attempt_id: int, question_id: str, text: str) -> bool:
    """Keep the draft of the question on the clock; False (nothing saved) once its time is up."""
    if len(text) > keypoints.MAX_CHARS:
        raise MockError(f"the answer has {len(text):,} characters; the limit is {keypoints.MAX_CHARS:,}")
    attempt = _open(session, actor, attempt_id)
    view = _apply_time(session, attempt)
    if attempt.state != "open" or view.current != question_id:
        return False
    plan = copy.deepcopy(attempt.plan)
    plan["drafts"][question_id] = text
    attempt.plan = plan
    session.add(attempt)
    session.flush()
    return True


def done(
    *, session: Session, actor: Actor, attempt_id: int, question_id: str, text: str | None = None
) -> Mock:
    """'Done' on the question on the clock: its draft (or `text`) becomes the answer. A second click,
    or one after the time-up already moved on, changes nothing."""
    if text is not None:
        if not text.strip():
            raise MockError("write an answer first, or wait for the time to run out to skip it")
        save_draft(session=session, actor=actor, attempt_id=attempt_id, question_id=question_id, text=text)
    attempt = _open(session, actor, attempt_id)
    view = _apply_time(session, attempt)
    if attempt.state != "open" or view.current != question_id:
        return view
    if not view.drafts.get(question_id, "").strip():
        raise MockError("write an answer first, or wait for the time to run out to skip it")
    plan = copy.deepcopy(attempt.plan)
    _move_on(attempt, plan, timed_out=False, now=clock())
    session.add(attempt)
    session.flush()
    return _view(attempt)


@dataclass(frozen=True)
class ReportItem:
    question: QuestionView
    text: str
    time_used_s: float
    timed_out: bool
    server: dict[str, Any] | None  # {"points", "evidence": {str(i): sentence}, "flags"}; None: no model
    ticked: list[int] | None  # the learner's confirmed ticks, once reviewed
    score: float | None


def _server_verdict(q: QuestionView, text: str) -> dict[str, Any] | None:
    if not text.strip():
        return {"points": [], "evidence": {}, "flags": []}
    try:
        result = keypoints.score_answer(q.data, text)
    except keypoints.ModelUnavailable:
        return None
    except keypoints.AnswerRefused as exc:
        return {"points": [], "evidence": {}, "flags": [str(exc)]}
    return {
        "points": result.covered,
        "evidence": {str(i): k.evidence for i, k in enumerate(result.key_points) if k.evidence},
        "flags": result.flags,
    }


def report(*, session: Session, actor: Actor, attempt_id: int) -> list[ReportItem]:
    """Per question: the answer, the server's verdict (computed once, then kept in the plan), the
    learner's ticks and score once reviewed."""
    attempt = _open(session, actor, attempt_id)
    plan = copy.deepcopy(attempt.plan or {})
    server = plan.setdefault("server", {})
    stored = {
        r.question_id: r
        for r in session.exec(select(Response).where(Response.attempt_id == attempt_id)).all()
    }
    items, changed = [], False
    for qid in plan.get("queue", [])[: plan.get("pos", 0)]:
        q = get_question(session=session, question_id=qid)
        if q is None:
            continue
        answer = plan["answers"].get(qid, {})
        text = str(answer.get("text", ""))
        if server.get(qid) is None:
            verdict = _server_verdict(q, text)
            if verdict is not None:
                server[qid], changed = verdict, True
        r = stored.get(qid)
        ticks = (
            [int(i) for i in r.answer.get("points", [])]
            if r is not None and isinstance(r.answer, dict)
            else None
        )
        items.append(
            ReportItem(
                q,
                text,
                float(answer.get("time_used_s", 0)),
                bool(answer.get("timed_out")),
                server.get(qid),
                ticks,
                r.score if r is not None else None,
            )
        )
    if changed and attempt.state == "open":
        attempt.plan = plan
        session.add(attempt)
        session.flush()
    return items


def confirm(*, session: Session, actor: Actor, attempt_id: int, ticks: dict[str, list[int]]) -> None:
    """Store the learner's reviewed ticks (beside the server's) and finish the interview."""
    attempt = _open(session, actor, attempt_id)
    if attempt.state != "open":
        return
    plan = attempt.plan or {}
    if plan.get("pos", 0) < len(plan.get("queue", [])):
        raise MockError("the interview is not over yet")
    for qid in plan["queue"]:
        answer = plan["answers"].get(qid, {})
        if not str(answer.get("text", "")).strip():
            continue  # a question left blank at time-up stays unanswered
        server = (plan.get("server") or {}).get(qid)
        submit_answer(
            session=session,
            actor=actor,
            attempt_id=attempt_id,
            question_id=qid,
            answer={
                "text": answer["text"],
                "points": sorted({int(i) for i in ticks.get(qid, [])}),
                **({"server_points": server["points"]} if server is not None else {}),
                "time_used_s": answer.get("time_used_s"),
            },
            time_taken_ms=int(float(answer.get("time_used_s", 0)) * 1000),
        )
    finish_attempt(session=session, actor=actor, attempt_id=attempt_id)


def last_finished(*, session: Session, actor: Actor) -> int | None:
    return session.exec(
        select(Attempt.id)
        .where(owned_by(Attempt, actor), Attempt.mode == MODE, Attempt.state == "finished")
        .order_by(col(Attempt.finished_at).desc(), col(Attempt.id).desc())
    ).first()


def history(*, session: Session, actor: Actor, question_id: str | None = None) -> list[dict[str, Any]]:
    """The learner's mock answers, oldest first: when, which question, score, server coverage, text."""
    stmt = (
        select(Response, Attempt.finished_at)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .where(owned_by(Attempt, actor), Attempt.mode == MODE)
        .order_by(col(Response.id))
    )
    if question_id:
        stmt = stmt.where(Response.question_id == question_id)
    out = []
    for r, finished_at in session.exec(stmt).all():
        a = r.answer if isinstance(r.answer, dict) else {}
        n = None
        q = get_question(session=session, question_id=r.question_id)
        if q is not None:
            n = len(q.data.get("key_points") or []) or None
        server = a.get("server_points")
        out.append(
            {
                "when": finished_at,
                "question_id": r.question_id,
                "score": r.score,
                "server_coverage": (len(server) / n) if server is not None and n else None,
                "time_used_s": a.get("time_used_s"),
                "answer": a.get("text", ""),
            }
        )
    return out


def agreement_by_topic(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """How often the learner's key-point ticks agree with the server's, per topic (Practice and mock)."""
    stmt = (
        select(Response, Question.topic)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .join(Question, col(Question.id) == Response.question_id)
        .where(owned_by(Attempt, actor), Question.type == "open")
    )
    sums: dict[str, list[int]] = {}
    for r, topic in session.exec(stmt).all():
        a = r.answer if isinstance(r.answer, dict) else {}
        if "server_points" not in a:
            continue
        q = get_question(session=session, question_id=r.question_id)
        n = len(q.data.get("key_points") or []) if q else 0
        mine, server = set(map(int, a.get("points", []))), set(map(int, a["server_points"]))
        agree = sum((i in mine) == (i in server) for i in range(n))
        s = sums.setdefault(topic, [0, 0, 0, 0])
        s[0], s[1], s[2] = s[0] + agree, s[1] + n, s[2] + 1
        s[3] += len(mine - server) - len(server - mine)
    return [
        {
            "topic": t,
            "answers": s[2],
            "agreement": s[0] / s[1] if s[1] else 0.0,
            "self_minus_server": s[3] / s[2],
        }
        for t, s in sorted(sums.items())
    ]
