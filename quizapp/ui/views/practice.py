import random
import time

import streamlit as st

from quizapp.bank.schema import TOPICS
from quizapp.db import read_session, write_session
from quizapp.grading import AnswerError
from quizapp.practice import start_attempt, submit_answer
from quizapp.questions import QuestionView, get_question, pick_ids
from quizapp.ui.answering import answer_widget, shown_answer
from quizapp.ui.common import DIFFICULTY, TYPE_LABELS, actor, demo_link, topic_title

S = st.session_state


def _setup() -> None:
    st.caption("Pick what to practise. Questions come one at a time; each answer is graded at once.")
    preset = [t for t in st.query_params.get_all("topic") if t in TOPICS]
    with st.form("practice_setup"):
        topics = st.multiselect("Topics (none = all)", list(TOPICS), default=preset, format_func=topic_title)
        c1, c2 = st.columns(2)
        levels = c1.multiselect("Difficulty", [1, 2, 3], default=[1, 2, 3], format_func=DIFFICULTY.get)
        kinds = c2.multiselect(
            "Kinds",
            ["quiz", "interview", "faq"],
            default=["quiz", "interview"],
            format_func=lambda k: {"quiz": "Quiz", "interview": "Interview", "faq": "FAQ"}[k],
        )
        types = st.multiselect("Question types (none = all)", list(TYPE_LABELS), format_func=TYPE_LABELS.get)
        count = st.slider("How many questions", 5, 50, 10)
        go = st.form_submit_button("Start", type="primary")
    if not go:
        return
    if not kinds or not levels:
        st.warning("Choose at least one kind and one difficulty.")
        return
    with read_session() as session:
        ids = pick_ids(
            session=session,
            kinds=kinds,
            topics=topics or None,
            difficulties=levels,
            types=types or None,
            seed=random.randrange(2**31),
            limit=count,
        )
    if not ids:
        st.warning("No question matches those choices. Widen the topics, difficulty or types.")
        return
    with write_session() as session:
        attempt_id = start_attempt(session=session, actor=actor())
    S.pr_attempt, S.pr_queue, S.pr_pos, S.pr_results = attempt_id, ids, 0, {}
    S.pr_shown_at = time.monotonic()
    st.rerun()


def _record(q: QuestionView, answer) -> None:  # type: ignore[no-untyped-def]
    elapsed = int((time.monotonic() - S.get("pr_shown_at", time.monotonic())) * 1000)
    try:
        with write_session() as session:
            result = submit_answer(
                session=session,
                actor=actor(),
                attempt_id=S.pr_attempt,
                question_id=q.id,
                answer=answer,
                time_taken_ms=elapsed,
            )
    except AnswerError as exc:
        st.warning(str(exc).capitalize() + ".")
        return
    S.pr_results[q.id] = {
        "score": result.grade.score,
        "correct": result.grade.correct,
        "expected": result.grade.expected,
        "duplicate": result.duplicate,
        "answer": answer,
    }
    st.rerun()


def _ask(q: QuestionView) -> None:
    key = f"pr-{S.pr_attempt}-{q.id}"
    if q.type != "open":
        with st.form(key + "-form"):
            answer = answer_widget(q, key)
            if st.form_submit_button("Submit", type="primary"):
                if answer is None:
                    st.warning("Give an answer before submitting.")
                else:
                    _record(q, answer)
        return
    draft_key = key + "-draft"
    if draft_key not in S:
        with st.form(key + "-form"):
            text = answer_widget(q, key)
            st.caption("Write your answer as you would say it in an interview, then compare it with ours.")
            if st.form_submit_button("Compare with the model answer", type="primary"):
                if text is None:
                    st.warning("Write your answer first: the comparison only helps if you commit to one.")
                else:
                    S[draft_key] = text
                    st.rerun()
        return
    st.markdown("**Your answer**")
    st.text(S[draft_key])
    st.markdown("**Model answer**")
    st.markdown(q.data["answer"])
    with st.form(key + "-rate"):
        st.write("Which of these key points did your answer make?")
        ticked = [i for i, p in enumerate(q.data["key_points"]) if st.checkbox(p, key=f"{key}-kp-{i}")]
        if st.form_submit_button("Record my rating", type="primary"):
            _record(q, {"text": S[draft_key], "points": ticked})


def _feedback(q: QuestionView, res: dict) -> None:
    if res["duplicate"]:
        st.info("This question was already answered in this session; the first answer stands.")
    if q.type == "open":
        n = len(q.data["key_points"])
        got = len(res["answer"]["points"]) if isinstance(res["answer"], dict) else round(res["score"] * n)
        st.info(f"You rated your answer as covering {got} of {n} key points ({res['score']:.0%}).")
    else:
        st.text(f"Your answer: {shown_answer(res['answer'])}")  # the learner's own text, shown as plain text
        if res["correct"]:
            st.success("Correct.")
        elif res["score"] > 0:
            st.warning(f"Partly right ({res['score']:.0%}). The full answer: {res['expected']}")
        else:
            st.error(f"Not quite. The answer: {res['expected']}")
    st.markdown("**Why**")
    st.markdown(q.explanation)
    demo_link(q.demo, q.demo_params)


def _summary() -> None:
    results = S.pr_results
    n = len(results)
    score = sum(r["score"] for r in results.values())
    st.subheader("Session complete")
    st.metric("Score", f"{score:.1f} / {n}", f"{score / n:.0%}" if n else None)
    st.page_link("views/progress.py", label="See your progress by topic", icon=":material/insights:")
    if st.button("Practise again", type="primary"):
        for k in ("pr_attempt", "pr_queue", "pr_pos", "pr_results"):
            S.pop(k, None)
        st.rerun()


st.title("Practice")
if "pr_attempt" not in S:
    _setup()
    st.stop()

results = S.pr_results
with st.sidebar:
    answered = len(results)
    total = sum(r["score"] for r in results.values())
    st.metric("Running score", f"{total:.1f} / {answered}", f"{total / answered:.0%}" if answered else None)
    st.progress(min(answered / len(S.pr_queue), 1.0), text=f"{answered} of {len(S.pr_queue)} answered")
    if st.button("New session"):
        for k in ("pr_attempt", "pr_queue", "pr_pos", "pr_results"):
            S.pop(k, None)
        st.rerun()

if S.pr_pos >= len(S.pr_queue):
    _summary()
    st.stop()

qid = S.pr_queue[S.pr_pos]
with read_session() as session:
    question = get_question(session=session, question_id=qid)
if question is None:
    S.pr_pos += 1
    st.rerun()

st.caption(
    f"Question {S.pr_pos + 1} of {len(S.pr_queue)} · {topic_title(question.topic)} · "
    f"{DIFFICULTY[question.difficulty]} · {TYPE_LABELS[question.type]}"
)
st.markdown(question.prompt)
if qid in results:
    _feedback(question, results[qid])
    if st.button("Next question", type="primary", key=f"next-{S.pr_attempt}-{qid}"):
        S.pr_pos += 1
        S.pr_shown_at = time.monotonic()
        st.rerun()
else:
    _ask(question)
