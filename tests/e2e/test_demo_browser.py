import pytest

from tests.e2e.conftest import SCREENS, screenshot, wait_idle

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


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_on_a_phone_chart_titles_fit_and_never_collide(browser, server):
    """At 390 px wide the charts stack one per row, each title short enough to fit its chart, no two
    titles overlapping; the full titles are captions under the charts."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{server}/demos?demo=dropout&steps=30&n_train=100&width=16")
        wait_idle(page)
        page.get_by_role("button", name="Run").click()
        # generous: a fresh server's first run shares the CPU with its warm-up (torch._dynamo's import)
        page.get_by_text("Claims checked by this run").wait_for(timeout=300_000)
        wait_idle(page)
        titles = page.locator(".js-plotly-plot .gtitle")
        assert titles.count() >= 2
        boxes = [titles.nth(i).bounding_box() for i in range(titles.count())]
        assert all(b is not None for b in boxes)
        for i, a in enumerate(boxes):
            assert a["x"] >= 0 and a["x"] + a["width"] <= 390, f"title {i} runs off the screen: {a}"
            for j, b in enumerate(boxes[i + 1 :], start=i + 1):
                assert not _overlap(a, b), f"chart titles {i} and {j} overlap: {a} {b}"
        plots = page.locator(".js-plotly-plot")
        for i in range(plots.count()):
            box = plots.nth(i).bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390
        assert (
            page.get_by_text("Generalisation gap: training accuracy minus validation accuracy").count() == 1
        )
        for i in range(min(plots.count(), 2)):  # the page scrolls inside its own container
            plots.nth(i).scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENS / f"demo-dropout-390px-chart{i + 1}.png"))
    finally:
        context.close()
