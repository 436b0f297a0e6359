"""The optimizer comparison: claims at the defaults, knob validation, and the stacked optimizer
reproducing torch.optim variant by variant."""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from demos import optimizer_comparison as oc
from demos.base import RunContext


@pytest.fixture(scope="module")
def default_run():
    partials = []
    ctx = RunContext(device=torch.device("cpu"), seed=0, on_progress=lambda f, p: partials.append((f, p)))
    return oc.run(oc.Params(), ctx), partials


def test_claims_hold_at_defaults(default_run):
    result, _ = default_run
    claims = oc.claims(result)
    ids = {c.id for c in claims}
    assert {
        "rosenbrock-momentum-beats-sgd",
        "rosenbrock-adam-beats-sgd",
        "quadratic-momentum-beats-sgd-same-lr",
    } <= ids
    assert all(c.holds for c in claims), [c.statement for c in claims if not c.holds]
    json.dumps(oc.metrics(result), allow_nan=False)


def test_progress_and_partial_results_draw(default_run):
    result, partials = default_run
    assert len(partials) >= 10 and partials[0][0] == 0.0
    for _, partial in (partials[0], partials[len(partials) // 2]):
        figs = oc.figures(partial)
        assert figs and all(f.layout.title.text for f in figs)
        json.dumps(oc.metrics(partial), allow_nan=False)
    assert len(oc.figures(result)) == 3  # paths, losses, the same-rate side check


def _torch_optimizer(name: str, p: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    return {
        "sgd": lambda: torch.optim.SGD([p], lr=lr),
        "momentum": lambda: torch.optim.SGD([p], lr=lr, momentum=0.9),
        "nesterov": lambda: torch.optim.SGD([p], lr=lr, momentum=0.9, nesterov=True),
        "rmsprop": lambda: torch.optim.RMSprop([p], lr=lr),
        "adagrad": lambda: torch.optim.Adagrad([p], lr=lr),
        "adam": lambda: torch.optim.Adam([p], lr=lr),
        "adamw": lambda: torch.optim.AdamW([p], lr=lr, weight_decay=0.01),
    }[name]()


def test_stacked_optimizer_matches_torch_optim():
    names = list(oc.ALL_OPTIMIZERS)
    lrs = [oc.TUNED_LR["rosenbrock"][n] for n in names]
    start = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    stacked = start.repeat(len(names), 1).requires_grad_()
    opt = oc.StackedOptimizer([stacked], names, lrs)
    singles = [start.clone().requires_grad_() for _ in names]
    refs = [_torch_optimizer(n, p, lr) for n, p, lr in zip(names, singles, lrs, strict=True)]
    for _ in range(60):
        stacked.grad = None
        oc.rosenbrock(stacked).sum().backward()
        opt.step()
        for p, ref in zip(singles, refs, strict=True):
            ref.zero_grad()
            oc.rosenbrock(p[None]).sum().backward()
            ref.step()
    torch.testing.assert_close(stacked.detach(), torch.stack(singles).detach(), rtol=1e-9, atol=1e-12)


def test_settle_step_ignores_passing_through():
    assert oc.settle_step([1.0, 0.05, 0.5, 0.09, 0.01]) == 3
    assert oc.settle_step([1.0, 0.05, 0.5]) is None
    assert oc.settle_step([0.0, 0.0]) == 0


def test_mlp_and_divergence_are_reported():
    p = oc.Params(
        problem="quadratic", optimizers=["sgd", "momentum"], lr_sgd=0.05, lr_momentum=0.05, steps=50
    )
    r = oc.run(p, RunContext(device=torch.device("cpu"), seed=0))
    assert (
        r.diverged_at[0] is not None and r.diverged_at[1] is not None
    )  # lr x curvature = 5: past both limits
    m = oc.metrics(r)
    assert m["sgd_final_loss"] == "diverged"
    json.dumps(m, allow_nan=False)
    assert oc.figures(r)
    q = oc.run(
        oc.Params(problem="mlp", optimizers=["sgd", "adam"], steps=60), RunContext(torch.device("cpu"), 0)
    )
    assert all(c.holds for c in oc.claims(q)) and len(oc.figures(q)) == 2  # losses, test accuracy


@pytest.mark.parametrize(
    "bad",
    [
        {"lr_adam": -0.1},
        {"lr_sgd": 11.0},
        {"lr_momentum": math.nan},
        {"lr_rmsprop": math.inf},
        {"steps": 0},
        {"problem": "himmelblau"},
        {"optimizers": []},
        {"optimizers": ["adam", "adam"]},
        {"optimizers": ["lbfgs"]},
        {"lr": 0.1},
    ],
)
def test_bad_knobs_are_refused(bad):
    with pytest.raises(ValidationError):
        oc.Params(**bad)
