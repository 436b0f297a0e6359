"""The dropout demo: claims at the defaults, claims need a no-dropout baseline, the batched mask."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from demos import dropout
from demos._nn import batched_dropout, cpu_generator
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "dropout"


def run(p: dropout.Params, seed: int = 0) -> dropout.Result:
    return dropout.run(p, RunContext(device=torch.device("cpu"), seed=seed))


def small(**kw) -> dropout.Params:
    return dropout.Params(**{**dict(steps=15, width=32, n_train=100), **kw})


def test_knobs_and_defaults():
    assert {"rates", "n_train", "label_noise", "width", "steps"} <= set(dropout.Params.model_fields)
    p = dropout.Params()
    assert p.rates == [0.0, 0.5] and p.n_train == 300 and p.label_noise == 0.3


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    by_id = {c.id: c for c in out.claims}
    assert {"dropout-raises-validation-accuracy", "dropout-shrinks-generalisation-gap"} <= set(by_id)
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    m = out.metrics
    assert m["p0.5_val_acc"] > m["p0_val_acc"] and m["p0.5_gap"] < m["p0_gap"]
    assert m["n_val"] == 1797 - 300
    json.dumps(m, allow_nan=False)


def test_progress_and_partials_draw():
    d = default_run(SLUG)
    assert len(d.partials) >= 10 and d.partials[0][0] == 0.0 and d.partials[-1][0] == 1.0
    for _, partial, _ in (d.partials[0], d.partials[len(d.partials) // 2]):
        figs = dropout.figures(partial)
        assert len(figs) == 2 and all(f.layout.title.text for f in figs)
        assert dropout.claims(partial) == []  # claims wait for the finished run


def test_no_claims_without_a_baseline():
    assert dropout.claims(run(small(rates=[0.5]))) == []
    assert dropout.claims(run(small(rates=[0.0]))) == []
    ids = {c.id for c in dropout.claims(run(small(rates=[0.0, 0.2], label_noise=0.0)))}
    assert ids == {"dropout-raises-validation-accuracy", "dropout-shrinks-generalisation-gap"}


def test_variants_start_from_the_same_weights():
    net = dropout._Net(3, 16, [0.0, 0.2, 0.5], cpu_generator(0), torch.device("cpu"))
    for layer in (net.l1, net.l2, net.l3):
        assert torch.equal(layer.weight[0], layer.weight[2]) and torch.equal(layer.bias[0], layer.bias[1])


def test_deterministic():
    a, b = run(small(), 3), run(small(), 3)
    assert a.val_acc == b.val_acc and a.train_loss == b.train_loss


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        dropout.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad",
    [
        {"rates": []},
        {"rates": [0.5, 0.5]},
        {"rates": [0.95]},
        {"n_train": 10},
        {"label_noise": 0.9},
        {"label_noise": float("inf")},
        {"width": 0},
    ],
)
def test_params_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        dropout.Params(**bad)


def test_batched_dropout_rates_per_variant():
    x = torch.ones(3, 2000, 50)
    y = batched_dropout(x, torch.tensor([0.0, 0.5, 0.8]), training=True, generator=cpu_generator(0))
    assert torch.equal(y[0], x[0])
    for v, p in ((1, 0.5), (2, 0.8)):
        dropped = (y[v] == 0).float().mean().item()
        assert abs(dropped - p) < 0.01
        assert torch.allclose(y[v][y[v] != 0], torch.tensor(1 / (1 - p)))
        assert abs(y[v].mean().item() - 1.0) < 0.03  # inverted dropout keeps the expectation
    assert torch.equal(batched_dropout(x, torch.tensor([0.5, 0.5, 0.5]), training=False), x)
