"""What someone sees at the address of a page their role does not open (a learner at /teach, an
anonymous visitor at /assignments): why, and a sign-in link that comes back to the page.

app.py registers these, hidden from the menu, at the url_paths the real pages take for others, so
the address does not fall through to Home without a word."""

from html import escape
from urllib.parse import urlencode

import streamlit as st

from quizapp.ui.common import actor

NEEDS = {"learner": "a signed-in account", "instructor": "an instructor's account"}


def sign_in_link(path: str) -> str:
    """The sign-in page's address that returns to `path` (e.g. /auth/signin?next=/assignments)."""
    return "/auth/signin?" + urlencode({"next": path}, safe="/")


def _draw(title: str, path: str, need: str) -> None:
    st.title(title)
    me = actor()
    if me.is_anonymous:
        st.info("Sign in to see this.")
    else:
        st.warning(f"This page needs {NEEDS[need]}. Sign in with one to see this.")
    # st.link_button and markdown links open a new tab; signing in belongs in this one.
    st.markdown(
        f'<a href="{escape(sign_in_link(path))}" target="_self">Sign in to see {escape(title)}</a>',
        unsafe_allow_html=True,
    )


def gate_page(url_path: str, title: str, need: str) -> st.Page:
    """A hidden page at `url_path` saying who may open it, with the way to sign in and come back."""

    def page() -> None:
        _draw(title, f"/{url_path}", need)

    page.__name__ = f"sign_in_for_{url_path}"
    return st.Page(page, title=title, url_path=url_path, visibility="hidden")
