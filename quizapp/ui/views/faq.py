"""FAQ & search: one box over the prompt, answer and explanation of every active question."""

import streamlit as st

from quizapp import sittings
from quizapp.bank.schema import KINDS
from quizapp.db import read_session
from quizapp.questions import QuestionView, counts_by_topic, list_questions
from quizapp.search import SearchHit, plain_text, query_terms, readable_answer, search, to_markdown
from quizapp.ui.common import DIFFICULTY, TYPE_LABELS, actor, demo_link, plain, topic_title
from quizapp.ui.sitting import bookmark_button

KIND_LABELS = {"faq": "FAQ", "interview": "Interview", "quiz": "Quiz"}
PAGE = 20  # results shown at first; "Show more" adds as many again, up to MOST
MOST = 100

st.title("FAQ & search")
with read_session() as _session:  # the learner's marked questions, read once per run
    MARKED = set(sittings.bookmarked(session=_session, actor=actor()))
st.caption(
    "Search every question, answer and explanation in the bank: FAQ, interview answers and quiz "
    "questions, best match first. With an empty box, the FAQ."
)

if "faq_search" not in st.session_state and st.query_params.get("q"):
    st.session_state["faq_search"] = st.query_params["q"]  # /faq?q=dropout opens with that search
text = st.text_input(
    "Search", placeholder="e.g. dropout, vanishing gradients, GPU, PhD", key="faq_search", max_chars=200
)
if text.strip():
    st.query_params["q"] = text
elif "q" in st.query_params:
    del st.query_params["q"]
terms = query_terms(text)

kind_col, type_col, topic_col = st.columns(3)
kinds = kind_col.multiselect(
    "Kinds", list(KINDS), format_func=KIND_LABELS.__getitem__, placeholder="All kinds", key="faq_kinds"
)
types = type_col.multiselect(
    "Types", list(TYPE_LABELS), format_func=TYPE_LABELS.__getitem__, placeholder="All types", key="faq_types"
)
shown_kinds = kinds or (list(KINDS) if terms else ["faq"])  # an empty box lists the FAQ

with read_session() as session:
    counts = counts_by_topic(session=session)
# Only topics that have entries of the kinds shown; a topic picked before that no longer has any goes.
topic_options = [row["topic"] for row in counts if any(row[k] for k in shown_kinds)]
if any(t not in topic_options for t in st.session_state.get("faq_topics", [])):
    st.session_state["faq_topics"] = [t for t in st.session_state["faq_topics"] if t in topic_options]
topics = topic_col.multiselect(
    "Topics", topic_options, format_func=topic_title, placeholder="All topics", key="faq_topics"
)


def _more(limit: int) -> None:
    st.session_state["faq_limit"] = limit


def _meta(view: QuestionView) -> str:
    return " · ".join(
        [KIND_LABELS[view.kind], topic_title(view.topic), TYPE_LABELS[view.type], DIFFICULTY[view.difficulty]]
    )


def _details(view: QuestionView, *, full_prompt: bool) -> None:
    """The question with its answer, explanation and demo link."""
    data = view.data
    if full_prompt:
        st.markdown(view.prompt)
    if view.type in ("single", "multi") and data.get("choices"):
        right = set(data["answer"]) if view.type == "multi" else {data["answer"]}
        st.markdown(
            "\n".join(
                f"- {':material/check_circle:' if c in right else ':material/radio_button_unchecked:'} {c}"
                for c in data["choices"]
            )
        )
    if view.type == "open":
        st.markdown("**Model answer**" if view.kind != "faq" else "**In short**")
        st.markdown(str(data.get("answer") or ""))
        if view.kind != "faq" and data.get("key_points"):
            st.markdown("**Key points**\n" + "\n".join(f"- {p}" for p in data["key_points"]))
    else:
        st.markdown(f"**Answer:** {plain(readable_answer(data))}")
    st.markdown("**Explanation**" if view.kind != "faq" else "**The longer answer**")
    st.markdown(view.explanation)
    demo_link(view.demo, view.demo_params)
    bookmark_button(view, marked=view.id in MARKED)


def _hit(n: int, hit: SearchHit) -> None:
    view = hit.question
    with st.container(border=True, key=f"hit-{n}"):
        st.markdown(f"**{n}.** {to_markdown(hit.title)}")
        st.caption(_meta(view))
        if hit.snippet:
            st.markdown(to_markdown(hit.snippet))
        # The title is the prompt as one plain line: show the real one when that lost anything.
        shown = "".join(t for t, _ in hit.title)
        with st.expander("Answer and explanation"):
            _details(view, full_prompt=shown != plain_text(view.prompt) or "\n" in view.prompt.strip())


if text.strip() and not terms:
    st.info("Nothing to search for: type a word (letters or digits).")
elif terms:
    asked = (tuple(terms), tuple(kinds), tuple(types), tuple(topics))
    if st.session_state.get("faq_asked") != asked:  # a new search starts at one page again
        st.session_state["faq_asked"], st.session_state["faq_limit"] = asked, PAGE
    limit = st.session_state["faq_limit"]
    with read_session() as session:
        hits = search(
            session=session,
            text=text,
            topics=topics or None,
            kinds=kinds or None,
            types=types or None,
            limit=limit,
        )
    if not hits:
        st.info("Nothing matches. Try other words, or clear the filters.")
    else:
        st.write(f"{len(hits)} result(s)" if len(hits) < limit else f"The best {len(hits)} results")
        if not hits[0].all_words:
            st.caption("No question has every word; these have some of them.")
        for n, hit in enumerate(hits, 1):
            _hit(n, hit)
        if len(hits) == limit and limit < MOST:  # a callback: one script run per click
            st.button("Show more", icon=":material/expand_more:", on_click=_more, args=(limit + PAGE,))
else:
    with read_session() as session:
        entries = list_questions(
            session=session, kinds=shown_kinds, topics=topics or None, types=types or None
        )
    st.write(f"{len(entries)} answer(s)")
    for view in entries:
        with st.expander(plain(plain_text(view.prompt)), expanded=len(entries) == 1):
            st.caption(_meta(view))
            _details(view, full_prompt="\n" in view.prompt.strip())
    if not entries:
        st.info("Nothing matches. Try fewer words or clear the filters.")
