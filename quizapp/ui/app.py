"""Entry point: `quizapp serve` runs this file with streamlit."""

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError

from quizapp.db import read_session
from quizapp.questions import counts_by_topic
from quizapp.ui.common import VIEWS

st.set_page_config(
    page_title="Deep-learning interview prep", page_icon=":material/psychology:", layout="wide"
)

pages = [
    st.Page(VIEWS / "home.py", title="Home", icon=":material/home:", default=True),
    st.Page(VIEWS / "faq.py", title="FAQ", icon=":material/help:", url_path="faq"),
    st.Page(VIEWS / "practice.py", title="Practice", icon=":material/quiz:", url_path="practice"),
    st.Page(VIEWS / "progress.py", title="My progress", icon=":material/insights:", url_path="progress"),
    st.Page(VIEWS / "demos.py", title="Demos", icon=":material/science:", url_path="demos"),
]
page = st.navigation(pages)

try:
    with read_session() as session:
        counts_by_topic(session=session)
except (OperationalError, ProgrammingError):
    st.error("The database is not set up yet. Run `quizapp init` (or `make run`), then reload this page.")
    st.stop()

page.run()
