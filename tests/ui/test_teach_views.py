"""Issue 17 (AppTest): on the Teach page only the open tab is built, figures are built once per
version of the data they draw, long tables send one page and user strings are escaped in figures;
on Teach, Assignments and Account each click is one script run."""

import json

import pytest
import streamlit
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
import quizapp.ui.instructor_reports as reports
from quizapp.assignments import create_assignment, save_answer, start_attempt, submit_attempt
from quizapp.auth import create_user
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import write_session
from quizapp.identity import Actor
from quizapp.models import Assignment, AssignmentOverride, Cohort, User
from quizapp.sample_data import make_sample_data
from quizapp.sessions import sign_in
from tests.ui.conftest import APP

EVIL = '<a href="https://evil.example">x</a>'


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


@pytest.fixture
def klass(app_db):
    with write_session(app_db) as s:
        users = {
            n: create_user(session=s, username=n, role=r, password="a long enough password")
            for n, r in [("teach", "instructor"), ("ann", "learner"), ("bob", "learner")]
        }
    who = {n: Actor(user_id=u.id, role=u.role) for n, u in users.items()}
    cohort = _w(app_db, create_cohort, actor=who["teach"], name="Evening")
    for n in ("ann", "bob"):
        _w(app_db, join_cohort, actor=who[n], code=cohort.join_code)
    a = _w(
        app_db,
        create_assignment,
        actor=who["teach"],
        cohort_id=cohort.id,
        title=EVIL,
        question_ids=["s-single", "s-tf", "s-num"],
        attempts_allowed=3,
    )
    return app_db, who, cohort.id, a.id


@pytest.fixture(autouse=True)
def fresh_figures():
    reports.clear_figures()
    yield
    reports.clear_figures()


@pytest.fixture
def built(monkeypatch):
    """How many times each figure builder ran."""
    counts = {"histogram": 0, "heatmap": 0, "topics": 0, "gradebook": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(reports, "histogram_figure", counting("histogram", reports.histogram_figure))
    monkeypatch.setattr(reports, "heatmap_figure", counting("heatmap", reports.heatmap_figure))
    monkeypatch.setattr(reports, "topics_figure", counting("topics", reports.topics_figure))
    monkeypatch.setattr(reports, "gradebook", counting("gradebook", reports.gradebook))
    return counts


def _take(engine, who, name, a_id, answers):
    t = _w(engine, start_attempt, actor=who[name], assignment_id=a_id)
    for q, ans in answers.items():
        _w(engine, save_answer, actor=who[name], attempt_id=t, question_id=q, answer=ans, time_taken_ms=3000)
    _w(engine, submit_attempt, actor=who[name], attempt_id=t)
    return t


def _teach(monkeypatch, who: Actor, view: str | None = None) -> AppTest:
    monkeypatch.setattr(common, "actor", lambda: who)
    at = AppTest.from_file(APP, default_timeout=60).run()
    if view:
        at.session_state["teach-view"] = view
    at.switch_page("views/teach.py").run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, view: str) -> AppTest:
    at.session_state["teach-view"] = view
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


# --- only the open tab --------------------------------------------------------------------------


def test_only_the_open_tab_is_computed_and_drawn(klass, monkeypatch, built):
    engine, who, cid, a_id = klass
    _take(engine, who, "ann", a_id, {"s-tf": True})
    at = _teach(monkeypatch, who["teach"], view="Item analysis")
    # The item analysis is drawn; the gradebook is neither read nor drawn, no figure is built.
    assert any("facility" in d.value.columns for d in at.dataframe)
    assert built == {"histogram": 0, "heatmap": 0, "topics": 0, "gradebook": 0}
    assert not at.get("plotly_chart") and not at.metric
    assert not [t for t in at.text_input if t.label == "Title"]  # the Assignments tab's form
    _open(at, "Gradebook")
    assert built["gradebook"] == 1 and built["heatmap"] == 1 and built["histogram"] == 1
    assert len(at.get("plotly_chart")) == 3
    assert not any("facility" in d.value.columns for d in at.dataframe)
    _open(at, "Assignments")
    assert any(t.label == "Title" for t in at.text_input)
    assert built["gradebook"] == 1 and not at.get("plotly_chart")
    _open(at, "Roster")
    assert list(at.dataframe[0].value["learner"]) == ["ann", "bob"]
    assert built["gradebook"] == 1 and not any(t.label == "Title" for t in at.text_input)


def test_every_tab_is_drawn_when_asked_for_the_old_way(klass, monkeypatch, built):
    """QUIZAPP_TEACH_ALL_TABS=1 (what bench/pages.py compares against) draws all four at once."""
    engine, who, cid, a_id = klass
    _take(engine, who, "ann", a_id, {"s-tf": True})
    monkeypatch.setenv("QUIZAPP_TEACH_ALL_TABS", "1")
    at = _teach(monkeypatch, who["teach"])
    assert built["heatmap"] == 1
    assert any("facility" in d.value.columns for d in at.dataframe)
    assert any(t.label == "Title" for t in at.text_input)


# --- figures once per version of their data -----------------------------------------------------


def test_figures_are_built_once_per_version_of_the_data(klass, monkeypatch, built):
    engine, who, cid, a_id = klass
    _take(engine, who, "ann", a_id, {"s-tf": True})
    at = _teach(monkeypatch, who["teach"])
    first = _specs(at)
    assert built == {"histogram": 1, "heatmap": 1, "topics": 1, "gradebook": 1}
    at.run()  # a rerun with unchanged data: read again, not built again
    assert built == {"histogram": 1, "heatmap": 1, "topics": 1, "gradebook": 2}
    assert _specs(at) == first
    # A new finished attempt changes the sums: the class figures are built again, and show it.
    _take(engine, who, "bob", a_id, {"s-tf": True, "s-num": "30"})
    at.run()
    assert built["histogram"] == 2 and built["heatmap"] == 2
    assert built["topics"] == 1  # ann's own topics did not change
    assert _specs(at) != first and "bob" in _specs(at)[1]


def test_cached_figure_keys_on_the_data():
    calls = []

    def build(data):
        calls.append(data)
        return reports.histogram_figure(data)

    rows = [{"assignment": "Week 1", "best": 0.5}]
    a = reports.cached_figure("histogram", rows, build)
    assert reports.cached_figure("histogram", [dict(r) for r in rows], build) is a
    assert len(calls) == 1
    reports.cached_figure("histogram", rows + [{"assignment": "Week 1", "best": 1.0}], build)
    assert len(calls) == 2


# --- one page of a long table -------------------------------------------------------------------


@pytest.fixture
def big_class(app_db):
    with write_session(app_db) as s:
        make_sample_data(session=s, learners=120, cohort="Big", assignments=1, questions=4)
    with Session(app_db) as s:
        owner = s.exec(select(User).where(User.username == "instructor")).one()
    return app_db, Actor(user_id=owner.id, role="instructor")


def test_long_tables_send_one_page(big_class, monkeypatch):
    engine, owner = big_class
    at = _teach(monkeypatch, owner)
    assert at.metric[0].value == "120"
    book = at.dataframe[0].value
    assert len(book) == 50
    names = list(book["learner"])
    assert names == sorted(names)
    assert any(c.value == "learners 1-50 of 120" for c in at.caption)
    heat = json.loads(_specs(at)[1])["data"][0]
    # The heatmap shows the same page: its learners who finished an attempt (most of the 50).
    assert 30 < len(heat["y"]) <= 50 and heat["y"] == [n for n in names if n in heat["y"]]
    next(n for n in at.number_input if n.label == "Page").set_value(3).run()
    last = list(at.dataframe[0].value["learner"])
    assert len(last) == 20 and not set(last) & set(names)
    assert any(c.value == "learners 101-120 of 120" for c in at.caption)
    # A bigger page size: fewer pages, the page number follows.
    next(s for s in at.selectbox if s.label == "Rows per page").set_value(100).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 20 and any(c.value == "learners 101-120 of 120" for c in at.caption)
    # The CSV still holds every learner.
    csv = next(d for d in at.get("download_button") if d.label == "Gradebook (CSV)")
    assert csv is not None
    _open(at, "Roster")
    assert len(at.dataframe[0].value) == 50


# --- escaped in figures -------------------------------------------------------------------------


def test_instructor_titles_are_escaped_in_figures(klass, monkeypatch):
    engine, who, cid, a_id = klass
    _take(engine, who, "ann", a_id, {"s-tf": True})
    at = _teach(monkeypatch, who["teach"])
    histogram = _specs(at)[0]
    assert "&lt;a href=" in histogram and "<a" not in histogram
    names = [t["name"] for t in json.loads(histogram)["data"]]
    assert names == ['&lt;a href="https://evil.example"&gt;x&lt;/a&gt;']


def test_figure_builders_escape_every_user_string():
    heat = {
        "users": ["<b>ann</b>"],
        "user_ids": [1],
        "topics": ["cnn"],
        "titles": ["<i>CNN & co</i>"],
        "scores": [[0.5]],
    }
    fig = reports.heatmap_figure(heat).to_plotly_json()
    blob = json.dumps(fig)
    assert "<b>" not in blob and "<i>" not in blob and "&lt;b&gt;ann&lt;/b&gt;" in blob
    assert fig["layout"]["xaxis"]["ticktext"] == ["&lt;i&gt;CNN &amp; co&lt;/i&gt;"]
    bars = reports.topics_figure({"username": EVIL, "topics": [{"title": EVIL, "score": 0.5}]})
    blob = json.dumps(bars.to_plotly_json())
    assert "<a" not in blob and "&lt;a href" in blob
    assert reports.plotly_text("a < b & c > d") == "a &lt; b &amp; c &gt; d"


# --- one script run per click -------------------------------------------------------------------


@pytest.fixture
def reruns(monkeypatch):
    calls = []
    real = streamlit.rerun

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "rerun", counting)
    return calls


def test_each_teach_click_is_one_script_run(klass, monkeypatch, reruns):
    """Create, save, override, close, remove, join code and archive act in callbacks: the run the
    click starts shows the result, none asks for a second run."""
    engine, who, cid, a_id = klass
    at = _teach(monkeypatch, who["teach"], view="Assignments")
    next(t for t in at.text_input if t.label == "Title").set_value("Week 2")
    next(n for n in at.number_input if n.label == "How many questions").set_value(2)
    _button(at, "Create assignment").click().run()
    assert any(s.value.startswith("Created Week 2") for s in at.success)
    # A refusal shows where it was made and keeps what was typed.
    next(t for t in at.text_input if t.label == "Title").set_value("Week 2")
    _button(at, "Create assignment").click().run()
    assert "already has an assignment" in at.error[0].value
    assert next(t for t in at.text_input if t.label == "Title").value == "Week 2"
    next(t for t in at.text_input if t.key == f"ed-title-{a_id}").set_value("Week one")
    next(b for b in at.button if b.label == "Save changes" and b.form_id == f"edit-{a_id}").click().run()
    assert any(s.value == "Saved " + common.plain(EVIL) + "." for s in at.success)
    next(n for n in at.number_input if n.key == f"ov-extra-{a_id}").set_value(2)
    next(b for b in at.button if b.label == "Save override" and b.form_id == f"override-{a_id}").click().run()
    assert any("Saved the override for ann" in s.value for s in at.success)
    next(b for b in at.button if b.key == f"close-{a_id}").click().run()
    assert any("Closed Week one" in s.value for s in at.success)
    with Session(engine) as s:
        a = s.get(Assignment, a_id)
        assert a.title == "Week one" and a.due_at is not None
        [o] = s.exec(select(AssignmentOverride)).all()
        assert (o.user_id, o.extra_attempts) == (who["ann"].user_id, 2)
    _open(at, "Roster")
    next(s for s in at.selectbox if s.label == "Remove a learner").set_value(who["bob"].user_id)
    _button(at, "Remove").click().run()
    assert any("Removed bob" in s.value for s in at.success)
    _button(at, "New join code").click().run()
    assert any(s.value.startswith("A new join code is set") for s in at.success)
    _button(at, "Archive this cohort").click().run()
    with Session(engine) as s:
        assert s.get(Cohort, cid).archived_at is not None
    assert not at.exception and reruns == []


def test_each_learner_click_on_assignments_is_one_script_run(klass, monkeypatch, reruns):
    """Start, save, change, submit, back and resume act in callbacks on the Assignments page."""
    engine, who, cid, a_id = klass
    monkeypatch.setattr(common, "actor", lambda: who["ann"])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/assignments.py").run()
    _button(at, "Start attempt 1 of 3").click().run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("0 of 3 answered") for c in at.caption)
    # Saving with nothing picked: a word, nothing stored.
    first = at.radio[0]
    next(b for b in at.button if b.label == "Save answer" and b.form_id == first.form_id).click().run()
    assert any(w.value == "Give an answer before saving." for w in at.warning)
    first = at.radio[0]
    first.set_value(first.options[0])
    next(b for b in at.button if b.label == "Save answer" and b.form_id == first.form_id).click().run()
    assert any(c.value.startswith("1 of 3 answered") for c in at.caption)
    _button(at, "Back to my assignments").click().run()
    _button(at, "Resume attempt 1").click().run()
    assert any(c.value.startswith("1 of 3 answered") for c in at.caption)
    next(c for c in at.checkbox if c.label.startswith("I have finished")).check().run()
    _button(at, "Submit attempt").click().run()
    assert at.success[0].value.startswith("Submitted. Score:")
    assert not at.exception and reruns == []


def test_account_password_change_is_one_script_run(klass, monkeypatch, reruns):
    engine, who, cid, a_id = klass
    monkeypatch.setattr(common, "actor", lambda: who["bob"])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/account_settings.py").run()

    def fill(old, new, again):
        fields = {t.label: t for t in at.text_input}
        fields["Current password"].set_value(old)
        fields["New password (at least 10 characters)"].set_value(new)
        fields["New password again"].set_value(again)
        _button(at, "Change password").click().run()
        assert not at.exception, at.exception

    fill("a long enough password", "a fresh long password", "another long password")
    assert at.error[0].value == "The two new passwords differ."
    assert {t.label: t.value for t in at.text_input}["Current password"] == "a long enough password"  # kept
    fill("not the password", "a fresh long password", "a fresh long password")
    assert at.error and not at.success
    fill("a long enough password", "a fresh long password", "a fresh long password")
    assert any("password is changed" in s.value for s in at.success)
    assert all(t.value == "" for t in at.text_input)  # a new, empty form
    with write_session(engine) as s:
        assert sign_in(session=s, username="bob", password="a fresh long password")
    assert reruns == []
