"""The FAQ & search page (AppTest): an empty box lists the FAQ, words search every active question."""

import pytest
from streamlit.testing.v1 import AppTest

from quizapp.bank.loader import load_bank
from quizapp.bank.sync import sync_bank
from quizapp.db import make_engine, write_session
from quizapp.migrate import upgrade
from tests.conftest import ROOT
from tests.ui.conftest import APP


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/faq.py").run()
    assert not at.exception, at.exception
    return at


def _search(at: AppTest, words: str) -> AppTest:
    at.text_input(key="faq_search").set_value(words).run()
    assert not at.exception, at.exception
    return at


def _hits(at: AppTest) -> list[str]:
    """The numbered result lines, in order."""
    return [m.value for m in at.markdown if m.value.startswith("**") and "." in m.value[:8]]


def test_an_empty_box_lists_the_faq_and_its_topics_only(app_db):
    at = _open()
    assert at.title[0].value == "FAQ & search"
    assert [e.label for e in at.expander] == ["Do I need a PhD to work in deep learning?"]
    assert any("projects over degrees" in m.value for m in at.markdown)
    topics = at.multiselect(key="faq_topics")
    assert topics.options == ["Practical and career questions"]  # only topics that have FAQ entries
    at.multiselect(key="faq_kinds").set_value(["quiz"]).run()
    assert len(at.expander) == 5
    assert "Practical and career questions" not in at.multiselect(key="faq_topics").options


def test_dropout_finds_the_interview_answer_first_with_highlights_answer_and_demo(app_db):
    at = _search(_open(), "dropout")
    hits = _hits(at)
    assert len(hits) == 3
    assert hits[0] == "**1.** What is :orange-background[dropout] and why is it used?"
    assert at.caption[1].value.startswith("Interview · Overfitting and regularization")
    # The hit opens on its model answer, key points, explanation and a link to the demo.
    body = [m.value for m in at.expander[0].markdown]
    assert "**Model answer**" in body
    assert any("cannot rely on any one of them" in v for v in body)
    assert any("Acts like an ensemble" in v for v in body)
    links = [p for p in at.expander[0].get("page_link") if p.proto.label == "See it live"]
    assert links and "demo=dropout" in links[0].proto.query_string
    assert at.query_params["q"] == "dropout"


def test_filters_narrow_the_search(app_db):
    at = _search(_open(), "dropout")
    at.multiselect(key="faq_kinds").set_value(["quiz"]).run()
    assert len(_hits(at)) == 2
    at.multiselect(key="faq_types").set_value(["single"]).run()
    (hit,) = _hits(at)
    assert "largest value" in hit
    # The single-choice answer is shown in words with its choices.
    assert any("Max pooling" in m.value for m in at.expander[0].markdown)
    at.multiselect(key="faq_topics").set_value(["regularization"]).run()
    assert _hits(at) == [] and "Nothing matches" in at.info[0].value


def test_hostile_input_and_no_words(app_db):
    at = _open()
    for words in ['"dropout', "NEAR(dropout", "dropout -:*", "AND OR ( )"]:
        _search(at, words)
    _search(at, '*** ""')
    assert at.info[0].value.startswith("Nothing to search for")
    _search(at, "phd transformers")
    assert [h.startswith("**1.**") for h in _hits(at)] == [True]
    assert any("No question has every word" in c.value for c in at.caption)


def test_a_link_opens_with_its_search(app_db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["q"] = "pooling"
    at.switch_page("views/faq.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="faq_search").value == "pooling"
    assert len(_hits(at)) >= 1


@pytest.fixture
def bank_db(tmp_path, monkeypatch):
    """The app pointed at a fresh SQLite database holding the real questions/ folder."""
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    upgrade(url)
    engine = make_engine(url)
    with write_session(engine) as session:
        sync_bank(session=session, loaded=load_bank(ROOT / "questions").questions)
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", url)
    yield engine
    engine.dispose()


def test_the_real_bank_pages_twenty_results_at_a_time(bank_db, monkeypatch):
    import streamlit

    reruns = []
    monkeypatch.setattr(
        streamlit, "rerun", lambda *a, **k: reruns.append(1)
    )  # one run per click: never called
    at = _search(_open(), "gradients")
    assert len(_hits(at)) == 20  # a full first page
    assert "The best 20 results" in [m.value for m in at.markdown]
    next(b for b in at.button if b.label == "Show more").click().run()
    assert not at.exception, at.exception
    assert len(_hits(at)) == 40 and reruns == []
    _search(at, "dropout")  # a new search starts at one page again
    hits = _hits(at)
    assert len(hits) == 20 and hits[0].startswith(
        "**1.** Explain what :orange-background[dropout] does to a network"
    )
