import os
from datetime import time

import streamlit as st

from quizapp.assignments import (
    FEEDBACK,
    AssignmentError,
    assignments_of,
    close_expired_attempts,
    create_assignment,
    expired_attempts_waiting,
)
from quizapp.bank.schema import TOPICS
from quizapp.cohorts import CohortError, create_cohort, my_cohorts, roster
from quizapp.db import read_session, write_session
from quizapp.identity import AccessDenied
from quizapp.questions import list_questions
from quizapp.ui import course_manage, instructor_reports
from quizapp.ui.common import DIFFICULTY, actor, plain, topic_title
from quizapp.ui.tz import moment_from_state, moment_input

VIEWS = ["Gradebook", "Item analysis", "Assignments", "Roster"]
HOW = ["By topic, difficulty and count", "One by one"]

st.title("Teach")
me = actor()
if me.role not in ("instructor", "admin"):
    st.error("This page is for instructors.")
    st.stop()

with st.expander("Create a cohort"), st.form("new_cohort"):
    name = st.text_input("Cohort name", max_chars=80)
    if st.form_submit_button("Create"):
        try:
            with write_session() as session:
                made = create_cohort(session=session, actor=me, name=name)
            st.success(f"Created {plain(made.name)}. Learners join with the code {made.join_code}.")
        except (CohortError, AccessDenied) as exc:
            st.error(str(exc))

show_archived = st.toggle("Show archived cohorts", key="show-archived")
with read_session() as session:
    cohorts = my_cohorts(session=session, actor=me, archived=show_archived)
if not cohorts:
    st.info("No cohorts yet: create one above, then share its join code with your learners.")
    st.stop()

by_id = {c.id: c for c in cohorts}
cohort_id = st.selectbox(
    "Cohort",
    list(by_id),
    format_func=lambda i: by_id[i].name + (" (archived)" if by_id[i].archived_at else ""),
)
cohort = by_id[cohort_id]
course_manage.show_flash()
if cohort.archived_at:
    st.caption("Archived: read-only.")
else:
    st.caption(f"Join code: {cohort.join_code}" + ("" if cohort.join_open else " (joining is turned off)"))

with read_session() as session:
    sweep = expired_attempts_waiting(session=session)
if sweep:  # attempts whose time ran out count as submitted
    with write_session() as session:
        close_expired_attempts(session=session)
with read_session() as session:
    members = roster(session=session, actor=me, cohort_id=cohort_id)
    tasks = assignments_of(session=session, actor=me, cohort_id=cohort_id)

# Lazy views: only the open tab's tables and charts are computed and sent; switching tabs reruns the
# script with the new one open. QUIZAPP_TEACH_ALL_TABS=1 draws all four on every run, as before
# (bench/pages.py measures both).
EVERY_TAB = os.environ.get("QUIZAPP_TEACH_ALL_TABS") == "1"
tab_scores, tab_items, tab_work, tab_people = st.tabs(
    VIEWS, key="teach-view", on_change="ignore" if EVERY_TAB else "rerun"
)


def is_open(tab) -> bool:  # type: ignore[no-untyped-def]
    """True for the open tab; every tab when the tabs do not track which is open."""
    return tab.open is not False


if is_open(tab_scores):
    with tab_scores:
        instructor_reports.gradebook_section(me, cohort, members)

if is_open(tab_items):
    with tab_items:
        instructor_reports.items_section(me, cohort, tasks)

if is_open(tab_people):
    with tab_people:
        course_manage.cohort_settings(me, cohort, members)


def _create_assignment(n: int) -> None:
    """The form's submit callback: the run that follows shows the result (no second run)."""
    S = st.session_state
    how = S.get("asg-how", HOW[0])
    count = S.get(f"asg-count-{n}") if how == HOW[0] else None
    try:
        with write_session() as session:
            made = create_assignment(
                session=session,
                actor=me,
                cohort_id=cohort_id,
                title=S.get(f"asg-title-{n}", ""),
                question_ids=(S.get(f"asg-picked-{n}") or None) if how == HOW[1] else None,
                topics=(S.get(f"asg-topics-{n}") or None) if how == HOW[0] else None,
                difficulties=(S.get(f"asg-levels-{n}") or None) if how == HOW[0] else None,
                count=int(count) if count else None,
                time_limit_s=int(S.get(f"asg-minutes-{n}", 0)) * 60 or None,
                attempts_allowed=int(S.get(f"asg-attempts-{n}", 1)),
                feedback=S.get(f"asg-feedback-{n}", list(FEEDBACK)[1]),
                opens_at=moment_from_state(f"asg-opens-{n}", time(0, 0)),
                due_at=moment_from_state(f"asg-due-{n}", time(23, 59)),
                shuffle=bool(S.get(f"asg-shuffle-{n}", False)),
            )
    except (AssignmentError, AccessDenied) as exc:
        S.teach_refused = str(exc)  # the form keeps what was typed
        return
    S.teach_made = made.title
    S.teach_form = n + 1


if is_open(tab_work):
    with tab_work:
        for a in tasks:
            course_manage.assignment_manager(me, cohort, a, members)
        if cohort.archived_at:  # read-only: no new assignment
            st.stop()
        st.subheader("New assignment")
        if "teach_made" in st.session_state:  # set by the callback that created it
            made_title = st.session_state.pop("teach_made")
            st.success(f"Created {plain(made_title)}: its learners see it on their Assignments page.")
            st.toast(f"Created {plain(made_title)}", icon=":material/check_circle:")
        if "teach_refused" in st.session_state:
            st.error(st.session_state.pop("teach_refused"))
        how = st.radio("Choose questions", HOW, horizontal=True, key="asg-how")
        # A new form (new widget keys) after each assignment made: it starts empty again, while a
        # refused one keeps what was typed.
        n = st.session_state.setdefault("teach_form", 0)
        with st.form(f"new_assignment-{n}"):
            st.text_input("Title", max_chars=120, key=f"asg-title-{n}")
            if how == HOW[1]:
                with read_session() as session:
                    pool = [
                        v
                        for v in list_questions(
                            session=session, kinds=["quiz", "interview"], viewer_id=me.user_id
                        )
                        if v.type != "open"
                    ]
                labels = {
                    v.id: f"{topic_title(v.topic)} · {v.prompt.strip().splitlines()[0][:90]}" for v in pool
                }
                st.multiselect("Questions", list(labels), format_func=labels.get, key=f"asg-picked-{n}")
            else:
                st.multiselect(
                    "Topics (none = all)", list(TOPICS), format_func=topic_title, key=f"asg-topics-{n}"
                )
                st.multiselect(
                    "Difficulty",
                    [1, 2, 3],
                    default=[1, 2, 3],
                    format_func=DIFFICULTY.get,
                    key=f"asg-levels-{n}",
                )
                st.number_input("How many questions", 1, 100, 10, key=f"asg-count-{n}")
            c1, c2, c3 = st.columns(3)
            c1.number_input("Time limit (minutes, 0 = none)", 0, 1440, 20, key=f"asg-minutes-{n}")
            c2.number_input("Attempts allowed (0 = unlimited)", 0, 100, 1, key=f"asg-attempts-{n}")
            c3.selectbox(
                "Feedback shows", list(FEEDBACK), format_func=FEEDBACK.get, index=1, key=f"asg-feedback-{n}"
            )
            st.checkbox("Shuffle questions and choices per attempt", key=f"asg-shuffle-{n}")
            moment_input("Opens", None, f"asg-opens-{n}", time(0, 0))
            moment_input("Due", None, f"asg-due-{n}", time(23, 59))
            st.form_submit_button("Create assignment", type="primary", on_click=_create_assignment, args=(n,))
