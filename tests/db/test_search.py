"""Full-text search over every active question, on SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""

import pytest
from sqlalchemy import text

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import read_session, write_session
from quizapp.search import fts5_query, query_terms, reindex, search, segments, to_markdown, tsquery
from tests.conftest import ROOT
from tests.utils.bank import SAMPLE

HOSTILE = [
    '"',
    'dropout"',
    '"dropout',
    "*",
    "dropout*",
    "-dropout",
    "dropout -pooling",
    "dropout:",
    "prompt:dropout",
    "prompt : dropout",
    "(dropout",
    "dropout)",
    "NEAR(dropout pooling)",
    "NEAR",
    "dropout AND",
    "OR dropout",
    "AND OR NOT",
    "dropout & | ! <-> :*",
    "'; DROP TABLE question; --",
    "^dropout",
    "{prompt}: dropout",
    "dropout\x00",
    "dröpout",
    "a" * 500,
    " ".join(["dropout"] * 100),
    "_",
    "   ",
    "",
]


def _sync(engine, folder):  # type: ignore[no-untyped-def]
    report = load_bank(folder)
    assert report.ok, report.errors
    with write_session(engine) as s:
        return sync_bank(session=s, loaded=report.questions)


def _ids(engine, words, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return [h.question.id for h in search(session=s, text=words, **filters)]


def _indexed(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM questionsearch")).scalar_one()


@pytest.fixture
def sample(engine, write_bank):
    _sync(engine, write_bank({"s.yaml": SAMPLE}))
    return engine


def test_the_real_bank_answers_dropout_with_the_dropout_interview_answer_first(engine):
    _sync(engine, ROOT / "questions")
    with read_session(engine) as s:
        hits = search(session=s, text="dropout")
        assert hits[0].question.id == "regularization-dropout-interview"
        assert hits[0].question.demo == "dropout"
        assert len(hits) > 5 and {h.question.kind for h in hits} == {"faq", "interview", "quiz"}
        assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)
        # The prompt comes back with the word marked, and so does a fragment of the answer or explanation.
        assert ("dropout", True) in hits[0].title
        assert any(hit and t.lower() == "dropout" for t, hit in hits[0].snippet)
        # Stemming: "gradients" finds questions that say only "gradient".
        grads = search(session=s, text="gradients", limit=500)
        singular_only = [
            h.question.id
            for h in grads
            if "gradient " in h.question.data["prompt"].lower()
            and "gradients" not in str(h.question.data).lower()
        ]
        assert singular_only


def test_filters_by_kind_type_and_topic(sample):
    assert _ids(sample, "dropout")[0] == "s-open"
    assert set(_ids(sample, "dropout")) == {"s-open", "s-multi", "s-single"}
    assert set(_ids(sample, "dropout", kinds=["quiz"])) == {"s-multi", "s-single"}
    assert _ids(sample, "dropout", kinds=["interview", "faq"]) == ["s-open"]
    assert _ids(sample, "dropout", types=["single"]) == ["s-single"]
    assert _ids(sample, "dropout", topics=["cnn"]) == ["s-single"]
    assert _ids(sample, "dropout", topics=["career"]) == []
    assert _ids(sample, "dropout", limit=1) == ["s-open"]


def test_a_prompt_match_outranks_an_explanation_match(engine, write_bank):
    body = """\
- id: a-in-explanation
  kind: quiz
  type: truefalse
  topic: cnn
  difficulty: 1
  prompt: Pooling layers have no weights.
  answer: true
  explanation: Unlike a convolution, a pooling layer only takes a maximum or a mean, so its stride is all it has.
- id: b-in-prompt
  kind: quiz
  type: truefalse
  topic: cnn
  difficulty: 1
  prompt: A larger stride makes a smaller output.
  answer: true
  explanation: Fewer window positions fit across the input.
"""
    _sync(engine, write_bank({"r.yaml": body}))
    assert _ids(engine, "stride") == ["b-in-prompt", "a-in-explanation"]


def test_words_are_stemmed_and_the_last_may_be_a_prefix(sample):
    assert _ids(sample, "windows") == ["s-single"]  # the bank says "window"
    assert _ids(sample, "regularizers") == ["s-open"]  # "regularizer"
    assert "s-open" in _ids(sample, "drop")  # typing: "drop" finds "dropout"
    assert _ids(sample, "shrinking gradient") == ["s-short"]  # "shrink" in the explanation
    assert _ids(sample, "vanishing") == ["s-short"]  # a short answer's pattern, read as words


def test_every_word_must_match_else_any_word_is_offered(sample):
    with read_session(sample) as s:
        both = search(session=s, text="dropout weight decay")
        assert [h.question.id for h in both] == ["s-multi"] and both[0].all_words
        asked = search(session=s, text="What is the dropout?")  # function words are left out
        assert asked[0].question.id == "s-open" and asked[0].all_words
        either = search(session=s, text="phd dropout")
        assert {h.question.id for h in either} == {"s-faq", "s-open", "s-multi", "s-single"}
        assert not any(h.all_words for h in either)


@pytest.mark.parametrize("words", HOSTILE)
def test_hostile_input_never_reaches_the_query_parser(sample, words):
    with read_session(sample) as s:
        hits = search(session=s, text=words)
    if query_terms(words) == ["dropout"]:  # the punctuation around the word is just punctuation
        assert "s-open" in [h.question.id for h in hits]


def test_no_words_no_hits(sample):
    assert _ids(sample, "") == [] and _ids(sample, " ?! ") == []


def test_retiring_removes_from_the_index_and_restoring_brings_it_back(sample, write_bank):
    assert _indexed(sample) == 7
    _sync(
        sample,
        write_bank(
            {"s.yaml": SAMPLE.split("- id: s-open")[0] + "- id: s-faq" + SAMPLE.split("- id: s-faq")[1]}
        ),
    )
    assert _indexed(sample) == 6
    assert "s-open" not in _ids(sample, "dropout")
    _sync(sample, write_bank({"s.yaml": SAMPLE}))
    assert _indexed(sample) == 7 and _ids(sample, "dropout")[0] == "s-open"


def test_a_changed_question_is_found_by_its_new_text_only(sample, write_bank):
    changed = SAMPLE.replace(
        "Do I need a PhD to work in deep learning?", "Do I need a doctorate to work on transformers?"
    )
    report = _sync(sample, write_bank({"s.yaml": changed}))
    assert report.changed == ["s-faq"]
    assert _ids(sample, "transformers") == ["s-faq"]
    assert _ids(sample, "doctorate") == ["s-faq"]
    with read_session(sample) as s:
        title = search(session=s, text="doctorate")[0].title
    assert "".join(t for t, _ in title) == "Do I need a doctorate to work on transformers?"
    assert _ids(sample, "phd") == []  # the answer and explanation never said PhD, only the old prompt
    assert _indexed(sample) == 7


def test_reindex_writes_only_what_is_stale_unless_asked(sample):
    with write_session(sample) as s:
        assert reindex(s) == 0
        assert reindex(s, ["s-open", "s-faq"]) == 2
        assert reindex(s) == 0
    with sample.begin() as conn:
        conn.execute(text("DELETE FROM questionsearch"))
    with write_session(sample) as s:
        assert reindex(s) == 7
    assert _ids(sample, "dropout")[0] == "s-open"


def test_match_expressions_are_built_from_letters_and_digits_only():
    terms = query_terms('Drop*out "NEAR" (x:y) -z AND_OR 1e-3')
    assert terms == ["drop", "out", "near", "x", "y", "z", "and", "or", "1e", "3"]
    assert fts5_query(["near", "drop"]) == '"near" AND "drop"*'
    assert fts5_query(["a", "b"], any_word=True) == '"a" OR "b"*'
    assert tsquery(["gradients", "van"]) == "gradients & van:*"
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))) == 12


def test_marked_text_becomes_inert_markdown():
    parts = segments("a *b* [x](javascript:y) <b>\x02drop_out\x03 1. `c`")
    assert parts == (("a *b* [x](javascript:y) <b>", False), ("drop_out", True), (" 1. `c`", False))
    md = to_markdown(parts)
    assert md == r"a \*b\* \[x\]\(javascript\:y\) \<b\>:orange-background[drop\_out] 1\. \`c\`"


def test_postgresql_marks_words_by_stem_and_cuts_a_fragment_around_the_first():
    from quizapp.search import _pg_marks

    long = (
        "Intro words here. " * 20
        + "Regularization helps; irregular data and regularizers too. "
        + "Tail. " * 40
    )
    title, answer, explanation = _pg_marks("Why regularize?", "", long, ["regular"], ["regularizers"])
    assert segments(title) == (("Why ", False), ("regularize", True), ("?", False))
    assert answer == ""
    marked = segments(explanation)
    assert [t for t, hit in marked if hit] == ["Regularization", "regularizers"]
    assert explanation.startswith("… ") and explanation.endswith(" …") and len(explanation) < 200
