"""`quizapp demo run --budget`: the partial outcome, stopped, steps_done and claims not checked."""

import json

import pytest

from quizapp.cli import main


@pytest.mark.slow
def test_demo_run_with_a_budget_prints_the_partial_outcome(capsys):
    args = ["demo", "run", "dropout", "--set", "width=1024", "--set", "steps=5000", "--set", "n_train=1200"]
    assert main([*args, "--device", "cpu", "--budget", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stopped"] is True and out["cached"] is False and 0 <= out["steps_done"] < 5000
    assert all(c["holds"] is None for c in out["claims"])


def test_demo_run_refuses_a_budget_of_zero(capsys):
    assert main(["demo", "run", "softmax", "--budget", "0"]) == 2
    assert "--budget must be a number of seconds above 0" in capsys.readouterr().err
