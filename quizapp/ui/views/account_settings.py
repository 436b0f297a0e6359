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
if st.session_state.pop("password_changed", False):
    st.success("Your password is changed. Use the new one next time you sign in.")
n = st.session_state.setdefault("password_form", 0)
with st.form(f"password-{n}"):
    old = st.text_input("Current password", type="password", key=f"pw-old-{n}")
    new = st.text_input("New password (at least 10 characters)", type="password", key=f"pw-new-{n}")
    again = st.text_input("New password again", type="password", key=f"pw-again-{n}")
    if st.form_submit_button("Change password", type="primary"):
        if new != again:
            st.error("The two new passwords differ.")
        else:
            try:
                with write_session() as session:
                    change_password(session=session, actor=me, old=old, new=new)
                st.session_state.password_changed = True
                st.session_state.password_form = n + 1
                st.rerun()
            except (AccountError, AccessDenied) as exc:
                st.error(str(exc))
