import plotly.express as px
import streamlit as st

from demos.catalogue import CATALOGUE
from quizapp.db import read_session
from quizapp.questions import counts_by_topic
from quizapp.ui.common import VIEWS

st.title("Prepare for deep-learning interviews")
st.markdown(
    "Practise the questions interviewers ask, read a teaching answer for each, and follow the link "
    "to a live PyTorch demo that shows the answer is true: vanishing gradients, dropout, pooling, "
    "optimizers and more, trained in seconds on this server."
)

with read_session() as session:
    counts = counts_by_topic(session=session)

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
