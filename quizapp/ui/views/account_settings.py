"""The signed-in user's own account: change the password (the current one is required)."""

import streamlit as st

from quizapp.accounts import change_password
from quizapp.auth import AccountError
from quizapp.db import write_session
from quizapp.identity import AccessDenied
from quizapp.ui.common import actor

st.title("Account")
me = actor()
if me.is_anonymous:
    st.info("Sign in to manage your account.")
    st.stop()
st.subheader("Change your password")


def _change(n: int) -> None:
    """The form's callback: the run it starts shows the result (one script run per click)."""
    S = st.session_state
    old, new, again = S.get(f"pw-old-{n}", ""), S.get(f"pw-new-{n}", ""), S.get(f"pw-again-{n}", "")
    if new != again:
        S.password_refused = "The two new passwords differ."
        return
    try:
        with write_session() as session:
            change_password(session=session, actor=me, old=old, new=new)
    except (AccountError, AccessDenied) as exc:
        S.password_refused = str(exc)
        return
    S.password_changed = True
    S.password_form = n + 1  # a new, empty form


if st.session_state.pop("password_changed", False):
    st.success("Your password is changed. Use the new one next time you sign in.")
if refused := st.session_state.pop("password_refused", None):
    st.error(refused)
n = st.session_state.setdefault("password_form", 0)
with st.form(f"password-{n}"):
    st.text_input("Current password", type="password", key=f"pw-old-{n}")
    st.text_input("New password (at least 10 characters)", type="password", key=f"pw-new-{n}")
    st.text_input("New password again", type="password", key=f"pw-again-{n}")
    st.form_submit_button("Change password", type="primary", on_click=_change, args=(n,))
