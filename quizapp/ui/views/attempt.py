"""One learner's assignment attempt as they saw it, for the cohort's instructor: /attempt?id=N."""

import streamlit as st

from quizapp.attempt_report import attempt_report
from quizapp.db import read_session
from quizapp.identity import AccessDenied
from quizapp.ui.answering import shown_answer
from quizapp.ui.common import TYPE_LABELS, VIEWS, actor, plain, topic_title
from quizapp.ui.tz import show

me = actor()
raw = st.query_params.get("id", "")
st.page_link(str(VIEWS / "teach.py"), label="Back to cohorts and scores", icon=":material/arrow_back:")
try:
    attempt_id = int(raw)
    with read_session() as session:
        rep = attempt_report(session=session, actor=me, attempt_id=attempt_id)
except (ValueError, AccessDenied):
    st.title("Attempt review")
    st.error("No attempt of yours to review here: open one from the gradebook or a learner's page.")
    st.stop()

st.title(f"{plain(rep.username)}: {plain(rep.assignment)}, attempt {rep.number}")
marks = []
if rep.removed:
    marks.append("removed from the cohort")
if rep.state == "open":
    marks.append("still in progress")
elif rep.timed_out:
    marks.append("submitted by the clock")
if rep.shuffled:
    marks.append("questions and choices shuffled for this attempt")
st.caption(
    f"Cohort {plain(rep.cohort)} · started {show(rep.started_at)} · "
    + (f"submitted {show(rep.finished_at)}" if rep.finished_at else "not submitted")
    + ("".join(f" · {m}" for m in marks))
)
c1, c2, c3 = st.columns(3)
c1.metric("Score", f"{rep.score:.0%}")
c2.metric("Answered", f"{rep.answered} of {len(rep.lines)}")
c3.metric("Time spent", f"{rep.time_spent_ms / 60000:.1f} min")

for line in rep.lines:
    q = line.question
    if line.answer is None:
        verdict, icon = "left blank (0)", ":material/remove:"
    elif line.correct:
        verdict, icon = f"right ({line.score:.0%})", ":material/check_circle:"
    elif line.score > 0:
        verdict, icon = f"partly right ({line.score:.0%})", ":material/adjust:"
    else:
        verdict, icon = "wrong (0%)", ":material/cancel:"
    with st.container(border=True):
        st.markdown(
            f"**Question {line.number}** · {topic_title(q.topic)} · {TYPE_LABELS.get(q.type, q.type)}"
        )
        st.markdown(q.prompt)
        if q.type in ("single", "multi"):
            picked = set(line.answer if isinstance(line.answer, list) else [line.answer])
            key = set(q.data["answer"] if isinstance(q.data["answer"], list) else [q.data["answer"]])
            for choice in q.data.get("choices") or []:
                mark = "☑" if choice in picked else "☐"
                right = " ✓ (key)" if choice in key else ""
                st.markdown(f"{mark} {choice}{right}")
        st.markdown(
            f"{icon} **Their answer:** "
            + ("*(blank)*" if line.answer is None else plain(shown_answer(line.answer)))
            + f" · **Key:** `{line.key}` · **Score:** {verdict}"
        )
        if line.time_taken_ms is not None or line.answered_at is not None:
            parts = []
            if line.time_taken_ms is not None:
                parts.append(f"time on it {line.time_taken_ms / 1000:.0f} s")
            if line.answered_at is not None:
                parts.append(f"answered {show(line.answered_at)}")
            st.caption(" · ".join(parts))
