import plotly.express as px
import streamlit as st

from demos.catalogue import CATALOGUE
from quizapp import review
from quizapp.db import read_session
from quizapp.questions import counts_by_topic
from quizapp.ui.common import VIEWS, actor

st.title("Prepare for deep-learning interviews")
st.markdown(
    "Practise the questions interviewers ask, read a teaching answer for each, and follow the link "
    "to a live PyTorch demo that shows the answer is true: vanishing gradients, dropout, pooling, "
    "optimizers and more, trained in seconds on this server."
)

with read_session() as session:
    counts = counts_by_topic(session=session)
    due = review.due(session=session, actor=actor(), tz=st.context.timezone, with_ids=False)

with st.container(border=True):
    left, right = st.columns([3, 1], vertical_alignment="center")
    if due.learning + due.review:
        left.markdown(
            f"**{due.learning + due.review} due today** for review"
            + (f", and {due.new} new questions ready." if due.new else ".")
        )
        right.page_link(str(VIEWS / "review.py"), label="Review now", icon=":material/event_repeat:")
    elif due.new:
        left.markdown(f"**Nothing due today.** {due.new} new questions are ready for spaced review.")
        right.page_link(str(VIEWS / "review.py"), label="Start reviewing", icon=":material/event_repeat:")
    else:
        left.markdown("**Nothing due today.** Your next reviews show up here when they come due.")
        right.page_link(str(VIEWS / "progress.py"), label="See your forecast", icon=":material/insights:")

total = sum(r["total"] for r in counts)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Questions", total)
c2.metric("Interview questions", sum(r["interview"] for r in counts))
c3.metric("Topics", len(counts))
c4.metric("Live demos", len(CATALOGUE))

st.page_link(str(VIEWS / "practice.py"), label="Start practising", icon=":material/play_arrow:")
st.page_link(str(VIEWS / "faq.py"), label="Read the FAQ", icon=":material/help:")
st.page_link(str(VIEWS / "demos.py"), label="Explore the demos", icon=":material/science:")

if counts:
    st.subheader("What is in the bank")
    fig = px.bar(
        counts,
        y="title",
        x=["quiz", "interview", "faq"],
        orientation="h",
        labels={"title": "", "value": "questions", "variable": "kind"},
    )
    fig.update_layout(
        height=80 + 28 * len(counts),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        yaxis={"categoryorder": "total ascending"},
        legend_title_text="",
    )
    st.plotly_chart(fig, width="stretch")
else:
    st.info("The question bank is empty. Add files under `questions/` and run `quizapp init`.")
