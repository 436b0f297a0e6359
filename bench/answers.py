"""Server time per submitted answer with a large bank.

Usage: python bench/answers.py [--questions 10000] [--responses 100000] [--submits 500] [--engine sqlite|postgresql|both]
Generates a bank of N questions (with versions) and M past responses, then times what the Practice
page does per answer: a write transaction that checks ownership, grades, stores and commits.
Target: p95 <= 50 ms. PostgreSQL runs in a schema of its own at 127.0.0.1:5432, dropped afterwards.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

# Run as `python bench/answers.py`: the repository root, not bench/, comes first on the path.
sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

from sqlalchemy import insert, text  # noqa: E402

from bench.scratch_db import scratch_database  # noqa: E402
from quizapp.db import make_engine, write_session  # noqa: E402
from quizapp.identity import Actor  # noqa: E402
from quizapp.models import Attempt, Question, QuestionVersion, Response, utcnow  # noqa: E402
from quizapp.practice import history, start_attempt, submit_answer  # noqa: E402

TOPICS = ["cnn", "rnn", "optimization", "regularization", "backpropagation"]


def _question(i: int) -> dict:
    return {
        "id": f"gen-{i:05d}",
        "kind": "quiz",
        "type": "single",
        "topic": TOPICS[i % len(TOPICS)],
        "difficulty": 1 + i % 3,
        "prompt": f"Generated question {i}?",
        "explanation": "Because.",
        "tags": [],
        "choices": ["a", "b", "c", "d"],
        "answer": "b",
        "answers": None,
        "tolerance": None,
        "key_points": None,
        "demo": None,
        "demo_params": None,
    }


def populate(engine, n_questions: int, n_responses: int) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Question),
            [
                {
                    "id": f"gen-{i:05d}",
                    "kind": "quiz",
                    "type": "single",
                    "topic": TOPICS[i % 5],
                    "difficulty": 1 + i % 3,
                    "source": "bench",
                    "current_version": 1,
                    "active": True,
                    "updated_at": now,
                }
                for i in range(n_questions)
            ],
        )
        conn.execute(
            insert(QuestionVersion),
            [
                {
                    "id": i + 1,
                    "question_id": f"gen-{i:05d}",
                    "version": 1,
                    "content_hash": "x",
                    "data": _question(i),
                    "created_at": now,
                }
                for i in range(n_questions)
            ],
        )
        per_attempt = 50
        n_attempts = n_responses // per_attempt
        conn.execute(
            insert(Attempt),
            [
                {
                    "id": a + 1,
                    "anon_key": f"learner-{a % 2000}",
                    "mode": "practice",
                    "state": "open",
                    "started_at": now,
                }
                for a in range(n_attempts)
            ],
        )
        rng = random.Random(0)
        rows = []
        for a in range(n_attempts):
            for qi in rng.sample(range(n_questions), per_attempt):
                ok = rng.random() < 0.6
                rows.append(
                    {
                        "attempt_id": a + 1,
                        "question_id": f"gen-{qi:05d}",
                        "question_version_id": qi + 1,
                        "answer": "b" if ok else "a",
                        "score": float(ok),
                        "correct": ok,
                        "answered_at": now,
                    }
                )
            if len(rows) >= 20000:
                conn.execute(insert(Response), rows)
                rows = []
        if rows:
            conn.execute(insert(Response), rows)
        if engine.dialect.name == "postgresql":
            for table in ("attempt", "questionversion"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                )
            conn.execute(text("ANALYZE"))


def measure(engine, n_questions: int, submits: int) -> dict:  # type: ignore[no-untyped-def]
    rng = random.Random(1)
    me = Actor.anonymous("bench-learner")
    with write_session(engine) as s:
        attempt_id = start_attempt(session=s, actor=me)
    times = []
    for qi in rng.sample(range(n_questions), submits):
        t0 = time.perf_counter()
        with write_session(engine) as s:
            submit_answer(
                session=s,
                actor=me,
                attempt_id=attempt_id,
                question_id=f"gen-{qi:05d}",
                answer=rng.choice("abcd"),
                time_taken_ms=1000,
            )
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    with write_session(engine) as s:
        history(session=s, actor=Actor.anonymous("learner-7"))
    hist_ms = (time.perf_counter() - t0) * 1000
    times.sort()
    return {
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[int(0.95 * len(times)) - 1],
        "max": times[-1],
        "history_ms": hist_ms,
    }


def run(engine_name: str, args: argparse.Namespace) -> None:
    with scratch_database(engine_name) as url:
        engine = make_engine(url)
        t0 = time.perf_counter()
        populate(engine, args.questions, args.responses)
        fill = time.perf_counter() - t0
        r = measure(engine, args.questions, args.submits)
        engine.dispose()
        print(
            f"{engine_name:10} bank={args.questions} responses={args.responses} (filled in {fill:.1f} s)  "
            f"submit p50={r['p50']:.1f} ms p95={r['p95']:.1f} ms max={r['max']:.1f} ms over {r['n']}  "
            f"history query {r['history_ms']:.1f} ms  target p95<=50 ms: {'met' if r['p95'] <= 50 else 'MISSED'}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--responses", type=int, default=100_000)
    ap.add_argument("--submits", type=int, default=500)
    ap.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    for name in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
        run(name, args)


if __name__ == "__main__":
    main()
