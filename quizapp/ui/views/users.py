import streamlit as st

from quizapp.auth import ROLES, AccountError
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied
from quizapp.sessions import list_users, set_role
from quizapp.ui.common import actor

st.title("Users")
me = actor()
try:
    with read_session() as session:
        users = list_users(session=session, actor=me)
except AccessDenied:
    st.error("This page is for admins.")
    st.stop()

st.caption(f"{len(users)} account(s). A role change signs that user out everywhere.")
st.dataframe(
    [
        {"username": u.username, "role": u.role, "created": u.created_at, "locked until": u.locked_until}
        for u in users
    ],
    hide_index=True,
    width="stretch",
)
by_id = {u.id: u for u in users}
with st.form("role"):
    who = st.selectbox("User", list(by_id), format_func=lambda i: f"{by_id[i].username} ({by_id[i].role})")
    role = st.selectbox("New role", list(ROLES))
    if st.form_submit_button("Change role", type="primary"):
        try:
            with write_session() as session:
                set_role(session=session, actor=me, user_id=who, role=role)
            st.success(f"{by_id[who].username} is now {role}.")
            st.rerun()
        except (AccountError, AccessDenied) as exc:
            st.error(str(exc))
