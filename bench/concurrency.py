"""Many learners answering one assignment at once: nothing lost, nothing stored twice, and the time per answer.

Usage: python bench/concurrency.py [--learners 50] [--questions 20] [--engine sqlite|postgresql|both] [--small]
Each simulated learner is a thread with its own sessions (write_session per answer, as a page
request would): it starts the assignment, saves every answer through quizapp.assignments.save_answer,
and submits. Every fifth learner double-submits each answer from two threads at the same instant.
Afterwards the stored answers are counted against what was sent: zero lost, zero duplicated, each
as given. Prints p50/p95/max time per answer (the whole write transaction, commit included).
--small: 10 learners, 5 questions. PostgreSQL runs in a schema of its own, dropped afterwards.
"""

import argparse
import random
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

# Run as `python bench/x.py`, bench/ comes first on the path, and bench/demos.py would shadow the demos package.
sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

from sqlalchemy import func, insert, select  # noqa: E402

from bench.scratch_db import scratch_database  # noqa: E402
from quizapp import item_sums  # noqa: E402
from quizapp.assignments import create_assignment, save_answer, start_or_resume, submit_attempt  # noqa: E402
from quizapp.cohorts import create_cohort, join_cohort  # noqa: E402
from quizapp.db import make_engine, read_session, write_session  # noqa: E402
from quizapp.identity import Actor  # noqa: E402
from quizapp.models import Attempt, ItemSum, Question, QuestionVersion, Response, User, utcnow  # noqa: E402

CHOICES = ["a", "b", "c", "d"]


def _bank(engine, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    now = utcnow()
    ids = [f"conc-{i:03d}" for i in range(n)]
    with engine.begin() as c:
        c.execute(
            insert(Question),
            [
                {
                    "id": q,
                    "kind": "quiz",
                    "type": "single",
                    "topic": "cnn",
                    "difficulty": 2,
                    "source": "bench",
                    "current_version": 1,
                    "active": True,
                    "updated_at": now,
                }
                for q in ids
            ],
        )
        c.execute(
            insert(QuestionVersion),
            [
                {
                    "question_id": q,
                    "version": 1,
                    "content_hash": "x",
                    "created_at": now,
                    "data": {
                        "id": q,
                        "kind": "quiz",
                        "type": "single",
                        "topic": "cnn",
                        "difficulty": 2,
                        "prompt": f"Question {q}?",
                        "explanation": "Because.",
                        "tags": [],
                        "choices": CHOICES,
                        "answer": "b",
                    },
                }
                for q in ids
            ],
        )
    return ids


def _class(engine, learners: int, question_ids: list[str]) -> tuple[int, list[Actor]]:  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        teacher = User(username="teacher", role="instructor")
        s.add(teacher)
        s.flush()
        t = Actor(user_id=teacher.id, role="instructor")
        cohort = create_cohort(session=s, actor=t, name="Concurrency")
        a = create_assignment(
            session=s,
            actor=t,
            cohort_id=cohort.id,  # type: ignore[arg-type]
            title="All at once",
            question_ids=question_ids,
            time_limit_s=3600,
        )
        users = [User(username=f"learner{i:03d}", role="learner") for i in range(learners)]
        s.add_all(users)
        s.flush()
        actors = [Actor(user_id=u.id, role="learner") for u in users]
        for who in actors:
            join_cohort(session=s, actor=who, code=cohort.join_code)
        return a.id, actors  # type: ignore[return-value]


class _Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.errors: Counter[str] = Counter()
        self.sent: dict[tuple[int, str], str] = {}  # (attempt, question) -> the answer sent

    def ok(self, ms: float) -> None:
        with self.lock:
            self.times.append(ms)

    def error(self, exc: BaseException) -> None:
        with self.lock:
            self.errors[type(exc).__name__ + ": " + str(exc).splitlines()[0][:80]] += 1


def _save(engine, who: Actor, attempt_id: int, qid: str, answer: str, log: _Log) -> None:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    try:
        with write_session(engine) as s:
            save_answer(
                session=s, actor=who, attempt_id=attempt_id, question_id=qid, answer=answer, time_taken_ms=900
            )
    except Exception as exc:  # counted and reported: a failed save is a lost answer unless stored anyway
        log.error(exc)
        return
    log.ok((time.perf_counter() - t0) * 1000)


def _learner(
    engine, who: Actor, assignment_id: int, qids: list[str], twice: bool, start: threading.Barrier, log: _Log
) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(who.user_id)
    with write_session(engine) as s:
        attempt_id = start_or_resume(session=s, actor=who, assignment_id=assignment_id)
    start.wait()
    for qid in qids:
        answer = rng.choice(CHOICES)
        with log.lock:
            log.sent[(attempt_id, qid)] = answer
        if not twice:
            _save(engine, who, attempt_id, qid, answer, log)
            continue
        both = threading.Barrier(2)

        def click(a=answer, q=qid, b=both) -> None:  # type: ignore[no-untyped-def]
            b.wait()
            _save(engine, who, attempt_id, q, a, log)

        pair = [threading.Thread(target=click) for _ in range(2)]
        for t in pair:
            t.start()
        for t in pair:
            t.join()
    with write_session(engine) as s:
        submit_attempt(session=s, actor=who, attempt_id=attempt_id)


def measure(engine, learners: int, questions: int) -> dict:  # type: ignore[no-untyped-def]
    qids = _bank(engine, questions)
    assignment_id, actors = _class(engine, learners, qids)
    log = _Log()
    start = threading.Barrier(learners)
    threads = [
        threading.Thread(target=_learner, args=(engine, who, assignment_id, qids, i % 5 == 0, start, log))
        for i, who in enumerate(actors)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    with read_session(engine) as s:
        stored = s.exec(
            select(Response.attempt_id, Response.question_id, Response.answer)
            .join(Attempt, Attempt.id == Response.attempt_id)
            .where(Attempt.assignment_id == assignment_id)
        ).all()
        finished = s.exec(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.assignment_id == assignment_id, Attempt.state == "finished")
        ).one()[0]
        # The item sums kept as the attempts finished at once, against a recount from the answers
        # (made in a transaction that is rolled back).
        kept = {(r.question_id, r.n, round(r.sx, 6)) for r in s.scalars(select(ItemSum)).all()}
    with write_session(engine) as s:
        item_sums.rebuild(s)
        recount = {(r.question_id, r.n, round(r.sx, 6)) for r in s.scalars(select(ItemSum)).all()}
        s.rollback()
    pairs = Counter((a, q) for a, q, _ in stored)
    lost = [k for k in log.sent if k not in pairs]
    duplicated = [k for k, n in pairs.items() if n > 1]
    changed = [(a, q) for a, q, ans in stored if log.sent.get((a, q)) != ans]
    times = sorted(log.times)
    return {
        "answers": len(log.sent),
        "saves": len(times) + sum(log.errors.values()),
        "stored": len(stored),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "not_as_given": len(changed),
        "finished": finished,
        "sums_match": kept == recount,
        "errors": dict(log.errors),
        "p50": statistics.median(times) if times else float("nan"),
        "p95": times[max(0, int(0.95 * len(times)) - 1)] if times else float("nan"),
        "max": times[-1] if times else float("nan"),
        "wall": wall,
    }


def run(engine_name: str, args: argparse.Namespace) -> None:
    with scratch_database(engine_name) as url:
        engine = make_engine(url)
        r = measure(engine, args.learners, args.questions)
        engine.dispose()
    clean = r["lost"] == r["duplicated"] == r["not_as_given"] == 0 and r["sums_match"]
    verdict = "OK" if clean else "FAILED"
    print(
        f"{engine_name}: {args.learners} learners x {args.questions} questions at once "
        f"({r['saves']} save requests for {r['answers']} answers, every 5th learner double-submitting) "
        f"in {r['wall']:.1f} s"
    )
    print(
        f"  stored {r['stored']}  lost {r['lost']}  duplicated {r['duplicated']}  "
        f"not as given {r['not_as_given']}  attempts finished {r['finished']}/{args.learners}  "
        f"item sums {'equal' if r['sums_match'] else 'DIFFER from'} a recount  -> {verdict}"
    )
    print(f"  time per answer: p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  max {r['max']:.1f} ms")
    for message, n in r["errors"].items():
        print(f"  error x{n}: {message}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", type=int, default=50)
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--small", action="store_true", help="10 learners and 5 questions, for trying")
    args = ap.parse_args()
    if args.small:
        args.learners, args.questions = 10, 5
    for name in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
        run(name, args)


if __name__ == "__main__":
    main()
