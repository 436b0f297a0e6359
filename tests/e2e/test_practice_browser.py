import pytest

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_learner_answers_a_question_and_sees_feedback(page, server):
    """A learner starts practice on one topic, answers, and sees the verdict and the explanation."""
    page.goto(f"{server}/practice?topic=activation-functions")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    wait_idle(page)
    page.get_by_text("ReLU's derivative is 0 for negative inputs.").wait_for()
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    page.get_by_text("Give an answer before submitting.").wait_for()
    page.get_by_test_id("stRadio").get_by_text("True", exact=True).click()
    page.get_by_role("button", name="Submit").click()
    wait_idle(page)
    page.get_by_text("Correct.", exact=True).wait_for()
    page.get_by_text("so its slope there is 0").wait_for()
    screenshot(page, "practice-feedback")
    assert page.get_by_test_id("stMain").get_by_text("1.0 / 1").is_visible()
