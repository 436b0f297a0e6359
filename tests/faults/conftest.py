"""A world for the fault tests: the sample bank, an instructor's cohort with two timed assignments
(feedback at once: the first answer is final; feedback after submitting: a later answer replaces) and
20 learners, half on each."""

import json
import math
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import select

from quizapp import item_sums
from quizapp.assignments import create_assignment
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.models import Attempt, ItemSum, Response, TopicSum, as_utc
from tests.utils.bank import SAMPLE

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 20
QUESTIONS = ["s-single", "s-multi", "s-tf", "s-num", "s-short"]


@pytest.fixture
def classroom(engine, write_bank):
    """(engine, plan): plan maps each learner's username to the assignment they take."""
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        teach = create_user(session=s, username="teach", role="instructor", password="a long password")
        me = Actor(user_id=teach.id, role="instructor")
        cohort = create_cohort(session=s, actor=me, name="Faults")
        ids = [
            create_assignment(
                session=s,
                actor=me,
                cohort_id=cohort.id,
                title=f"Timed {feedback}",
                question_ids=QUESTIONS,
                time_limit_s=3600,
                attempts_allowed=0,
                feedback=feedback,
            ).id
            for feedback in ("immediate", "after_submit")
        ]
        plan = {}
        for i in range(LEARNERS):
            u = create_user(session=s, username=f"kid{i:02d}", role="learner", password="a long password")
            join_cohort(session=s, actor=Actor(user_id=u.id, role="learner"), code=cohort.join_code)
            plan[u.username] = ids[i % 2]
    return engine, plan


@dataclass
class Run:
    events: list[dict] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)


def spawn(url: str, plan: dict, seconds: float, seed: int) -> tuple[subprocess.Popen, Run, threading.Thread]:
    """Start the learners' process; its acknowledged events are collected as they arrive."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.learners", url, json.dumps(plan), str(seconds), str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    run = Run()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:  # a line cut by the kill was never acknowledged
                continue
            if event["ev"] == "ready":
                run.ready.set()
            run.events.append(event)
        run.ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return proc, run, reader


def open_attempts(engine) -> dict[str, tuple[int, str]]:
    """username -> (open attempt id, deadline) as stored."""
    from quizapp.models import User

    with read_session(engine) as s:
        rows = s.exec(
            select(User.username, Attempt.id, Attempt.deadline_at)
            .join(Attempt, Attempt.user_id == User.id)
            .where(Attempt.state == "open")
        ).all()
    return {name: (aid, as_utc(deadline).isoformat()) for name, aid, deadline in rows}


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, abs_tol=1e-9)
    return a == b


def check_invariants(engine, acks: list[dict]) -> dict[str, int]:
    """Every acknowledged answer stored exactly once; stored sums equal a recount."""
    with read_session(engine) as s:
        rows = s.exec(select(Response.attempt_id, Response.question_id, Response.answer)).all()
        stored = {}
        for a, q, answer in rows:
            assert (a, q) not in stored, f"attempt {a} stores {q} twice"
            stored[(a, q)] = answer
        finished = s.exec(select(Attempt.id, Attempt.score).where(Attempt.state == "finished")).all()
    lost = [e for e in acks if (e["a"], e["q"]) not in stored]
    assert not lost, f"{len(lost)} acknowledged answers are missing, e.g. {lost[:3]}"
    wrong = [e for e in acks if stored[(e["a"], e["q"])] != e["answer"]]
    assert not wrong, f"stored answers differ from the acknowledged ones: {wrong[:3]}"
    for aid, score in finished:
        total = sum(1 for (a, _q) in stored if a == aid)
        assert score is not None, f"finished attempt {aid} ({total} answers) has no stored total"

    def snapshot():  # type: ignore[no-untyped-def]
        with read_session(engine) as s:
            sums = {
                (r.assignment_id, r.question_id): (r.n, r.sx, r.sxx, r.sy, r.syy, r.sxy, dict(r.picks))
                for r in s.exec(select(ItemSum)).all()
            }
            scores = dict(s.exec(select(Attempt.id, Attempt.score).where(Attempt.state == "finished")).all())
            topics = {
                (r.assignment_id, r.user_id, r.topic): (r.total, r.n) for r in s.exec(select(TopicSum)).all()
            }
        return sums, scores, topics

    live = snapshot()
    with write_session(engine) as s:
        item_sums.rebuild(s)
    recount = snapshot()
    for what, kept, counted in zip(("item sums", "attempt totals", "topic sums"), live, recount, strict=True):
        assert kept.keys() == counted.keys(), f"stored {what} cover other rows than a recount"
        for key, value in kept.items():
            assert _same(value, counted[key]), (
                f"stored {what} of {key}: {value} differ from a recount {counted[key]}"
            )
    return {"answers": len(stored), "finished": len(finished)}
