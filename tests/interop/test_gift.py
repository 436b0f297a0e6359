"""GIFT import: every question type, escape, comment and format, from fixtures written for these tests."""

import pytest

from quizapp.bank.schema import QuestionSpec
from quizapp.interop import InteropError, parse

GIFT = r"""// A file in the published GIFT syntax, written for these tests.
$CATEGORY: $course$/top/Deep learning/CNN

// [id:pool-max] [tag:pooling]
// [tag:basics]
::Max pooling::What does max pooling keep from each window?{
  =the largest value#Right: the maximum survives.
  ~the mean#That is average pooling.
  ~%50%the largest absolute value#Close, but the sign matters.
  ####Max pooling keeps the largest activation in each window.
}

::Linear ReLU::ReLU is linear for positive inputs.{T#It is the identity there.#Yes, slope one.}

::Sigmoid range::[plain]Sigmoid outputs can be negative.{FALSE####They lie in (0, 1).}

::Optimizers::Which of these are optimizers?{
  ~%50%Adam
  ~%50%SGD with momentum
  ~%-100%ReLU#An activation, not an optimizer.
}

::Conv params::How many weights in a 3x3 conv from 1 to 1 channel?{#9####Nine taps.}

::Pi::Give pi to two decimals.{#=%100%3.14:0.005 =%50%3.1:0.05 ~#Look it up.}

::Range::A number between 1 and 5.{#1..5}

::Capital::Name the capital of France.{=Paris =%50%Paris city#Just Paris. ####Paris.}

::Wild::Name a gradient method.{=*gradient descent}

::Essay::[markdown]Explain **dropout**.{####Dropout zeroes units at random during training. It regularises.}

::Escapes::Escaped \{braces\}, a colon\: an equals \= a tilde \~ a hash \# and a backslash \\.\nSecond line.{=a\=b ~a\~b}

The {=convolution ~addition ~division} of two signals.

::Match::Match the layer to its job.{=Conv -> features =Pool -> downsample}

::Note::This is a description with no answers.
"""


def _by_title(result):
    return {q["title"] or q["id"]: q for q in result.questions}


@pytest.fixture(scope="module")
def result():
    return parse(GIFT.encode(), "gift", source="t.gift")


def test_every_question_validates(result):
    assert not result.refused
    assert len(result.questions) == 12
    for q in result.questions:
        QuestionSpec.model_validate(q)


def test_single_with_partial_credit_feedback_tags_and_id(result):
    q = _by_title(result)["Max pooling"]
    assert q["id"] == "pool-max"
    assert q["type"] == "single" and q["topic"] == "cnn"
    assert q["choices"] == ["the largest value", "the mean", "the largest absolute value"]
    assert q["answer"] == "the largest value"
    assert q["credits"] == {"the largest absolute value": 0.5}
    assert q["feedback"]["the mean"] == "That is average pooling."
    assert q["explanation"] == "Max pooling keeps the largest activation in each window."
    assert q["tags"] == ["deep-learning", "pooling", "basics"]


def test_truefalse_feedback_goes_to_the_value_picked(result):
    q = _by_title(result)["Linear ReLU"]
    assert q["type"] == "truefalse" and q["answer"] is True
    # GIFT: the first #feedback is for a wrong answer, the second for a right one.
    assert q["feedback"] == {"false": "It is the identity there.", "true": "Yes, slope one."}
    f = _by_title(result)["Sigmoid range"]
    assert f["answer"] is False and f["explanation"] == "They lie in (0, 1)."


def test_multi_keeps_fractions(result):
    q = _by_title(result)["Optimizers"]
    assert q["type"] == "multi" and q["answer"] == ["Adam", "SGD with momentum"]
    assert q["credits"] == {"Adam": 0.5, "SGD with momentum": 0.5, "ReLU": -1.0}


def test_numerical_forms(result):
    by = _by_title(result)
    assert (by["Conv params"]["answer"], by["Conv params"]["tolerance"]) == (9.0, 0.0)
    pi = by["Pi"]
    assert (pi["answer"], pi["tolerance"]) == (3.14, 0.005)
    assert pi["alternatives"] == [{"answer": 3.1, "tolerance": 0.05, "credit": 0.5}]
    assert pi["feedback"] == {"*": "Look it up."}
    assert (by["Range"]["answer"], by["Range"]["tolerance"]) == (3.0, 2.0)


def test_short_answers_become_patterns(result):
    by = _by_title(result)
    cap = by["Capital"]
    assert cap["type"] == "short" and cap["answers"] == ["Paris", r"Paris\ city"]
    assert cap["credits"] == {r"Paris\ city": 0.5}
    assert cap["feedback"] == {r"Paris\ city": "Just Paris."}
    assert "case_sensitive" not in cap
    assert by["Wild"]["answers"] == [r".*gradient\ descent"]


def test_essay_becomes_open_with_key_points(result):
    q = _by_title(result)["Essay"]
    assert q["type"] == "open" and q["prompt"] == "Explain **dropout**."
    assert q["key_points"] == ["Dropout zeroes units at random during training.", "It regularises."]


def test_escapes_and_newline(result):
    q = _by_title(result)["Escapes"]
    assert q["prompt"] == (
        "Escaped {braces}, a colon: an equals = a tilde ~ a hash # and a backslash \\.\nSecond line."
    )
    assert q["choices"] == ["a=b", "a~b"] and q["answer"] == "a=b"


def test_missing_word_and_default_name(result):
    q = next(q for q in result.questions if q["prompt"].startswith("The _____"))
    assert q["prompt"] == "The _____ of two signals."
    assert q["title"] is None and q["id"] == "the-of-two-signals"


def test_skipped_types_do_not_block(result):
    reasons = {s["question"]: s["reason"] for s in result.skipped}
    assert "matching" in reasons["Match"]
    assert "description" in reasons["Note"]
    assert all(r.startswith("t.gift:") for r in reasons.values())


def test_placeholder_explanation_is_noticed(result):
    q = _by_title(result)["Optimizers"]
    assert q["explanation"] == "No explanation was given with this question."
    assert any("Optimizers" in n and "no general feedback" in n for n in result.notices)


def test_windows_line_endings_and_bom():
    data = b"\xef\xbb\xbf" + GIFT.replace("\n", "\r\n").encode()
    again = parse(data, "gift")
    assert [q["prompt"] for q in again.questions] == [
        q["prompt"] for q in parse(GIFT.encode(), "gift").questions
    ]


def test_windows_1252_is_detected_or_named():
    text = "$CATEGORY: cnn\n\n::Caf\u00e9::Le caf\u00e9 co\u00fbte \u20ac2.{T}\n"
    r = parse(text.encode("cp1252"), "gift")
    assert r.questions[0]["prompt"] == "Le caf\u00e9 co\u00fbte \u20ac2."
    assert any("Windows-1252" in n for n in r.notices)
    named = parse(text.encode("cp1252"), "gift", encoding="cp1252")
    assert named.questions[0]["title"] == "Caf\u00e9"
    assert not any("Windows-1252" in n for n in named.notices)
    with pytest.raises(InteropError, match="not valid utf-8"):
        parse(text.encode("cp1252"), "gift", encoding="utf-8")


def test_topic_argument_and_unknown_category():
    r = parse(b"Q?{T}", "gift", topic="rnn")
    assert r.questions[0]["topic"] == "rnn"
    r = parse(b"$CATEGORY: $course$/Cooking\n\nQ?{T}", "gift")
    assert r.refused[0]["reason"].endswith("category '$course$/Cooking' is not a known topic; pass --topic")
    # A topic title also names the topic.
    r = parse(b"$CATEGORY: $course$/top/Recurrent networks\n\nQ?{T}", "gift")
    assert r.questions[0]["topic"] == "rnn"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            "$CATEGORY: cnn\n\nfirst{T}\n\nBad weight{~%37%x =y}",
            5,
            "weight 37% is not one of Moodle's grades",
        ),
        ("$CATEGORY: cnn\n\nNo close{=a ~b", 3, "unbalanced braces"),
        ("$CATEGORY: cnn\n\nClose first} then {=a ~b", 3, "unbalanced braces"),
        ("$CATEGORY: cnn\n\nTwo{=a ~b} blocks{=c ~d}", 3, "more than one answer block"),
        ("$CATEGORY: cnn\n\nStray{x ~a =b}", 3, "unknown answer syntax"),
        ("$CATEGORY: cnn\n\nNum{#abc}", 3, "is not a number"),
        ("$CATEGORY: cnn\n\nNum{#5..1}", 3, "minimum is above the maximum"),
        ("$CATEGORY: cnn\n\nMulti{~%50%a ~%30%b ~c}", 3, "add up to 80%; Moodle needs 100%"),
        ("$CATEGORY: cnn\n\nShort{=%50%a}", 3, "no answer earns 100%"),
        ("$CATEGORY: cnn\n\nOne{~only}", 3, "at least two answers"),
        ("$CATEGORY: cnn\n\nSame{=a ~a}", 3, "same text"),
        ("$CATEGORY: cnn\n\n{=a ~b}", 3, "question text is empty"),
    ],
)
def test_refused_with_line(text, line, reason):
    r = parse(text.encode(), "gift", source="bad.gift")
    assert len(r.refused) == 1, r.refused
    assert r.refused[0]["line"] == line
    assert r.refused[0]["reason"].startswith(f"bad.gift:{line}: ")
    assert reason in r.refused[0]["reason"]


def test_allowed_fraction_with_rounding():
    r = parse(b"$CATEGORY: cnn\n\nQ{~%33.333%a ~%33.33333%b ~%33.3333%c ~d}", "gift")
    assert r.questions[0]["credits"] == {"a": 0.3333333, "b": 0.3333333, "c": 0.3333333}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n\n // only a comment \n", "no question found"),
        (b"PK\x03\x04" + b"\0" * 100, "zip archive"),
        (b"SQLite format 3\x00" + b"\0" * 100, "SQLite"),
        (b"Q{T}\x00\x01", "binary"),
        (b"x" * (10 * 1024 * 1024 + 1), "limit is 10 MB"),
    ],
)
def test_whole_file_problems(data, message):
    with pytest.raises(InteropError, match=message):
        parse(data, "gift", source="up.gift", topic="cnn")


XSS = r"""$CATEGORY: cnn

::<img src=x onerror=alert(1)>Title<script>alert(2)</script>::[html]<p onclick="alert(3)">Pick <b>one</b> <a href="javascript:alert(4)">here</a> <a href="https://example.org/x">docs</a></p><script>alert(5)</script><iframe src="https://evil"></iframe>{
  =[html]<img src\=x onerror\=alert(6)>safe#<svg onload\=alert(7)>fb</svg><b>ok</b>
  ~[markdown][click](javascript:alert(8)) <script>alert(9)</script>
  ####[html]<style>body\{\}</style>Because <em>reasons</em>.
}
"""


def test_xss_payloads_are_inert():
    r = parse(XSS.encode(), "gift")
    q = r.questions[0]
    texts = [q["title"], q["prompt"], q["explanation"], *q["choices"], *q["feedback"].values()]
    for t in texts:
        assert "<" not in t.replace("&lt;", ""), t
        assert "](javascript" not in t.lower(), t
    assert q["title"] == "Title"
    assert q["prompt"] == "Pick **one** here [docs](https://example.org/x)"
    assert q["explanation"] == "Because *reasons*."
    assert q["choices"][0] == "safe"
    assert q["feedback"]["safe"] == "**ok**"
    assert q["choices"][1] == "[click] (javascript:alert(8)) &lt;script>alert(9)&lt;/script>"


def test_a_stray_link_bracket_round_trips_while_unsafe_links_stay_broken():
    """Found by the round-trip property: a choice ']('  links nowhere and must come back unchanged."""
    from quizapp.interop import export
    from quizapp.interop.common import defang

    q = {"id": "stray", "kind": "quiz", "type": "single", "topic": "fundamentals", "difficulty": 1,
         "prompt": "Pick", "explanation": "Why", "choices": ["a", "]("], "answer": "a"}  # fmt: skip
    assert parse(export([q], "gift"), "gift").questions[0]["choices"] == ["a", "]("]
    assert defang("[x](javascript:alert(1))") == "[x] (javascript:alert(1))"
    assert defang("[x](https://example.org)") == "[x](https://example.org)"
