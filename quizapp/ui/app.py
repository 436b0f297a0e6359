"""Entry point: `quizapp serve` runs this file with streamlit."""

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError

from quizapp.db import read_session
from quizapp.questions import counts_by_topic
from quizapp.ui.account import account_box
from quizapp.ui.common import VIEWS, actor

st.set_page_config(
    page_title="Deep-learning interview prep", page_icon=":material/psychology:", layout="wide"
)

try:
    with read_session() as session:
        counts_by_topic(session=session)
except (OperationalError, ProgrammingError):
    st.error("The database is not set up yet. Run `quizapp init` (or `make run`), then reload this page.")
    st.stop()

me = actor()
pages = {
    "Learn": [
        st.Page(VIEWS / "home.py", title="Home", icon=":material/home:", default=True),
        st.Page(VIEWS / "faq.py", title="FAQ", icon=":material/help:", url_path="faq"),
        st.Page(VIEWS / "practice.py", title="Practice", icon=":material/quiz:", url_path="practice"),
        st.Page(VIEWS / "progress.py", title="My progress", icon=":material/insights:", url_path="progress"),
        st.Page(VIEWS / "demos.py", title="Demos", icon=":material/science:", url_path="demos"),
    ],
}
if not me.is_anonymous:
    pages["Learn"].append(
        st.Page(
            VIEWS / "assignments.py",
            title="Assignments",
            icon=":material/assignment:",
            url_path="assignments",
        )
    )
# Menus follow the role; the domain checks the role again on every call.
if me.role in ("instructor", "admin"):
    pages["Teach"] = [
        st.Page(VIEWS / "teach.py", title="Cohorts and scores", icon=":material/school:", url_path="teach")
    ]
if me.role == "admin":
    pages.setdefault("Teach", []).append(
        st.Page(VIEWS / "users.py", title="Users", icon=":material/group:", url_path="users")
    )
page = st.navigation(pages)
with st.sidebar:
    account_box()
page.run()
