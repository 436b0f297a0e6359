"""Drawing an answer input for each question type, shared by practice and assignments."""

import streamlit as st

from quizapp.questions import QuestionView


def answer_widget(q: QuestionView, key: str):  # type: ignore[no-untyped-def]
    """The answer as grading takes it, or None when nothing was given."""
    d = q.data
    if q.type == "single":
        return st.radio("Your answer", d["choices"], index=None, key=key)
    if q.type == "multi":
        st.write("Select every correct option.")
        return [c for i, c in enumerate(d["choices"]) if st.checkbox(c, key=f"{key}-{i}")] or None
    if q.type == "truefalse":
        choice = st.radio("Your answer", ["True", "False"], index=None, key=key, horizontal=True)
        return None if choice is None else choice == "True"
    if q.type == "numeric":
        return st.text_input("Your answer (a number)", key=key).strip() or None
    if q.type == "short":
        return st.text_input("Your answer", key=key).strip() or None
    return st.text_area("Your answer", key=key, height=180).strip() or None


def shown_answer(answer) -> str:  # type: ignore[no-untyped-def]
    """An answer as plain text, for showing it back to the person who gave it."""
    if isinstance(answer, bool):
        return "True" if answer else "False"
    if isinstance(answer, list):
        return "; ".join(map(str, answer))
    return str(answer)
