"""The account as pages see it: who is acting, and the sidebar box to sign in, up or out.

The session cookie is HttpOnly and set by the /auth/ pages (quizapp/web/routes.py); a script can still
read it, because the browser sends it with the request that opens the Streamlit session. So can it
read the anonymous device cookie (quizapp/web/device.py), under whose key a browser that is not signed
in keeps its progress across reloads and restarts (quizapp/devices.py).
"""

import time
from html import escape
from urllib.parse import urlencode, urlsplit

import streamlit as st

from quizapp import devices, sessions
from quizapp.db import read_session, write_session
from quizapp.identity import Actor
from quizapp.textutil import escape_markdown
from quizapp.web.device import DEVICE_COOKIE, device_token
from quizapp.web.routes import ADOPTED_PARAM, SESSION_COOKIE

# A tab left open re-reads its device now and then, so the expiry slides and an adoption is seen.
DEVICE_RECHECK_S = 3600


def _device_key() -> str | None:
    """This browser's anonymous key from its device cookie; None without one (AppTest, no cookies)."""
    token = device_token(st.context.cookies.get(DEVICE_COOKIE))  # AppTest's browser is a MagicMock
    if token is None:
        return None
    held = st.session_state.get("_device_identity")
    if held is None or held[0] != token or time.monotonic() - held[2] > DEVICE_RECHECK_S:
        with write_session() as session:
            key = devices.resolve_device(session=session, token=token)
        held = st.session_state["_device_identity"] = (token, key, time.monotonic())
    return held[1]


def _anon_key() -> str:
    device = _device_key()
    if device is not None:
        return device
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
    """The signed-in user, else this browser's anonymous identity (this session's without a cookie)."""
    account = current_account()
    return account.actor if account else Actor.anonymous(_anon_key())


def _here() -> str:
    """This page's path and query, for the sign-in links to come back to ("/" when unknown)."""
    url = st.context.url
    path = urlsplit(url).path if isinstance(url, str) and url else ""
    query = [(k, v) for k in st.query_params for v in st.query_params.get_all(k) if k != ADOPTED_PARAM]
    return (path or "/") + (f"?{urlencode(query)}" if query else "")


def _auth_link(path: str) -> str:
    here = _here()
    return f"{path}?{urlencode({'next': here})}" if here != "/" else path


def _adoption_notice(account: sessions.Account | None) -> None:
    """Once, after a sign-in that brought this browser's answers along (the /auth/ pages add the marker)."""
    raw = st.query_params.get(ADOPTED_PARAM)
    if raw is None:
        return
    del st.query_params[ADOPTED_PARAM]
    if account is None or not raw.isdigit() or int(raw) <= 0:
        return
    n = int(raw)
    answers = "1 answer from this browser was" if n == 1 else f"{n} answers from this browser were"
    st.toast(f"{answers} added to your account.", icon=":material/check_circle:", duration="long")


def _link(href: str, label: str) -> None:
    # st.link_button and plain markdown links open a new tab; these pages belong in the same one.
    st.markdown(f'<a href="{escape(href)}" target="_self">{escape(label)}</a>', unsafe_allow_html=True)


def account_box() -> None:
    """Drawn in the sidebar: who is signed in and a way out, or the ways in."""
    account = current_account()
    _adoption_notice(account)
    with st.sidebar:
        if account is not None:
            name = escape_markdown(account.username)
            st.markdown(f"Signed in as **{name}** ({escape_markdown(account.actor.role)})")
            _link("/auth/signout", "Sign out")
        else:
            _link(_auth_link("/auth/signin"), "Sign in")
            _link(_auth_link("/auth/signup"), "Sign up")
            st.caption("Your answers in this browser move to your account when you sign in or up.")
