"""CSV exports of arbitrary names, titles and answers: the file parses back, with the right number of
rows, and no text cell starts with a character a spreadsheet would run as a formula."""

import csv
import io
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizapp import exports, stats
from quizapp.assignments import create_assignment, save_answer, start_or_resume, submit_attempt
from quizapp.auth import create_user
from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import read_session, write_session
from quizapp.grading import AnswerError
from quizapp.identity import Actor
from tests.utils.bank import SAMPLE

FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
QUESTIONS = ["s-single", "s-multi", "s-tf", "s-num", "s-short"]
text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
risky = st.sampled_from(["=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x", "=cmd|' /C calc'!A0", "-0.5", "1e3"])


def _cells_are_safe(body: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(body)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA) or NUMBER.fullmatch(cell), f"formula cell {cell!r}"
    return rows


@given(st.one_of(text, risky, st.lists(text | risky, max_size=3), st.booleans(), st.none()))
def test_any_answer_becomes_a_safe_cell(answer):
    _cells_are_safe(exports._csv([[exports.answer_text(answer)]]))


@given(
    st.lists(
        st.lists(
            text
            | risky
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
            max_size=5,
        ),
        max_size=5,
    )
)
def test_any_rows_round_trip_through_csv(rows):
    parsed = _cells_are_safe(exports._csv(rows))
    assert len(parsed) == len(rows)


_ids = itertools.count()


@pytest.fixture
def teacher(engine, write_bank):
    with write_session(engine) as s:
        sync_bank(session=s, loaded=load_bank(write_bank({"s.yaml": SAMPLE})).questions)
        u = create_user(session=s, username="teach", role="instructor", password="a long password")
    return engine, Actor(user_id=u.id, role="instructor")


@settings(max_examples=8)
@given(
    title=(text | risky).filter(lambda t: 2 <= len(" ".join(t.split())) <= 120),
    names=st.lists(st.from_regex(r"[A-Za-z0-9_.@=+-]{0,8}", fullmatch=True), min_size=1, max_size=3),
    answers=st.lists(text | risky, min_size=1, max_size=3),
)
def test_exports_of_any_names_titles_and_answers_parse_safely(teacher, title, names, answers):
    engine, me = teacher
    n = next(_ids)
    with write_session(engine) as s:
        cohort = create_cohort(session=s, actor=me, name=f"Cohort {n}")
        a = create_assignment(session=s, actor=me, cohort_id=cohort.id, title=title, question_ids=QUESTIONS)
        cohort_id, code, a_id = cohort.id, cohort.join_code, a.id
    learners = 0
    for i, name in enumerate(names):
        username = re.sub(r"[@=+]", "-", name) + f"x{n}y{i}"  # a valid username, maybe starting with "-"
        with write_session(engine) as s:
            u = create_user(session=s, username=username, role="learner", password="a long password")
            who = Actor(user_id=u.id, role="learner")
            join_cohort(session=s, actor=who, code=code)
            attempt = start_or_resume(session=s, actor=who, assignment_id=a_id)
        for qid, answer in zip(["s-short", "s-num"], answers, strict=False):
            try:
                with write_session(engine) as s:
                    save_answer(session=s, actor=who, attempt_id=attempt, question_id=qid, answer=answer)
            except AnswerError:
                pass
        with write_session(engine) as s:
            submit_attempt(session=s, actor=who, attempt_id=attempt)
        learners += 1
    with read_session(engine) as s:
        responses = _cells_are_safe(exports.responses_csv(session=s, actor=me, cohort_id=cohort_id))
        book = _cells_are_safe(
            exports.gradebook_csv(stats.gradebook(session=s, actor=me, cohort_id=cohort_id))
        )
    assert responses[0] == exports.RESPONSES_HEADER
    assert len(responses) == 1 + learners * len(QUESTIONS)  # every presented question, answered or not
    assert len(book) == 1 + learners and len(book[0]) == 2
