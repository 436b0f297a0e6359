import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
from quizapp.auth import create_user
from quizapp.db import write_session
from quizapp.identity import Actor
from quizapp.models import Attempt, Cohort
from tests.ui.conftest import APP


@pytest.fixture
def people(app_db):
    with write_session(app_db) as s:
        users = {
            n: create_user(session=s, username=n, role=r, password="a long enough password")
            for n, r in [("teach", "instructor"), ("ann", "learner")]
        }
    return {n: Actor(user_id=u.id, role=u.role) for n, u in users.items()}


def _as(monkeypatch, who: Actor) -> AppTest:
    monkeypatch.setattr(common, "actor", lambda: who)
    return AppTest.from_file(APP, default_timeout=30)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_instructor_sets_work_and_learner_takes_it(app_db, people, monkeypatch):
    at = _as(monkeypatch, people["teach"]).run()
    at.switch_page("views/teach.py").run()
    assert not at.exception
    at.text_input[0].set_value("<b>Evening</b> class")
    _button(at, "Create").click().run()
    assert "Learners join with the code" in at.success[0].value
    with Session(app_db) as s:
        code = s.exec(select(Cohort)).one().join_code
    at.session_state["teach-view"] = "Assignments"  # only the open tab is drawn
    at.run()
    title = next(t for t in at.text_input if t.label == "Title")
    title.set_value("Week 1")
    # cnn and activation functions hold exactly three sample questions: two drawn as radios
    topics = next(m for m in at.multiselect if m.label == "Topics (none = all)")
    topics.set_value(["cnn", "activation-functions"])
    next(n for n in at.number_input if n.label == "How many questions").set_value(3)
    _button(at, "Create assignment").click().run()
    assert not at.exception, at.exception
    assert any("Week 1" in m.value for m in at.markdown)

    at = _as(monkeypatch, people["ann"]).run()
    at.switch_page("views/assignments.py").run()
    at.text_input[0].set_value(code)
    _button(at, "Join").click().run()
    assert at.success[0].value == r"You joined \<b\>Evening\</b\> class."  # escaped: shown as typed
    _button(at, "Start attempt 1 of 1").click().run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Week 1"
    first_choice = at.radio[0]
    first_choice.set_value(first_choice.options[0])
    next(b for b in at.button if b.label == "Save answer" and b.form_id == first_choice.form_id).click().run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("1 of 3 answered") for c in at.caption)
    assert any(m.value.startswith("Saved: ") for m in at.markdown)
    next(c for c in at.checkbox if c.label.startswith("I have finished")).check().run()
    _button(at, "Submit attempt").click().run()
    assert at.success[0].value.startswith("Submitted. Score:")
    with Session(app_db) as s:
        assert s.exec(select(Attempt)).one().state == "finished"


def test_learner_menus_have_no_teaching_pages(app_db, people, monkeypatch):
    at = _as(monkeypatch, people["ann"])
    at.run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/teach.py")


def test_anonymous_visitor_is_asked_to_sign_in_for_assignments(app_db, monkeypatch):
    at = _as(monkeypatch, Actor.anonymous()).run()
    with pytest.raises(ValueError):
        at.switch_page("views/assignments.py")


def test_markdown_in_user_typed_names_is_inert():
    from quizapp.ui.common import plain

    assert plain("[click](javascript:alert(1)) **x** <img src=x onerror=alert(1)>") == (
        r"\[click\]\(javascript\:alert\(1\)\) \*\*x\*\* \<img src\=x onerror\=alert\(1\)\>"
    )


def test_instructor_reads_gradebook_item_analysis_and_a_learner(app_db, monkeypatch):
    from quizapp.models import User
    from quizapp.sample_data import make_sample_data

    with write_session(app_db) as s:
        make_sample_data(session=s, learners=12, cohort="Sample", assignments=1, questions=4)
    with Session(app_db) as s:
        owner = s.exec(select(User).where(User.username == "instructor")).one()
    at = _as(monkeypatch, Actor(user_id=owner.id, role="instructor")).run()
    at.switch_page("views/teach.py").run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:2] == ["12", "1"]
    assert len(at.get("plotly_chart")) >= 3  # score distribution, topic heatmap, a learner's topics
    assert any(d.label == "Gradebook (CSV)" for d in at.get("download_button"))
    assert len(at.dataframe) == 2  # gradebook, the learner's attempts: the other tabs are not drawn
    at.session_state["teach-view"] = "Item analysis"
    at.run()
    assert not at.exception, at.exception
    assert not at.metric and not at.get("plotly_chart")  # the gradebook is not drawn now
    assert any("facility" in d.value.columns for d in at.dataframe)
