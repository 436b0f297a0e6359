"""Gradebook and item-analysis sections of the Teach page: they ask quizapp.stats and draw.

Figures are plotly graph_objects (express cost more to build than the rest of the page), built once
per version of the data they draw (`cached_figure`), with every user or instructor string escaped
(`plotly_text`). Tables longer than a page show one page at a time (`one_page`)."""

import hashlib
import html
import json
import math
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from quizapp.attempt_report import common_answers, learner_attempts
from quizapp.db import read_session
from quizapp.exports import gradebook_csv, items_csv, responses_csv
from quizapp.stats import distribution, gradebook, item_analysis, learner_report, topic_heatmap
from quizapp.ui.common import TYPE_LABELS, VIEWS, plain, topic_title
from quizapp.ui.tz import show

ATTEMPT_PAGE = str(VIEWS / "attempt.py")


def question_text(prompt: str, width: int = 90) -> str:
    """A question's prompt as one plain line: its first line, cut at `width` characters."""
    first = " ".join(prompt.strip().splitlines()[0].split()) if prompt.strip() else ""
    first = first.replace("`", "")
    return first if len(first) <= width else first[: width - 1] + "…"


def plotly_text(value: object) -> str:
    """A user's or instructor's string for a plotly figure (title, legend, axis category, hover):
    plotly renders a subset of HTML in text (<a href>, <b>, <br>), so <, > and & are escaped and
    the string shows as typed, never as a link or markup."""
    return html.escape("" if value is None else str(value), quote=False)


# --- figures, once per version of their data ----------------------------------------------------

_FIGURES: "OrderedDict[tuple[str, str], go.Figure]" = OrderedDict()
_FIGURES_LOCK = threading.Lock()
MAX_FIGURES = 64  # a few figures per cohort and learner; the oldest go first


def data_version(data: Any) -> str:
    """A digest of what a figure draws (read from the stored sums): it changes when an answer,
    an attempt, a title or a learner changes what the figure shows, and only then."""
    blob = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha1(blob.encode()).hexdigest()


def cached_figure(kind: str, data: Any, build: Callable[[Any], go.Figure]) -> go.Figure:
    """`build(data)`, built once per (kind, version of data) and shared by every session and rerun
    (figures are only read afterwards: st.plotly_chart serialises a copy)."""
    key = (kind, data_version(data))
    with _FIGURES_LOCK:
        fig = _FIGURES.get(key)
        if fig is not None:
            _FIGURES.move_to_end(key)
            return fig
    fig = build(data)
    with _FIGURES_LOCK:
        _FIGURES[key] = fig
        while len(_FIGURES) > MAX_FIGURES:
            _FIGURES.popitem(last=False)
    return fig


def clear_figures() -> None:
    with _FIGURES_LOCK:
        _FIGURES.clear()


def histogram_figure(dist: list[dict]) -> go.Figure:
    """Best finished score per learner, one overlaid histogram per assignment, ten bins over 0-100%."""
    fig = go.Figure()
    by_title: dict[str, list[float]] = {}
    for row in dist:
        by_title.setdefault(row["assignment"], []).append(row["best"])
    for title, scores in by_title.items():
        name = plotly_text(title)
        fig.add_trace(
            go.Histogram(
                x=scores,
                name=name,
                xbins={"start": 0, "end": 1.0001, "size": 0.1},
                opacity=0.75 if len(by_title) > 1 else 1,
                hovertemplate=f"{name}<br>score %{{x}}: %{{y}} learner(s)<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="overlay",
        title={"text": "Score distribution (best finished attempt)"},
        xaxis={"range": [0, 1], "tickformat": ".0%", "title": {"text": "score"}},
        yaxis={"title": {"text": "learners"}},
        legend={"title": {"text": "assignment"}},
    )
    return fig


def topics_figure(report: dict) -> go.Figure:
    """One learner's mean score per topic, as horizontal bars."""
    topics = report["topics"]
    fig = go.Figure(
        go.Bar(
            x=[t["score"] for t in topics],
            y=[plotly_text(t["title"]) for t in topics],
            orientation="h",
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"{plotly_text(report['username'])}: accuracy by topic"},
        xaxis={"range": [0, 1], "tickformat": ".0%", "title": {"text": "mean score"}},
        yaxis={"type": "category"},
    )
    return fig


def heatmap_figure(heat: dict) -> go.Figure:
    """Learner x topic: every learner labelled (a row of 24 px each, however many), every cell
    printed as a percentage, a colour bar with its scale in percent."""
    n = len(heat["users"])
    users = [plotly_text(u) for u in heat["users"]]
    titles = [plotly_text(t) for t in heat["titles"]]
    fig = go.Figure(
        go.Heatmap(
            z=heat["scores"],
            x=titles,
            y=users,
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            texttemplate="%{z:.0%}",
            textfont={"size": 11},
            hovertemplate="%{y} · %{x}: %{z:.0%}<extra></extra>",
            xgap=1,
            ygap=1,
            colorbar={
                "title": {"text": "mean score", "side": "right"},
                "tickformat": ".0%",
                "tickvals": [0, 0.25, 0.5, 0.75, 1],
                "thickness": 18,
                "len": 1 if n < 8 else 0.6,
                "lenmode": "fraction",
            },
        )
    )
    fig.update_yaxes(
        tickmode="array",
        tickvals=users,
        ticktext=users,
        autorange="reversed",
        automargin=True,
        title_text="learner",
        type="category",
    )
    # Topic names wrapped onto short lines, level: long ones are neither cut nor tilted.
    wrapped = ["<br>".join(plotly_text(line) for line in textwrap.wrap(t, 16)) for t in heat["titles"]]
    fig.update_xaxes(
        side="top", tickangle=0, automargin=True, tickmode="array", tickvals=titles, ticktext=wrapped
    )
    fig.update_layout(
        title={"text": "Accuracy by topic and learner", "y": 0.995, "yanchor": "top"},
        height=max(340, 260 + 24 * n),
        margin={"t": 150, "l": 10, "r": 10, "b": 30},
    )
    return fig


PERCENT = st.column_config.NumberColumn(format="percent", min_value=0.0, max_value=1.0)
PAGE_SIZES = (25, 50, 100, 200)
PAGE = 50  # rows per page unless the viewer picks another size


def one_page(rows: list, key: str, what: str = "rows") -> list:
    """The page of `rows` to draw: all of them up to PAGE; beyond, a page size and a page number
    (kept per `key`) and only that page's rows are sent to the browser."""
    if len(rows) <= PAGE:
        return rows
    state = st.session_state
    c1, c2, c3 = st.columns([1, 1, 3], vertical_alignment="bottom")
    size = c1.selectbox("Rows per page", PAGE_SIZES, index=PAGE_SIZES.index(PAGE), key=f"{key}-size")
    pages = math.ceil(len(rows) / size)
    if state.get(f"{key}-page", 1) > pages:  # fewer pages after a bigger page size
        state[f"{key}-page"] = pages
    page = c2.number_input("Page", 1, pages, 1, key=f"{key}-page")
    start = (int(page) - 1) * size
    shown = rows[start : start + size]
    c3.caption(f"{what} {start + 1}-{start + len(shown)} of {len(rows)}")
    return shown


def gradebook_section(me, cohort, members) -> None:  # type: ignore[no-untyped-def]
    with read_session() as session:
        book = gradebook(session=session, actor=me, cohort_id=cohort.id)
        heat = topic_heatmap(session=session, actor=me, cohort_id=cohort.id)
    dist = distribution(book)
    if not book.assignments:
        st.info("No assignments yet: set one in the Assignments tab.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Learners", len(book.rows))
    c2.metric("Assignments", len(book.assignments))
    c3.metric("Completion", f"{book.completion():.0%}")
    # Scores stay numbers (0..1) shown as percentages, so a column sorts by value, not as text.
    busy = {a.id for a in book.assignments if any(r.cells[a.id].in_progress for r in book.rows)}
    table, config = [], {"learner": st.column_config.TextColumn("learner", pinned=True)}
    for a in book.assignments:
        config[f"{a.title}: best"] = PERCENT
        config[f"{a.title}: last"] = PERCENT
        config[f"{a.title}: attempts"] = st.column_config.NumberColumn(format="%d")
        config[f"{a.title}: review"] = st.column_config.LinkColumn(
            help="Open the last finished attempt: every question, the answer given, the key and the score",
            display_text="review last",
        )
        if a.id in busy:
            config[f"{a.title}: in progress"] = st.column_config.CheckboxColumn()
    rows = one_page(book.rows, "gradebook", "learners")
    for row in rows:
        line: dict[str, object] = {"learner": row.username + (" (removed)" if row.removed else "")}
        for a in book.assignments:
            cell = row.cells[a.id]
            line[f"{a.title}: best"] = cell.best
            line[f"{a.title}: last"] = cell.last
            line[f"{a.title}: attempts"] = cell.attempts_used
            line[f"{a.title}: review"] = (
                f"attempt?id={cell.last_attempt_id}" if cell.last_attempt_id else None
            )
            if a.id in busy:
                line[f"{a.title}: in progress"] = cell.in_progress
        table.append(line)
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
    d1, d2 = st.columns(2)
    d1.download_button("Gradebook (CSV)", gradebook_csv(book), file_name="gradebook.csv", mime="text/csv")
    if d2.button("Prepare responses (CSV)"):
        with read_session() as session:
            st.session_state.responses_csv = responses_csv(session=session, actor=me, cohort_id=cohort.id)
    if "responses_csv" in st.session_state:
        d2.download_button(
            "Download responses", st.session_state.responses_csv, file_name="responses.csv", mime="text/csv"
        )

    if dist:
        st.plotly_chart(cached_figure("histogram", dist, histogram_figure), width="stretch")
    if len(rows) < len(book.rows):  # the heatmap shows the gradebook's page of learners
        on_page = {r.user_id for r in rows}
        keep = [i for i, u in enumerate(heat["user_ids"]) if u in on_page]
        heat = {
            **heat,
            "users": [heat["users"][i] for i in keep],
            "user_ids": [heat["user_ids"][i] for i in keep],
            "scores": [heat["scores"][i] for i in keep],
        }
    if heat["users"] and heat["topics"]:
        st.plotly_chart(cached_figure("heatmap", heat, heatmap_figure), width="stretch")

    st.subheader("A learner")
    names = {m.user_id: m.username for m in members}
    if not names:
        return
    who = st.selectbox("Learner", list(names), format_func=names.get)
    with read_session() as session:
        report = learner_report(session=session, actor=me, cohort_id=cohort.id, user_id=who)
    st.caption(f"Time spent on finished attempts: {report.total_time_ms / 60000:.1f} min")
    with read_session() as session:
        made = learner_attempts(session=session, actor=me, cohort_id=cohort.id, user_id=who)
    if made:
        labels = {
            t: f"{title}: attempt {k}" + (" (in progress)" if state == "open" else "")
            for t, title, k, state in made
        }
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        pick = c1.selectbox("Review an attempt", list(labels), index=len(labels) - 1, format_func=labels.get)
        c2.page_link(
            ATTEMPT_PAGE,
            label="Open attempt review",
            icon=":material/fact_check:",
            query_params={"id": str(pick)},
        )
    st.dataframe(
        [
            {
                "assignment": a.assignment,
                "started": show(a.started_at),
                "finished": show(a.finished_at),
                "score": a.score,
                "answered": f"{a.answered} of {a.questions}",
            }
            for a in report.attempts
        ],
        hide_index=True,
        width="stretch",
        column_config={"score": PERCENT},
    )
    if report.topics:
        mine = {"username": report.username, "topics": report.topics}
        st.plotly_chart(cached_figure("topics", mine, topics_figure), width="stretch")


def items_section(me, cohort, tasks) -> None:  # type: ignore[no-untyped-def]
    if not tasks:
        st.info("No assignments yet.")
        return
    titles = {a.id: a.title for a in tasks}
    assignment_id = st.selectbox("Assignment", list(titles), format_func=titles.get)
    with read_session() as session:
        items = item_analysis(session=session, actor=me, cohort_id=cohort.id, assignment_id=assignment_id)
    if not items:
        st.info("No finished attempts at this assignment yet.")
        return
    st.caption(
        "Facility is the mean score. The discrimination index is 100 x the correlation between a question's score "
        "and the rest of the attempt's score. Flagged: discrimination under 30, or facility outside 0.1 to 0.9."
    )
    all_items, items = items, one_page(items, f"items-{assignment_id}", "questions")
    st.dataframe(
        [
            {
                "question": question_text(i.prompt),
                "type": TYPE_LABELS.get(i.type, i.type),
                "topic": topic_title(i.topic),
                "answers": i.n,
                "facility": round(i.facility, 3),
                "discrimination": None
                if i.discrimination_index is None
                else round(i.discrimination_index, 1),
                "review": "yes" if i.flag else "",
                "id": i.question_id,
            }
            for i in items
        ],
        hide_index=True,
        width="stretch",
        column_config={"question": st.column_config.TextColumn("question", width="large", pinned=True)},
    )
    st.download_button("Item analysis (CSV)", items_csv(all_items), file_name="items.csv", mime="text/csv")
    with read_session() as session:
        common = common_answers(session=session, actor=me, cohort_id=cohort.id, assignment_id=assignment_id)
    st.subheader("What learners answered")
    st.caption(
        "Choice questions: the share of the learners presented the question who picked each choice "
        "(a blank picks none), the key marked ✓. Numeric and short answers: the most common answers."
    )
    for i in items:
        with st.expander(f"{question_text(i.prompt)} ({i.n} learner answer(s))"):
            st.markdown(i.prompt)
            if i.choice_shares is not None:
                st.dataframe(
                    [
                        {
                            "choice": choice,
                            "key": "✓" if choice in i.correct_choices else "",
                            "share": share,
                            "picked": i.choice_counts[choice],  # type: ignore[index]
                        }
                        for choice, share in i.choice_shares.items()
                    ],
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "share": st.column_config.ProgressColumn(
                            format="percent", min_value=0.0, max_value=1.0
                        ),
                    },
                    key=f"shares-{assignment_id}-{i.question_id}",
                )
            elif i.question_id in common:
                st.dataframe(
                    [
                        {"answer": text, "right": "✓" if right else "", "learners": n}
                        for text, n, right in common[i.question_id]
                    ],
                    hide_index=True,
                    width="stretch",
                    key=f"common-{assignment_id}-{i.question_id}",
                )
            else:
                st.caption("No answers given yet.")
    if any(i.flag for i in all_items):
        st.warning(
            "Flagged questions: " + "; ".join(plain(question_text(i.prompt, 60)) for i in all_items if i.flag)
        )
