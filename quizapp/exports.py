"""CSV and JSON exports of a cohort's results, as DESIGN.md's CLI contract lays them out.

- gradebook: one row per enrolled learner; `username`, then one column per assignment (its title)
  holding the learner's BEST score on it, 0..1 with 4 decimals; empty when they finished no attempt.
- responses: one row per question each of the cohort's finished assignment attempts presented:
  attempt_id, username, assignment, question_id, answer (as the learner gave it: a choice's text,
  choices joined by "; ", True/False, the typed text), score (0..1, 4 decimals), answered_at
  (ISO 8601, UTC). A question left blank has an empty answer and answered_at and score 0.
- items: question_id, n, facility, discrimination_index, flag (plus the assignment's title, last,
  since a question can sit in two assignments).
Cells a person typed (usernames, titles) that start with = + - @ (or a tab / carriage return) get a
leading apostrophe, so a spreadsheet shows them as text instead of running them as formulas. Every
text field is quoted (numbers are not), and inside a cell a ; or tab followed by one of those
characters gets the apostrophe too, so a spreadsheet that splits lines on semicolons or tabs cannot
cut a formula out of a cell (`a;=1+2` is written "a;'=1+2").
"""

import csv
import io
import json
import re
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import String, Text, cast, func
from sqlmodel import Session, col, select

from quizapp.cohorts import owned_cohort
from quizapp.identity import Actor
from quizapp.models import Assignment, AssignmentQuestion, Attempt, Response, User
from quizapp.stats import Gradebook, ItemStats, graded_attempts

GRADEBOOK_FIRST = ["username"]
RESPONSES_HEADER = ["attempt_id", "username", "assignment", "question_id", "answer", "score", "answered_at"]
ITEMS_HEADER = ["question_id", "n", "facility", "discrimination_index", "flag", "assignment"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# A formula character after another program's separator (;, tab), quotes and spaces allowed between.
_INNER_FORMULA = re.compile(r"([;\t][\s\"]*)(?=[=+\-@])")


class Number(str):
    """A number's text as given ("0.3333", "-0.5"): it is a number to the csv module (it has
    __float__), so QUOTE_NONNUMERIC leaves it bare, and still the same text everywhere else."""

    def __float__(self) -> float:
        return float(str(self))


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not evaluate; numbers pass unchanged."""
    if isinstance(value, str) and not isinstance(value, Number):
        if value.startswith(_FORMULA_START):
            value = "'" + value
        if ";" in value or "\t" in value:
            value = _INNER_FORMULA.sub(r"\1'", value)
    return value


def _writer(out: TextIO) -> Any:
    # Every text field in quotes; numbers (int, float, Number) bare.
    return csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)


def _csv(rows: Iterable[list[Any]]) -> str:
    buf = io.StringIO()
    w = _writer(buf)
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def _score(x: float | None) -> Any:
    return "" if x is None else Number(f"{x:.4f}")


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


def answer_text(answer: Any) -> Any:
    """A stored answer as a spreadsheet cell: a choice's text, several joined by "; ", True/False,
    the text as typed. A typed plain number (-0.5, 1e-3) stays a number; other text that a
    spreadsheet would run as a formula is neutralised."""
    if answer is None:
        return ""
    parts = answer if isinstance(answer, list) else [answer]
    text = "; ".join(("True" if a else "False") if isinstance(a, bool) else str(a) for a in parts)
    return Number(text) if _PLAIN_NUMBER.fullmatch(text) else safe_cell(text)


_ZERO = Number("0.0000")


def write_responses_csv(out: TextIO, *, session: Session, actor: Actor, cohort_id: int) -> int:
    """Stream the responses export into `out`; returns the number of rows written (header excluded).

    One row per (finished attempt, question it presented), in attempt and question order: the
    assignment's questions joined to the answers, so a blank question is a row too."""
    owned_cohort(session=session, actor=actor, cohort_id=cohort_id)
    conn = session.connection()
    stmt = (
        select(
            Attempt.id,
            User.username,
            Assignment.title,
            AssignmentQuestion.question_id,
            cast(Response.answer, Text),
            Response.score,
            _utc_text(Response.answered_at, conn.dialect.name),
        )
        .select_from(Attempt)
        .join(User, col(User.id) == Attempt.user_id)
        .join(Assignment, col(Assignment.id) == Attempt.assignment_id)
        .join(AssignmentQuestion, col(AssignmentQuestion.assignment_id) == Attempt.assignment_id)
        .outerjoin(
            Response,
            (col(Response.attempt_id) == Attempt.id)
            & (col(Response.question_id) == AssignmentQuestion.question_id),
        )
        .where(*graded_attempts(cohort_id))
        .order_by(col(Attempt.id), col(AssignmentQuestion.position))
    )
    w = _writer(out)
    w.writerow(RESPONSES_HEADER)
    safe: dict[str, str] = {}  # a few thousand names and titles repeat over a million rows
    answers: dict[str, str] = {}  # and so do the answers' JSON texts
    n = 0
    for attempt_id, username, title, question_id, raw, score, at in conn.execution_options(
        yield_per=10_000
    ).execute(stmt):
        if username not in safe:
            safe[username] = safe_cell(username)
        if title not in safe:
            safe[title] = safe_cell(title)
        if raw is None:  # left blank
            w.writerow([attempt_id, safe[username], safe[title], question_id, "", _ZERO, ""])
        else:
            if raw not in answers:
                answers[raw] = answer_text(json.loads(raw))
            w.writerow(
                [
                    attempt_id,
                    safe[username],
                    safe[title],
                    question_id,
                    answers[raw],
                    Number(f"{score:.4f}"),
                    f"{at[:10]}T{at[11:19]}Z",
                ]
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
