"""AppTests of spaced review, resumable sittings, mistakes, marks and the end-of-session review."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

import quizapp.ui.common as common
from quizapp import review
from quizapp.auth import create_user
from quizapp.db import write_session
from quizapp.identity import Actor
from quizapp.models import ReviewCard, ReviewLog
from tests.ui.conftest import APP

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def ann(app_db, monkeypatch):
    with write_session(app_db) as s:
        user = create_user(session=s, username="ann", role="learner", password="a long enough password")
    who = Actor(user_id=user.id, role="learner")
    monkeypatch.setattr(common, "actor", lambda: who)
    return who


@pytest.fixture
def clock(monkeypatch):
    def travel(when: datetime) -> None:
        monkeypatch.setattr(review, "clock", lambda: when)

    travel(T0)
    return travel


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


def _click(at: AppTest, label: str) -> AppTest:
    matches = [b for b in at.button if b.label == label or b.label.startswith(label)]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    matches[0].click().run()
    assert not at.exception, at.exception
    return at


def _practice(at: AppTest, *, types=None, source=None) -> AppTest:
    at.switch_page("views/practice.py").run()
    if source:
        at.radio[0].set_value(source)
    if types:
        at.multiselect[3].set_value(types)
    return _click(at, "Start")


def _cards(engine) -> dict[str, ReviewCard]:
    with Session(engine) as s:
        return {c.question_id: c for c in s.exec(select(ReviewCard)).all()}


def test_review_a_due_card_see_previews_and_it_leaves_the_queue_then_time_brings_it_back(app_db, ann, clock):
    with write_session(app_db) as s:
        review.save_settings(session=s, actor=ann, new_per_day=0)  # only the card answered below
    at = _practice(_app(), types=["truefalse"])
    at.radio[0].set_value("True")
    _click(at, "Submit")
    # Practice: a full answer may be raised to Easy; the button shows the interval it gives.
    easy = next(b for b in at.button if b.label.startswith("Easy · "))
    assert easy.label.endswith(" d")
    card = _cards(app_db)["s-tf"]
    due_good = review._utc(card.due)

    clock(due_good + timedelta(minutes=5))
    at = _app().run()
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # A new question answered right is in its learning steps (FSRS, as Anki): due again in minutes.
    assert metrics["Learning"] == "1" and metrics["To review"] == "0"
    _click(at, "Review ")
    assert "ReLU's derivative is 0 for negative inputs." in [m.value for m in at.markdown]
    at.radio[0].set_value("True")
    _click(at, "Submit")
    labels = [b.label for b in at.button if b.label.split(" · ")[0] in ("Again", "Hard", "Good", "Easy")]
    assert [lb.split(" · ")[0] for lb in labels] == ["Again", "Hard", "Good", "Easy"]
    assert labels[0].endswith("min")  # Again relearns within minutes
    _click(at, "Easy · ")
    with Session(app_db) as s:
        logs = s.exec(select(ReviewLog).order_by(ReviewLog.id)).all()
    assert [lg.rating for lg in logs] == [3, 4] and [lg.source for lg in logs] == ["practice", "review"]
    _click(at, "See the session review")
    assert any(s.value == "Session complete" for s in at.subheader)
    after = {m.label: m.value for m in at.metric}
    assert after["To review"] == after["Learning"] == "0"  # it left the queue

    clock(review._utc(_cards(app_db)["s-tf"].due) + timedelta(hours=1))
    at = _app().run()
    at.switch_page("views/review.py").run()
    assert {m.label: m.value for m in at.metric}["To review"] == "1"


def test_home_shows_whats_due_with_a_link_into_review(app_db, ann, clock):
    at = _app().run()
    assert any("Nothing due today" in m.value and "new questions" in m.value for m in at.markdown)
    at = _practice(at, types=["truefalse"])
    at.radio[0].set_value("False")  # wrong: Again, due again within minutes
    _click(at, "Submit")
    clock(T0 + timedelta(minutes=15))
    at = _app().run()
    assert any("**1 due today**" in m.value for m in at.markdown)
    assert any(p.proto.label == "Review now" for p in at.get("page_link"))


def test_a_practice_session_resumes_after_a_reload_at_the_same_question(app_db, ann, clock):
    at = _practice(_app(), types=["truefalse", "single"])
    first = [m.value for m in at.markdown]
    at.radio[0].set_value(at.radio[0].options[0])
    _click(at, "Submit")
    _click(at, "Next question")
    second_prompt = [m.value for m in at.markdown if m.value not in first]
    reloaded = _app().run()
    reloaded.switch_page("views/practice.py").run()
    assert not reloaded.exception
    assert any(c.value.startswith("Question 2 of 2") for c in reloaded.caption)
    assert second_prompt and second_prompt[0] in [m.value for m in reloaded.markdown]
    assert reloaded.metric[0].value.startswith("1")  # the first answer's score came back too


def test_end_of_session_review_then_retry_the_ones_missed(app_db, ann, clock):
    at = _practice(_app(), types=["truefalse", "single"])
    for _ in range(2):
        prompt = next(m.value for m in at.markdown if m.value.endswith("?") or m.value.endswith("."))
        wrong = "False" if "ReLU" in prompt else "Dropout"
        at.radio[0].set_value(wrong)
        _click(at, "Submit")
        if any(b.label == "Next question" for b in at.button):
            _click(at, "Next question")
    _click(at, "See the session review")
    assert any(s.value == "Session complete" for s in at.subheader)
    titles = [e.label for e in at.expander]
    assert len(titles) == 2 and all(t.endswith("— wrong") for t in titles)
    assert any(e.value == "Not quite. The answer: Max pooling" for e in at.error)
    _click(at, "Retry the 2 I missed")
    assert any(c.value.startswith("Question 1 of 2") for c in at.caption)


def test_mistakes_and_marked_sources(app_db, ann, clock):
    at = _practice(_app(), source="mistakes")
    assert "No mistakes to practise" in at.warning[0].value
    at = _practice(_app(), types=["truefalse"])
    _click(at, "Mark for later")
    assert any(b.label == "Marked" for b in at.button)
    at.radio[0].set_value("False")
    _click(at, "Submit")
    _click(at, "See the session review")
    _click(at, "Close the review")
    at = _practice(at, source="mistakes")
    assert any(c.value.startswith("Question 1 of 1") for c in at.caption)
    assert "ReLU's derivative is 0 for negative inputs." in [m.value for m in at.markdown]
    _click(at, "End this session")
    _click(at, "Close the review")
    at = _practice(at, source="marked")
    assert any(c.value.startswith("Question 1 of 1") for c in at.caption)


def test_review_settings_are_saved_and_bounded(app_db, ann, clock, monkeypatch):
    import streamlit

    reruns = []
    monkeypatch.setattr(
        streamlit, "rerun", lambda *a, **k: reruns.append(1)
    )  # one run per click: never called
    at = _app().run()
    at.switch_page("views/review.py").run()
    new = next(n for n in at.number_input if n.label.startswith("New questions per day"))
    assert (new.min, new.max) == (0, 500)
    new.set_value(3)
    next(s for s in at.slider if s.label == "Desired retention").set_value(0.85)
    _click(at, "Save settings")
    with Session(app_db) as s:
        got = review.get_settings(session=s, actor=ann)
    assert got == review.Settings(new_per_day=3, reviews_per_day=200, desired_retention=0.85)
    assert {m.label: m.value for m in at.metric}["New"] == "3"
    assert reruns == []


def test_progress_shows_review_stats_and_plain_history(app_db, ann, clock):
    at = _practice(_app(), types=["truefalse"])
    at.radio[0].set_value("True")
    _click(at, "Submit")
    at.switch_page("views/progress.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Questions in review"] == "1" and metrics["Streak"] == "1 day"
    assert float(metrics["Estimated knowledge"]) == pytest.approx(1.0, abs=0.01)  # just answered right
    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # forecast, recall by topic, calendar (+ accuracy by topic)
    (table,) = at.dataframe
    assert table.value["question"].tolist() == ["ReLU's derivative is 0 for negative inputs."]


def test_mark_a_search_hit_then_practise_the_marked(app_db, ann, clock):
    at = _app().run()
    at.switch_page("views/faq.py").run()
    next(t for t in at.text_input if t.label == "Search").set_value("pooling").run()
    assert not at.exception, at.exception
    _click(at, "Mark for later")
    assert any(b.label == "Marked" for b in at.button)
    at = _practice(at, source="marked")
    assert any(c.value.startswith("Question 1 of 1") for c in at.caption)
    assert "Which layer shrinks a feature map by taking the largest value in each window?" in [
        m.value for m in at.markdown
    ]


def test_the_running_score_marks_a_wrong_answer_red(app_db, ann, clock):
    at = _practice(_app(), types=["truefalse"])
    at.radio[0].set_value("False")
    _click(at, "Submit")
    score = at.metric[0]
    assert score.value == "0.0 / 1" and score.delta == "last answer wrong"
    assert score.proto.color == score.proto.MetricColor.RED


def test_each_click_is_one_script_run(app_db, ann, clock, monkeypatch):
    """Start, Submit, a rating, Mark, Next and Retry act in callbacks: none asks for a second run."""
    import streamlit

    reruns = []
    real = streamlit.rerun

    def counting(*args, **kwargs):
        reruns.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "rerun", counting)
    at = _practice(_app(), types=["truefalse", "single"])
    at.radio[0].set_value(at.radio[0].options[1])
    _click(at, "Submit")
    _click(at, "Mark for later")
    if any(b.label.startswith("Easy · ") for b in at.button):
        _click(at, "Easy · ")
    _click(at, "Next question")
    at.radio[0].set_value(at.radio[0].options[1])
    _click(at, "Submit")
    _click(at, "See the session review")
    _click(at, "Close the review")
    assert reruns == []
