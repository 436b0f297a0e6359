from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from quizapp.models import Response
from tests.ui.conftest import APP


def _start(at: AppTest, *, topics=None, types=None) -> AppTest:
    at.switch_page("views/practice.py").run()
    form_topics, _levels, _kinds, form_types = at.multiselect[:4]
    if topics:
        form_topics.set_value(topics)
    if types:
        form_types.set_value(types)
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def _responses(engine) -> list[Response]:
    with Session(engine) as s:
        return s.exec(select(Response)).all()


def test_empty_submit_is_refused_then_an_answer_is_graded_with_explanation(app_db):
    at = _start(AppTest.from_file(APP, default_timeout=30), types=["truefalse"])
    assert "ReLU's derivative is 0 for negative inputs." in [m.value for m in at.markdown]
    _click(at, "Submit")
    assert [w.value for w in at.warning] == ["Give an answer before submitting."]
    assert _responses(app_db) == []

    at.radio[0].set_value("True")
    _click(at, "Submit")
    assert [s.value for s in at.success] == ["Correct."]
    assert any("slope there is 0" in m.value for m in at.markdown)
    assert len(_responses(app_db)) == 1
    assert at.metric[0].value == "1.0 / 1"

    _click(at, "See the session review")
    assert any(s.value == "Session complete" for s in at.subheader)


def test_wrong_answer_shows_the_right_one_and_a_demo_link(app_db):
    at = _start(AppTest.from_file(APP, default_timeout=30), types=["single"])
    at.radio[0].set_value("Dropout")
    _click(at, "Submit")
    assert [e.value for e in at.error] == ["Not quite. The answer: Max pooling"]
    links = [p for p in at.get("page_link") if p.proto.label == "See it live"]
    assert links and "demo=pooling" in links[0].proto.page + links[0].proto.query_string


def test_open_question_is_self_rated_against_key_points(app_db):
    at = _start(AppTest.from_file(APP, default_timeout=30), types=["open"], topics=["regularization"])
    _click(at, "Compare with the model answer")
    assert at.warning and "Write your answer first" in at.warning[0].value
    at.text_area[0].set_value("Units are dropped at random while training; it is switched off at test time.")
    _click(at, "Compare with the model answer")
    assert any("cannot rely on any one of them" in m.value for m in at.markdown)
    at.checkbox[0].check()
    at.checkbox[2].check()
    _click(at, "Record my rating")
    assert at.info[0].value.startswith("You rated your answer as covering 2 of 3 key points")
    (resp,) = _responses(app_db)
    assert resp.score == 2 / 3 and resp.answer["points"] == [0, 2]


def test_numeric_answer_that_is_not_a_number_gets_a_clear_message(app_db):
    at = _start(AppTest.from_file(APP, default_timeout=30), types=["numeric"])
    at.text_input[0].set_value("thirty")
    _click(at, "Submit")
    assert "'thirty' is not a number" in at.warning[0].value
    assert _responses(app_db) == []
    at.text_input[0].set_value("30")
    _click(at, "Submit")
    assert [s.value for s in at.success] == ["Correct."]


def test_progress_page_shows_the_sessions_answers(app_db):
    at = _start(AppTest.from_file(APP, default_timeout=30), types=["truefalse"])
    at.radio[0].set_value("False")
    _click(at, "Submit")
    at.switch_page("views/progress.py").run()
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["1", "0"]
    assert at.get("plotly_chart")


def test_an_uninitialised_database_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert at.error[0].value.startswith("The database is not set up yet. Run `quizapp init`")
