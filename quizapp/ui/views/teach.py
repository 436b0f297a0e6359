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
from quizapp.ui.tz import moment_input

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

tab_scores, tab_items, tab_work, tab_people = st.tabs(["Gradebook", "Item analysis", "Assignments", "Roster"])

with tab_scores:
    instructor_reports.gradebook_section(me, cohort, members)

with tab_items:
    instructor_reports.items_section(me, cohort, tasks)

with tab_people:
    course_manage.cohort_settings(me, cohort, members)

with tab_work:
    for a in tasks:
        course_manage.assignment_manager(me, cohort, a, members)
    if cohort.archived_at:  # read-only: the last tab, so stopping here leaves the others drawn
        st.stop()
    st.subheader("New assignment")
    if "teach_made" in st.session_state:  # set before the rerun that follows creating one
        made_title = st.session_state.pop("teach_made")
        st.success(f"Created {plain(made_title)}: its learners see it on their Assignments page.")
        st.toast(f"Created {plain(made_title)}", icon=":material/check_circle:")
    how = st.radio("Choose questions", ["By topic, difficulty and count", "One by one"], horizontal=True)
    # A new form (new widget keys) after each assignment made: it starts empty again, while a
    # refused one keeps what was typed.
    n = st.session_state.setdefault("teach_form", 0)
    with st.form(f"new_assignment-{n}"):
        title = st.text_input("Title", max_chars=120, key=f"asg-title-{n}")
        if how == "One by one":
            with read_session() as session:
                pool = [
                    v
                    for v in list_questions(session=session, kinds=["quiz", "interview"])
                    if v.type != "open"
                ]
            labels = {v.id: f"{topic_title(v.topic)} · {v.prompt.strip().splitlines()[0][:90]}" for v in pool}
            picked = st.multiselect("Questions", list(labels), format_func=labels.get, key=f"asg-picked-{n}")
            topics, levels, count = None, None, None
        else:
            picked = None
            topics = st.multiselect(
                "Topics (none = all)", list(TOPICS), format_func=topic_title, key=f"asg-topics-{n}"
            )
            levels = st.multiselect(
                "Difficulty", [1, 2, 3], default=[1, 2, 3], format_func=DIFFICULTY.get, key=f"asg-levels-{n}"
            )
            count = st.number_input("How many questions", 1, 100, 10, key=f"asg-count-{n}")
        c1, c2, c3 = st.columns(3)
        minutes = c1.number_input("Time limit (minutes, 0 = none)", 0, 1440, 20, key=f"asg-minutes-{n}")
        attempts = c2.number_input("Attempts allowed (0 = unlimited)", 0, 100, 1, key=f"asg-attempts-{n}")
        feedback = c3.selectbox(
            "Feedback shows", list(FEEDBACK), format_func=FEEDBACK.get, index=1, key=f"asg-feedback-{n}"
        )
        shuffle = st.checkbox("Shuffle questions and choices per attempt", key=f"asg-shuffle-{n}")
        opens = moment_input("Opens", None, f"asg-opens-{n}", time(0, 0))
        due = moment_input("Due", None, f"asg-due-{n}", time(23, 59))
        if st.form_submit_button("Create assignment", type="primary"):
            try:
                with write_session() as session:
                    made = create_assignment(
                        session=session,
                        actor=me,
                        cohort_id=cohort_id,
                        title=title,
                        question_ids=picked or None,
                        topics=topics or None,
                        difficulties=levels or None,
                        count=int(count) if count else None,
                        time_limit_s=int(minutes) * 60 or None,
                        attempts_allowed=int(attempts),
                        feedback=feedback,
                        opens_at=opens,
                        due_at=due,
                        shuffle=shuffle,
                    )
                st.session_state.teach_made = made.title
                st.session_state.teach_form = n + 1
                st.rerun()
            except (AssignmentError, AccessDenied) as exc:
                st.error(str(exc))
