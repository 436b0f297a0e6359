import random

import streamlit as st

from quizapp import sittings
from quizapp.bank.schema import TOPICS
from quizapp.db import read_session, write_session
from quizapp.questions import pick_ids
from quizapp.ui import common, sitting
from quizapp.ui.common import DIFFICULTY, TYPE_LABELS, actor, topic_title

S = st.session_state
SOURCES = {
    "all": "All matching questions",
    "mistakes": "My mistakes (last answer not fully right)",
    "marked": "Marked questions",
}


@common.database_guarded
def _on_start() -> None:
    """The setup form's callback: pick the questions and start the sitting before the page runs, so
    the first question is drawn by the same run."""
    source, kinds, levels = S["pr-source"], S["pr-kinds"], S["pr-levels"]
    if not kinds or not levels:
        S["pr-flash"] = "Choose at least one kind and one difficulty."
        return
    me = actor()
    with read_session() as session:
        ids = pick_ids(
            session=session,
            kinds=kinds,
            topics=S["pr-topics"] or None,
            difficulties=levels,
            types=S["pr-types"] or None,
            seed=random.randrange(2**31),
        )
        if source == "mistakes":
            wanted = set(sittings.mistakes(session=session, actor=me))
            ids = [q for q in ids if q in wanted]
        elif source == "marked":
            wanted = set(sittings.bookmarked(session=session, actor=me))
            ids = [q for q in ids if q in wanted]
    ids = ids[: S["pr-count"]]
    if not ids:
        S["pr-flash"] = {
            "all": "No question matches those choices. Widen the topics, difficulty or types.",
            "mistakes": "No mistakes to practise among those choices: every last answer there was right.",
            "marked": "No marked question among those choices. Use *Mark for later* on any question.",
        }[source]
        return
    with write_session() as session:
        sittings.start(session=session, actor=me, mode="practice", queue=ids, label=SOURCES[source])
    S.pop("summary-practice", None)


def _setup() -> None:
    st.caption("Pick what to practise. Questions come one at a time; each answer is graded at once.")
    preset = [t for t in st.query_params.get_all("topic") if t in TOPICS]
    source_preset = st.query_params.get("source")
    with st.form("practice_setup"):
        st.radio(
            "Questions",
            list(SOURCES),
            index=list(SOURCES).index(source_preset) if source_preset in SOURCES else 0,
            format_func=SOURCES.get,
            horizontal=True,
            key="pr-source",
        )
        st.multiselect(
            "Topics (none = all)", list(TOPICS), default=preset, format_func=topic_title, key="pr-topics"
        )
        c1, c2 = st.columns(2)
        c1.multiselect(
            "Difficulty", [1, 2, 3], default=[1, 2, 3], format_func=DIFFICULTY.get, key="pr-levels"
        )
        c2.multiselect(
            "Kinds",
            ["quiz", "interview", "faq"],
            default=["quiz", "interview"],
            format_func=lambda k: {"quiz": "Quiz", "interview": "Interview", "faq": "FAQ"}[k],
            key="pr-kinds",
        )
        st.multiselect(
            "Question types (none = all)", list(TYPE_LABELS), format_func=TYPE_LABELS.get, key="pr-types"
        )
        st.slider("How many questions", 5, 50, 10, key="pr-count")
        st.form_submit_button("Start", type="primary", on_click=_on_start)
    if message := S.pop("pr-flash", None):
        st.warning(message)


@common.database_guarded
def _on_end(attempt_id: int) -> None:
    with write_session() as session:
        sittings.abandon(session=session, actor=actor(), attempt_id=attempt_id)
    S["summary-practice"] = attempt_id


st.title("Practice")
me = actor()
with read_session() as session:
    current = sittings.resume(session=session, actor=me, mode="practice")
    finished = None
    if current is None:
        finished = sittings.finished_sitting(session=session, actor=me, attempt_id=S.get("summary-practice"))

if current is not None:
    with st.sidebar:
        st.button(
            "End this session", icon=":material/stop_circle:", on_click=_on_end, args=(current.attempt_id,)
        )
    sitting.draw(current)
elif finished is not None:
    sitting.summary(finished)
else:
    _setup()
