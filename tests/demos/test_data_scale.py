"""Data scale: claims at the defaults, knob validation, balanced nested subsets, independent variants."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import data_scale as ds
from demos._nn import cpu_generator
from tests.demos.conftest import default_run

SLUG = "data-scale"


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    ids = {c.id for c in out.claims}
    assert ids == {
        "every-model-gains",
        "classical-competitive-small",
        "cnn-near-top-large",
        "models-converge-with-data",
    }
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    for name in ds.MODELS:
        assert m[f"{name}_acc_largest"] > m[f"{name}_acc_smallest"]
    json.dumps(m, allow_nan=False)


@pytest.mark.parametrize(
    "bad",
    [
        {"sizes": [5, 100]},
        {"sizes": [100, 5000]},
        {"sizes": [100, 100]},
        {"sizes": [100]},
        {"steps": 0},
        {"lr": float("nan")},
        {"trees": 10_000},
        {"model": "svm"},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        ds.Params(**bad)


def test_balanced_order_gives_balanced_nested_prefixes():
    y = torch.arange(10).repeat_interleave(30)[torch.randperm(300, generator=cpu_generator(1))]
    order = ds._balanced_order(y, cpu_generator(0))
    assert sorted(order.tolist()) == list(range(300))
    for n in (10, 20, 50, 120):
        counts = torch.bincount(y[order[:n]], minlength=10)
        assert counts.max() - counts.min() <= 1


def test_cnn_variants_are_independent():
    """Changing variant 1's input leaves variant 0's output alone (grouped convolutions)."""
    cnn = ds._BatchedCNN(3, 4, cpu_generator(0))
    x = torch.rand(3, 5, 64)
    x2 = x.clone()
    x2[1] = torch.rand(5, 64)
    with torch.no_grad():
        a, b = cnn(x), cnn(x2)
    assert torch.allclose(a[0], b[0]) and torch.allclose(a[2], b[2])
    assert not torch.allclose(a[1], b[1])
