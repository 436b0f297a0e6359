import csv
import io
import json
from datetime import datetime

import pytest
from sqlmodel import select

from quizapp import exports, stats
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied
from quizapp.models import Assignment, User
from tests.db import test_stats as built
from tests.db.test_stats import RIGHT, add_attempt

bank, klass = built.bank, built.klass  # the same hand-made cohort as the statistics tests


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_gradebook_csv_has_a_column_per_assignment(klass):
    engine, p, cid, a, b = klass
    with read_session(engine) as s:
        book = stats.gradebook(session=s, actor=p["teach"], cohort_id=cid)
    rows = _rows(exports.gradebook_csv(book))
    assert rows[0] == ["username", "Quiz A", "Quiz B"]
    assert rows[1:] == [
        ["ann", "0.6667", ""],
        ["bob", "0.3333", ""],
        ["cat", "", ""],
        ["dan", "", "0.3333"],
    ]


def test_responses_csv_contract(klass):
    engine, p, cid, a, b = klass
    with read_session(engine) as s:
        text = exports.responses_csv(session=s, actor=p["teach"], cohort_id=cid)
    rows = _rows(text)
    assert rows[0] == [
        "attempt_id",
        "username",
        "assignment",
        "question_id",
        "answer",
        "score",
        "answered_at",
    ]
    body = rows[1:]
    # ann 3 + 3, bob 3 (two left blank), dan 1: finished assignment attempts of this cohort only
    assert len(body) == 10
    assert {r[1] for r in body} == {"ann", "bob", "dan"}
    assert {r[2] for r in body} == {"Quiz A", "Quiz B"}
    assert all(r[5] in {"1.0000", "0.0000", "0.3333"} for r in body)
    blank = [r for r in body if r[4] == ""]
    assert [(r[1], r[3], r[5], r[6]) for r in blank] == [
        ("bob", "s-tf", "0.0000", ""),
        ("bob", "s-num", "0.0000", ""),
    ]
    assert {r[4] for r in body if r[3] == "s-single"} == {"Max pooling", "Dropout"}
    for r in body:
        if r in blank:
            continue
        assert r[6].endswith("Z")
        assert datetime.fromisoformat(r[6].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    with read_session(engine) as s, pytest.raises(AccessDenied):
        exports.responses_csv(session=s, actor=p["ann"], cohort_id=cid)


def test_cells_that_look_like_formulas_are_neutralised(klass):
    engine, p, cid, a, b = klass
    with write_session(engine) as s:
        s.exec(select(User).where(User.username == "ann")).one().username = "=HYPERLINK(1)"
        s.exec(select(User).where(User.username == "bob")).one().username = "-2+3"
        s.get(Assignment, a).title = "@SUM(A1)"
        s.get(Assignment, b).title = "+B"
    with read_session(engine) as s:
        book = stats.gradebook(session=s, actor=p["teach"], cohort_id=cid)
        responses = exports.responses_csv(session=s, actor=p["teach"], cohort_id=cid)
    grades = _rows(exports.gradebook_csv(book))
    assert grades[0] == ["username", "'@SUM(A1)", "'+B"]
    assert {r[0] for r in grades[1:]} == {"'=HYPERLINK(1)", "'-2+3", "cat", "dan"}
    body = _rows(responses)[1:]
    assert {r[1] for r in body} == {"'=HYPERLINK(1)", "'-2+3", "dan"}
    assert {r[2] for r in body} == {"'@SUM(A1)", "'+B"}
    assert exports.safe_cell("\tx") == "'\tx" and exports.safe_cell(-1.5) == -1.5
    assert exports.safe_cell("plain") == "plain"


def test_items_rows_and_json(klass):
    engine, p, cid, a, b = klass
    with write_session(engine) as s:
        add_attempt(s, p["dan"], a, RIGHT, minutes=30)
    with read_session(engine) as s:
        items = stats.item_analysis(session=s, actor=p["teach"], cohort_id=cid)
    rows = exports.items_rows(items)
    assert [list(r) for r in rows] == [
        ["question_id", "n", "facility", "discrimination_index", "flag", "assignment"]
    ] * len(rows)
    assert [r["question_id"] for r in rows] == ["s-single", "s-tf", "s-num", "s-multi"]
    single = rows[0]
    assert single["n"] == 4 and single["facility"] == 0.75 and isinstance(single["flag"], bool)
    assert json.loads(exports.items_json(items)) == rows
    table = _rows(exports.items_csv(items))
    assert table[0] == exports.ITEMS_HEADER and len(table) == len(rows) + 1


def _formula_in_any_split(text: str) -> list[str]:
    """Cells that start a formula when the CSV is read with ; or tab as the separator."""
    bad = []
    for sep in (";", "\t"):
        for line in text.splitlines():
            for cell in line.split(sep):
                if cell.strip().lstrip('"').lstrip().startswith(("=", "+", "-", "@")):
                    bad.append(cell)
    return bad


def test_text_fields_are_quoted_so_no_separator_cuts_out_a_formula(klass):
    """Issue 15, finding 7: every text field is quoted and numbers are not; a ; or tab inside a cell
    followed by a formula character is neutralised, for spreadsheets that split on them."""
    engine, p, cid, a, b = klass
    with write_session(engine) as s:
        s.exec(select(User).where(User.username == "ann")).one().username = "a;=1+2"
        s.get(Assignment, a).title = 'Quiz; "=HYPERLINK(1)'
        s.get(Assignment, b).title = "B\t@SUM(A1)"
    with read_session(engine) as s:
        book = stats.gradebook(session=s, actor=p["teach"], cohort_id=cid)
        responses = exports.responses_csv(session=s, actor=p["teach"], cohort_id=cid)
    grades = exports.gradebook_csv(book)
    lines = grades.splitlines()
    assert lines[0] == '"username","Quiz; ""\'=HYPERLINK(1)","B\t\'@SUM(A1)"'
    assert lines[1] == '"a;\'=1+2",0.6667,""'  # a number is bare, text and blanks quoted
    assert _rows(grades)[1][0] == "a;'=1+2"
    assert _formula_in_any_split(grades) == [] and _formula_in_any_split(responses) == []
    first = responses.splitlines()[1]
    assert first.startswith(tuple("0123456789")) and ',"s-' in first  # attempt id bare, ids quoted
    assert {r[1] for r in _rows(responses)[1:]} == {"a;'=1+2", "bob", "dan"}
    assert exports.safe_cell("x; -1") == "x; '-1" and exports.safe_cell("a;b") == "a;b"
