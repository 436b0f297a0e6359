"""CSV and JSON exports of a cohort's results, as DESIGN.md's CLI contract lays them out.

- gradebook: one row per enrolled learner; `username`, then one column per assignment (its title)
  holding the learner's BEST score on it, 0..1 with 4 decimals; empty when they finished no attempt.
- responses: one row per graded answer of the cohort's finished assignment attempts:
  attempt_id, username, assignment, question_id, score (0..1, 4 decimals), answered_at (ISO 8601, UTC).
- items: question_id, n, facility, discrimination_index, flag (plus the assignment's title, last,
  since a question can sit in two assignments).
Cells a person typed (usernames, titles) that start with = + - @ (or a tab / carriage return) get a
leading apostrophe, so a spreadsheet shows them as text instead of running them as formulas.
"""

import csv
import io
import json
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from quizapp.cohorts import owned_cohort
from quizapp.identity import Actor
from quizapp.models import Assignment, Attempt, Response, User
from quizapp.stats import Gradebook, ItemStats, graded_attempts

GRADEBOOK_FIRST = ["username"]
RESPONSES_HEADER = ["attempt_id", "username", "assignment", "question_id", "score", "answered_at"]
ITEMS_HEADER = ["question_id", "n", "facility", "discrimination_index", "flag", "assignment"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not evaluate; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _writer(out: TextIO) -> Any:
    return csv.writer(out, lineterminator="\n")


def _csv(rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    w = _writer(buf)
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def _score(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


# --- gradebook ---------------------------------------------------------------------------------


def gradebook_csv(book: Gradebook) -> str:
    header = GRADEBOOK_FIRST + [a.title for a in book.assignments]
    rows = ([row.username] + [_score(row.cells[a.id].best) for a in book.assignments] for row in book.rows)
    return _csv([header, *rows])


# --- responses ---------------------------------------------------------------------------------


def _utc_text(column: Any, dialect: str) -> Any:
    """The timestamp as 'YYYY-MM-DD HH:MM:SS...' text in UTC, made by the database: parsing a
    million datetimes in Python would cost most of the export's time. SQLite already stores UTC text."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), String)
    return cast(column, String)


def write_responses_csv(out: TextIO, *, session: Session, actor: Actor, cohort_id: int) -> int:
    """Stream the responses export into `out`; returns the number of rows written (header excluded)."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    conn = session.connection()
    stmt = (
        select(
            Response.attempt_id,
            User.username,
            Assignment.title,
            Response.question_id,
            Response.score,
            _utc_text(Response.answered_at, conn.dialect.name),
        )
        .select_from(Response)
        .join(Attempt, col(Attempt.id) == Response.attempt_id)
        .join(User, col(User.id) == Attempt.user_id)
        .join(Assignment, col(Assignment.id) == Attempt.assignment_id)
        .where(*graded_attempts(cohort_id))
        .order_by(col(Response.attempt_id), col(Response.id))
    )
    w = _writer(out)
    w.writerow(RESPONSES_HEADER)
    safe: dict[str, str] = {}  # a few thousand names and titles repeat over a million rows
    n = 0
    for attempt_id, username, title, question_id, score, at in conn.execution_options(
        yield_per=10_000
    ).execute(stmt):
        if username not in safe:
            safe[username] = safe_cell(username)
        if title not in safe:
            safe[title] = safe_cell(title)
        w.writerow(
            [attempt_id, safe[username], safe[title], question_id, f"{score:.4f}", f"{at[:10]}T{at[11:19]}Z"]
        )
        n += 1
    return n


def responses_csv(*, session: Session, actor: Actor, cohort_id: int) -> str:
    buf = io.StringIO()
    write_responses_csv(buf, session=session, actor=actor, cohort_id=cohort_id)
    return buf.getvalue()


# --- items -------------------------------------------------------------------------------------


def items_rows(items: Iterable[ItemStats]) -> list[dict[str, Any]]:
    """`stats items` rows: facility to 4 decimals, discrimination index to 1 (None when undefined)."""
    return [
        {
            "question_id": s.question_id,
            "n": s.n,
            "facility": round(s.facility, 4),
            "discrimination_index": None
            if s.discrimination_index is None
            else round(s.discrimination_index, 1),
            "flag": s.flag,
            "assignment": s.assignment,
        }
        for s in items
    ]


def items_json(items: Iterable[ItemStats]) -> str:
    return json.dumps(items_rows(items), indent=2, ensure_ascii=False)


def items_csv(items: Iterable[ItemStats]) -> str:
    rows = items_rows(items)
    return _csv([ITEMS_HEADER, *([r[k] for k in ITEMS_HEADER] for r in rows)])
