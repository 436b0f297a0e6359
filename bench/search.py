"""Full-text search time with a large bank.

Usage: python bench/search.py [--questions 10000] [--searches 300] [--limit 20] [--engine sqlite|postgresql|both]
Builds a bank of N questions from the real questions/ folder (each copy with its sentences shuffled
and a sentence borrowed from another question, so words spread as in real text), builds the search
index as `quizapp init` does (quizapp.search.reindex), then times what the FAQ & search page does per
search: quizapp.search.search in a fresh read session for the best 20 (the page's first screenful; "Show
more" asks for 20 more), their question views, highlighted titles and snippets included.
Target: p95 <= 30 ms. Wall time on a busy machine says more about the neighbours than the search: the
line also gives this process's CPU time (all of SQLite's work; for PostgreSQL only the client's share)
and the load average. PostgreSQL runs in a schema of its own at 127.0.0.1:5432, dropped afterwards.
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

# Run as `python bench/search.py`: the repository root, not bench/, comes first on the path.
sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

from sqlalchemy import insert, text  # noqa: E402

from bench.scratch_db import scratch_database  # noqa: E402
from quizapp.bank.loader import load_bank  # noqa: E402
from quizapp.db import make_engine, read_session, write_session  # noqa: E402
from quizapp.models import Question, QuestionVersion, utcnow  # noqa: E402
from quizapp.search import reindex, search  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    ("dropout", {}),
    ("gradients", {}),
    ("vanishing gradient", {}),
    ("batch norm", {}),
    ("adam", {"kinds": ["quiz"]}),
    ("learning rate warmup", {}),
    ("transfer learning", {"kinds": ["faq", "interview"]}),
    ("gpu memory", {}),
    ("attention", {"topics": ["transformers"]}),
    ("overfitting", {"types": ["single", "multi"]}),
    ("softmax cross entropy", {}),
    ("convolution stride padding", {}),
    ("what is dropout", {}),
    ("lstm", {}),
    ("phd", {}),
    ("emb", {}),  # a word still being typed: a prefix
    ('"NEAR(x" -y: AND', {}),  # hostile input
    ("pooling translation invariance", {}),
    ("weight decay regularization", {"kinds": ["quiz"], "topics": ["regularization", "optimization"]}),
    ("zzzz nothing matches", {}),
]


def _variant(data: dict, k: int, rng: random.Random, donors: list[dict]) -> dict:
    def shuffle(markdown: str) -> str:
        sentences = re.split(r"(?<=[.?!])\s+", markdown.strip())
        rng.shuffle(sentences)
        return " ".join(sentences)

    donor = rng.choice(donors)
    borrowed = re.split(r"(?<=[.?!])\s+", donor["explanation"].strip())[0]
    return {
        **data,
        "id": f"{data['id']}-{k}",
        "prompt": shuffle(data["prompt"]),
        "explanation": shuffle(data["explanation"]) + " " + borrowed,
    }


def populate(engine, n_questions: int) -> None:  # type: ignore[no-untyped-def]
    report = load_bank(ROOT / "questions")
    assert report.ok, report.errors
    bank = [item.spec.content() for item in report.questions]
    rng = random.Random(0)
    now = utcnow()
    datas = [_variant(bank[i % len(bank)], i // len(bank), rng, bank) for i in range(n_questions)]
    with engine.begin() as conn:
        conn.execute(
            insert(Question),
            [
                {
                    "id": d["id"],
                    "kind": d["kind"],
                    "type": d["type"],
                    "topic": d["topic"],
                    "difficulty": d["difficulty"],
                    "source": "bench",
                    "current_version": 1,
                    "active": True,
                    "updated_at": now,
                }
                for d in datas
            ],
        )
        conn.execute(
            insert(QuestionVersion),
            [
                {
                    "id": i + 1,
                    "question_id": d["id"],
                    "version": 1,
                    "content_hash": "x",
                    "data": d,
                    "created_at": now,
                }
                for i, d in enumerate(datas)
            ],
        )


def measure(engine, searches: int, limit: int) -> dict:  # type: ignore[no-untyped-def]
    times, cpu, found = [], [], []
    for i in range(searches):
        words, filters = QUERIES[i % len(QUERIES)]
        t0, c0 = time.perf_counter(), time.process_time()
        with read_session(engine) as s:
            hits = search(session=s, text=words, limit=limit, **filters)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        found.append(len(hits))
    times.sort()
    cpu.sort()
    return {
        "cpu_p95": cpu[int(0.95 * len(cpu)) - 1],
        "n": len(times),
        "p50": statistics.median(times),
        "p95": times[int(0.95 * len(times)) - 1],
        "max": times[-1],
        "hits": statistics.mean(found),
    }


def run(engine_name: str, args: argparse.Namespace) -> None:
    with scratch_database(engine_name) as url:
        engine = make_engine(url)
        populate(engine, args.questions)
        t0 = time.perf_counter()
        with write_session(engine) as s:
            indexed = reindex(s)
        build = time.perf_counter() - t0
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        with read_session(engine) as s:  # warm the cache once, as a running server would be
            search(session=s, text="warm up")
        r = measure(engine, args.searches, args.limit)
        engine.dispose()
        print(
            f"{engine_name:10} bank={args.questions} (index of {indexed} built in {build:.1f} s)  "
            f"search p50={r['p50']:.1f} ms p95={r['p95']:.1f} ms max={r['max']:.1f} ms over {r['n']} "
            f"(this process's CPU p95={r['cpu_p95']:.1f} ms; load average {os.getloadavg()[0]:.1f}) "
            f"(best {args.limit}, mean {r['hits']:.0f} hits)  target p95<=30 ms: {'met' if r['p95'] <= 30 else 'MISSED'}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--searches", type=int, default=300)
    ap.add_argument("--limit", type=int, default=20, help="results per search (the page shows 20 at first)")
    ap.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args()
    for name in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
        run(name, args)


if __name__ == "__main__":
    main()
