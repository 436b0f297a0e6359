"""A minimal page for the keyboard browser test: a checkbox form, then the four rating buttons."""

import streamlit as st

from quizapp.ui.keys import keyboard

S = st.session_state
if "picked" not in S:
    with st.form("answer"):
        keyboard(choices=3)
        boxes = [st.checkbox(label, key=f"box-{i}") for i, label in enumerate(["Alpha", "Beta", "Gamma"])]
        if st.form_submit_button("Submit", type="primary"):
            S.picked = [label for label, on in zip(["Alpha", "Beta", "Gamma"], boxes, strict=True) if on]
            st.rerun()
    st.stop()

st.write(f"Picked: {', '.join(S.picked) or 'nothing'}")
if "rated" in S:
    st.write(f"Rated: {S.rated}")
    st.stop()
keyboard(ratings=True)
for label, gap in zip(["Again", "Hard", "Good", "Easy"], ["1 m", "6 m", "3 d", "8 d"], strict=True):
    if st.button(f"{label} · {gap}", key=f"rate-{label}"):
        S.rated = label
        st.rerun()
