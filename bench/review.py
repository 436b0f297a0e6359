"""Spaced review at scale: one learner with 5,000 cards and 100,000 review-log rows in a bank of
10,000 questions (plus other learners' rows around them), on SQLite and PostgreSQL.

Usage: python bench/review.py [--cards 5000] [--logs 100000] [--questions 10000] [--runs 200]
                              [--engine sqlite|postgresql|both]
Prints p50/p95 of: building the due queue (target <= 30 ms), the Home page's due line (<= 10 ms),
the 30-day forecast (<= 50 ms), the memory statistics of My progress, and one review recorded.
Search has its own bench (bench/search.py), run at the end when present.
"""

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

from fsrs import Rating  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from bench.answers import populate  # noqa: E402
from bench.scratch_db import scratch_database  # noqa: E402
from quizapp import review  # noqa: E402
from quizapp.db import make_engine, read_session, write_session  # noqa: E402
from quizapp.identity import Actor  # noqa: E402
from quizapp.models import ReviewCard, ReviewLog, User, utcnow  # noqa: E402


def fill(engine, n_cards: int, n_logs: int, n_questions: int) -> Actor:  # type: ignore[no-untyped-def]
    """The measured learner (user 1) and a second learner with the same load, so scoping matters."""
    now = utcnow()
    rng = random.Random(1)
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {"id": i, "username": f"u{i}", "role": "learner", "failed_logins": 0, "created_at": now}
                for i in (1, 2)
            ],
        )
        card_rows, log_rows = [], []
        for user_id in (1, 2):
            for c in range(n_cards):
                card_id = (user_id - 1) * n_cards + c + 1
                state = 2 if rng.random() < 0.85 else rng.choice((1, 3))
                stability = rng.uniform(0.5, 200)
                last = now - timedelta(days=rng.uniform(0, 120))
                due = last + timedelta(days=stability * rng.uniform(0.5, 1.5))
                card_rows.append(
                    {
                        "id": card_id,
                        "user_id": user_id,
                        "question_id": f"gen-{c % n_questions:05d}",
                        "state": state,
                        "step": 0 if state != 2 else None,
                        "stability": stability,
                        "difficulty": rng.uniform(1, 10),
                        "due": due,
                        "last_review": last,
                        "reps": n_logs // n_cards,
                        "lapses": 0,
                        "created_at": now,
                    }
                )
            for i in range(n_logs):
                c = i % n_cards
                log_rows.append(
                    {
                        "card_id": (user_id - 1) * n_cards + c + 1,
                        "user_id": user_id,
                        "question_id": f"gen-{c % n_questions:05d}",
                        "source": "practice",
                        "rating": rng.choice((1, 2, 3, 3, 3, 4)),
                        "first": i < n_cards,
                        "state_before": None if i < n_cards else 2,
                        "due_after": now,
                        "reviewed_at": now - timedelta(days=rng.uniform(0, 365)),
                    }
                )
        conn.execute(insert(ReviewCard), card_rows)
        for k in range(0, len(log_rows), 20000):
            conn.execute(insert(ReviewLog), log_rows[k : k + 20000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('reviewcard', 'id'), 100000)"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return Actor(user_id=1)


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def bench(engine_name: str, args: argparse.Namespace) -> None:
    with scratch_database(engine_name) as url:
        engine = make_engine(url)
        t = time.perf_counter()
        populate(engine, args.questions, 50)  # the bank (and one unrelated practice attempt)
        me = fill(engine, args.cards, args.logs, args.questions)
        print(
            f"[{engine_name}] filled in {time.perf_counter() - t:.1f} s: {args.questions} questions, "
            f"{args.cards} cards and {args.logs} log rows per learner, 2 learners"
        )

        def q(fn):  # type: ignore[no-untyped-def]
            def run():  # type: ignore[no-untyped-def]
                with read_session(engine) as s:
                    return fn(s)

            return run

        with read_session(engine) as s:
            d = review.due(session=s, actor=me)
        print(f"  due now: {d.new} new, {d.learning} learning, {d.review} to review (limits 20 / 200)")
        rows = [
            ("due queue (Review page)", q(lambda s: review.due(session=s, actor=me)), 30),
            ("Home due count (no ids)", q(lambda s: review.due(session=s, actor=me, with_ids=False)), 10),
            ("30-day forecast", q(lambda s: review.forecast(session=s, actor=me)), 50),
            ("memory stats (My progress)", q(lambda s: review.stats(session=s, actor=me)), None),
        ]
        counter = iter(range(10**6))

        def one_review() -> None:
            i = next(counter)
            with write_session(engine) as s:
                review.record(
                    session=s,
                    actor=me,
                    question_id=f"gen-{i % args.cards:05d}",
                    rating=Rating.Good,
                    source="cli",
                )

        rows.append(("one review recorded (write)", one_review, None))
        for label, fn, target in rows:
            p50, p95 = timed(fn, args.runs)
            verdict = (
                ""
                if target is None
                else (f"  target <= {target} ms: " + ("met" if p95 <= target else "MISSED"))
            )
            print(f"  {label:32s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{verdict}")
        engine.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cards", type=int, default=5000)
    p.add_argument("--logs", type=int, default=100_000)
    p.add_argument("--questions", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = p.parse_args()
    for name in ("sqlite", "postgresql") if args.engine == "both" else (args.engine,):
        bench(name, args)
    search = Path(__file__).resolve().parent / "search.py"
    if search.exists():
        print("search (bench/search.py):", flush=True)
        subprocess.run([sys.executable, str(search)], check=False)


if __name__ == "__main__":
    main()
