"""The GAN demo: claims at the defaults, knob validation, the distance measures and the snapshots."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import gan
from demos.base import RunContext
from tests.demos.conftest import default_run

SLUG = "gan"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert ids == {
        "samples-closer-mmd",
        "samples-closer-moments",
        "discriminator-near-chance",
        "discriminator-output-near-half",
    }
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    json.dumps(out.metrics, allow_nan=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"target": "spiral"},
        {"steps": 10},
        {"lr": float("nan")},
        {"lr": 1.0},
        {"latent_dim": 0},
        {"snapshots": 1},
        {"optimizer": "sgd"},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        gan.Params(**bad)


def test_distances_tell_near_from_far():
    g = torch.Generator().manual_seed(0)
    a = gan._sample_target("ring", 500, g)
    b = gan._sample_target("ring", 500, g)
    far = b + torch.tensor([1.5, 0.0])
    assert gan._mmd(a, b) < 0.05 < gan._mmd(a, far)
    assert gan._moment_gap(a, b) < 0.2 < gan._moment_gap(a, far)
    for name in ("ring", "moons", "blob"):
        assert gan._sample_target(name, 64, g).shape == (64, 2)


def test_short_run_keeps_snapshots_and_draws():
    p = gan.Params(steps=60, snapshots=4, batch_size=32, hidden=16)
    res = gan.run(p, RunContext(device=torch.device("cpu"), seed=1))
    assert res.snap_steps == [0, 20, 40, 60]
    assert all(len(pts[0]) == len(pts[1]) > 0 for pts in res.snap_points)
    assert res.mmd_steps[0] == 0 and res.mmd_steps[-1] == 60
    figs = gan.figures(res)
    assert len(figs) == 4 and all(f.layout.title.text for f in figs)
    json.dumps(gan.metrics(res), allow_nan=False)
