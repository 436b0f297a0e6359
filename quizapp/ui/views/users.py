import streamlit as st

from quizapp.accounts import reset_password, unlock_user
from quizapp.auth import ROLES, AccountError
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied
from quizapp.sessions import list_users, set_role
from quizapp.textutil import escape_markdown
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
    [{"username": u.username, "role": u.role, "created": u.created_at} for u in users],
    hide_index=True,
    width="stretch",
)
by_id = {u.id: u for u in users}


# Callbacks: each click's change and its message land in the one script run the click causes.
def _change_role() -> None:
    who, role = st.session_state["role-user"], st.session_state["role-new"]
    try:
        with write_session() as session:
            set_role(session=session, actor=me, user_id=who, role=role)
        st.session_state["users-flash"] = (
            "success",
            f"{escape_markdown(by_id[who].username)} is now {role}.",
        )
    except (AccountError, AccessDenied) as exc:
        st.session_state["users-flash"] = ("error", escape_markdown(exc))


def _reset() -> None:
    name = by_id[st.session_state["pw-target"]].username
    try:
        with write_session() as session:
            st.session_state.reset_shown = (name, reset_password(session=session, actor=me, username=name))
    except (AccessDenied, LookupError) as exc:
        st.session_state["users-flash"] = ("error", escape_markdown(exc))


with st.form("role"):
    st.selectbox(
        "User", list(by_id), format_func=lambda i: f"{by_id[i].username} ({by_id[i].role})", key="role-user"
    )
    st.selectbox("New role", list(ROLES), key="role-new")
    st.form_submit_button("Change role", type="primary", on_click=_change_role)
if flash := st.session_state.pop("users-flash", None):
    getattr(st, flash[0])(flash[1])

st.subheader("Passwords and sign-in delays")
st.caption("A reset password is shown once, here: pass it on; the user changes it on their Account page.")
if "reset_shown" in st.session_state:
    name, password = st.session_state.pop("reset_shown")
    st.success(f"New password for {escape_markdown(name)} (shown only now): `{password}`")
c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
target = c1.selectbox("Account", list(by_id), format_func=lambda i: by_id[i].username, key="pw-target")
c2.button("Reset password", on_click=_reset)
if c3.button("Unlock", help="Clear the delays repeated wrong passwords put on signing in to this account"):
    try:
        with write_session() as session:
            cleared = unlock_user(session=session, actor=me, username=by_id[target].username)
        name = escape_markdown(by_id[target].username)
        st.success(f"Sign-in delays for {name} cleared." if cleared else f"{name} had no sign-in delays.")
    except (AccessDenied, LookupError) as exc:
        st.error(escape_markdown(exc))
