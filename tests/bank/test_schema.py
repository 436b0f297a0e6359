import pytest
import yaml
from pydantic import ValidationError

from quizapp.bank.schema import QuestionSpec
from tests.utils.bank import SAMPLE

BASE = {q["id"]: q for q in yaml.safe_load(SAMPLE)}


def _spec(qid: str, **changes):
    return QuestionSpec(**{**BASE[qid], **changes})


@pytest.mark.parametrize(
    ("qid", "changes", "message"),
    [
        ("s-single", {"id": "Bad Id"}, "must be a slug"),
        ("s-single", {"difficulty": 4}, "less than or equal to 3"),
        ("s-single", {"choices": ["Max pooling", "Max pooling"]}, "same text"),
        ("s-multi", {"answer": "Dropout"}, "list of choice texts"),
        ("s-tf", {"answer": "yes"}, "true or false"),
        ("s-num", {"tolerance": -1}, "tolerance"),
        ("s-num", {"answer": float("nan")}, "finite"),
        ("s-open", {"answer": ""}, "model answer"),
        ("s-single", {"answers": ["x"]}, "does not take answers"),
        ("s-single", {"demo_params": {"x": 1}, "demo": None}, "demo_params given without a demo"),
        ("s-single", {"explanation": "  "}, "at least 1 character"),
    ],
)
def test_refusals(qid, changes, message):
    with pytest.raises(ValidationError) as info:
        _spec(qid, **changes)
    assert message in str(info.value)


def test_content_is_stable_json():
    a, b = _spec("s-num").content(), _spec("s-num").content()
    assert a == b and a["answer"] == 30.0
