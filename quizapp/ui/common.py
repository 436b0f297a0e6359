"""What every page needs: the acting identity, database sessions and small drawing helpers."""

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy.exc import OperationalError

from quizapp.bank.schema import TOPICS
from quizapp.demo_links import demo_query
from quizapp.identity import Actor
from quizapp.textutil import escape_markdown

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
# Shown when the database refuses a write or cannot be reached (full disk, read-only file, a restart):
# the person learns that nothing was kept and that trying again is safe (a repeated answer is stored once).
NOT_SAVED = "Your answer was not saved: the database could not store it just now. Try again in a moment."
DATABASE_DOWN = (
    "The database could not do that just now, so nothing was changed. Try again in a moment; "
    "if this keeps happening, tell whoever runs this site."
)
DB_ERROR_KEY = "_database-error"  # app.py shows it at the top of the run that follows a callback


def database_guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A button's callback whose failed write becomes DATABASE_DOWN on the page, not an error box:
    callbacks run before the page script, outside app.py's own guard."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except OperationalError:
            st.session_state[DB_ERROR_KEY] = DATABASE_DOWN
            return None

    return run


def actor() -> Actor:
    """Who is acting: the signed-in user (session cookie), else this browser session's anonymous identity."""
    from quizapp.ui.account import current_actor

    return current_actor()


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


def plain(text: str) -> str:
    """User-typed text (names, titles) made inert inside markdown: no links, emphasis or HTML
    (quizapp.textutil.escape_markdown, the one helper for it)."""
    return escape_markdown(text)
