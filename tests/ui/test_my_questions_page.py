"""The My questions page (AppTest): upload with a dry-run preview then import, the authoring form with
its live preview and field errors, publishing, downloads, and who may open the page."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
from quizapp.auth import create_user
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.models import Question
from quizapp.questions import list_questions
from tests.ui.conftest import APP

PAGE = "views/my_questions.py"
GIFT = b"""\
$CATEGORY: $course$/cnn

::Pooling window::Which layer keeps the largest value in each window? {
=Max pooling
~Average pooling
####Max pooling keeps the largest activation per window.
}

::Relu slope::ReLU has slope zero for negative inputs. {T
####For x below zero ReLU is flat.}

::Pairs::Match each layer to its job. {
=Pooling -> shrinks the map
=Dropout -> drops units
=Softmax -> makes probabilities
}
"""


@pytest.fixture
def people(app_db):
    with write_session(app_db) as s:
        users = {
            n: create_user(session=s, username=n, role=r, password="a long enough password")
            for n, r in [("teach", "instructor"), ("boss", "admin"), ("ann", "learner")]
        }
    return app_db, {n: Actor(user_id=u.id, role=u.role) for n, u in users.items()}


def _page(monkeypatch, who: Actor, view: str | None = None) -> AppTest:
    monkeypatch.setattr(common, "actor", lambda: who)
    at = AppTest.from_file(APP, default_timeout=30).run()
    if view:
        at.session_state["mq-view"] = view
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _owned(engine) -> list[Question]:
    with read_session(engine) as s:
        return list(
            s.exec(select(Question).where(Question.owner_id.is_not(None)).order_by(Question.id)).all()
        )


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_upload_previews_then_imports(people, monkeypatch):
    engine, who = people
    at = _page(monkeypatch, who["teach"], "Import a file")
    at.file_uploader(key="mq-upload").set_value(("cnn.gift", GIFT, "text/plain")).run()
    assert not at.exception, at.exception
    # The dry run: two to import, one skipped, nothing stored yet.
    assert any("2 question(s) will be imported" in m.value for m in at.markdown)
    assert any("1 question(s) will be skipped" in w.value for w in at.warning)
    assert _owned(engine) == []
    _button(at, "Import 2 question(s)").click().run()
    assert not at.exception, at.exception
    assert any("Imported" in s.value for s in at.success)
    rows = _owned(engine)
    assert [r.id for r in rows] == [
        f"u{who['teach'].user_id}-pooling-window",
        f"u{who['teach'].user_id}-relu-slope",
    ]
    assert not any(r.published for r in rows)


def test_a_refused_upload_offers_no_import(people, monkeypatch):
    engine, who = people
    at = _page(monkeypatch, who["teach"], "Import a file")
    bad = (
        b"$CATEGORY: $course$/cnn\n\n::Odd::Which are layers? {\n~%42%Convolution\n~%58%Pooling\n~Banana\n}\n"
    )
    at.file_uploader(key="mq-upload").set_value(("bad.gift", bad, "text/plain")).run()
    assert any("refused: nothing can be imported" in e.value for e in at.error)
    assert not [b for b in at.button if b.label.startswith("Import ")]
    assert _owned(engine) == []


def _fill(at, **values):
    for key, value in values.items():
        widget = at.get("text_area") + at.get("text_input") + at.get("selectbox") + at.get("multiselect")
        target = next(w for w in widget if w.key == "mq-f-" + key)
        target.set_value(value)
        at.run()
        assert not at.exception, at.exception
    return at


def test_authoring_form_previews_reports_field_errors_and_saves(people, monkeypatch):
    engine, who = people
    at = _page(monkeypatch, who["teach"], "Write a question")
    _fill(
        at,
        type="single",
        topic="cnn",
        title="Stride question",
        prompt="Which **stride** halves the width?",
        choices="1\n2\n3",
        explanation="A stride of 2 visits every other position.",
    )
    # No right choice yet: an answer error, Save disabled, no preview.
    assert any(e.value.replace("\\", "").startswith("answer:") for e in at.error)
    assert _button(at, "Save question").disabled
    _fill(at, single="2")
    assert not at.error
    # The preview draws the prompt as markdown and the same answer widget practice uses.
    assert any(m.value == "Which **stride** halves the width?" for m in at.markdown)
    preview = next(r for r in at.radio if r.key == "mq-preview-answer")
    assert preview.options == ["1", "2", "3"]
    _button(at, "Save question").click().run()
    assert not at.exception, at.exception
    [row] = _owned(engine)
    assert row.id == f"u{who['teach'].user_id}-stride-question" and row.type == "single" and not row.published

    # A bad difficulty-free edit: an empty explanation is a field error and nothing new is stored.
    at.session_state["mq-view"] = "My questions"
    at.run()
    _button(at, "Edit").click().run()
    assert at.radio(key="mq-view").value == "Write a question"
    _fill(at, explanation="")
    assert any(e.value.replace("\\", "").startswith("explanation:") for e in at.error)
    _fill(at, explanation="A stride of 2 skips every other position, so the width halves.")
    _button(at, "Save changes").click().run()
    assert _owned(engine)[0].current_version == 2


def test_publish_makes_it_public_and_admin_can_unpublish(people, monkeypatch):
    engine, who = people
    from quizapp import owned_questions as oq

    with write_session(engine) as s:
        qid = oq.save_question(
            session=s,
            actor=who["teach"],
            data={
                "kind": "quiz",
                "type": "truefalse",
                "topic": "cnn",
                "difficulty": 1,
                "title": "Pool flag",
                "prompt": "Max pooling has no weights.",
                "answer": True,
                "explanation": "It takes a maximum; nothing is learned.",
            },
        ).id
    at = _page(monkeypatch, who["teach"])
    assert [e.label for e in at.expander] == ["Pool flag · Private"]
    _button(at, "Publish").click().run()
    assert [e.label for e in at.expander] == ["Pool flag · Published"]
    with read_session(engine) as s:
        assert qid in {v.id for v in list_questions(session=s)}

    at = _page(monkeypatch, who["boss"])
    assert not at.expander  # the admin's own list is empty ...
    at.toggle(key="mq-everyone").set_value(True).run()
    assert [e.label for e in at.expander] == ["Pool flag · Published"]  # ... every instructor's is not
    _button(at, "Unpublish").click().run()
    with read_session(engine) as s:
        assert qid not in {v.id for v in list_questions(session=s)}


def test_download_prepares_each_format(people, monkeypatch):
    engine, who = people
    at = _page(monkeypatch, who["teach"], "Import a file")
    at.file_uploader(key="mq-upload").set_value(("cnn.gift", GIFT, "text/plain")).run()
    _button(at, "Import 2 question(s)").click().run()
    at.session_state["mq-view"] = "Download"
    at.run()
    for fmt, label in [("gift", "GIFT"), ("moodle-xml", "Moodle XML"), ("apkg", "Anki package (.apkg)")]:
        at.radio(key="mq-export-format").set_value(fmt).run()
        _button(at, "Prepare the file").click().run()
        assert not at.exception, at.exception
        assert at.session_state["mq-export"][0] == fmt and at.session_state["mq-export"][2] == 2
        assert any(f"Download 2 question(s) as {label}" in str(e.proto) for e in at.get("download_button"))
    assert (
        b"Pooling window" in at.session_state["mq-export"][1] or at.session_state["mq-export"][1][:2] == b"PK"
    )


def test_learners_do_not_get_the_page(people, monkeypatch):
    _, who = people
    monkeypatch.setattr(common, "actor", lambda: who["ann"])
    at = AppTest.from_file(APP, default_timeout=30).run()
    with pytest.raises(Exception):  # noqa: B017 - the page is not in a learner's navigation
        at.switch_page(PAGE).run()


def test_teach_picker_offers_my_private_question_and_hides_it_from_others(people, monkeypatch):
    engine, who = people
    from quizapp import owned_questions as oq
    from quizapp.cohorts import create_cohort

    with write_session(engine) as s:
        other = create_user(session=s, username="other", role="instructor", password="a long enough password")
        who["other"] = Actor(user_id=other.id, role=other.role)
        qid = oq.save_question(
            session=s,
            actor=who["teach"],
            data={
                "kind": "quiz",
                "type": "truefalse",
                "topic": "cnn",
                "difficulty": 1,
                "prompt": "Private pooling statement: max pooling has no weights.",
                "answer": True,
                "explanation": "It takes a maximum; nothing is learned.",
            },
        ).id
        for name in ("teach", "other"):
            create_cohort(session=s, actor=who[name], name=f"{name} cohort")

    def picker_options(name: str) -> list[str]:
        monkeypatch.setattr(common, "actor", lambda: who[name])
        at = AppTest.from_file(APP, default_timeout=30).run()
        at.session_state["teach-view"] = "Assignments"
        at.session_state["asg-how"] = "One by one"
        at.switch_page("views/teach.py").run()
        assert not at.exception, at.exception
        return next(m for m in at.multiselect if m.label == "Questions").options

    assert any("Private pooling statement" in o for o in picker_options("teach"))
    theirs = picker_options("other")
    assert theirs and not any("Private pooling statement" in o for o in theirs)
    assert qid.startswith(f"u{who['teach'].user_id}-")
