"""The keyboard helper: pages still run with it, and it sends only its settings, as integers."""

from streamlit.testing.v1 import AppTest

from quizapp.ui.keys import _SCRIPT, caption_text
from tests.ui.conftest import APP


def _html(at: AppTest) -> list[str]:
    return [e.proto.body for e in at.get("html")]


def _keys_page(choices: int = 0, ratings: bool = False, focus: bool = True) -> AppTest:
    def page(choices, ratings, focus):  # type: ignore[no-untyped-def]
        from quizapp.ui.keys import keyboard

        keyboard(choices=choices, ratings=ratings, focus=focus)

    at = AppTest.from_function(page, args=(choices, ratings, focus), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def test_choice_keys_are_captioned_and_sent_as_integers():
    at = _keys_page(choices=12)  # more than nine options: keys reach the first nine
    assert [c.value for c in at.caption] == ["Keys: 1-9 pick an option · Enter submits"]
    (body,) = _html(at)
    assert 'data-choices="9" data-ratings="0" data-focus="1"' in body
    assert body.endswith(f"<script>{_SCRIPT}</script>")
    assert at.get("html")[0].proto.unsafe_allow_javascript


def test_ratings_and_a_text_question():
    at = _keys_page(ratings=True, focus=False)
    assert [c.value for c in at.caption] == ["Keys: 1-4 rate (Again, Hard, Good, Easy)"]
    assert 'data-choices="0" data-ratings="1" data-focus="0"' in _html(at)[0]
    assert not _keys_page().caption  # focus only: no key to name
    assert caption_text(1) == "Keys: 1 picks the option · Enter submits"


def test_the_script_is_guarded_against_stacking():
    assert "if (window.__quizappKeys) return;" in _SCRIPT
    assert "{" in _SCRIPT and "%" not in _SCRIPT  # a constant, never formatted


def test_practice_page_runs_with_the_keys(app_db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/practice.py").run()
    at.multiselect[3].set_value(["single"])
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    assert "Keys: 1-3 pick an option · Enter submits" in [c.value for c in at.caption]
    assert any('data-choices="3"' in b for b in _html(at))
    at.radio[0].set_value("Max pooling")
    next(b for b in at.button if b.label == "Submit").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Correct."]
    assert not [b for b in _html(at) if "data-quizapp-keys" in b]  # feedback: keys are off
