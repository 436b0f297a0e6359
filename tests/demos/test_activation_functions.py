"""The activation-functions demo: claims at the defaults, knob validation, derivatives, and the
linear network staying linear."""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import activation_functions as af
from demos.base import RunContext


@pytest.fixture(scope="module")
def default_run():
    partials = []
    ctx = RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append((f, p)))
    return af.run(af.Params(), ctx), partials


def test_claims_hold_at_defaults(default_run):
    result, _ = default_run
    claims = af.claims(result)
    ids = {c.id for c in claims}
    assert {
        "no-activation-is-a-straight-line",
        "any-activation-beats-linear",
        "large-step-kills-relus",
        "sigmoid-derivative-at-most-a-quarter",
    } <= ids
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(af.metrics(result), allow_nan=False)


def test_progress_and_partial_results_draw(default_run):
    result, partials = default_run
    assert len(partials) >= 10 and partials[0][0] == 0.0
    for _, partial in (partials[0], partials[len(partials) // 2]):
        figs = af.figures(partial)
        assert figs and all(f.layout.title.text for f in figs)
        json.dumps(af.metrics(partial), allow_nan=False)
    assert len(af.figures(result)) == 4


def test_linear_network_is_affine(default_run):
    result, _ = default_run
    v = result.activations.index("none")
    acc = af.final_test_acc(result)
    assert acc["none"] < 0.7 < min(a for n, a in acc.items() if n != "none")
    # its P(inside) map is a logistic function of one linear form: monotone along some direction,
    # so it cannot be high in the centre and low all around
    m = torch.tensor(result.prob_maps[v])
    centre = m[m.shape[0] // 2, m.shape[1] // 2]
    ring = torch.cat([m[0], m[-1], m[:, 0], m[:, -1]])
    assert not (centre > 0.5 and bool((ring < 0.5).all()))


@pytest.mark.parametrize("name", ["none", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"])
def test_closed_form_derivatives(name):
    x = torch.linspace(-4, 4, 81, dtype=torch.float64)
    x = x[x.abs() > 1e-9].requires_grad_()
    (dy,) = torch.autograd.grad(af._fn(name)(x).sum(), x)
    torch.testing.assert_close(dy, af.closed_form_derivative(name, x.detach()))


def test_dying_needs_only_relu_variants_and_omits_absent_claims():
    p = af.Params(activations=["tanh"], steps=20, n_samples=128)
    r = af.run(p, RunContext(device=torch.device("cpu"), seed=3))
    ids = {c.id for c in af.claims(r)}
    assert "no-activation-is-a-straight-line" not in ids and "sigmoid-derivative-at-most-a-quarter" not in ids
    assert "large-step-kills-relus" in ids  # the dying-ReLU experiment always runs
    assert af.figures(r)


@pytest.mark.parametrize(
    "bad",
    [
        {"hidden": 1},
        {"lr": 0.0},
        {"lr": math.nan},
        {"dying_lr": math.inf},
        {"noise": 0.5},
        {"steps": 5},
        {"activations": []},
        {"activations": ["relu", "relu"]},
        {"activations": ["swish"]},
        {"depth": 3},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        af.Params(**bad)
