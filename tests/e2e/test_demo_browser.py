import pytest

from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_explorer_runs_a_demo_and_sees_a_chart(page, server):
    """Opening a demo link with a preset, pressing Run, and seeing plotly charts and the claims."""
    page.goto(f"{server}/demos?demo=vanishing-gradients&depth=6&steps=30&n_samples=256&width=16")
    wait_idle(page)
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Claims checked by this run").wait_for(timeout=120_000)
    wait_idle(page)
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= 3
    assert "depth=6" in page.url
    screenshot(page, "demo-vanishing-gradients")
