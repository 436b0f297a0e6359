"""The Teach page's course management: each assignment's settings, close, delete, drawn questions
and per-learner overrides; the cohort's roster, join code and archive. Thin: quizapp.course acts."""

from datetime import time

import streamlit as st

from quizapp.assignments import FEEDBACK, AssignmentError
from quizapp.cohorts import CohortError
from quizapp.course import (
    archive_cohort,
    attempts_count,
    close_assignment,
    delete_assignment,
    drawn_questions,
    overrides_of,
    remove_learner,
    rotate_join_code,
    set_join_open,
    set_override,
    update_assignment,
)
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied
from quizapp.ui.common import TYPE_LABELS, plain, topic_title
from quizapp.ui.instructor_reports import one_page
from quizapp.ui.tz import moment_from_state, moment_input, show

END_OF_DAY = time(23, 59)
ERRORS = (AssignmentError, CohortError, AccessDenied)


def flash(message: str, kind: str = "success") -> None:
    """Shown once, by the run that follows a change."""
    st.session_state.course_flash = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop("course_flash", ("success", None))
    if message:
        getattr(st, kind)(message)


def _act(fn, done, kw) -> None:  # type: ignore[no-untyped-def]
    """A button's or form's callback: it acts before the script runs, so the run that follows shows
    the result and one click costs one script run. `done` and `kw` may be functions of the session
    state (a form's values), called here."""
    try:
        kw = kw() if callable(kw) else kw
        with write_session() as session:
            fn(session=session, **kw)
    except ERRORS as exc:
        flash(plain(str(exc)), "error")
        return
    flash(done() if callable(done) else done)


def act(fn, done, kw) -> dict:  # type: ignore[no-untyped-def]
    """The on_click arguments of a button that runs `fn(session=..., **kw)`."""
    return {"on_click": _act, "args": (fn, done, kw)}


def summary(a) -> str:  # type: ignore[no-untyped-def]
    limit = f"{a.time_limit_s // 60} min" if a.time_limit_s else "untimed"
    parts = [
        limit,
        f"attempts {a.attempts_allowed or 'unlimited'}",
        f"opens {show(a.opens_at, 'now')}",
        f"due {show(a.due_at, 'never')}",
        f"feedback: {FEEDBACK[a.feedback].lower()}",
    ]
    if a.shuffle:
        parts.append("shuffled")
    return " · ".join(parts)


def assignment_manager(me, cohort, a, members) -> None:  # type: ignore[no-untyped-def]
    """One assignment's expander on the Assignments tab."""
    read_only = cohort.archived_at is not None
    with read_session() as session:
        started = attempts_count(session, a.id)
        drawn = drawn_questions(session=session, actor=me, assignment_id=a.id)
        overrides = overrides_of(session=session, actor=me, assignment_id=a.id)
    st.markdown(f"**{plain(a.title)}** · {summary(a)}")
    with st.expander(f"Manage {plain(a.title)} ({started} attempt(s) so far)"):
        tab_edit, tab_questions, tab_over = st.tabs(["Settings", f"Questions ({len(drawn)})", "Overrides"])
        with tab_questions:
            for k, q in enumerate(drawn, 1):
                first = " ".join(q.prompt.strip().splitlines()[0].split())
                st.markdown(
                    f"{k}. {first} · *{topic_title(q.topic)}, {TYPE_LABELS.get(q.type, q.type)}* · `{q.id}`"
                )
        with tab_edit:
            locked = started > 0
            if locked:
                st.info("Learners have started it: only the dates and the number of attempts may change.")
            with st.form(f"edit-{a.id}"):
                st.text_input(
                    "Assignment title",
                    a.title,
                    max_chars=120,
                    disabled=locked or read_only,
                    key=f"ed-title-{a.id}",
                )
                c1, c2, c3 = st.columns(3)
                c1.number_input(
                    "Time limit (minutes, 0 = none)",
                    0,
                    1440,
                    (a.time_limit_s or 0) // 60,
                    disabled=locked or read_only,
                    key=f"ed-min-{a.id}",
                )
                c2.number_input(
                    "Attempts allowed (0 = unlimited)",
                    0,
                    100,
                    a.attempts_allowed,
                    disabled=read_only,
                    key=f"ed-att-{a.id}",
                )
                c3.selectbox(
                    "Feedback shows",
                    list(FEEDBACK),
                    index=list(FEEDBACK).index(a.feedback),
                    format_func=FEEDBACK.get,
                    disabled=locked or read_only,
                    key=f"ed-fb-{a.id}",
                )
                st.checkbox(
                    "Shuffle questions and choices per attempt",
                    a.shuffle,
                    disabled=locked or read_only,
                    key=f"ed-sh-{a.id}",
                )
                moment_input("Opens", a.opens_at, f"ed-open-{a.id}", time(0, 0))
                moment_input("Due", a.due_at, f"ed-due-{a.id}", END_OF_DAY)

                def _changes(a=a, locked=locked) -> dict:  # type: ignore[no-untyped-def]
                    S = st.session_state
                    changes = {
                        "actor": me,
                        "assignment_id": a.id,
                        "attempts_allowed": int(S[f"ed-att-{a.id}"]),
                        "opens_at": moment_from_state(f"ed-open-{a.id}", time(0, 0)),
                        "due_at": moment_from_state(f"ed-due-{a.id}", END_OF_DAY),
                    }
                    if not locked:
                        changes.update(
                            title=S[f"ed-title-{a.id}"],
                            time_limit_s=int(S[f"ed-min-{a.id}"]) * 60 or None,
                            feedback=S[f"ed-fb-{a.id}"],
                            shuffle=bool(S[f"ed-sh-{a.id}"]),
                        )
                    return changes

                st.form_submit_button(
                    "Save changes",
                    disabled=read_only,
                    **act(update_assignment, f"Saved {plain(a.title)}.", _changes),
                )
            b1, b2 = st.columns(2)
            this = {"actor": me, "assignment_id": a.id}
            b1.button(
                "Close now",
                key=f"close-{a.id}",
                disabled=read_only,
                help="The due date becomes now; attempts in progress are submitted as they stand",
                **act(close_assignment, f"Closed {plain(a.title)}.", this),
            )
            b2.button(
                "Delete",
                key=f"delete-{a.id}",
                disabled=read_only or started > 0,
                help="Only while no one has started it; afterwards close it instead",
                **act(delete_assignment, f"Deleted {plain(a.title)}.", this),
            )
        with tab_over:
            if overrides:
                st.dataframe(
                    [
                        {
                            "learner": o.username,
                            "extra attempts": o.extra_attempts,
                            "due": show(o.due_at, ""),
                            "time limit (min)": (o.time_limit_s or 0) // 60 or None,
                        }
                        for o in overrides
                    ],
                    hide_index=True,
                    width="stretch",
                )
            names = {m.user_id: m.username for m in members}
            if not names:
                st.caption("No learners in the cohort yet.")
                return
            with st.form(f"override-{a.id}"):
                st.selectbox("Learner", list(names), format_func=names.get, key=f"ov-who-{a.id}")
                c1, c2 = st.columns(2)
                c1.number_input("Extra attempts", 0, 100, 0, key=f"ov-extra-{a.id}")
                c2.number_input(
                    "Time limit for them (minutes, 0 = the assignment's)",
                    0,
                    1440,
                    0,
                    key=f"ov-min-{a.id}",
                    disabled=not a.time_limit_s,
                )
                moment_input("Their due date", None, f"ov-due-{a.id}", END_OF_DAY)
                st.caption("Saving all zeros and no date removes the learner's override.")

                def _override(a=a) -> dict:  # type: ignore[no-untyped-def]
                    S = st.session_state
                    return {
                        "actor": me,
                        "assignment_id": a.id,
                        "user_id": S[f"ov-who-{a.id}"],
                        "extra_attempts": int(S[f"ov-extra-{a.id}"]),
                        "due_at": moment_from_state(f"ov-due-{a.id}", END_OF_DAY),
                        "time_limit_s": int(S[f"ov-min-{a.id}"]) * 60 or None,
                    }

                st.form_submit_button(
                    "Save override",
                    disabled=read_only,
                    **act(
                        set_override,
                        lambda a=a: (
                            f"Saved the override for {plain(names[st.session_state[f'ov-who-{a.id}']])}."
                        ),
                        _override,
                    ),
                )


def cohort_settings(me, cohort, members) -> None:  # type: ignore[no-untyped-def]
    """The Roster tab: learners (remove one), the join code (new code, stop or allow joining), archive."""
    read_only = cohort.archived_at is not None
    st.write(f"{len(members)} learner(s)")
    st.dataframe(
        [
            {"learner": m.username, "joined": show(m.joined_at)}
            for m in one_page(members, "roster", "learners")
        ],
        hide_index=True,
        width="stretch",
    )
    names = {m.user_id: m.username for m in members}
    if names:
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.selectbox("Remove a learner", list(names), format_func=names.get, key="remove-who")
        c2.button(
            "Remove",
            key="remove-go",
            disabled=read_only,
            help="Their attempts stay in the gradebook, marked removed",
            **act(
                remove_learner,
                lambda: f"Removed {plain(names[st.session_state['remove-who']])}; their attempts are kept.",
                lambda: {"actor": me, "cohort_id": cohort.id, "user_id": st.session_state["remove-who"]},
            ),
        )
    st.subheader("Join code")
    state = "learners can join with it" if cohort.join_open else "joining is turned off"
    st.markdown(f"`{cohort.join_code}` · {state}")
    j1, j2 = st.columns(2)
    here = {"actor": me, "cohort_id": cohort.id}
    j1.button(
        "New join code",
        disabled=read_only,
        help="The old code stops working",
        **act(rotate_join_code, "A new join code is set; the old one no longer works.", here),
    )
    label = "Turn joining off" if cohort.join_open else "Turn joining on"
    j2.button(
        label,
        disabled=read_only,
        **act(set_join_open, f"{label.replace('Turn', 'Turned')}.", {**here, "open_": not cohort.join_open}),
    )
    st.subheader("Archive")
    if read_only:
        st.info(f"Archived {show(cohort.archived_at)}: read-only, hidden from the default cohort list.")
        st.button(
            "Bring back from the archive",
            **act(archive_cohort, f"{plain(cohort.name)} is active again.", {**here, "archived": False}),
        )
    else:
        st.caption("Read-only afterwards: no joining, no new attempts, no changes; the scores stay readable.")
        st.button("Archive this cohort", **act(archive_cohort, f"Archived {plain(cohort.name)}.", here))
