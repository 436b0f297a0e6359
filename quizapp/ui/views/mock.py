"""Mock interview: timed open questions in your own words, then a report with key-point feedback."""

import random
from datetime import datetime

import streamlit as st

from quizapp.db import read_session, write_session
from quizapp.interview import mock
from quizapp.questions import get_question
from quizapp.textutil import escape_markdown, markdown_to_text
from quizapp.ui.common import actor, topic_title

S = st.session_state
me = actor()
st.title("Mock interview")


def _flash(text: str) -> None:
    S["mock-flash"] = text


def _on_start(ids: list[str]) -> None:
    n, minutes = int(S["mock-n"]), int(S["mock-minutes"])
    try:
        with write_session() as s:
            mock.start(session=s, actor=me, question_ids=ids[:n], seconds=minutes * 60)
    except mock.MockError as exc:
        _flash(escape_markdown(exc))


def _on_draft(attempt_id: int, qid: str, key: str) -> None:
    try:
        with write_session() as s:
            if not mock.save_draft(session=s, actor=me, attempt_id=attempt_id, question_id=qid, text=S[key]):
                _flash("Time was up for that question: it moved on with the draft saved before.")
    except mock.MockError as exc:
        _flash(escape_markdown(exc))


def _on_done(attempt_id: int, qid: str, key: str) -> None:
    try:
        with write_session() as s:
            mock.done(session=s, actor=me, attempt_id=attempt_id, question_id=qid, text=S.get(key, ""))
    except mock.MockError as exc:
        _flash(escape_markdown(exc))


def _on_confirm(attempt_id: int, items: list[mock.ReportItem]) -> None:
    ticks = {
        it.question.id: [
            i
            for i in range(len(it.question.data["key_points"]))
            if S.get(f"mock-{attempt_id}-{it.question.id}-{i}")
        ]
        for it in items
    }
    with write_session() as s:
        mock.confirm(session=s, actor=me, attempt_id=attempt_id, ticks=ticks)
    S["mock-show-last"] = True


@st.fragment(run_every=1)
def _countdown(deadline: datetime) -> None:
    left = (deadline - mock.clock()).total_seconds()
    if left <= 0:
        st.rerun(scope="app")  # the server decides the time-up and moves on
    m, s = divmod(int(left + 0.999), 60)
    if left <= 60:
        st.warning(f"**{m}:{s:02d}** left: one minute or less, wrap up.", icon=":material/timer:")
    else:
        st.info(f"**{m}:{s:02d}** left", icon=":material/timer:")


def _setup() -> None:
    with read_session() as s:
        pool = mock.candidates(session=s)
    topics = sorted({q.topic for q in pool}, key=topic_title)
    chosen = st.multiselect(
        "Topics", topics, format_func=topic_title, placeholder="All topics", key="mock-topics"
    )
    c1, c2 = st.columns(2)
    c1.number_input("Questions", 1, mock.MAX_QUESTIONS, 3, key="mock-n")
    c2.number_input("Minutes per question", 1, 15, 3, key="mock-minutes")
    ids = [q.id for q in pool if not chosen or q.topic in chosen]
    # Interview questions first, then the other open ones; a fresh draw for every interview.
    interview = [q.id for q in pool if q.id in ids and q.kind == "interview"]
    rest = [i for i in ids if i not in interview]
    random.shuffle(interview)
    random.shuffle(rest)
    st.caption(
        f"{len(ids)} questions to draw from. Answer as you would aloud, in your own words; a countdown "
        "warns at one minute left, and Done or the time-up moves on. Your draft is kept as you go."
    )
    st.button(
        "Start the interview", type="primary", disabled=not ids, on_click=_on_start, args=(interview + rest,)
    )


def _ask(m: mock.Mock) -> None:
    qid = m.current
    assert qid is not None
    with read_session() as s:
        q = get_question(session=s, question_id=qid)
    st.progress(
        m.pos / len(m.queue), text=f"Question {m.pos + 1} of {len(m.queue)} · {q.topic_title if q else ''}"
    )
    _countdown(m.deadline())
    st.markdown(q.prompt if q else qid)
    key = f"mock-{m.attempt_id}-{qid}-text"
    if key not in S:
        S[key] = m.drafts.get(qid, "")
    st.text_area(
        "Your answer",
        key=key,
        height=220,
        max_chars=5000,
        on_change=_on_draft,
        args=(m.attempt_id, qid, key),
        placeholder="Say it in writing: what it is, how it works, why it matters.",
    )
    st.button("Done", type="primary", on_click=_on_done, args=(m.attempt_id, qid, key))


def _report(attempt_id: int, items: list[mock.ReportItem], editable: bool) -> None:
    if any(it.server is None for it in items):
        st.warning(
            "The key-point model could not be loaded on this server, so there is no server feedback: "
            "tick the key points you made yourself."
        )
    for n, it in enumerate(items, 1):
        q = it.question
        with st.container(border=True):
            st.markdown(f"**{n}. {markdown_to_text(q.prompt)[:200]}**")
            used = f"{int(it.time_used_s) // 60}:{int(it.time_used_s) % 60:02d}"
            st.caption(f"{q.topic_title} · time used {used}" + (" · time ran out" if it.timed_out else ""))
            mine, model = st.columns(2)
            with mine:
                st.markdown("**Your answer**")
                st.text(it.text or "(no answer)")
            with model:
                st.markdown("**Model answer**")
                st.markdown(q.data["answer"])
            server = it.server or {}
            for flag in server.get("flags", []):
                st.caption(
                    {
                        "copied_model_answer": "Flagged: this is the model answer pasted, so no points are suggested.",
                        "not_an_answer": "Flagged: this does not read as an answer in English: no points.",
                    }.get(flag, flag)
                )
            found = set(server.get("points", []))
            if editable:
                st.markdown("**Key points** (ticked: found by the server; correct it where it misjudged)")
            else:
                st.markdown("**Key points** (your ticks; *server: found* marks the server's verdict)")
            for i, point in enumerate(q.data["key_points"]):
                key = f"mock-{attempt_id}-{q.id}-{i}"
                if editable:
                    if key not in S:
                        S[key] = i in found
                    st.checkbox(point, key=key, disabled=not it.text)
                else:
                    mark = (
                        ":material/check_circle:"
                        if it.ticked and i in it.ticked
                        else ":material/radio_button_unchecked:"
                    )
                    srv = " · server: found" if i in found else ""
                    st.markdown(f"{mark} {point}{srv}")
                evidence = server.get("evidence", {}).get(str(i))
                if evidence:
                    st.caption(f"Found in your answer: “{escape_markdown(evidence)}”")
            if it.score is not None:
                st.markdown(f"Score: **{it.score:.0%}**")
    if editable:
        st.button("Save my review", type="primary", on_click=_on_confirm, args=(attempt_id, items))


def _history() -> None:
    with read_session() as s:
        rows = mock.history(session=s, actor=me)
    if not rows:
        return
    st.subheader("Your answers over time")
    ids = sorted({r["question_id"] for r in rows})
    qid = st.selectbox("Question", ids, key="mock-history-q")
    st.dataframe(
        [
            {
                "when": r["when"],
                "score": f"{r['score']:.0%}",
                "server coverage": "-" if r["server_coverage"] is None else f"{r['server_coverage']:.0%}",
                "time used (s)": r["time_used_s"],
                "answer": r["answer"][:300],
            }
            for r in rows
            if r["question_id"] == qid
        ],
        hide_index=True,
    )


if "mock-flash" in S:
    st.warning(S.pop("mock-flash"))

with write_session() as s:
    now = mock.current(session=s, actor=me)
if now is not None and not now.done:
    _ask(now)
elif now is not None:
    st.subheader("Report")
    with st.spinner("Checking which key points each answer makes..."), write_session() as s:
        items = mock.report(session=s, actor=me, attempt_id=now.attempt_id)
    _report(now.attempt_id, items, editable=True)
else:
    with read_session() as s:
        last = mock.last_finished(session=s, actor=me)
        items = mock.report(session=s, actor=me, attempt_id=last) if last and S.get("mock-show-last") else []
    if items:
        st.subheader("Report")
        _report(last, items, editable=False)
        st.divider()
    _setup()
    _history()
