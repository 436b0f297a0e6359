"""Every grader takes any answer a request can carry: a score in [0, 1], or AnswerError saying why."""

import math

import yaml
from hypothesis import given
from hypothesis import strategies as st

from quizapp.grading import AnswerError, grade, parse_number
from tests.utils.bank import SAMPLE

QUESTIONS = {q["type"]: q for q in yaml.safe_load(SAMPLE) if q["kind"] != "faq"}
QUESTIONS["numeric"] = {**QUESTIONS["numeric"], "tolerance": 0.5}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False),
    st.text(),
    st.sampled_from(["30", " 30 ", "3e1", "1e999", "-inf", "nan", "NaN", "1_000", "1,5", "٣٠", "0x1e"]),
)
choices = st.sampled_from([c for q in QUESTIONS.values() for c in q.get("choices", [])])
answers = st.recursive(
    st.one_of(scalars, choices),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.sampled_from(["text", "points", "x"]), inner, max_size=3),
    ),
    max_leaves=8,
)


def _graded_or_refused(data: dict, answer) -> None:  # type: ignore[no-untyped-def]
    try:
        g = grade(data, answer)
    except AnswerError as exc:
        assert str(exc)  # a message a person can read
        return
    assert isinstance(g.score, float) and math.isfinite(g.score) and 0.0 <= g.score <= 1.0
    assert g.correct == (g.score >= 1 - 1e-6) or data["type"] == "open"


@given(st.sampled_from(sorted(QUESTIONS)), answers)
def test_every_grader_scores_in_range_or_refuses(qtype, answer):
    _graded_or_refused(QUESTIONS[qtype], answer)


@given(st.sampled_from(["single", "multi"]), st.lists(st.one_of(choices, st.text()), max_size=6))
def test_choice_graders_take_any_list_of_texts(qtype, picked):
    _graded_or_refused(QUESTIONS[qtype], picked if qtype == "multi" else (picked[0] if picked else ""))


@given(st.one_of(scalars, st.from_regex(r"\s*[+-]?[\d_, ]*\.?\d*([eE][+-]?\d{1,4})?\s*", fullmatch=True)))
def test_numbers_parse_to_a_finite_float_or_are_refused(raw):
    try:
        value = parse_number(raw)
    except AnswerError as exc:
        assert str(exc)
        return
    assert isinstance(value, float) and math.isfinite(value)


@given(st.text(max_size=300))
def test_short_answers_of_any_text_grade(text):
    _graded_or_refused(QUESTIONS["short"], text)
