"""Property tests: ours -> GIFT -> ours and ours -> Moodle XML -> ours keep every field; parsing any text
raises nothing but InteropError."""

import contextlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizapp.bank.loader import load_bank
from quizapp.bank.schema import TOPICS, QuestionSpec
from quizapp.interop import InteropError, export, parse
from quizapp.interop.common import ALLOWED_FRACTIONS, moodle_to_pattern

ROOT = Path(__file__).resolve().parents[2]
# Text as a person writes it in a question: any printable character but '<' (which we defang), no
# surrounding blanks, newlines allowed inside.
_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Zl", "Zp"), exclude_characters="<"
)
_LINE = st.text(_CHARS, min_size=1, max_size=30).map(lambda s: re.sub(r"\s+", " ", s).strip()).filter(bool)
TEXT = st.lists(_LINE, min_size=1, max_size=3).map("\n".join)
SLUGS = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}", fullmatch=True)
POS = [f for f in ALLOWED_FRACTIONS if 0 < f < 1]
NUM = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False).map(
    lambda x: round(x, 4)
)
TOL = st.floats(min_value=0, max_value=100, allow_subnormal=False).map(lambda x: round(x, 4))


@st.composite
def questions(draw, qtype):
    q = {
        "id": draw(SLUGS),
        "kind": draw(st.sampled_from(["faq", "interview", "quiz"])),
        "type": qtype,
        "topic": draw(st.sampled_from(list(TOPICS))),
        "difficulty": draw(st.integers(1, 3)),
        "prompt": draw(TEXT),
        "explanation": draw(TEXT),
        "tags": draw(st.lists(SLUGS, max_size=3, unique=True)),
    }
    if draw(st.booleans()):
        q["title"] = draw(_LINE)
    if qtype in ("single", "multi"):
        choices = draw(st.lists(_LINE.filter(lambda c: "\n" not in c), min_size=2, max_size=5, unique=True))
        q["choices"] = choices
        if qtype == "single":
            q["answer"] = choices[0]
            wrong = choices[1:]
            if draw(st.booleans()):
                q["credits"] = {c: draw(st.sampled_from(POS + [-f for f in POS])) for c in wrong[:1]}
        else:
            k = draw(st.integers(1, len(choices)))
            q["answer"] = choices[:k]
            if draw(st.booleans()) and k == 2:
                q["credits"] = {choices[0]: 0.75, choices[1]: 0.25, **{c: -0.5 for c in choices[2:]}}
        if draw(st.booleans()):
            q["feedback"] = {choices[0]: draw(TEXT)}
    elif qtype == "truefalse":
        q["answer"] = draw(st.booleans())
        if draw(st.booleans()):
            q["feedback"] = {draw(st.sampled_from(["true", "false"])): draw(TEXT)}
    elif qtype == "numeric":
        q["answer"], q["tolerance"] = draw(NUM), draw(TOL)
        alts = draw(st.lists(st.tuples(NUM, TOL, st.sampled_from(POS)), max_size=2))
        if alts:
            q["alternatives"] = [{"answer": a, "tolerance": t, "credit": c} for a, t, c in alts]
        if draw(st.booleans()):
            q["feedback"] = {"0": draw(TEXT), "*": draw(TEXT)}
    elif qtype == "short":
        words = draw(st.lists(_LINE.filter(lambda w: "\\" not in w and w[-1] != "."), min_size=1, max_size=3))
        patterns = list(dict.fromkeys(moodle_to_pattern(w) for w in words))
        q["answers"] = patterns
        if len(patterns) > 1:
            q["credits"] = {patterns[1]: draw(st.sampled_from(POS))}
        if draw(st.booleans()):
            q["case_sensitive"] = True
        if draw(st.booleans()):
            q["feedback"] = {patterns[0]: draw(TEXT), "*": draw(TEXT)}
    else:
        q["answer"] = draw(TEXT)
        q["key_points"] = draw(st.lists(_LINE, min_size=1, max_size=4))
    return QuestionSpec.model_validate(q).content()


ANY = st.one_of(*(questions(t) for t in ("single", "multi", "truefalse", "numeric", "short", "open")))


def _unique_ids(qs):
    seen = {}
    for q in qs:
        seen.setdefault(q["id"], q)
    return list(seen.values())


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(qs=st.lists(ANY, min_size=1, max_size=6).map(_unique_ids))
def test_export_then_parse_is_identity(fmt, qs):
    result = parse(export(qs, fmt), fmt)
    assert not result.refused and not result.skipped
    back = {q["id"]: QuestionSpec.model_validate(q).content() for q in result.questions}
    assert back == {q["id"]: q for q in qs}


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml"])
def test_the_whole_bank_round_trips(fmt):
    report = load_bank(ROOT / "questions")
    qs = [q.spec.content() for q in report.questions]
    notes = []
    result = parse(export(qs, fmt, notes=notes), fmt)
    assert not result.refused and not result.skipped
    back = {q["id"]: QuestionSpec.model_validate(q).content() for q in result.questions}
    assert back == {q["id"]: q for q in qs}


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300), fmt=st.sampled_from(["gift", "moodle-xml"]))
def test_parse_of_any_text_raises_only_interop_error(text, fmt):
    with contextlib.suppress(InteropError):
        parse(text.encode("utf-8", "surrogatepass"), fmt, topic="cnn")


GIFTISH = st.lists(
    st.sampled_from(
        [
            "{",
            "}",
            "=",
            "~",
            "#",
            "%50%",
            "%x%",
            "::",
            "\\",
            "\n\n",
            "->",
            "..",
            ":",
            "T",
            "[html]",
            "<b>",
            "$CATEGORY: a/b",
            "// [id:x]",
            "####",
            "1",
            "-",
            "a",
            " ",
            "*",
        ]
    ),  # fmt: skip
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=GIFTISH)
def test_gift_like_noise_raises_only_interop_error(text):
    try:
        result = parse(text.encode(), "gift", topic="cnn")
    except InteropError:
        return
    for q in result.questions:
        QuestionSpec.model_validate(q)
