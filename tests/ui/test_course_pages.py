"""Issue 12's new instructor views as pages (AppTest): the attempt review, item analysis by text with
choice shares and common answers, assignment settings/close/delete/overrides, roster and join code,
archive, the Account page and the admin's reset and unlock."""

import json

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
from quizapp.assignments import create_assignment, save_answer, start_attempt, submit_attempt
from quizapp.auth import create_user
from quizapp.cohorts import create_cohort, join_cohort
from quizapp.db import write_session
from quizapp.identity import Actor
from quizapp.models import Assignment, AssignmentOverride, Cohort, Enrollment
from quizapp.sessions import sign_in
from quizapp.throttle import get_throttle, reset_default
from quizapp.ui.instructor_reports import heatmap_figure
from tests.ui.conftest import APP

PW = "a long enough password"


def _w(engine, fn, **kw):
    with write_session(engine) as s:
        return fn(session=s, **kw)


@pytest.fixture
def klass(app_db):
    with write_session(app_db) as s:
        users = {
            n: create_user(session=s, username=n, role=r, password=PW)
            for n, r in [("teach", "instructor"), ("boss", "admin"), ("ann", "learner"), ("bob", "learner")]
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
        title="Week 1",
        question_ids=["s-single", "s-tf", "s-num"],
        attempts_allowed=2,
    )
    return app_db, who, cohort.id, a.id


def _take(engine, who, name, a_id, answers):
    t = _w(engine, start_attempt, actor=who[name], assignment_id=a_id)
    for q, ans in answers.items():
        _w(engine, save_answer, actor=who[name], attempt_id=t, question_id=q, answer=ans, time_taken_ms=3000)
    _w(engine, submit_attempt, actor=who[name], attempt_id=t)
    return t


def _page(monkeypatch, who: Actor, page: str, view: str | None = None, **params) -> AppTest:
    """`page` as `who`; on the Teach page, `view` is the open tab (only its content is drawn)."""
    monkeypatch.setattr(common, "actor", lambda: who)
    at = AppTest.from_file(APP, default_timeout=30).run()
    for k, v in params.items():
        at.query_params[k] = v
    if view:
        at.session_state["teach-view"] = view
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _text(at) -> str:
    return "\n".join(
        e.value
        for kind in ("markdown", "caption", "success", "info", "warning", "error")
        for e in at.get(kind)
    )


def test_attempt_review_page_shows_answers_keys_scores_and_times(klass, monkeypatch):
    engine, who, cid, a_id = klass
    t = _take(engine, who, "ann", a_id, {"s-single": "Dropout", "s-num": "30"})
    at = _page(monkeypatch, who["teach"], "views/attempt.py", id=str(t))
    assert at.title[0].value == "ann: Week 1, attempt 1"
    shown = _text(at)
    assert "Which layer shrinks" in shown and "**Their answer:** Dropout" in shown
    assert "**Key:** `Max pooling`" in shown and "*(blank)*" in shown and "time on it 3 s" in shown
    assert "☑ Dropout" in shown and "☐ Max pooling ✓ (key)" in shown
    assert [m.value for m in at.metric][:2] == ["33%", "2 of 3"]
    # A learner has no such page; a bad id gets a word, not a crash.
    monkeypatch.setattr(common, "actor", lambda: who["ann"])
    at = AppTest.from_file(APP, default_timeout=30).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/attempt.py")
    at = _page(monkeypatch, who["teach"], "views/attempt.py", id="nope")
    assert "No attempt of yours" in at.error[0].value


def test_gradebook_links_each_learner_to_their_last_attempt(klass, monkeypatch):
    engine, who, cid, a_id = klass
    t = _take(engine, who, "ann", a_id, {"s-tf": True})
    at = _page(monkeypatch, who["teach"], "views/teach.py")
    book = at.dataframe[0]
    frame = book.value
    row = frame[frame["learner"] == "ann"].iloc[0]
    assert row["Week 1: review"] == f"attempt?id={t}"
    assert json.loads(book.proto.columns)["Week 1: review"]["type_config"]["display_text"] == "review last"
    # The learner section picks any attempt and links to its review.
    assert any(s.label == "Review an attempt" for s in at.selectbox)


def test_item_analysis_by_text_with_shares_and_common_answers(klass, monkeypatch):
    engine, who, cid, a_id = klass
    _take(engine, who, "ann", a_id, {"s-single": "Max pooling", "s-num": "30"})
    _take(engine, who, "bob", a_id, {"s-single": "Dropout", "s-num": "31"})
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Item analysis")
    frames = [d.value for d in at.dataframe]
    items = next(f for f in frames if "facility" in f.columns)
    assert items["question"].iloc[0].startswith("Which layer shrinks a feature map")
    shares = next(f for f in frames if "share" in f.columns)
    rows = {r["choice"]: r for _, r in shares.iterrows()}
    assert rows["Max pooling"]["key"] == "✓" and rows["Max pooling"]["share"] == pytest.approx(0.5)
    assert rows["Batch norm"]["share"] == 0
    common_ = next(f for f in frames if "learners" in f.columns)
    assert sorted(zip(common_["answer"], common_["learners"], common_["right"], strict=True)) == [
        ("30", 1, "✓"),
        ("31", 1, ""),
    ]


def test_assignment_settings_close_delete_and_override(klass, monkeypatch):
    engine, who, cid, a_id = klass
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Assignments")
    next(t for t in at.text_input if t.label == "Assignment title").set_value("Week one")
    next(c for c in at.checkbox if c.label.startswith("Shuffle") and c.key == f"ed-sh-{a_id}").check()
    _button(at, "Save changes").click().run()
    assert not at.exception and any(s.value.startswith("Saved") for s in at.success), [
        e.value for e in at.error
    ]
    with Session(engine) as s:
        a = s.get(Assignment, a_id)
        assert (a.title, a.shuffle) == ("Week one", True)
    # An override for bob: one extra attempt.
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Assignments")
    next(n for n in at.number_input if n.label == "Extra attempts").set_value(1)
    _button(at, "Save override").click().run()
    assert not at.exception
    with Session(engine) as s:
        [o] = s.exec(select(AssignmentOverride)).all()
        assert o.extra_attempts == 1
    # Once started: the title is locked; close now; delete is refused.
    _take(engine, who, "ann", a_id, {"s-tf": True})
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Assignments")
    assert next(t for t in at.text_input if t.label == "Assignment title").disabled
    assert _button(at, "Delete").disabled
    _button(at, "Close now").click().run()
    assert any("Closed Week one" in s.value for s in at.success)
    with Session(engine) as s:
        assert s.get(Assignment, a_id).due_at is not None


def test_delete_an_unstarted_assignment(klass, monkeypatch):
    engine, who, cid, a_id = klass
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Assignments")
    _button(at, "Delete").click().run()
    assert any("Deleted Week 1" in s.value for s in at.success)
    with Session(engine) as s:
        assert s.get(Assignment, a_id) is None


def test_roster_remove_join_code_and_archive(klass, monkeypatch):
    engine, who, cid, a_id = klass
    _take(engine, who, "ann", a_id, {"s-tf": True})
    at = _page(monkeypatch, who["teach"], "views/teach.py", view="Roster")
    _button(at, "Remove").click().run()  # the first learner: ann
    assert any("Removed ann" in s.value for s in at.success)
    assert list(at.dataframe[0].value["learner"]) == ["bob"]  # the roster
    at.session_state["teach-view"] = "Gradebook"
    at.run()
    assert "ann (removed)" in list(at.dataframe[0].value["learner"])
    at.session_state["teach-view"] = "Roster"
    at.run()
    with Session(engine) as s:
        old = s.get(Cohort, cid).join_code
    _button(at, "New join code").click().run()
    _button(at, "Turn joining off").click().run()
    with Session(engine) as s:
        c = s.get(Cohort, cid)
        assert c.join_code != old and not c.join_open
        assert s.exec(select(Enrollment.removed_at).where(Enrollment.user_id == who["ann"].user_id)).one()
    _button(at, "Archive this cohort").click().run()
    assert not at.exception
    assert any("No cohorts yet" in i.value for i in at.info)  # hidden from the default list
    next(t for t in at.toggle if t.label == "Show archived cohorts").set_value(True).run()
    assert "Archived: read-only." in _text(at)
    at.session_state["teach-view"] = "Assignments"
    at.run()
    assert _button(at, "Close now").disabled


def test_account_page_changes_the_password(klass, monkeypatch):
    engine, who, cid, a_id = klass
    at = _page(monkeypatch, who["bob"], "views/account_settings.py")
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].set_value(PW)
    fields["New password (at least 10 characters)"].set_value("a fresh long password")
    fields["New password again"].set_value("a fresh long password")
    _button(at, "Change password").click().run()
    assert any("password is changed" in s.value for s in at.success)
    with write_session(engine) as s:
        assert sign_in(session=s, username="bob", password="a fresh long password")


def test_admin_resets_and_unlocks(klass, monkeypatch):
    engine, who, cid, a_id = klass
    monkeypatch.delenv("QUIZAPP_REDIS_URL", raising=False)
    reset_default()
    throttle = get_throttle()
    for _ in range(throttle.limits.free_failures):
        throttle.failed("ann", "10.0.0.9")
    at = _page(monkeypatch, who["boss"], "views/users.py")
    next(s for s in at.selectbox if s.label == "Account").select_index(0)  # ann, by username
    at.run()
    _button(at, "Unlock").click().run()
    assert throttle.wait("ann", "10.0.0.9") == 0
    assert any("Sign-in delays for ann cleared" in s.value for s in at.success)
    reset_default()
    _button(at, "Reset password").click().run()
    [msg] = [s.value for s in at.success if "New password for ann" in s.value]
    new = msg.split("`")[1]
    with write_session(engine) as s:
        assert sign_in(session=s, username="ann", password=new)
    at.run()
    assert not [s for s in at.success if "New password for" in s.value]  # shown once


@pytest.mark.parametrize("n", [2, 40])
def test_heatmap_labels_every_learner_with_a_readable_colour_bar(n):
    users = [f"learner-{i:02d}" for i in range(n)]
    heat = {
        "users": users,
        "titles": ["CNNs", "Regularization", "Activation functions"],
        "scores": [[0.5, 1.0, None]] * n,
    }
    fig = heatmap_figure(heat)
    assert list(fig.layout.yaxis.tickvals) == users and fig.layout.yaxis.tickmode == "array"
    assert fig.layout.height >= 24 * n + 150
    bar = fig.data[0].colorbar
    assert bar.tickformat == ".0%" and bar.title.text == "mean score" and bar.thickness >= 15
