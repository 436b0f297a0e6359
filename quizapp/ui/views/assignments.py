import time
from datetime import datetime

import streamlit as st

from quizapp.assignments import (
    FEEDBACK,
    AssignmentError,
    TimeUp,
    learner_assignments,
    save_answer,
    start_or_resume,
    submit_attempt,
    view_attempt,
)
from quizapp.cohorts import CohortError, join_cohort
from quizapp.db import write_session
from quizapp.grading import AnswerError
from quizapp.identity import AccessDenied
from quizapp.models import as_utc, utcnow
from quizapp.ui.answering import answer_widget, shown_answer
from quizapp.ui.common import actor, plain, topic_title

S = st.session_state


def _when(dt: datetime | None) -> str:
    return f"{as_utc(dt):%Y-%m-%d %H:%M} UTC" if dt else "none"


def _clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


@st.fragment(run_every=1)
def _timer(deadline: datetime) -> None:
    left = (deadline - utcnow()).total_seconds()
    st.metric("Time left", _clock(left))
    if left <= 0:
        st.rerun()  # the whole page: view_attempt submits the attempt as it stands


def _list(me) -> None:  # type: ignore[no-untyped-def]
    with st.form("join"):
        code = st.text_input("Join a cohort", placeholder="the code your instructor gave you, e.g. K7PQ2MXA")
        if st.form_submit_button("Join"):
            try:
                with write_session() as session:
                    cohort = join_cohort(session=session, actor=me, code=code)
                st.success(f"You joined {plain(cohort.name)}.")
            except (CohortError, AccessDenied) as exc:
                st.error(str(exc))
    with write_session() as session:
        items = learner_assignments(session=session, actor=me)
    if not items:
        st.info("No assignments yet. Join a cohort with its code; its assignments appear here.")
        return
    for item in items:
        a = item.assignment
        with st.container(border=True):
            st.subheader(plain(a.title))
            limit = f"{a.time_limit_s // 60} min" if a.time_limit_s else "untimed"
            allowed = a.attempts_allowed or "unlimited"
            st.caption(
                f"{plain(item.cohort_name)} · {item.questions} questions · {limit} · opens {_when(a.opens_at)} · "
                f"due {_when(a.due_at)} · attempts {item.attempts_used} of {allowed} · feedback: {FEEDBACK[a.feedback].lower()}"
            )
            if item.best_score is not None:
                st.write(f"Best score so far: {item.best_score:.0%}")
            label = "Resume" if item.open_attempt_id else "Start"
            if st.button(label, key=f"start-{a.id}", disabled=not item.can_start, type="primary"):
                try:
                    with write_session() as session:
                        S.as_attempt = start_or_resume(session=session, actor=me, assignment_id=a.id)
                    st.rerun()
                except (AssignmentError, AccessDenied) as exc:
                    st.error(str(exc))
            if item.reason:
                st.caption(f"Cannot start: {item.reason}.")


def _result(view) -> None:  # type: ignore[no-untyped-def]
    st.success(f"Submitted. Score: {view.score:.0%} ({len(view.answers)} of {len(view.questions)} answered).")
    if not view.feedback_visible:
        st.info(f"Your answers are in. Feedback shows {FEEDBACK[view.assignment.feedback].lower()}.")
        return
    for i, q in enumerate(view.questions, 1):
        got = view.answers.get(q.id)
        with st.expander(
            f"{i}. {topic_title(q.topic)}: {'right' if got and got['correct'] else 'not right'}"
        ):
            st.markdown(q.prompt)
            st.text(f"Your answer: {shown_answer(got['answer']) if got else '(none)'}")
            st.markdown("**Why**")
            st.markdown(q.explanation)


def _take(me, attempt_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        with write_session() as session:
            view = view_attempt(session=session, actor=me, attempt_id=attempt_id)
    except AccessDenied as exc:
        S.pop("as_attempt", None)
        st.error(str(exc))
        return
    st.subheader(plain(view.assignment.title))
    if st.button("Back to my assignments"):
        S.pop("as_attempt", None)
        st.rerun()
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
            if got:
                st.text(f"Saved: {shown_answer(got['answer'])}")
                if final:
                    (st.success if got["correct"] else st.error)("Right." if got["correct"] else "Not right.")
                    continue
            with st.form(f"as-{attempt_id}-{q.id}"):
                answer = answer_widget(q, f"as-{attempt_id}-{q.id}-w")
                if st.form_submit_button("Save answer" if not got else "Change answer"):
                    if answer is None:
                        st.warning("Give an answer before saving.")
                    else:
                        try:
                            with write_session() as session:
                                save_answer(
                                    session=session,
                                    actor=me,
                                    attempt_id=attempt_id,
                                    question_id=q.id,
                                    answer=answer,
                                )
                            st.rerun()
                        except TimeUp as exc:
                            st.warning(str(exc))
                            time.sleep(0.5)
                            st.rerun()
                        except (AssignmentError, AnswerError) as exc:
                            st.warning(str(exc))
    confirm = st.checkbox("I have finished: hand in this attempt")
    if st.button("Submit attempt", type="primary", disabled=not confirm):
        with write_session() as session:
            submit_attempt(session=session, actor=me, attempt_id=attempt_id)
        st.rerun()


st.title("Assignments")
me = actor()
if me.is_anonymous:
    st.info("Assignments belong to cohorts. Sign in, or sign up, and join with your instructor's code.")
    st.stop()
if "as_attempt" in S:
    _take(me, S.as_attempt)
else:
    _list(me)
