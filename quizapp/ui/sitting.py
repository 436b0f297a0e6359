"""A practice or review sitting drawn one question at a time, shared by the Practice and Review pages.

Everything that must survive a reload lives in the database (quizapp.sittings): the queue, the
position and the answers. Session state only caches what a run in progress needs (an open question's
written draft, when the question was shown)."""

import time
from datetime import timedelta

import streamlit as st
from sqlalchemy.exc import OperationalError

from quizapp import review, sittings
from quizapp.db import read_session, write_session
from quizapp.grading import AnswerError, answer_feedback
from quizapp.practice import submit_answer
from quizapp.questions import QuestionView, get_question
from quizapp.ui import common, keypoint_feedback
from quizapp.ui.answering import answer_from_state, answer_widget, shown_answer
from quizapp.ui.common import DIFFICULTY, TYPE_LABELS, demo_link, plain, topic_title
from quizapp.ui.keys import keyboard

S = st.session_state
RATING_LABELS = {"again": "Again", "hard": "Hard", "good": "Good", "easy": "Easy"}
RATING_HELP = {
    "again": "I did not know it",
    "hard": "I got there, with effort or only in part",
    "good": "I knew it",
    "easy": "I knew it at once; show it much later",
}


def interval_text(delta: timedelta) -> str:
    """A next-review interval the way Anki writes it: 10 min, 5 h, 3 d, 2.1 mo, 1.3 y."""
    s = max(0.0, delta.total_seconds())
    if s < 3600:
        return f"{max(1, round(s / 60))} min"
    if s < 86400:
        return f"{round(s / 3600)} h"
    d = s / 86400
    if d < 30:
        return f"{round(d)} d"
    if d < 365:
        return f"{d / 30.4:.1f} mo"
    return f"{d / 365:.1f} y"


def _shown_at(attempt_id: int, pos: int) -> float:
    key = f"sit-shown-{attempt_id}-{pos}"
    if key not in S:
        S[key] = time.monotonic()
    return S[key]


def _score_line(sit: sittings.Sitting) -> None:
    """The running score on the page itself (the sidebar is folded away on a phone)."""
    answered = [sit.answers[q] for q in sit.queue if q in sit.answers]
    total = sum(a.score for a in answered)
    c1, c2 = st.columns(2)
    if answered:
        last = max(answered, key=lambda a: a.response_id)
        # The delta is the last answer's result: green for right, red for wrong, grey for partly right.
        if last.correct:
            delta, colour, arrow = "last answer right", "green", "up"
        elif last.score > 0:
            delta, colour, arrow = f"last answer {last.score:.0%} right", "gray", "off"
        else:
            delta, colour, arrow = "last answer wrong", "red", "down"
        c1.metric("Score", f"{total:.1f} / {len(answered)}", delta, delta_color=colour, delta_arrow=arrow)
    else:
        c1.metric("Score", "0 / 0")
    c2.progress(
        min(len(answered) / len(sit.queue), 1.0), text=f"{len(answered)} of {len(sit.queue)} answered"
    )


def _flash(message: str) -> None:
    """A message from a callback, shown where the page draws `_flashed()` in the run that follows."""
    S["sit-flash"] = message


def _flashed() -> None:
    if message := S.pop("sit-flash", None):
        st.warning(message)
    if message := S.pop("sit-error", None):
        st.error(message)


@common.database_guarded
def _toggle_mark(question_id: str, on: bool) -> None:
    with write_session() as session:
        sittings.set_bookmark(session=session, actor=common.actor(), question_id=question_id, on=on)


def bookmark_button(q: QuestionView, marked: bool | None = None) -> None:
    """A toggle to mark the question for later (the Practice page's *Marked* source)."""
    if marked is None:
        with read_session() as session:
            marked = sittings.is_bookmarked(session=session, actor=common.actor(), question_id=q.id)
    st.button(
        "Marked" if marked else "Mark for later",
        icon=":material/bookmark:" if marked else ":material/bookmark_border:",
        key=f"mark-{q.id}-{marked}",
        help="Marked questions have their own filter in Practice",
        on_click=_toggle_mark,
        args=(q.id, not marked),
    )


# Every action below runs in a callback, before the script runs: the run that follows draws its
# result at once, so each click costs one script run, not two (no st.rerun after a state change).


def _store(attempt_id: int, pos: int, question_id: str, answer) -> None:  # type: ignore[no-untyped-def]
    elapsed = int((time.monotonic() - _shown_at(attempt_id, pos)) * 1000)
    try:
        with write_session() as session:
            submit_answer(
                session=session,
                actor=common.actor(),
                attempt_id=attempt_id,
                question_id=question_id,
                answer=answer,
                time_taken_ms=elapsed,
            )
    except AnswerError as exc:
        _flash(plain(str(exc).capitalize() + "."))
    except OperationalError:
        S["sit-error"] = common.NOT_SAVED


def _on_submit(attempt_id: int, pos: int, q: QuestionView, key: str) -> None:
    answer = answer_from_state(q, key)
    if answer is None:
        _flash("Give an answer before submitting.")
        return
    _store(attempt_id, pos, q.id, answer)


def _on_compare(key: str) -> None:
    text = str(S.get(key) or "").strip()
    if not text:
        _flash("Write your answer first: the comparison only helps if you commit to one.")
        return
    S[key + "-draft"] = text


def _on_rate_points(attempt_id: int, pos: int, q: QuestionView, key: str) -> None:
    ticked = [i for i in range(len(q.data["key_points"])) if S.get(f"{key}-kp-{i}")]
    answer = {"text": S[key + "-draft"], "points": ticked, **keypoint_feedback.verdict(S, key)}
    _store(attempt_id, pos, q.id, answer)


def _ask(sit: sittings.Sitting, q: QuestionView) -> None:
    key = f"sit-{sit.attempt_id}-{q.id}"
    keyboard(choices=2 if q.type == "truefalse" else len(q.data.get("choices") or []))
    _flashed()
    if q.type != "open":
        with st.form(key + "-form"):
            answer_widget(q, key)
            st.form_submit_button(
                "Submit", type="primary", on_click=_on_submit, args=(sit.attempt_id, sit.pos, q, key)
            )
        return
    draft_key = key + "-draft"
    if draft_key not in S:
        with st.form(key + "-form"):
            answer_widget(q, key)
            st.caption("Write your answer as you would say it in an interview, then compare it with ours.")
            st.form_submit_button(
                "Compare with the model answer", type="primary", on_click=_on_compare, args=(key,)
            )
        return
    _open_answers(S[draft_key], q)
    found = keypoint_feedback.prefill(S, key, q.data, S[draft_key])
    with st.form(key + "-rate"):
        st.write("Which of these key points did your answer make?")
        for i, point in enumerate(q.data["key_points"]):
            st.checkbox(point, key=f"{key}-kp-{i}")
            if i in found.evidence:
                st.caption(f"Found in your answer: “{plain(found.evidence[i])}”")
        st.form_submit_button(
            "Record my rating",
            type="primary",
            on_click=_on_rate_points,
            args=(sit.attempt_id, sit.pos, q, key),
        )


def _open_answers(text: str, q: QuestionView, ticked: list[int] | None = None) -> None:
    mine, model = st.columns(2)
    with mine:
        st.markdown("**Your answer**")
        st.text(text)  # the learner's own words, shown as plain text
    with model:
        st.markdown("**Model answer**")
        st.markdown(q.data["answer"])
    if ticked is not None:
        st.markdown("**Key points**")
        for i, point in enumerate(q.data["key_points"]):
            st.markdown(
                f"{':material/check_circle:' if i in ticked else ':material/radio_button_unchecked:'} {point}"
            )


def feedback(q: QuestionView, res: sittings.Answered) -> None:
    """What the learner sees after answering: their answer, the key, the explanation, the demo."""
    if q.type == "open":
        answer = res.answer if isinstance(res.answer, dict) else {"text": str(res.answer), "points": []}
        ticked = [int(i) for i in answer.get("points", [])]
        _open_answers(str(answer.get("text", "")), q, ticked)
        n = len(q.data["key_points"])
        st.info(f"You rated your answer as covering {len(ticked)} of {n} key points ({res.score:.0%}).")
    else:
        st.text(f"Your answer: {shown_answer(res.answer)}")  # the learner's own text, as plain text
        if res.correct:
            st.success("Correct.")
        elif res.score > 0:
            st.warning(f"Partly right ({res.score:.0%}). The full answer: {plain(res.expected)}")
        else:
            st.error(f"Not quite. The answer: {plain(res.expected)}")
        for text in answer_feedback(q.data, res.answer):  # the question's own note on this answer
            st.info(text, icon=":material/comment:")
    st.markdown("**Why**")
    st.markdown(q.explanation)
    demo_link(q.demo, q.demo_params)


def _ratings(sit: sittings.Sitting, res: sittings.Answered) -> None:
    """Review: the four ratings, each with the interval it gives; the one the grade chose is applied
    already and shown as primary. Practice: a full answer may be raised to Easy."""
    me = common.actor()
    with read_session() as session:
        previews = review.previews(session=session, actor=me, response_id=res.response_id)
        current = review.rating_of(session=session, actor=me, response_id=res.response_id)
    if not previews or current is None:
        return
    names = list(RATING_LABELS) if sit.mode == "review" else (["good", "easy"] if res.correct else [])
    if not names:
        st.caption(f"Next review of this question: in {interval_text(previews[current])}.")
        return
    if sit.mode == "review":
        st.write(
            "How well did you recall it? Your grade chose the highlighted rating; change it if it was off."
        )
    else:
        st.caption("Fully right. If it came at once, rate it Easy and it comes back later.")
    _flashed()
    cols = st.columns(len(names))
    for i, (col, name) in enumerate(zip(cols, names, strict=True)):
        col.button(
            f"{RATING_LABELS[name]} · {interval_text(previews[name])}",
            key=f"rate-{res.response_id}-{name}",
            type="primary" if name == current else "secondary",
            help=RATING_HELP[name],
            shortcut=str(i + 1) if sit.mode == "review" else None,
            width="stretch",
            on_click=_on_rerate,
            args=(res.response_id, name),
        )


@common.database_guarded
def _on_rerate(response_id: int, name: str) -> None:
    try:
        with write_session() as session:
            review.rerate(
                session=session, actor=common.actor(), response_id=response_id, rating=review.RATINGS[name]
            )
    except review.ReviewError as exc:
        _flash(plain(str(exc).capitalize() + "."))


@common.database_guarded
def _on_next(attempt_id: int, pos: int, mode: str, last: bool) -> None:
    with write_session() as session:
        sittings.advance(session=session, actor=common.actor(), attempt_id=attempt_id, from_pos=pos)
    if last:
        S[f"summary-{mode}"] = attempt_id


def draw(sit: sittings.Sitting) -> None:
    """One run of a sitting in progress: the current question, or its feedback and the way on."""
    _score_line(sit)
    qid = sit.current
    assert qid is not None
    with read_session() as session:
        q = get_question(session=session, question_id=qid)
    if q is None:  # removed from the bank since the sitting began: skip it
        with write_session() as session:
            sittings.advance(
                session=session, actor=common.actor(), attempt_id=sit.attempt_id, from_pos=sit.pos
            )
        st.rerun()
    _shown_at(sit.attempt_id, sit.pos)
    head, mark = st.columns([4, 1])
    head.caption(
        f"Question {sit.pos + 1} of {len(sit.queue)} · {topic_title(q.topic)} · "
        f"{DIFFICULTY[q.difficulty]} · {TYPE_LABELS[q.type]}"
    )
    with mark:
        bookmark_button(q)
    st.markdown(q.prompt)
    res = sit.answers.get(qid)
    if res is None:
        _ask(sit, q)
        return
    feedback(q, res)
    _ratings(sit, res)
    last = sit.pos + 1 >= len(sit.queue)
    st.button(
        "See the session review" if last else "Next question",
        type="primary",
        key=f"next-{sit.attempt_id}-{sit.pos}",
        shortcut="Enter",
        on_click=_on_next,
        args=(sit.attempt_id, sit.pos, sit.mode, last),
    )


@common.database_guarded
def _on_retry(mode: str, retry_mode: str, missed: list[str]) -> None:
    with write_session() as session:
        sittings.start(session=session, actor=common.actor(), mode=retry_mode, queue=missed, label="Retry")
    S.pop(f"summary-{mode}", None)


def summary(sit: sittings.Sitting, *, retry_mode: str = "practice") -> None:
    """The end-of-session review: every question with your answer, the key, the explanation and the
    demo link, and a way to retry the ones you missed."""
    results = [sit.answers.get(q) for q in sit.queue]
    answered = [r for r in results if r is not None]
    score = sum(r.score for r in answered)
    st.subheader("Session complete")
    c1, c2, c3 = st.columns(3)
    c1.metric("Score", f"{score:.1f} / {len(answered)}")
    c2.metric("Fully right", sum(1 for r in answered if r.correct))
    c3.metric("Share", f"{score / len(answered):.0%}" if answered else "-")
    missed = [q for q, r in zip(sit.queue, results, strict=True) if r is not None and not r.correct]
    b1, b2 = st.columns(2)
    if missed:
        b1.button(
            f"Retry the {len(missed)} I missed",
            type="primary",
            icon=":material/replay:",
            on_click=_on_retry,
            args=(sit.mode, retry_mode, missed),
        )
    b2.button("Close the review", icon=":material/close:", on_click=S.pop, args=(f"summary-{sit.mode}", None))
    st.markdown("#### Review of the session")
    with read_session() as session:
        views = {q: get_question(session=session, question_id=q) for q in sit.queue}
    for i, qid in enumerate(sit.queue, start=1):
        q, res = views.get(qid), sit.answers.get(qid)
        if q is None:
            continue
        mark = (
            "-"
            if res is None
            else ("right" if res.correct else (f"{res.score:.0%}" if res.score else "wrong"))
        )
        icon = (
            ":material/check_circle:"
            if res is not None and res.correct
            else (":material/remove:" if res is None else ":material/cancel:")
        )
        first_line = q.prompt.strip().splitlines()[0]
        with st.expander(
            f"{i}. {first_line[:110]} — {mark}", icon=icon, expanded=res is not None and not res.correct
        ):
            st.markdown(q.prompt)
            if res is None:
                st.caption("Not answered.")
                continue
            feedback(q, res)
