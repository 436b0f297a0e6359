"""What every page needs: the acting identity, database sessions and small drawing helpers."""

from pathlib import Path

import streamlit as st

from quizapp.bank.schema import TOPICS
from quizapp.demo_links import demo_query
from quizapp.identity import Actor

VIEWS = Path(__file__).resolve().parent / "views"
DEMOS_PAGE = VIEWS / "demos.py"
PRACTICE_PAGE = VIEWS / "practice.py"

TYPE_LABELS = {
    "single": "Single choice",
    "multi": "Multiple choice",
    "truefalse": "True / false",
    "numeric": "Numeric",
    "short": "Short answer",
    "open": "Open (self-rated)",
}
DIFFICULTY = {1: "Easy", 2: "Medium", 3: "Hard"}


def actor() -> Actor:
    """The browser session's identity; anonymous until accounts sign in."""
    if "anon_key" not in st.session_state:
        st.session_state.anon_key = Actor.anonymous().anon_key
    return Actor.anonymous(st.session_state.anon_key)


def topic_title(slug: str) -> str:
    return TOPICS.get(slug, slug)


def demo_link(
    slug: str | None, params: dict | None = None, *, label: str = "See it live", key: str | None = None
) -> None:
    if not slug:
        return
    st.page_link(
        str(DEMOS_PAGE), label=label, icon=":material/science:", query_params=demo_query(slug, params)
    )
