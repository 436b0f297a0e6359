"""The account as pages see it: who is acting, and the sidebar box to sign in, up or out.

The session cookie is HttpOnly and set by the /auth/ pages (quizapp/web/routes.py); a script can still
read it, because the browser sends it with the request that opens the Streamlit session.
"""

import time
from html import escape
from urllib.parse import urlencode

import streamlit as st

from quizapp import sessions
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.web.routes import SESSION_COOKIE

# A sign-up link carries a claim ticket; it is renewed well before expiry, so a tab left open still works.
CLAIM_TTL_S = 12 * 3600


def _anon_key() -> str:
    if "anon_key" not in st.session_state:
        st.session_state.anon_key = Actor.anonymous().anon_key
    return st.session_state.anon_key


def session_token() -> str | None:
    """The session cookie this browser sent; AppTests patch this to act as a signed-in user."""
    token = st.context.cookies.get(SESSION_COOKIE)
    return token if isinstance(token, str) and token else None  # AppTest's browser is a MagicMock


def current_account() -> sessions.Account | None:
    """The signed-in account, or None. Checked on every run, so a sign-out elsewhere applies at once."""
    token = session_token()
    if token is None:
        return None
    with read_session() as session:
        return sessions.resolve_account(session=session, token=token)


def current_actor() -> Actor:
    """The signed-in user, else this browser session's anonymous identity."""
    account = current_account()
    return account.actor if account else Actor.anonymous(_anon_key())


def _claim_ticket() -> str:
    held = st.session_state.get("claim_ticket")
    if held is None or held[1] - time.time() < CLAIM_TTL_S / 2:
        with write_session() as session:
            ticket = sessions.make_claim_ticket(session=session, anon_key=_anon_key(), ttl_s=CLAIM_TTL_S)
        held = st.session_state.claim_ticket = (ticket, time.time() + CLAIM_TTL_S)
    return held[0]


def _link(href: str, label: str) -> None:
    # st.link_button and plain markdown links open a new tab; these pages belong in the same one.
    st.markdown(f'<a href="{escape(href)}" target="_self">{escape(label)}</a>', unsafe_allow_html=True)


def account_box() -> None:
    """Drawn in the sidebar: who is signed in and a way out, or the ways in."""
    account = current_account()
    with st.sidebar:
        if account is not None:
            name = escape(account.username)
            role = escape(account.actor.role)
            st.markdown(f"Signed in as <strong>{name}</strong> ({role})", unsafe_allow_html=True)
            _link("/auth/signout", "Sign out")
        else:
            _link("/auth/signin", "Sign in")
            _link(
                "/auth/signup?" + urlencode({"claim": _claim_ticket()}),
                "Sign up (keeps this session's progress)",
            )
