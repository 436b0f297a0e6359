import pytest
import yaml

from quizapp.bank.schema import QuestionSpec
from quizapp.grading import AnswerError, grade, parse_number
from tests.utils.bank import SAMPLE

Q = {q["id"]: QuestionSpec(**q).content() for q in yaml.safe_load(SAMPLE)}


def test_single():
    assert grade(Q["s-single"], "Max pooling").correct
    g = grade(Q["s-single"], "Dropout")
    assert (g.score, g.correct, g.expected) == (0.0, False, "Max pooling")
    with pytest.raises(AnswerError):
        grade(Q["s-single"], "")
    with pytest.raises(AnswerError):
        grade(Q["s-single"], "Not a choice")


def test_multi_partial_credit():
    full = grade(Q["s-multi"], ["Dropout", "Weight decay", "Early stopping"])
    assert full.correct and full.score == 1.0
    two = grade(Q["s-multi"], ["Dropout", "Weight decay"])
    assert not two.correct and two.score == pytest.approx(2 / 3)
    wrong = grade(Q["s-multi"], ["Dropout", "A larger learning rate"])
    assert wrong.score == 0.0
    with pytest.raises(AnswerError):
        grade(Q["s-multi"], [])


def test_truefalse():
    assert grade(Q["s-tf"], True).correct
    assert not grade(Q["s-tf"], False).correct
    with pytest.raises(AnswerError):
        grade(Q["s-tf"], "true")


def test_numeric_with_tolerance_and_formats():
    assert grade(Q["s-num"], "30").correct
    assert grade(Q["s-num"], " 3.0e1 ").correct
    assert not grade(Q["s-num"], "31").correct
    tol = dict(Q["s-num"], tolerance=0.5)
    assert grade(tol, "30.5").correct and not grade(tol, "30.6").correct
    assert parse_number("1,024") == 1024
    for bad in ["", "abc", "nan", "inf", "3 0x"]:
        with pytest.raises(AnswerError):
            parse_number(bad)


def test_short_patterns_are_forgiving_about_case_space_and_period():
    for ok in ["vanishing gradient", "The Vanishing   Gradients problem.", "VANISHING GRADIENTS"]:
        assert grade(Q["s-short"], ok).correct, ok
    assert not grade(Q["s-short"], "exploding gradients").correct
    assert not grade(Q["s-short"], "not the vanishing gradient").correct  # full match, not a search


def test_open_is_scored_by_key_points_ticked():
    g = grade(Q["s-open"], {"text": "It zeroes units at random.", "points": [0, 2]})
    assert g.score == pytest.approx(2 / 3) and not g.correct
    assert grade(Q["s-open"], {"text": "x", "points": [0, 1, 2]}).correct
    with pytest.raises(AnswerError):
        grade(Q["s-open"], {"text": "   ", "points": [0]})
    with pytest.raises(AnswerError):
        grade(Q["s-open"], {"text": "x", "points": [7]})


@pytest.mark.parametrize(
    ("pattern", "plain"),
    [
        ("(the )?vanishing gradients?( problem)?", "vanishing gradients"),
        ("(?:leaky[- ]?relu|lrelu)", "leaky-relu"),
        (r"max\s*pool(ing)?", "max pool"),
        ("^logits$", "logits"),
        (r"\d+", None),
    ],
)
def test_short_answer_key_is_shown_readably(pattern, plain):
    from quizapp.grading import readable_pattern

    assert readable_pattern(pattern) == plain


def test_every_short_answer_in_the_bank_has_a_readable_key():
    from quizapp.bank.loader import load_bank
    from quizapp.config import ROOT
    from quizapp.grading import readable_pattern

    shorts = [q.spec for q in load_bank(ROOT / "questions").questions if q.spec.type == "short"]
    unreadable = [s.id for s in shorts if not any(readable_pattern(p) for p in s.answers)]
    assert not unreadable
