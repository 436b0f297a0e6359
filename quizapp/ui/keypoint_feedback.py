"""The server's key-point suggestion for an open answer, pre-ticked for the learner to confirm or correct.
The model (torch, sentence-transformers) is imported on first use, never when a page loads."""

from dataclasses import dataclass, field
from typing import Any

import streamlit as st


@dataclass(frozen=True)
class Suggestion:
    points: list[int] = field(default_factory=list)
    evidence: dict[int, str] = field(default_factory=dict)
    note: str | None = None  # why there is no suggestion, or a flag worth showing (copied, not an answer)
    available: bool = True


def suggest(question_data: dict[str, Any], text: str) -> Suggestion:
    """Which key points the server finds in `text`, with the sentence that states each."""
    if not question_data.get("key_points"):
        return Suggestion(available=False)
    try:
        from quizapp.interview import keypoints

        result = keypoints.score_answer(question_data, text)
    except ImportError:
        return Suggestion(note="Key-point feedback is not installed here: rate yourself.", available=False)
    except Exception as exc:  # ModelUnavailable, AnswerRefused: fall back to self-rating, never break
        return Suggestion(note=f"No server feedback ({exc}): rate yourself.", available=False)
    notes = {
        keypoints.COPIED: "This looks like the model answer pasted: no points suggested.",
        keypoints.NOISE: "This does not read as an answer in English: no points suggested.",
    }
    note = " ".join(notes[f] for f in result.flags if f in notes) or None
    return Suggestion(
        result.covered, {i: k.evidence for i, k in enumerate(result.key_points) if k.evidence}, note
    )


def prefill(state: Any, key: str, question_data: dict[str, Any], text: str) -> Suggestion:
    """Once per answer: tick the server's points in the `{key}-kp-{i}` checkboxes before they are drawn,
    and keep its verdict under `{key}-server` for `verdict`."""
    if key + "-server" not in state:
        with st.spinner("Checking which key points your answer makes..."):
            found = suggest(question_data, text)
        for i in found.points:
            state[f"{key}-kp-{i}"] = True
        state[key + "-server"] = found
    found = state[key + "-server"]
    if found.note:
        st.caption(found.note)
    elif found.available:
        st.caption("Ticked: the key points this server found in your answer. Correct them if it misjudged.")
    return found


def verdict(state: Any, key: str) -> dict[str, Any]:
    """What to store beside the learner's ticks: the server's own (grading ignores this key)."""
    found = state.get(key + "-server")
    return {"server_points": list(found.points)} if found is not None and found.available else {}


def show_agreement(actor: Any) -> None:
    """My progress: how often the learner's key-point ticks agree with the server's, per topic."""
    from quizapp.bank.schema import TOPICS
    from quizapp.db import read_session
    from quizapp.interview.mock import agreement_by_topic

    with read_session() as session:
        rows = agreement_by_topic(session=session, actor=actor)
    if not rows:
        return
    st.markdown(
        "**Your key-point ticks against the server's** (open questions, Practice and mock interviews)"
    )
    st.dataframe(
        [
            {
                "topic": TOPICS.get(r["topic"], r["topic"]),
                "answers": r["answers"],
                "agreement": f"{r['agreement']:.0%}",
                "you tick more (+) or fewer (-) points, per answer": round(r["self_minus_server"], 2),
            }
            for r in rows
        ],
        hide_index=True,
    )
