"""The cost model (demos/cost.py): predictions grow with the knobs, defaults fit the budget, and a
setting predicted past a budget really stops at it. Budgets and orderings, no timing asserts."""

from __future__ import annotations

import pytest

from demos import cost, registry, runtime
from demos.catalogue import CATALOGUE
from tests.demos.heavy import heaviest

SLUGS = [s for s in CATALOGUE if registry.available(s)]
HEAVY_DROPOUT = {"width": 1024, "steps": 5000, "n_train": 1200}  # the example


@pytest.mark.parametrize("slug", SLUGS)
def test_every_demo_is_calibrated_and_its_defaults_fit_the_budget(slug):
    assert slug in cost._table(), f"{slug} is missing from demos/cost_model.json (bench/demos.py --calibrate)"
    assert 0 < cost.predicted_seconds(slug) < runtime.default_budget_s()
    assert cost.budget_warning(slug, registry.parse_params(slug, {}), runtime.default_budget_s()) is None


@pytest.mark.parametrize("slug", SLUGS)
def test_heavier_knobs_predict_longer_runs(slug):
    p = registry.parse_params(slug, heaviest(slug))
    assert cost.predicted_seconds(slug, p) >= cost.predicted_seconds(slug)


def test_steps_and_width_scale_the_prediction():
    base = cost.predicted_seconds("dropout")
    assert cost.predicted_seconds("dropout", {"steps": 440}) > 1.5 * base
    assert cost.predicted_seconds("dropout", {"width": 256}) > cost.predicted_seconds("dropout")
    assert cost.predicted_seconds("dropout", {"label_noise": 0.5}) == pytest.approx(base)


def test_the_warning_names_the_time_the_budget_and_what_to_lower():
    p = registry.parse_params("dropout", HEAVY_DROPOUT)
    text = cost.budget_warning("dropout", p, 60)
    assert text is not None
    assert text.startswith("This setting is predicted to take about ")
    assert "more than the 60 s budget: it will stop early; lower steps or hidden width." in text
    assert cost.budget_warning("dropout", registry.parse_params("dropout", {}), 60) is None
    assert cost.budget_warning("dropout", p, 0) is None  # no budget, no warning


@pytest.mark.slow
def test_predictions_agree_with_real_runs_under_a_budget():
    """The heavy setting is predicted far past a small budget and is stopped by it; the default is
    predicted within the default budget and finishes within it."""
    heavy = registry.parse_params("dropout", HEAVY_DROPOUT)
    budget = 1.0
    assert cost.predicted_seconds("dropout", heavy) > 100 * budget
    out = runtime.run_demo("dropout", heavy, device="cpu", budget_s=budget, use_cache=False)
    assert out.stopped and out.stop_reason == "budget"

    default_budget = runtime.default_budget_s()
    assert cost.predicted_seconds("dropout") < default_budget
    out = runtime.run_demo("dropout", None, device="cpu", budget_s=default_budget, use_cache=False)
    assert not out.stopped


@pytest.mark.slow
def test_the_cli_warns_before_a_run_predicted_past_its_budget(capsys):
    import json

    from quizapp.cli import main

    sets = [x for k, v in HEAVY_DROPOUT.items() for x in ("--set", f"{k}={v}")]
    assert main(["demo", "run", "dropout", *sets, "--budget", "1", "--device", "cpu", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "dropout: This setting is predicted to take about " in err
    assert "more than the 1 s budget: it will stop early; lower steps or hidden width." in err
    payload = json.loads(out)
    assert payload["stopped"] is True and all(c["holds"] is None for c in payload["claims"])
    assert len(payload["claims"]) == 3
