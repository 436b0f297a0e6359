"""Drawing an answer input for each question type, shared by practice and assignments."""

import streamlit as st

from quizapp.questions import QuestionView


def answer_widget(q: QuestionView, key: str, initial=None):  # type: ignore[no-untyped-def]
    """The answer as grading takes it, or None when nothing was given. `initial`: an answer given
    before (as stored), which the widget starts with, e.g. to change a saved answer."""
    d = q.data
    if q.type == "single":
        choices = d["choices"]
        index = choices.index(initial) if initial in choices else None
        return st.radio("Your answer", choices, index=index, key=key)
    if q.type == "multi":
        st.write("Select every correct option.")
        ticked = set(initial) if isinstance(initial, list) else set()
        return [
            c for i, c in enumerate(d["choices"]) if st.checkbox(c, value=c in ticked, key=f"{key}-{i}")
        ] or None
    if q.type == "truefalse":
        index = None if not isinstance(initial, bool) else (0 if initial else 1)
        choice = st.radio("Your answer", ["True", "False"], index=index, key=key, horizontal=True)
        return None if choice is None else choice == "True"
    text = "" if initial is None else str(initial)
    if q.type == "numeric":
        return st.text_input("Your answer (a number)", value=text, key=key).strip() or None
    if q.type == "short":
        return st.text_input("Your answer", value=text, key=key).strip() or None
    return st.text_area("Your answer", value=text, key=key, height=180).strip() or None


def shown_answer(answer) -> str:  # type: ignore[no-untyped-def]
    """An answer as plain text, for showing it back to the person who gave it."""
    if isinstance(answer, bool):
        return "True" if answer else "False"
    if isinstance(answer, list):
        return "; ".join(map(str, answer))
    return str(answer)


def answer_from_state(q: QuestionView, key: str):  # type: ignore[no-untyped-def]
    """The answer that `answer_widget(q, key)` holds, read from session state: what a form's
    submit callback sees before the script runs again."""
    state, d = st.session_state, q.data
    if q.type == "single":
        return state.get(key)
    if q.type == "multi":
        return [c for i, c in enumerate(d["choices"]) if state.get(f"{key}-{i}")] or None
    if q.type == "truefalse":
        choice = state.get(key)
        return None if choice is None else choice == "True"
    value = state.get(key)
    return (str(value).strip() or None) if value is not None else None
