"""The how-models-learn demo: claims at the defaults, knob validation, datasets, the gradient check
catching a wrong gradient, and the boundary snapshots."""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import how_models_learn as hml
from demos.base import RunContext


@pytest.fixture(scope="module")
def default_run():
    partials = []
    ctx = RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append((f, p)))
    return hml.run(hml.Params(), ctx), partials


def test_claims_hold_at_defaults(default_run):
    result, _ = default_run
    claims = hml.claims(result)
    assert {c.id for c in claims} == {
        "backprop-matches-finite-differences",
        "test-loss-falls",
        "test-accuracy-above-threshold",
    }
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(hml.metrics(result), allow_nan=False)


def test_progress_snapshots_and_partial_results(default_run):
    result, partials = default_run
    assert len(partials) >= 10 and partials[0][0] == 0.0
    for _, partial in (partials[0], partials[len(partials) // 2]):
        figs = hml.figures(partial)
        assert figs and all(f.layout.title.text for f in figs)
        json.dumps(hml.metrics(partial), allow_nan=False)
    assert result.snapshot_steps[0] == 0 and result.snapshot_steps[-1] == result.steps_total
    assert len(result.snapshots) == len(result.snapshot_steps) >= 5
    boundary = hml.figures(result)[0]
    assert len(boundary.layout.sliders[0].steps) == len(result.snapshots)
    # the boundary really moved: the first and last probability maps differ
    first, last = torch.tensor(result.snapshots[0]), torch.tensor(result.snapshots[-1])
    assert (first - last).abs().max() > 0.5


@pytest.mark.parametrize("name", ["circle", "xor", "gauss", "spiral"])
def test_datasets_are_balanced_two_class_sets(name):
    x, y = hml.make_dataset(name, 400, 0.0, torch.Generator().manual_seed(0))
    assert x.shape == (400, 2) and set(y.unique().tolist()) == {0.0, 1.0}
    assert abs(float(y.mean()) - 0.5) < 0.1
    assert float(x.abs().max()) <= 2.0


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    p = hml.Params(layers=1, neurons=3)
    g = torch.Generator().manual_seed(0)
    ps = hml.init_params(1, 3, g)
    x, y = hml.make_dataset("xor", 50, 0.1, g)
    ok, _ = hml.gradient_check(ps, x, y, p, g)
    assert ok < 1e-6

    real = hml.total_loss

    def skewed(ps, x, y, activation, l1, l2):  # a loss whose value and autograd gradient disagree
        loss = real(ps, x, y, activation, l1, l2)
        return loss + 0.5 * (ps[0].sum() - ps[0].sum().detach())

    monkeypatch.setattr(hml, "total_loss", skewed)
    bad, _ = hml.gradient_check(ps, x, y, p, g)
    assert bad > 1e-2


@pytest.mark.parametrize(
    "bad",
    [
        {"lr": 0.0},
        {"lr": math.nan},
        {"noise": 0.9},
        {"layers": 7},
        {"neurons": 0},
        {"l1": -0.1},
        {"l2": math.inf},
        {"dataset": "moons"},
        {"activation": "swish"},
        {"batch": 10},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        hml.Params(**bad)
