"""`quizapp review due|answer`: the JSON contract, time travel with --now, and unknown names."""

import json
from datetime import date, datetime, timedelta

import pytest

from quizapp.cli import main
from tests.utils.bank import SAMPLE


@pytest.fixture
def learner(db_url, write_bank, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    assert main(["init", "--questions", str(write_bank({"s.yaml": SAMPLE}))]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long enough password\n"))
    assert main(["user", "add", "ana", "--role", "learner", "--password-stdin"]) == 0
    capsys.readouterr()
    return "ana"


def _json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    return code, (json.loads(out) if code == 0 else None)


def test_due_then_answer_then_due_again_after_the_interval(learner, capsys):
    t0 = "2026-12-01T09:00:00+00:00"
    code, due = _json(capsys, ["review", "due", learner, "--now", t0, "--json"])
    assert code == 0 and set(due) == {"new", "learning", "review", "due", "forecast"}
    assert due["learning"] == due["review"] == 0 and due["new"] == len(due["due"]) == 6  # quiz + interview
    assert len(due["forecast"]) == 30 and due["forecast"][0] == {"date": "2026-12-01", "count": 0}
    assert [date.fromisoformat(r["date"]) for r in due["forecast"]][-1] == date(2026, 12, 30)

    code, ans = _json(
        capsys, ["review", "answer", learner, "s-tf", "--rating", "good", "--now", t0, "--json"]
    )
    assert code == 0 and set(ans) == {"question_id", "rating", "due", "interval_days", "retrievability"}
    assert ans["question_id"] == "s-tf" and ans["rating"] == "good"
    due_at = datetime.fromisoformat(ans["due"])
    assert ans["interval_days"] == pytest.approx(
        (due_at - datetime.fromisoformat(t0)).total_seconds() / 86400
    )
    assert ans["retrievability"] == pytest.approx(1.0)

    _, now = _json(capsys, ["review", "due", learner, "--now", t0, "--json"])
    assert "s-tf" not in now["due"] and now["new"] == 5
    assert sum(r["count"] for r in now["forecast"]) == 1
    later = (due_at + timedelta(minutes=1)).isoformat()
    _, then = _json(capsys, ["review", "due", learner, "--now", later, "--json"])
    assert then["due"][0] == "s-tf" and then["learning"] + then["review"] == 1


def test_unknown_user_or_question_exits_2_naming_it(learner, capsys):
    assert main(["review", "due", "nobody", "--json"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    assert main(["review", "answer", learner, "no-such-q", "--rating", "good", "--json"]) == 2
    assert "no question 'no-such-q'" in capsys.readouterr().err
    assert main(["review", "answer", "nobody", "s-tf", "--rating", "good", "--json"]) == 2
    assert main(["review", "due", learner, "--now", "yesterday", "--json"]) == 2
    assert "--now" in capsys.readouterr().err
