"""Keys and focus in a real browser: 1-9 pick, Enter submits, 1-4 rate, text inputs get the focus."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from quizapp.ui.keys import _SCRIPT
from tests.e2e.conftest import running_server, screenshot, wait_idle

pytestmark = pytest.mark.e2e

KEYS_APP = Path(__file__).resolve().parent / "keys_app.py"
ROOT = Path(__file__).resolve().parents[2]
FOCUSED_TEXT = (
    "() => { const a = document.activeElement; return !!a && !!a.closest('[data-testid=\"stTextInput\"]'); }"
)


@pytest.fixture(scope="module")
def keys_server():
    """`streamlit run` on a minimal page that calls keyboard(): a checkbox form, then rating buttons."""
    streamlit = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    cmd = [streamlit, "run", str(KEYS_APP), "--browser.gatherUsageStats", "false"]
    with running_server(cmd, os.environ.copy(), cwd=ROOT) as base:
        yield base


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    p = context.new_page()
    p.set_default_timeout(30_000)
    yield p
    context.close()


def _expect_checked(boxes, states: list[bool]) -> None:  # type: ignore[no-untyped-def]
    """The boxes' checked states, waited for: a tick redraws through React, not at once."""
    for i, on in enumerate(states):
        (expect(boxes.nth(i)).to_be_checked if on else expect(boxes.nth(i)).not_to_be_checked)()


def test_number_keys_tick_boxes_enter_submits_and_ratings_click(tab, keys_server):
    tab.goto(keys_server)
    wait_idle(tab)
    tab.get_by_text("Keys: 1-3 pick an option · Enter submits").wait_for()
    boxes = tab.get_by_test_id("stCheckbox").locator("input")
    tab.wait_for_function("window.__quizappKeys === true")  # the page's own script has installed it
    tab.add_script_tag(content=_SCRIPT)  # the script again, as a rerun may run it: no second listener
    tab.keyboard.press("2")  # with two listeners this would tick and untick
    tab.keyboard.press("3")
    tab.keyboard.press("3")  # a second press unticks
    tab.keyboard.press("7")  # no seventh option: nothing happens
    _expect_checked(boxes, [False, True, False])
    tab.keyboard.press("1")
    _expect_checked(boxes, [True, True, False])
    screenshot(tab, "keys-choices")
    tab.keyboard.press("Enter")
    tab.get_by_text("Picked: Alpha, Beta").wait_for()
    wait_idle(tab)
    tab.get_by_text("Keys: 1-4 rate (Again, Hard, Good, Easy)").wait_for()
    screenshot(tab, "keys-ratings")
    tab.keyboard.press("3")
    tab.get_by_text("Rated: Good").wait_for()


def _answer_text_question(page, answer: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(FOCUSED_TEXT, timeout=10_000)
    page.keyboard.type(answer)  # typed straight into the focused input
    page.keyboard.press("Enter")


def test_practice_keys_pick_submit_and_focus_the_next_input(page, server):
    """cnn + backpropagation in the sample bank: one single choice, one numeric, one short answer,
    in random order; so at least one text question comes after "Next question"."""
    page.goto(f"{server}/practice?topic=cnn&topic=backpropagation")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    wait_idle(page)
    answers = {
        "Which layer shrinks a feature map": None,
        "A 3x3 convolution with no padding": "30",
        "Name the problem where early layers": "vanishing gradients",
    }
    text_after_next = 0
    for n in range(3):
        page.get_by_text(f"Question {n + 1} of 3").wait_for()
        page.get_by_test_id("stFormSubmitButton").wait_for()  # the form comes after the prompt
        wait_idle(page)
        prompt = next(p for p in answers if page.get_by_text(p).count())
        if answers[prompt] is None:
            page.get_by_text("Keys: 1-3 pick an option · Enter submits").wait_for()
            page.get_by_test_id("stRadio").wait_for()
            page.wait_for_function("() => window.__quizappKeys === true")
            page.keyboard.press("1")
            assert page.get_by_test_id("stRadio").locator("input").first.is_checked()
            screenshot(page, "keys-practice-picked")
            page.keyboard.press("Enter")
        else:
            _answer_text_question(page, answers[prompt])
            if n:
                text_after_next += 1
                screenshot(page, "keys-practice-focused-after-next")
        page.get_by_text("Correct.", exact=True).wait_for()
        wait_idle(page)
        if answers[prompt] is None:
            screenshot(page, "keys-practice-feedback")
        page.get_by_role("button", name=re.compile("^(Next question|See the session review)")).click()
        wait_idle(page)
    page.get_by_text("Session complete").wait_for()
    assert text_after_next >= 1
