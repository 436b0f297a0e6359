from datetime import date, timedelta

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from quizapp import review
from quizapp.db import read_session
from quizapp.practice import accuracy_by_topic, history
from quizapp.textutil import markdown_to_text
from quizapp.ui.common import actor
from quizapp.ui.keypoint_feedback import show_agreement

st.title("My progress")
me = actor()
tz = st.context.timezone
if me.is_anonymous:
    st.caption("Kept for this browser. Sign in or sign up to keep it in an account.")

with read_session() as session:
    by_topic = accuracy_by_topic(session=session, actor=me)
    recent = history(session=session, actor=me)
    memory = review.stats(session=session, actor=me, tz=tz)
    ahead = review.forecast(session=session, actor=me, tz=tz)

if not recent and not memory.cards:
    st.info(
        "No answers yet. Your accuracy by topic and your review statistics appear here once you practise."
    )
    st.page_link("views/practice.py", label="Start practising", icon=":material/play_arrow:")
    st.stop()

answered = sum(r["answered"] for r in by_topic)
mean = sum(r["score"] * r["answered"] for r in by_topic) / answered if answered else 0.0
c1, c2, c3 = st.columns(3)
c1.metric("Answered", answered)
c2.metric("Fully right", sum(r["correct"] for r in by_topic))
c3.metric("Mean score", f"{mean:.0%}")

tab_memory, tab_topics, tab_history = st.tabs(["Memory and reviews", "Accuracy by topic", "History"])

with tab_memory:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Questions in review", memory.cards)
    m2.metric(
        "Estimated knowledge",
        f"{memory.knowledge:.1f}",
        help="How many of your questions you would answer right now: the sum, over questions seen, "
        "of the chance you still recall each (FSRS retrievability).",
    )
    m3.metric(
        "True retention, 30 days",
        "-" if memory.retention is None else f"{memory.retention:.0%}",
        help="Of the reviews of questions already learnt (first review per question and day), the share "
        f"not rated Again. Based on {memory.retention_n} reviews.",
    )
    m4.metric(
        "Streak",
        f"{memory.streak} day{'s' if memory.streak != 1 else ''}",
        help="Days in a row with practice",
    )

    fig = px.bar(
        ahead,
        x="date",
        y="count",
        labels={"date": "", "count": "reviews due"},
        title="Reviews due over the next 30 days (today includes overdue)",
    )
    fig.update_layout(height=280, margin={"l": 0, "r": 0, "t": 40, "b": 0}, bargap=0.15)
    st.plotly_chart(fig, width="stretch")

    if memory.by_topic:
        fig = px.bar(
            memory.by_topic,
            x="retrievability",
            y="title",
            orientation="h",
            text="cards",
            range_x=[0, 1],
            labels={"retrievability": "chance of recall now", "title": "", "cards": "questions"},
            title="Recall by topic now (bar label: questions seen)",
        )
        fig.update_layout(
            height=120 + 30 * len(memory.by_topic), xaxis_tickformat=".0%", margin={"l": 0, "r": 0, "t": 40}
        )
        st.plotly_chart(fig, width="stretch")

    # A calendar of the last 26 weeks: a column per week, a row per weekday, like a contribution graph.
    per_day = {date.fromisoformat(d["date"]): d["reviews"] for d in memory.days}
    today = review.clock().astimezone(review._zone(tz)).date()
    start = today - timedelta(days=today.weekday() + 7 * 25)
    weeks = [start + timedelta(weeks=w) for w in range(26)]
    z, text = [], []
    for wd in range(7):
        row, labels = [], []
        for w in weeks:
            d = w + timedelta(days=wd)
            n = per_day.get(d, 0) if d <= today else None
            row.append(n)
            labels.append(f"{d:%a %d %b %Y}: {n or 0} answer(s)" if d <= today else "")
        z.append(row)
        text.append(labels)
    cal = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{w:%d %b}" for w in weeks],
            y=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            text=text,
            hoverinfo="text",
            colorscale=[[0, "#ebedf0"], [0.01, "#9be9a8"], [0.5, "#40c463"], [1, "#216e39"]],
            xgap=3,
            ygap=3,
            showscale=False,
        )
    )
    cal.update_layout(
        title=f"Days practised (current streak: {memory.streak})",
        height=230,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        yaxis={"autorange": "reversed"},
    )
    st.plotly_chart(cal, width="stretch")

with tab_topics:
    if by_topic:
        fig = px.bar(
            by_topic,
            x="score",
            y="title",
            orientation="h",
            text="answered",
            range_x=[0, 1],
            labels={"score": "mean score", "title": "", "answered": "answered"},
            title="Accuracy by topic (bar label: answers given)",
        )
        fig.update_layout(height=120 + 32 * len(by_topic), xaxis_tickformat=".0%", margin={"l": 0, "r": 0})
        st.plotly_chart(fig, width="stretch")
    show_agreement(me)

with tab_history:
    st.dataframe(
        [
            {
                "when": r["answered_at"],
                "topic": r["topic_title"],
                # Prompts are markdown; a table shows text as it is, so show the words without markup.
                "question": markdown_to_text(r["prompt"])[:140],
                "score": r["score"],
                "right": "yes" if r["correct"] else "no",
            }
            for r in recent
        ],
        column_config={
            "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="percent")
        },
        hide_index=True,
        width="stretch",
    )
