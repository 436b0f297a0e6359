import hashlib
import json
from datetime import datetime

import streamlit as st
from sqlalchemy.exc import OperationalError

from quizapp.assignments import (
    FEEDBACK,
    AssignmentError,
    AssignmentStatus,
    TimeUp,
    learner_assignments,
    resume_attempt,
    save_answer,
    start_attempt,
    submit_attempt,
    view_attempt,
)
from quizapp.cohorts import CohortError, join_cohort
from quizapp.db import write_session
from quizapp.grading import AnswerError, answer_feedback
from quizapp.identity import AccessDenied
from quizapp.models import as_utc, utcnow
from quizapp.questions import QuestionView
from quizapp.ui.answering import answer_from_state, answer_widget, shown_answer
from quizapp.ui.common import NOT_SAVED, actor, plain, topic_title
from quizapp.ui.tz import show

S = st.session_state


def _when(dt: datetime | None) -> str:
    """In the viewer's time zone (the browser's; UTC where it does not say)."""
    return show(as_utc(dt))


def _digest(answer) -> str:  # type: ignore[no-untyped-def]
    return "" if answer is None else hashlib.sha1(json.dumps(answer).encode()).hexdigest()[:8]


def _clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


@st.fragment(run_every=1)
def _timer(deadline: datetime) -> None:
    left = (deadline - utcnow()).total_seconds()
    st.metric("Time left", _clock(left))
    if left <= 0:
        st.rerun()  # the whole page: view_attempt submits the attempt as it stands


def _flash() -> None:
    """A message left by a click's callback, shown by the run that follows it."""
    if "as_flash" in S:
        kind, text = S.pop("as_flash")
        getattr(st, kind)(text)


def _saved(q: QuestionView, answer) -> str:  # type: ignore[no-untyped-def]
    """A saved answer as markdown: choices as the bank writes them (their code and formulas
    rendered), typed text inert."""
    if q.type in ("single", "multi"):
        picked = answer if isinstance(answer, list) else [answer]
        return "; ".join(str(c) for c in picked)
    return plain(shown_answer(answer))


def _history(item: AssignmentStatus) -> None:
    a = item.assignment
    for line in item.history:
        if line.finished_at is None:
            st.markdown(f"Attempt {line.number}: in progress, started {_when(line.started_at)}.")
            continue
        how = " when its time ran out" if line.timed_out else ""
        if line.score is not None:
            result = f"score **{line.score:.0%}** ({line.answered} of {item.questions} answered)"
        elif a.feedback == "after_due" and item.due_at is not None:
            result = f"the score shows after the due date, {_when(item.due_at)}"
        else:
            result = f"the score shows {FEEDBACK[a.feedback].lower()}"
        st.markdown(f"Attempt {line.number}: submitted {_when(line.finished_at)}{how}; {result}.")
    if item.best_score is not None and len([h for h in item.history if h.score is not None]) > 1:
        st.markdown(f"Best score so far: **{item.best_score:.0%}**")


# Every click below acts in a callback, before the script runs: the run it starts draws the result,
# so one click is one script run (no st.rerun after a state change).


def _open(me, attempt_id: int, number: int) -> None:  # type: ignore[no-untyped-def]
    """Resume one attempt; if its time ran out meanwhile, it is submitted and its result shown."""
    with write_session() as session:
        running = resume_attempt(session=session, actor=me, attempt_id=attempt_id)
    if not running:
        S.as_flash = ("warning", f"Time ran out on attempt {number}: it was submitted as it stood.")
    S.as_attempt = attempt_id


def _begin(me, assignment_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        with write_session() as session:
            S.as_attempt = start_attempt(session=session, actor=me, assignment_id=assignment_id)
    except (AssignmentError, AccessDenied) as exc:
        S.as_flash = ("error", plain(str(exc)))


def _back() -> None:
    S.pop("as_attempt", None)


def _save(me, attempt_id: int, q: QuestionView, key: str) -> None:  # type: ignore[no-untyped-def]
    answer = answer_from_state(q, key)
    if answer is None:
        S.as_flash = ("warning", "Give an answer before saving.")
        return
    try:
        with write_session() as session:
            save_answer(session=session, actor=me, attempt_id=attempt_id, question_id=q.id, answer=answer)
    except (TimeUp, AssignmentError, AnswerError) as exc:  # time up: the run that follows shows the result
        S.as_flash = ("warning", plain(str(exc)))
    except OperationalError:
        S.as_flash = ("error", NOT_SAVED)


def _hand_in(me, attempt_id: int) -> None:  # type: ignore[no-untyped-def]
    with write_session() as session:
        submit_attempt(session=session, actor=me, attempt_id=attempt_id)


def _start(me, item: AssignmentStatus) -> None:  # type: ignore[no-untyped-def]
    a = item.assignment
    number = item.attempts_used + 1
    if item.attempts_left is None:
        label, note = f"Start attempt {number}", "Attempts are unlimited."
    else:
        label = f"Start attempt {number} of {item.attempts_allowed}"
        left = item.attempts_left
        note = "This is your last attempt." if left == 1 else f"{left} attempts left; starting uses one."
    if item.time_limit_s:
        note += f" The {item.time_limit_s // 60} min timer starts at once."
    st.caption(note)
    st.button(label, key=f"start-{a.id}", type="primary", on_click=_begin, args=(me, a.id))


def _list(me) -> None:  # type: ignore[no-untyped-def]
    with st.form("join"):
        code = st.text_input("Join a cohort", placeholder="the code your instructor gave you, e.g. K7PQ2MXA")
        if st.form_submit_button("Join"):
            try:
                with write_session() as session:
                    cohort = join_cohort(session=session, actor=me, code=code)
                st.success(f"You joined {plain(cohort.name)}.")
            except (CohortError, AccessDenied) as exc:
                st.error(plain(str(exc)))
    with write_session() as session:  # a write: attempts whose time ran out are submitted first
        items = learner_assignments(session=session, actor=me)
    if not items:
        st.info("No assignments yet. Join a cohort with its code; its assignments appear here.")
        return
    for item in items:
        a = item.assignment
        with st.container(border=True):
            st.subheader(plain(a.title))
            # The learner's own rules: an instructor's override for them shows here.
            limit = f"{item.time_limit_s // 60} min" if item.time_limit_s else "untimed"
            allowed = item.attempts_allowed or "unlimited"
            st.caption(
                f"{plain(item.cohort_name)} · {item.questions} questions · {limit} · opens {_when(a.opens_at)} · "
                f"due {_when(item.due_at)} · attempts {item.attempts_used} of {allowed} · feedback: {FEEDBACK[a.feedback].lower()}"
            )
            _history(item)
            if item.open_attempt_id:
                number = next(h.number for h in item.history if h.attempt_id == item.open_attempt_id)
                st.button(
                    f"Resume attempt {number}",
                    key=f"resume-{a.id}",
                    type="primary",
                    on_click=_open,
                    args=(me, item.open_attempt_id, number),
                )
            elif item.can_start:
                _start(me, item)
            if item.reason:
                st.caption(f"Cannot start: {plain(item.reason)}.")


def _result(view) -> None:  # type: ignore[no-untyped-def]
    when = _when(view.attempt.finished_at)
    if not view.feedback_visible:
        # Only that it is in, and when: a score would tell which answers were right.
        st.success(f"Submitted at {when}.")
        a = view.assignment
        shows = (
            f"after the due date, {_when(view.due_at)}"
            if a.feedback == "after_due" and view.due_at
            else FEEDBACK[a.feedback].lower()
        )
        st.info(f"Your answers are in. Your score and feedback show {shows}.")
        return
    st.success(f"Submitted. Score: {view.score:.0%} ({len(view.answers)} of {len(view.questions)} answered).")
    st.caption(f"Submitted at {when}.")
    for i, q in enumerate(view.questions, 1):
        got = view.answers.get(q.id)
        with st.expander(
            f"{i}. {topic_title(q.topic)}: {'right' if got and got['correct'] else 'not right'}"
        ):
            st.markdown(q.prompt)
            st.markdown(f"Your answer: {_saved(q, got['answer']) if got else '(none)'}")
            for text in answer_feedback(q.data, got["answer"]) if got else []:
                st.info(text, icon=":material/comment:")
            st.markdown("**Why**")
            st.markdown(q.explanation)


def _take(me, attempt_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        with write_session() as session:
            view = view_attempt(session=session, actor=me, attempt_id=attempt_id)
    except AccessDenied as exc:
        S.pop("as_attempt", None)
        st.error(plain(str(exc)))
        return
    st.subheader(plain(view.assignment.title))
    _flash()
    st.button("Back to my assignments", on_click=_back)
    if view.finished:
        _result(view)
        return
    if view.seconds_left is not None:
        _timer(as_utc(view.attempt.deadline_at))
    st.caption(f"{len(view.answers)} of {len(view.questions)} answered. Each answer is saved as you give it.")
    final = view.assignment.feedback == "immediate"
    for i, q in enumerate(view.questions, 1):
        got = view.answers.get(q.id)
        with st.container(border=True):
            st.markdown(f"**{i}.** " + q.prompt)
            saved = got["answer"] if got else None
            if got:
                st.markdown(f"Saved: {_saved(q, saved)}")
                if final:
                    (st.success if got["correct"] else st.error)("Right." if got["correct"] else "Not right.")
                    continue
            with st.form(f"as-{attempt_id}-{q.id}"):
                # A key per saved answer: the form starts from what is saved, after a reload too.
                key = f"as-{attempt_id}-{q.id}-w{_digest(saved)}"
                answer_widget(q, key, initial=saved)
                st.form_submit_button(
                    "Save answer" if not got else "Change answer",
                    on_click=_save,
                    args=(me, attempt_id, q, key),
                )
    confirm = st.checkbox("I have finished: hand in this attempt")
    st.button(
        "Submit attempt", type="primary", disabled=not confirm, on_click=_hand_in, args=(me, attempt_id)
    )


st.title("Assignments")
me = actor()
if me.is_anonymous:
    st.info("Assignments belong to cohorts. Sign in, or sign up, and join with your instructor's code.")
    st.stop()
if "as_attempt" in S:
    _take(me, S.as_attempt)
else:
    _flash()
    _list(me)
