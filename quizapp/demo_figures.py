"""Demo figures made fit for the page at any width (a phone's 390 px included).

A demo draws its figures with full titles; the page shows each with a short title inside the chart
(long titles collide with each other and with the mode bar on a narrow screen) and the full title as a
caption under it, small margins, the legend below the plot, no fixed width, and bar charts' category
labels upright (plotly turns crowded labels on their side, where "8" reads as "∞").
"""

from __future__ import annotations

import re
from typing import Any

TITLE_MAX = 30
_BREAKS = re.compile(r"\s*(?::|\(|,|;| - | — | against )\s*")


def short_title(text: str, limit: int = TITLE_MAX) -> str:
    """The title's head (up to its first colon, bracket or comma), cut at a word to `limit` chars."""
    text = " ".join(str(text or "").split())
    head = _BREAKS.split(text, maxsplit=1)[0].strip() or text
    if len(head) <= limit:
        return head
    cut = head[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return (cut or head[: limit - 1]) + "…"


def _plain(text: str) -> str:
    """Plotly titles may hold <br>, <b> and <sup>: the caption gets words, not tags."""
    text = re.sub(r"<br\s*/?>", " ", str(text), flags=re.I)
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def fit_for_page(fig: Any) -> tuple[Any, str | None]:
    """Restyle a plotly figure in place for the page; returns it and the caption to show under it
    (the full title when the chart shows a shortened one, else None)."""
    full = _plain(fig.layout.title.text or "")
    short = short_title(full)
    fig.update_layout(
        title={"text": short, "x": 0, "xanchor": "left", "font": {"size": 15}},
        margin={"l": 8, "r": 8, "t": 44 if short else 16, "b": 8},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
        width=None,
        autosize=True,
    )
    fig.update_xaxes(automargin=True, title_standoff=6)
    fig.update_yaxes(automargin=True, title_standoff=6)
    if any(getattr(t, "type", None) == "bar" for t in fig.data):
        fig.update_xaxes(tickangle=0)
    return fig, (full if full and full != short else None)
