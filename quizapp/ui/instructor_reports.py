"""Gradebook and item-analysis sections of the Teach page: they ask quizapp.stats and draw."""

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from quizapp.db import read_session
from quizapp.exports import gradebook_csv, items_csv, responses_csv
from quizapp.stats import gradebook, item_analysis, learner_report, score_distribution, topic_heatmap
from quizapp.ui.common import plain, topic_title

PERCENT = st.column_config.NumberColumn(format="percent", min_value=0.0, max_value=1.0)


def gradebook_section(me, cohort, members) -> None:  # type: ignore[no-untyped-def]
    with read_session() as session:
        book = gradebook(session=session, actor=me, cohort_id=cohort.id)
        dist = score_distribution(session=session, actor=me, cohort_id=cohort.id)
        heat = topic_heatmap(session=session, actor=me, cohort_id=cohort.id)
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
        if a.id in busy:
            config[f"{a.title}: in progress"] = st.column_config.CheckboxColumn()
    for row in book.rows:
        line: dict[str, object] = {"learner": row.username}
        for a in book.assignments:
            cell = row.cells[a.id]
            line[f"{a.title}: best"] = cell.best
            line[f"{a.title}: last"] = cell.last
            line[f"{a.title}: attempts"] = cell.attempts_used
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
        fig = px.histogram(
            dist,
            x="best",
            color="assignment",
            nbins=10,
            range_x=[0, 1],
            barmode="overlay",
            title="Score distribution (best finished attempt)",
            labels={"best": "score"},
        )
        fig.update_layout(xaxis_tickformat=".0%")
        st.plotly_chart(fig, width="stretch")
    if heat["users"] and heat["topics"]:
        fig = go.Figure(
            go.Heatmap(
                z=heat["scores"],
                x=heat["titles"],
                y=heat["users"],
                zmin=0,
                zmax=1,
                colorscale="RdYlGn",
                colorbar={"title": "score", "tickformat": ".0%"},
            )
        )
        fig.update_layout(title="Accuracy by topic and learner", height=160 + 22 * len(heat["users"]))
        st.plotly_chart(fig, width="stretch")

    st.subheader("A learner")
    names = {m.user_id: m.username for m in members}
    if not names:
        return
    who = st.selectbox("Learner", list(names), format_func=names.get)
    with read_session() as session:
        report = learner_report(session=session, actor=me, cohort_id=cohort.id, user_id=who)
    st.caption(f"Time spent on finished attempts: {report.total_time_ms / 60000:.1f} min")
    st.dataframe(
        [
            {
                "assignment": a.assignment,
                "started": a.started_at,
                "finished": a.finished_at,
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
        fig = px.bar(
            report.topics,
            x="score",
            y="title",
            orientation="h",
            range_x=[0, 1],
            title=f"{report.username}: accuracy by topic",
            labels={"score": "mean score", "title": ""},
        )
        fig.update_layout(xaxis_tickformat=".0%")
        st.plotly_chart(fig, width="stretch")


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
    st.dataframe(
        [
            {
                "question": i.question_id,
                "topic": topic_title(i.topic),
                "answers": i.n,
                "facility": round(i.facility, 3),
                "discrimination": None
                if i.discrimination_index is None
                else round(i.discrimination_index, 1),
                "review": "yes" if i.flag else "",
            }
            for i in items
        ],
        hide_index=True,
        width="stretch",
    )
    st.download_button("Item analysis (CSV)", items_csv(items), file_name="items.csv", mime="text/csv")
    for i in items:
        if i.choice_counts:
            with st.expander(f"{i.question_id}: how often each choice was picked"):
                st.markdown(i.prompt)
                for choice, n in i.choice_counts.items():
                    st.text(f"{n:5d}  {choice}")
    if any(i.flag for i in items):
        st.warning("Flagged questions: " + ", ".join(plain(i.question_id) for i in items if i.flag))
