"""`quizapp sample-data`, `export gradebook|responses` and `stats items` (DESIGN.md's CLI contract).

Whoever runs the CLI already holds the database, so these commands act as the named cohort's owner:
Actor(user_id=<owner id>, role="instructor"), which the domain's scoping accepts for that cohort only.
"""

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, col, select

from quizapp.identity import Actor
from quizapp.models import Cohort, User


class _Stop(Exception):
    """A message for the person at the terminal, then exit status 1."""


def _cohort_actor(session: Session, name: str) -> tuple[int, Actor]:
    found = session.exec(select(Cohort).where(Cohort.name == name).limit(2)).all()
    if not found:
        known = session.exec(select(Cohort.name).distinct().order_by(Cohort.name).limit(20)).all()
        hint = f"; cohorts: {', '.join(known)}" if known else "; there are no cohorts yet"
        raise _Stop(f"no cohort named {name!r}{hint}")
    if len(found) > 1:  # names are unique per owner, not across owners
        owners = session.exec(
            select(User.username)
            .join(Cohort, col(Cohort.owner_id) == User.id)
            .where(Cohort.name == name)
            .order_by(User.username)
        ).all()
        raise _Stop(f"several cohorts are named {name!r} (owners: {', '.join(owners)}); rename one")
    cohort = found[0]
    assert cohort.id is not None
    return cohort.id, Actor(user_id=cohort.owner_id, role="instructor")


def _sweep() -> None:
    """Submit the attempts whose time ran out, so what follows counts them as the app does."""
    from quizapp.assignments import close_expired_attempts, expired_attempts_waiting
    from quizapp.db import read_session, write_session

    with read_session() as session:
        waiting = expired_attempts_waiting(session=session)
    if waiting:
        with write_session() as session:
            close_expired_attempts(session=session)


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        yield fh


def _run(body: Callable[[], None]) -> int:
    try:
        body()
    except _Stop as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (OperationalError, ProgrammingError):
        print("the database is not set up: run `quizapp init` first", file=sys.stderr)
        return 1
    return 0


def cmd_sample_data(args: argparse.Namespace) -> int:
    from quizapp.db import write_session
    from quizapp.sample_data import SampleDataError, make_sample_data

    def body() -> None:
        try:
            with write_session() as session:
                s = make_sample_data(
                    session=session,
                    learners=args.learners,
                    cohort=args.cohort,
                    seed=args.seed,
                    owner=args.owner,
                )
        except SampleDataError as exc:
            raise _Stop(f"cannot make sample data: {exc}") from exc
        print(f"cohort {s.cohort!r} (join code {s.join_code}) owned by {s.instructor!r}")
        print(f"{s.learners} learners, assignments: {', '.join(s.assignments)}")
        print(f"{s.attempts} finished attempts, {s.responses} graded answers")
        if s.instructor_password:
            print(f"created instructor {s.instructor!r}; password (shown only now): {s.instructor_password}")

    return _run(body)


def cmd_export_gradebook(args: argparse.Namespace) -> int:
    from quizapp.db import read_session
    from quizapp.exports import gradebook_csv
    from quizapp.stats import gradebook

    def body() -> None:
        _sweep()
        with read_session() as session:
            cohort_id, actor = _cohort_actor(session, args.cohort)
            book = gradebook(session=session, actor=actor, cohort_id=cohort_id)
        with _output(args.out) as out:
            out.write(gradebook_csv(book))

    return _run(body)


def cmd_export_responses(args: argparse.Namespace) -> int:
    from quizapp.db import read_session
    from quizapp.exports import write_responses_csv

    def body() -> None:
        _sweep()
        with read_session() as session:
            cohort_id, actor = _cohort_actor(session, args.cohort)
            with _output(args.out) as out:
                write_responses_csv(out, session=session, actor=actor, cohort_id=cohort_id)

    return _run(body)


def _items_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'question_id':48} {'n':>6} {'facility':>8} {'discrim.':>8}  flag   assignment")
    for r in rows:
        disc = "-" if r["discrimination_index"] is None else f"{r['discrimination_index']:.1f}"
        flag = "REVIEW" if r["flag"] else ""
        print(f"{r['question_id']:48} {r['n']:6d} {r['facility']:8.4f} {disc:>8}  {flag:6} {r['assignment']}")
    print(f"{len(rows)} question(s), {sum(r['flag'] for r in rows)} flagged for review")


def cmd_stats_items(args: argparse.Namespace) -> int:
    from quizapp.db import read_session
    from quizapp.exports import items_json, items_rows
    from quizapp.stats import item_analysis

    def body() -> None:
        _sweep()
        with read_session() as session:
            cohort_id, actor = _cohort_actor(session, args.cohort)
            items = item_analysis(session=session, actor=actor, cohort_id=cohort_id)
        if args.json:
            print(items_json(items))
        else:
            _items_table(items_rows(items))

    return _run(body)


def add_commands(sub: Any) -> None:
    """Register the instructor commands on the top-level `quizapp` subparsers."""
    s = sub.add_parser("sample-data", help="a cohort with assignments and simulated, realistic attempts")
    s.add_argument("--learners", type=int, default=30, help="how many simulated learners (default 30)")
    s.add_argument("--cohort", default="Demo cohort", help="name of the new cohort (default 'Demo cohort')")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--owner", metavar="USERNAME", help="an existing instructor who owns the cohort")
    s.set_defaults(func=cmd_sample_data)

    export = sub.add_parser("export", help="CSV exports of a cohort's results")
    kinds = export.add_subparsers(dest="export_command", required=True)
    s = kinds.add_parser("gradebook", help="one row per learner, a column per assignment (best score)")
    s.add_argument("--cohort", required=True, metavar="NAME")
    s.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    s.set_defaults(func=cmd_export_gradebook)
    s = kinds.add_parser("responses", help="one row per graded answer of finished assignment attempts")
    s.add_argument("--cohort", required=True, metavar="NAME")
    s.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    s.set_defaults(func=cmd_export_responses)

    stats = sub.add_parser("stats", help="statistics over a cohort's graded answers")
    what = stats.add_subparsers(dest="stats_command", required=True)
    s = what.add_parser("items", help="per question: n, facility, discrimination index, review flag")
    s.add_argument("--cohort", required=True, metavar="NAME")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stats_items)
