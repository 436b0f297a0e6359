"""`quizapp review due|answer`: a learner's spaced-review queue and one review, for scripts and tests."""

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


class UsageError(Exception):
    """A CLI command's arguments are wrong: printed, exit code 2 (see usage_errors)."""


def _now(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now: {raw!r} is not an ISO 8601 time, e.g. 2026-12-01T09:00:00+00:00") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def usage_errors(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except UsageError as exc:
            print(str(exc), file=sys.stderr)
            return 2

    return run


def _learner(session: Any, username: str) -> Any:
    from sqlmodel import select

    from quizapp.identity import Actor
    from quizapp.models import User

    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        return None
    return Actor(user_id=user.id, role=user.role)


def cmd_review_due(args: argparse.Namespace) -> int:
    from quizapp import review
    from quizapp.db import write_session

    now = _now(args.now)
    with write_session() as session:
        actor = _learner(session, args.username)
        if actor is None:
            print(f"no user {args.username!r}", file=sys.stderr)
            return 2
        review.release_assignments(session=session, actor=actor, now=now)
        due = review.due(session=session, actor=actor, now=now)
        fc = review.forecast(session=session, actor=actor, now=now)
    payload = {"new": due.new, "learning": due.learning, "review": due.review, "due": due.due, "forecast": fc}
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(f"{args.username}: {due.new} new, {due.learning} learning, {due.review} to review")
        for qid in due.due:
            print(f"  {qid}")
    return 0


def cmd_review_answer(args: argparse.Namespace) -> int:
    from quizapp import review
    from quizapp.db import write_session

    now = _now(args.now)
    with write_session() as session:
        actor = _learner(session, args.username)
        if actor is None:
            print(f"no user {args.username!r}", file=sys.stderr)
            return 2
        try:
            out = review.record(
                session=session,
                actor=actor,
                question_id=args.question_id,
                rating=review.RATINGS[args.rating],
                source="cli",
                now=now,
            )
        except review.ReviewError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    payload = {
        "question_id": out.question_id,
        "rating": out.rating,
        "due": out.due.isoformat(),
        "interval_days": out.interval_days,
        "retrievability": round(out.retrievability, 6),
    }
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(f"{out.question_id}: {out.rating}; next due {out.due:%Y-%m-%d %H:%M} UTC")
    return 0


def add_commands(sub: Any) -> None:
    rev = sub.add_parser("review", help="spaced review (FSRS)").add_subparsers(
        dest="review_command", required=True
    )
    s = rev.add_parser("due", help="what USERNAME has due now, and the next 30 days")
    s.add_argument("username")
    s.add_argument("--now", help="ISO 8601 time to ask as of (default: now)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=usage_errors(cmd_review_due))
    s = rev.add_parser("answer", help="review one question for USERNAME with a rating")
    s.add_argument("username")
    s.add_argument("question_id")
    s.add_argument("--rating", required=True, choices=["again", "hard", "good", "easy"])
    s.add_argument("--now", help="ISO 8601 time of the review (default: now)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=usage_errors(cmd_review_answer))
