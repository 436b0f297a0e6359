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
