"""Limitations: claims at the defaults, knob validation, perturbation sizes and the extrapolation gap."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import limitations as lim
from demos.base import RunContext
from tests.demos.conftest import default_run

SLUG = "limitations"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert ids == {"fgsm-beats-noise", "noise-barely-hurts", "extrapolation-fails"}
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["fgsm_accuracy_at_epsilon"] < m["noise_accuracy_at_epsilon"] <= m["clean_accuracy"] + 0.01
    json.dumps(m, allow_nan=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"epsilon": 0.4, "eps_max": 0.3},  # the claims' epsilon must be on the curve
        {"epsilon": float("nan")},
        {"eps_max": 2.0},
        {"function": "cube"},
        {"activation": "gelu"},
        {"fit_range": 0.0},
        {"attack": "pgd"},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        lim.Params(**bad)


def test_perturbations_keep_their_size_and_zero_changes_nothing():
    p = lim.Params(epsilon=0.15, eps_max=0.3, n_eps=3, clf_steps=60, fit_steps=50, function="square")
    res = lim.run(p, RunContext(device=torch.device("cpu"), seed=0))
    assert res.eps == [0.0, 0.15, 0.3]
    assert res.fgsm_accuracy[0] == res.noise_accuracy[0] == res.clean_accuracy
    clean = torch.tensor(res.example_clean)
    adv = torch.tensor(res.example_adv)
    assert (adv - clean).abs().max() <= 0.15 + 1e-6
    assert adv.min() >= 0.0 and adv.max() <= 1.0
    assert len(res.grid_x) == len(res.grid_pred) == len(res.grid_true)
    assert min(res.grid_x) == pytest.approx(-6.0) and max(res.grid_x) == pytest.approx(6.0)
    assert len(lim.figures(res)) == 3
