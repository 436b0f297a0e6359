import streamlit as st

from quizapp import review, sittings
from quizapp.db import read_session, write_session
from quizapp.textutil import escape_markdown
from quizapp.ui import sitting
from quizapp.ui.common import actor, database_guarded

S = st.session_state

st.title("Review")
me = actor()
tz = st.context.timezone

if not me.is_anonymous:
    # Assignment answers whose feedback waited for the due date join the schedule once it passes;
    # a read first, so an ordinary run of the page takes no write lock.
    with read_session() as session:
        waiting = review.assignments_to_release(session=session, actor=me)
    if waiting:
        with write_session() as session:
            review.release_assignments(session=session, actor=me)

with read_session() as session:
    current = sittings.resume(session=session, actor=me, mode="review")
    finished = None
    if current is None:
        finished = sittings.finished_sitting(session=session, actor=me, attempt_id=S.get("summary-review"))
    due = review.due(session=session, actor=me, tz=tz)
    settings = review.get_settings(session=session, actor=me)


@database_guarded
def _on_start() -> None:
    # The queue is read again here, at the click, so it is what is due now.
    who = actor()
    with write_session() as session:
        queue = review.due(session=session, actor=who, tz=st.context.timezone).due
        if queue:
            sittings.start(session=session, actor=who, mode="review", queue=queue, label="Review")
    S.pop("summary-review", None)


@database_guarded
def _on_end(attempt_id: int) -> None:
    with write_session() as session:
        sittings.abandon(session=session, actor=actor(), attempt_id=attempt_id)
    S["summary-review"] = attempt_id


def _overview() -> None:
    st.caption(
        "Spaced review brings back each question just before you would forget it (FSRS). Every graded "
        "answer, here, in Practice or in an assignment, reschedules that question for you."
    )
    c1, c2, c3 = st.columns(3)
    c1.metric("New", due.new, help=f"Questions you have not seen yet; up to {settings.new_per_day} a day")
    c2.metric("Learning", due.learning, help="Questions you missed or met recently, due again within minutes")
    c3.metric(
        "To review",
        due.review,
        help=f"Questions whose review date has come; up to {settings.reviews_per_day} a day",
    )
    if due.total:
        st.button(
            f"Review {due.total} now",
            type="primary",
            icon=":material/play_arrow:",
            shortcut="Enter",
            on_click=_on_start,
        )
    else:
        st.success("Nothing is due. Come back later, or practise something new.")
        st.page_link("views/practice.py", label="Practise", icon=":material/quiz:")
    st.page_link("views/progress.py", label="Your review statistics", icon=":material/insights:")


def _save_settings() -> None:
    try:
        with write_session() as session:
            review.save_settings(
                session=session,
                actor=me,
                new_per_day=S["rs-new"],
                reviews_per_day=S["rs-rev"],
                desired_retention=S["rs-keep"],
            )
    except review.SettingsError as exc:
        S["review-settings-error"] = escape_markdown(str(exc).capitalize() + ".")
    else:
        S["review-flash"] = "Settings saved."


def _settings() -> None:
    with st.expander("Review settings", icon=":material/tune:"):
        lo_n, hi_n = review.BOUNDS["new_per_day"]
        lo_r, hi_r = review.BOUNDS["reviews_per_day"]
        lo_t, hi_t = review.BOUNDS["desired_retention"]
        with st.form("review_settings"):
            st.number_input(
                f"New questions per day ({lo_n}-{hi_n})",
                lo_n,
                hi_n,
                settings.new_per_day,
                step=1,
                key="rs-new",
            )
            st.number_input(
                f"Reviews per day ({lo_r}-{hi_r})",
                lo_r,
                hi_r,
                settings.reviews_per_day,
                step=10,
                key="rs-rev",
            )
            st.slider(
                "Desired retention",
                lo_t,
                hi_t,
                float(settings.desired_retention),
                step=0.01,
                format="%.2f",
                help="The chance of remembering a question when it comes back. Higher means more reviews.",
                key="rs-keep",
            )
            # A callback: the save and its message land in the one script run the click causes.
            st.form_submit_button("Save settings", on_click=_save_settings)
    if error := S.pop("review-settings-error", None):
        st.error(error)
    if flash := S.pop("review-flash", None):
        st.toast(flash)


if current is not None:
    with st.sidebar:
        st.button(
            "End this review", icon=":material/stop_circle:", on_click=_on_end, args=(current.attempt_id,)
        )
    sitting.draw(current)
elif finished is not None:
    sitting.summary(finished)
    st.divider()
    _overview()
else:
    _overview()
    _settings()
