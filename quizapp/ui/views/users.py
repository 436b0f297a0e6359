import streamlit as st

from quizapp.ui.common import actor

st.title("Users")
if actor().role != "admin":
    st.error("This page is for admins.")
    st.stop()
st.info("The user list appears here.")
