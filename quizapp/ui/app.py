"""Entry point: `quizapp serve` runs this file with streamlit."""

import streamlit as st
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import select

from quizapp.config import get_settings
from quizapp.db import get_engine, read_session
from quizapp.models import Question
from quizapp.ui.account import account_box
from quizapp.ui.common import DATABASE_DOWN, DB_ERROR_KEY, VIEWS, actor
from quizapp.ui.gate import gate_page

st.set_page_config(
    page_title="Deep-learning interview prep", page_icon=":material/psychology:", layout="wide"
)


@st.cache_resource(show_spinner=False)
def _database_ready(url: str) -> bool:
    """Checked once per server process; a failure raises and is not cached, so `quizapp init` then a reload works."""
    with read_session(get_engine()) as session:
        session.exec(select(Question.id).limit(1)).first()
    return True


try:
    _database_ready(get_settings().database_url)
except (OperationalError, ProgrammingError):
    st.error("The database is not set up yet. Run `quizapp init` (or `make run`), then reload this page.")
    st.stop()

me = actor()
pages = {
    "Learn": [
        st.Page(VIEWS / "home.py", title="Home", icon=":material/home:", default=True),
        st.Page(VIEWS / "faq.py", title="FAQ & search", icon=":material/search:", url_path="faq"),
        st.Page(VIEWS / "practice.py", title="Practice", icon=":material/quiz:", url_path="practice"),
        st.Page(VIEWS / "review.py", title="Review", icon=":material/event_repeat:", url_path="review"),
        st.Page(VIEWS / "mock.py", title="Mock interview", icon=":material/timer:", url_path="mock"),
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
    pages["Learn"].append(
        st.Page(VIEWS / "account_settings.py", title="Account", icon=":material/key:", url_path="account")
    )
# Menus follow the role; the domain checks the role again on every call.
if me.role in ("instructor", "admin"):
    pages["Teach"] = [
        st.Page(VIEWS / "teach.py", title="Cohorts and scores", icon=":material/school:", url_path="teach"),
        st.Page(
            VIEWS / "attempt.py", title="Attempt review", icon=":material/fact_check:", url_path="attempt"
        ),
        st.Page(
            VIEWS / "my_questions.py",
            title="My questions",
            icon=":material/edit_note:",
            url_path="my-questions",
        ),
    ]
if me.role == "admin":
    pages.setdefault("Teach", []).append(
        st.Page(VIEWS / "users.py", title="Users", icon=":material/group:", url_path="users")
    )
# Someone whose role a page is not for, opening its address, is told so with a sign-in link back.
if me.is_anonymous:
    pages["Learn"].append(gate_page("assignments", "Assignments", need="learner"))
if me.role not in ("instructor", "admin"):
    pages["Learn"].append(gate_page("teach", "Cohorts and scores", need="instructor"))
    pages["Learn"].append(gate_page("my-questions", "My questions", need="instructor"))
page = st.navigation(pages)
with st.sidebar:
    account_box()
if message := st.session_state.pop(DB_ERROR_KEY, None):
    st.error(message)
try:
    page.run()
except OperationalError:  # the database is unreachable, full or read-only: a message, not a traceback
    st.error(DATABASE_DOWN)
