"""Demo figures fitted for the page (quizapp.demo_figures): short titles, captions, upright bar labels."""

from __future__ import annotations

import plotly.graph_objects as go

from demos import registry, runtime
from quizapp.demo_figures import TITLE_MAX, fit_for_page, short_title


def test_short_titles_keep_the_head_of_a_long_title():
    assert (
        short_title("Generalisation gap: training accuracy minus validation accuracy") == "Generalisation gap"
    )
    assert short_title("Training (dotted) against validation (solid), 300 images") == "Training"
    long = short_title("Activation memory measured with saved tensor hooks in megabytes")
    assert len(long) <= TITLE_MAX and long.endswith("…")
    assert short_title("Loss") == "Loss"


def test_a_figure_is_fitted_for_a_narrow_screen():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    fig.update_layout(title="Generalisation gap: training accuracy minus validation accuracy", width=900)
    fig, caption = fit_for_page(fig)
    assert fig.layout.title.text == "Generalisation gap"
    assert caption == "Generalisation gap: training accuracy minus validation accuracy"
    assert fig.layout.width is None and fig.layout.legend.orientation == "h" and fig.layout.legend.y < 0
    assert fig.layout.margin.l <= 10 and fig.layout.margin.r <= 10


def test_short_titles_get_no_caption():
    fig, caption = fit_for_page(go.Figure(layout={"title": "Loss"}))
    assert fig.layout.title.text == "Loss" and caption is None


def test_bar_labels_stay_upright_in_every_real_bar_chart():
    """Quantization's bit widths (8, 6, 4 ...) turned on their side read as '∞'."""
    out = runtime.run_demo("quantization", None, device="cpu", use_cache=False, budget_s=0)
    figs = registry.load("quantization").figures(out.result)
    bars = [f for f in figs if any(t.type == "bar" for t in f.data)]
    assert bars
    for f in figs:
        fit_for_page(f)
        assert len(f.layout.title.text) <= TITLE_MAX
    for f in bars:
        axes = [a for a in f.layout if a.startswith("xaxis")]
        assert axes and all(f.layout[a].tickangle == 0 for a in axes)
