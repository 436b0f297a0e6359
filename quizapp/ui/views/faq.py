import streamlit as st

from quizapp.bank.schema import TOPICS
from quizapp.db import read_session
from quizapp.questions import search_faq
from quizapp.ui.common import demo_link, topic_title

st.title("Frequently asked questions")
st.caption("Straight answers to what people ask before and during a deep-learning interview preparation.")

left, right = st.columns([2, 1])
text = left.text_input("Search", placeholder="e.g. GPU, transfer learning, PhD", key="faq_search")
topics = right.multiselect("Topics", list(TOPICS), format_func=topic_title, key="faq_topics")

with read_session() as session:
    entries = search_faq(session=session, text=text, topics=topics or None)

st.write(f"{len(entries)} answer(s)")
for view in entries:
    with st.expander(view.prompt.strip(), expanded=len(entries) == 1):
        st.caption(topic_title(view.topic))
        st.markdown(view.explanation)
        demo_link(view.demo, view.demo_params)
if not entries:
    st.info("Nothing matches. Try fewer words or clear the topic filter.")
