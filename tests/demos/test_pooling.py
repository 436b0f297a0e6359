"""The pooling demo: claims at the defaults, knob validation, feature-map sizes and the shift helper."""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import pooling
from demos.base import RunContext


@pytest.fixture(scope="module")
def default_run():
    partials = []
    ctx = RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append((f, p)))
    return pooling.run(pooling.Params(), ctx), partials


def test_claims_hold_at_defaults(default_run):
    result, _ = default_run
    claims = pooling.claims(result)
    ids = {c.id for c in claims}
    assert {
        "pooling-quarters-feature-map",
        "global-max-tolerates-shift-better-than-max",
        "max-pool-tolerates-shift-better-than-none",
    } <= ids
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(pooling.metrics(result))


def test_progress_and_partial_results_draw(default_run):
    result, partials = default_run
    assert len(partials) >= 10
    assert partials[0][0] == 0.0
    for _, partial in (partials[0], partials[len(partials) // 2]):
        figs = pooling.figures(partial)
        assert figs and all(f.layout.title.text for f in figs)
        pooling.claims(partial)
        json.dumps(pooling.metrics(partial))
    assert all(f.layout.title.text for f in pooling.figures(result))


def test_feature_map_sizes_and_parameters(default_run):
    result, _ = default_run
    shapes = dict(zip(result.pools, result.stage_shapes, strict=True))
    assert shapes["max"] == {"conv1": [8, 12, 12], "pool1": [8, 6, 6], "conv2": [8, 6, 6], "pool2": [8, 3, 3]}
    assert shapes["avg"] == shapes["max"]
    assert shapes["none"]["pool2"] == [8, 12, 12]
    assert shapes["global_max"]["pool2"] == [8, 1, 1]
    params = dict(zip(result.pools, result.param_count, strict=True))
    assert params["global_max"] < params["max"] < params["none"]
    # the counts match the parameters of a real two-variant network (the variants share nothing)
    net = pooling._Net(["max", "none"], torch.Generator().manual_seed(0), torch.device("cpu"))
    assert sum(p.numel() for p in net.parameters()) == params["max"] + params["none"]


def test_shift_images_moves_and_zero_fills():
    x = torch.arange(16.0).view(1, 4, 4)
    right = pooling.shift_images(x, 1, 0)
    assert torch.equal(right[0, :, 1:], x[0, :, :-1]) and torch.all(right[0, :, 0] == 0)
    up = pooling.shift_images(x, 0, -2)
    assert torch.equal(up[0, :2], x[0, 2:]) and torch.all(up[0, 2:] == 0)
    assert torch.equal(pooling.shift_images(x, 0, 0), x)


@pytest.mark.parametrize(
    "bad",
    [
        {"n_train": 10},
        {"n_train": 5000},
        {"shift": -1},
        {"shift": 9},
        {"shift": math.nan},
        {"pools": []},
        {"pools": ["max", "max"]},
        {"pools": ["median"]},
        {"colour": "red"},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        pooling.Params(**bad)
