"""Instructor views at scale: gradebook and item analysis over a large cohort.

Usage: python bench/instructor.py [--learners 5000] [--questions 50] [--engine sqlite|postgresql|both] [--small]
Syncs the real bank from questions/, then `make_sample_data` fills one cohort: every learner finishes
2 assignments of --questions questions twice, so 5,000 learners give 5000 x 2 x 2 x 50 = 1,000,000
responses. Times gradebook(), item_analysis() and topic_heatmap() against the 1 s target (set for the first two):
  first   the first call in the process (wall, and process CPU)
  again   best of 3 more
  +N new  after N more learners finished an attempt
All three read the totals and sums stored as each attempt finishes (quizapp.item_sums), not the
answers, and keep nothing between calls. Also: what finishing an attempt costs now that it stores those sums
(submit_attempt of a 50-question attempt, p50/p95 over the N learners), and, for information, a
learner's report and the CSV exports. --small: 200 learners, for trying.
On SQLite the process CPU is the query's own work; on PostgreSQL the server's work is not in it.
PostgreSQL runs in a schema of its own at 127.0.0.1:5432, dropped afterwards.
"""

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run as `python bench/x.py`, bench/ comes first on the path, and bench/demos.py would shadow the demos package.
sys.path[0:1] = [str(Path(__file__).resolve().parent.parent)]

from sqlalchemy import func, select, text  # noqa: E402

from bench.scratch_db import scratch_database  # noqa: E402
from quizapp import exports, stats  # noqa: E402
from quizapp.assignments import (  # noqa: E402
    assignments_of,
    create_assignment,
    question_ids_of,
    save_answer,
    start_or_resume,
    submit_attempt,
)
from quizapp.bank.loader import load_bank, load_file  # noqa: E402
from quizapp.bank.sync import sync_bank  # noqa: E402
from quizapp.cohorts import roster  # noqa: E402
from quizapp.db import make_engine, read_session, write_session  # noqa: E402
from quizapp.identity import Actor  # noqa: E402
from quizapp.models import Cohort, Response  # noqa: E402
from quizapp.questions import list_questions  # noqa: E402
from quizapp.sample_data import make_sample_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 1.0
TOP_UP = 50  # learners who finish one more attempt between two calls
BANK = None  # the real question bank, read once


def _bank() -> list:
    """The real bank; a file that fails validation (someone mid-edit) is left out, with a warning."""
    report = load_bank(ROOT / "questions")
    if report.ok:
        return report.questions
    for err in report.errors:
        print(f"warning: {err}; that file is left out")
    return [q for path in sorted((ROOT / "questions").glob("*.yaml")) for q in load_file(path)[0]]


def populate(engine, learners: int, questions: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        summary = make_sample_data(
            session=s,
            learners=learners,
            cohort="Bench cohort",
            assignments=2,
            questions=questions,
            attempts=2,
            completion=1.0,
            retake=1.0,
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("ANALYZE"))  # what autovacuum would do shortly after a bulk load
    return summary.cohort_id, summary.responses


def _once(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call; on SQLite the process CPU is the query's own work."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _best(
    fn: Callable[[], object], before: Callable[[], None] = lambda: None, n: int = 3
) -> tuple[float, float]:
    runs = []
    for _ in range(n):
        before()
        runs.append(_once(fn))
    return min(runs)


def _some_answer(data: dict) -> object:
    """A valid answer of the question's type (right or wrong does not matter here)."""
    return {
        "single": lambda: data["choices"][0],
        "multi": lambda: data["choices"][:1],
        "truefalse": lambda: True,
        "numeric": lambda: "1",
        "short": lambda: "not sure",
    }[data["type"]]()


def _submit(engine, me: Actor, attempt: int) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        submit_attempt(session=s, actor=me, attempt_id=attempt)


def _new_attempts(engine, cohort_id: int, actor: Actor, learners: int) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """`learners` learners take a fresh assignment through the real pages' domain calls and submit;
    (wall, CPU) seconds of each submit, its transaction included."""
    with write_session(engine) as s:
        first = assignments_of(session=s, actor=actor, cohort_id=cohort_id)[0]
        qids = question_ids_of(session=s, assignment_id=first.id)  # type: ignore[arg-type]
        extra = create_assignment(
            session=s, actor=actor, cohort_id=cohort_id, title="Bench retake", question_ids=qids
        )
        views = list_questions(session=s, ids=qids)
        who = [
            Actor(user_id=r.user_id, role="learner")
            for r in roster(session=s, actor=actor, cohort_id=cohort_id)
        ]
        who = who[:learners]
    submits = []
    for me in who:
        with write_session(engine) as s:
            attempt = start_or_resume(session=s, actor=me, assignment_id=extra.id)  # type: ignore[arg-type]
            for q in views:
                save_answer(
                    session=s, actor=me, attempt_id=attempt, question_id=q.id, answer=_some_answer(q.data)
                )
        submits.append(_once(lambda me=me, attempt=attempt: _submit(engine, me, attempt)))
    return submits


def measure(engine, cohort_id: int) -> dict[str, dict[str, tuple[float, float]]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        owner = s.exec(select(Cohort.owner_id).where(Cohort.id == cohort_id)).one()[0]
    actor = Actor(user_id=owner, role="instructor")

    def call(fn):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with read_session(engine) as s:
                return fn(session=s, actor=actor, cohort_id=cohort_id)

        return run

    views = {
        "gradebook": call(stats.gradebook),
        "item_analysis": call(stats.item_analysis),
        "topic_heatmap": call(stats.topic_heatmap),
    }
    out: dict[str, dict[str, tuple[float, float]]] = {name: {} for name in views}
    for name, fn in views.items():  # the first call in the process
        out[name]["first"] = _once(fn)
    for name, fn in views.items():
        out[name]["again"] = _best(fn)
    submits = sorted(_new_attempts(engine, cohort_id, actor, TOP_UP))
    for name, fn in views.items():  # some learners finished since
        out[name][f"+{len(submits)} new"] = _once(fn)
    p95 = submits[min(len(submits) - 1, int(0.95 * len(submits)))]
    out["submit_attempt"] = {"p50": submits[len(submits) // 2], "p95": p95}
    book = call(stats.gradebook)()
    someone = book.rows[len(book.rows) // 2].user_id
    out["learner_report"] = {
        "again": _best(lambda: call(lambda **kw: stats.learner_report(user_id=someone, **kw))())
    }
    out["gradebook_csv"] = {"again": _best(lambda: exports.gradebook_csv(call(stats.gradebook)()), n=1)}
    out["responses_csv"] = {
        "once": _best(call(lambda **kw: exports.write_responses_csv(io.StringIO(), **kw)), n=1)
    }
    return out


def run(engine_name: str, args: argparse.Namespace) -> None:
    with scratch_database(engine_name) as url:
        engine = make_engine(url)
        with write_session(engine) as s:
            sync_bank(session=s, loaded=BANK)
        t0 = time.perf_counter()
        cohort_id, responses = populate(engine, args.learners, args.questions)
        fill = time.perf_counter() - t0
        with read_session(engine) as s:
            stored = s.exec(select(func.count()).select_from(Response)).one()[0]
        assert stored == responses, (stored, responses)
        print(
            f"{engine_name}: {args.learners} learners, {responses:,} responses "
            f"(filled in {fill:.1f} s, {responses / fill:,.0f} rows/s)"
        )
        for name, runs in measure(engine, cohort_id).items():
            cells = "   ".join(f"{k} {w * 1000:6.0f} ms (cpu {c * 1000:5.0f})" for k, (w, c) in runs.items())
            verdict = ""
            if name in ("gradebook", "item_analysis", "topic_heatmap"):
                ok = {k: w <= TARGET_S for k, (w, _) in runs.items()}
                verdict = "  <= 1 s: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in ok.items())
            print(f"  {name:15} {cells}{verdict}")
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", type=int, default=5000)
    ap.add_argument("--questions", type=int, default=50, help="questions per assignment")
    ap.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--small", action="store_true", help="200 learners and 10 questions, for trying")
    args = ap.parse_args()
    if args.small:
        args.learners, args.questions = 200, 10
    global BANK
    BANK = _bank()
    for name in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
        run(name, args)


if __name__ == "__main__":
    main()
