import plotly.express as px
import streamlit as st

from quizapp.db import read_session
from quizapp.practice import accuracy_by_topic, history
from quizapp.ui.common import actor

st.title("My progress")
me = actor()
if me.is_anonymous:
    st.caption("Kept for this browser session.")

with read_session() as session:
    by_topic = accuracy_by_topic(session=session, actor=me)
    recent = history(session=session, actor=me)

if not recent:
    st.info("No answers yet. Your accuracy by topic appears here once you practise.")
    st.page_link("views/practice.py", label="Start practising", icon=":material/play_arrow:")
    st.stop()

answered = sum(r["answered"] for r in by_topic)
mean = sum(r["score"] * r["answered"] for r in by_topic) / answered
c1, c2, c3 = st.columns(3)
c1.metric("Answered", answered)
c2.metric("Fully right", sum(r["correct"] for r in by_topic))
c3.metric("Mean score", f"{mean:.0%}")

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

st.subheader("History")
st.dataframe(
    [
        {
            "when": r["answered_at"],
            "topic": r["topic_title"],
            "question": r["prompt"].strip().splitlines()[0][:120],
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
