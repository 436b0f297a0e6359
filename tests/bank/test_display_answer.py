"""`display_answer`: the key of a short-answer question as a person writes it."""

import re
import textwrap

import pytest
import yaml
from pydantic import ValidationError

from quizapp.bank.loader import load_bank
from quizapp.bank.schema import QuestionSpec
from quizapp.config import ROOT
from quizapp.grading import grade
from tests.utils.bank import SAMPLE

BASE = {q["id"]: q for q in yaml.safe_load(SAMPLE)}


def test_display_answer_is_shown_as_the_key():
    data = QuestionSpec(**{**BASE["s-short"], "display_answer": "Vanishing gradients."}).content()
    assert data["display_answer"] == "Vanishing gradients."
    assert grade(data, "exploding gradients").expected == "Vanishing gradients."
    assert grade(data, "the vanishing gradient problem").correct


def test_without_display_answer_content_is_unchanged():
    """Questions that do not set the field keep their content, so syncing makes no new version."""
    assert "display_answer" not in QuestionSpec(**BASE["s-short"]).content()
    assert grade(QuestionSpec(**BASE["s-short"]).content(), "x").expected == "vanishing gradients"


@pytest.mark.parametrize(
    ("qid", "shown", "message"),
    [
        ("s-short", "exploding gradients", "is not accepted by any of the question's answers patterns"),
        ("s-short", "   ", "must be non-empty"),
        ("s-single", "Max pooling", "does not take display_answer"),
    ],
)
def test_schema_refuses(qid, shown, message):
    with pytest.raises(ValidationError) as info:
        QuestionSpec(**{**BASE[qid], "display_answer": shown})
    assert "display_answer" in str(info.value) and message in str(info.value)


def test_loader_names_file_line_and_field(write_bank):
    body = textwrap.dedent(
        """\
        - id: bad-short
          kind: quiz
          type: short
          topic: optimization
          difficulty: 1
          prompt: Which optimizer adapts each step by a running average of squared gradients?
          answers: ['rms ?prop']
          display_answer: 'Adam'
          explanation: RMSprop.
        """
    )
    report = load_bank(write_bank({"bad.yaml": body}))
    assert not report.ok and report.questions == []
    (err,) = report.errors
    assert err.file.endswith("bad.yaml") and err.line == 8
    assert "display_answer" in err.message and "'Adam'" in err.message


SHORT = [q.spec for q in load_bank(ROOT / "questions").questions if q.spec.type == "short"]
MACHINE = re.compile(r"""[\\^$\[\]{}|*+?"'`]|\(\?""")


@pytest.mark.parametrize("spec", SHORT, ids=lambda s: s.id)
def test_every_short_key_in_the_bank_reads_as_text(spec):
    """No regex syntax or quotes in the key a learner sees, and the key itself is accepted."""
    data = spec.content()
    shown = grade(data, "zzz").expected
    assert not MACHINE.search(shown), f"{spec.id}: {shown!r}"
    assert shown == shown.strip() and "  " not in shown
    assert grade(data, shown).correct, f"{spec.id}: {shown!r} is not accepted"


def test_the_bank_has_short_questions():
    assert len(SHORT) >= 20
