"""The vanishing-gradients demo: claims at the defaults, claims only for variants present, batching."""

from __future__ import annotations

import json
import math

import pytest
import torch

from demos import vanishing_gradients as vg
from demos._nn import BatchedBatchNorm, BatchedLinear, apply_per_variant, batched_cross_entropy, cpu_generator
from demos.base import Cancelled, RunContext
from tests.demos.conftest import default_run

SLUG = "vanishing-gradients"


def small(**kw) -> vg.Params:
    base = dict(steps=12, n_samples=128, depth=8, width=8)
    return vg.Params(**{**base, **kw})


def run(p: vg.Params, seed: int = 0, partials: list | None = None) -> vg.Result:
    cb = None if partials is None else (lambda f, r: partials.append((f, r)))
    return vg.run(p, RunContext(device=torch.device("cpu"), seed=seed, on_progress=cb))


def test_knob_names_are_the_public_contract():
    assert list(vg.Params.model_fields) == [
        "activations",
        "depth",
        "width",
        "init",
        "batchnorm",
        "residual",
        "lr",
        "steps",
        "n_samples",
    ]
    p = vg.Params()
    assert (p.activations, p.depth, p.width, p.steps, p.n_samples) == (["sigmoid", "relu"], 20, 32, 220, 1024)
    assert p.init == "he" and not p.batchnorm and not p.residual


def test_claims_at_defaults():
    out = default_run(SLUG).outcome
    by_id = {c.id: c for c in out.claims}
    assert set(by_id) == {
        "sigmoid-first-layer-gradient-vanishes",
        "sigmoid-stays-near-chance",
        "relu-he-gradients-balanced",
        "relu-he-learns",
    }
    assert all(c.holds for c in out.claims), [c.statement for c in out.claims if not c.holds]
    q = vg.ratios(out.result)
    assert q["sigmoid"] < 1e-3 and 0.1 <= q["relu"] <= 10
    m = out.metrics
    assert m["relu_test_acc"] > 0.85 and m["sigmoid_test_acc"] < 0.6
    json.dumps(m, allow_nan=False)


def test_default_run_reports_progress_and_partials_draw():
    d = default_run(SLUG)
    fractions = [f for f, _, _ in d.partials]
    assert len(fractions) >= 10 and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    first = d.partials[0][1]
    assert first.layer_grad_init and first.steps_done == 0  # the at-init gradients come first
    for _, partial, _ in (d.partials[0], d.partials[len(d.partials) // 2]):
        figs = vg.figures(partial)
        assert len(figs) == 3 and all(f.layout.title.text for f in figs)
    result = d.outcome.result
    assert len(result.record_steps) >= 10 and len(result.layer_grad[0]) == len(result.record_steps)
    assert len(result.layer_grad_init[0]) == result.depth - 1


def test_claims_only_for_variants_in_the_run():
    r = run(small(activations=["tanh", "gelu"]))
    assert vg.claims(r) == [] or all("sigmoid" not in c.id and "relu" not in c.id for c in vg.claims(r))
    r = run(small(activations=["relu"], init="xavier"))
    assert not any(c.id.startswith("relu-he") for c in vg.claims(r))
    r = run(small(activations=["sigmoid"]))
    assert {c.id for c in vg.claims(r)} == {
        "sigmoid-first-layer-gradient-vanishes",
        "sigmoid-stays-near-chance",
    }


def test_batchnorm_and_residual_claims_appear_with_their_switches():
    ids = {c.id for c in vg.claims(run(small(batchnorm=True)))}
    assert ids == {"batchnorm-gradients-do-not-vanish", "batchnorm-learns"}
    ids = {c.id for c in vg.claims(run(small(residual=True)))}
    assert ids == {"residual-gradients-balanced", "residual-learns"}
    ids = {c.id for c in vg.claims(run(small(residual=True, batchnorm=True)))}
    assert ids == {
        "batchnorm-gradients-do-not-vanish",
        "residual-gradients-balanced",
        "batchnorm-residual-learns",
    }
    ids = {c.id for c in vg.claims(run(small(residual=True, activations=["sigmoid"])))}
    assert ids == {"residual-gradients-balanced"}  # the accuracy claim covers non-sigmoid activations


def test_partial_result_without_records_draws_and_claims_nothing_on_accuracy():
    r = vg.Result(["sigmoid", "relu"], 8, "he", False, False, steps_total=10)
    assert vg.claims(r) == [] and len(vg.figures(r)) == 3
    json.dumps(vg.metrics(r), allow_nan=False)


def test_deterministic_per_seed():
    a, b, c = run(small(), 1), run(small(), 1), run(small(), 2)
    assert a.layer_grad_init == b.layer_grad_init and a.test_acc == b.test_acc
    assert a.layer_grad_init != c.layer_grad_init


def test_cancel_propagates():
    def stop(f, r):
        raise Cancelled("stop")

    with pytest.raises(Cancelled):
        vg.run(small(), RunContext(device=torch.device("cpu"), seed=0, on_progress=stop))


@pytest.mark.parametrize(
    "bad",
    [
        {"depth": 2},
        {"depth": 61},
        {"activations": []},
        {"activations": ["relu", "relu"]},
        {"activations": ["swish"]},
        {"lr": 0.0},
        {"lr": float("nan")},
        {"init": "orthogonal"},
    ],
)
def test_params_refuse_bad_values(bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        vg.Params(**bad)


# -------------------------------------------------------------------------------- batched layers


def test_batched_linear_matches_per_variant_matmul():
    layer = BatchedLinear(3, 5, 4, init="he", generator=cpu_generator(0))
    x = torch.randn(3, 7, 5)
    y = layer(x)
    for v in range(3):
        torch.testing.assert_close(y[v], x[v] @ layer.weight[v] + layer.bias[v])
    shared = torch.randn(7, 5)
    torch.testing.assert_close(layer(shared), layer(shared.expand(3, 7, 5)))


def test_variants_get_only_their_own_gradient():
    """Summing per-variant losses keeps each variant's gradient exactly what it would be alone."""
    torch.manual_seed(0)
    lin = BatchedLinear(2, 4, 3, generator=cpu_generator(1))
    bn = BatchedBatchNorm(2, 3)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    fns = [torch.sigmoid, torch.relu]
    loss_v = batched_cross_entropy(apply_per_variant(bn(lin(x)), fns), y)
    loss_v.sum().backward()
    g_together = lin.weight.grad.clone()
    lin.weight.grad = None
    loss_v = batched_cross_entropy(apply_per_variant(bn(lin(x)), fns), y)
    loss_v[1].backward()
    assert torch.all(lin.weight.grad[0] == 0)
    torch.testing.assert_close(lin.weight.grad[1], g_together[1])


def test_batched_batchnorm_matches_torch():
    bn = BatchedBatchNorm(2, 3)
    ref = [torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)]
    x = torch.randn(2, 10, 3) * 3 + 1
    y = bn(x)
    for v in range(2):
        torch.testing.assert_close(y[v], ref[v](x[v]), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(bn.running_var[v, 0], ref[v].running_var, atol=1e-5, rtol=1e-5)
    bn.eval()
    for r in ref:
        r.eval()
    torch.testing.assert_close(bn(x)[1], ref[1](x[1]), atol=1e-5, rtol=1e-5)


def test_ratio_reading():
    assert vg._ratio([1e-6, 1.0]) == pytest.approx(1e-6)
    assert math.isnan(vg._ratio([]))
    assert vg._ratio([1.0, 0.0]) == math.inf


def test_concurrent_runs_stay_reproducible():
    """Randomness goes through the run's own generators, so a run beside another is unchanged."""
    import threading

    alone = run(small(), 5)
    results: dict[int, vg.Result] = {}

    def go(i: int, seed: int) -> None:
        results[i] = run(small(), seed)

    threads = [threading.Thread(target=go, args=(i, s)) for i, s in enumerate((5, 6, 5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results[0].test_acc == alone.test_acc == results[2].test_acc
    assert results[0].layer_grad == alone.layer_grad


def _autograd_mlp(x, layers, names, scale):
    """The same network through ordinary autograd, keeping every hidden output's gradient."""
    from demos._nn import per_variant_activation

    h, hs = x, []
    for i, lin in enumerate(layers[:-1]):
        a = per_variant_activation(lin(h), names)
        h = h + scale * a if (scale is not None and i > 0) else a
        h.retain_grad()
        hs.append(h)
    return layers[-1](h), hs


@pytest.mark.parametrize("scale", [None, 0.4])
@pytest.mark.parametrize("shared_input", [True, False])
@pytest.mark.parametrize(
    "names", [("sigmoid", "tanh", "relu", "leaky_relu", "gelu"), ("relu", "relu"), ("tanh",)]
)
def test_fused_mlp_matches_autograd(names, shared_input, scale):
    """The hand-written backward gives autograd's weight, bias and hidden-output gradients exactly."""
    from demos._nn import mlp_forward

    v = len(names)
    x = torch.randn(9, 3) if shared_input else torch.randn(v, 9, 3)
    y = torch.randint(0, 2, (9,))
    results = []
    for fused in (True, False):
        g = cpu_generator(4)
        dims = [3, 6, 6, 6, 2]
        layers = [BatchedLinear(v, dims[i], dims[i + 1], init="he", generator=g) for i in range(4)]
        for lin in layers:  # non-zero biases, so their gradients are tested too
            lin.bias.data.normal_(0, 0.3, generator=g)
        if fused:
            sink: list = []
            logits = mlp_forward(x, layers, names, residual_scale=scale, grad_sink=sink)
            batched_cross_entropy(logits, y).sum().backward()
            hidden = sink
        else:
            logits, hs = _autograd_mlp(x, layers, names, scale)
            batched_cross_entropy(logits, y).sum().backward()
            hidden = [h.grad for h in hs]
        params = [p.grad for lin in layers for p in (lin.weight, lin.bias)]
        results.append((logits.detach(), params, hidden))
    (lf, pf, hf), (la, pa, ha) = results
    torch.testing.assert_close(lf, la)
    assert len(hf) == len(ha) == 3
    for a, b in zip(pf + hf, pa + ha, strict=True):
        assert a is not None and torch.count_nonzero(a) > 0
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fused_mlp_refuses_mismatched_names():
    from demos._nn import mlp_forward

    layers = [BatchedLinear(2, 3, 4), BatchedLinear(2, 4, 2)]
    with pytest.raises(ValueError, match="3 activation names for 2 variants"):
        mlp_forward(torch.randn(5, 3), layers, ["relu", "tanh", "gelu"])
    with pytest.raises(ValueError, match="unknown activation"):
        mlp_forward(torch.randn(5, 3), layers, ["relu", "swish2"])


@pytest.mark.parametrize("batchnorm", [False, True])
def test_layer_gradients_recorded_on_both_paths(batchnorm):
    """Without batch norm the network is one fused node, with it ordinary autograd; both record the
    gradient of every hidden layer, and record it only when asked."""
    p = small(activations=["sigmoid", "relu"], batchnorm=batchnorm, residual=True)
    net = vg._Net(p, 2, cpu_generator(0), torch.device("cpu"))
    x, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
    grads: list = []
    batched_cross_entropy(net(x, grads), y).sum().backward()
    assert len(grads) == p.depth - 1
    assert all(g is not None and g.shape == (2, 16, p.width) for g in grads)
    norms = vg._layer_grads(grads)
    assert norms.shape == (2, p.depth - 1) and torch.all(norms > 0)


def test_an_underflowed_ratio_prints_as_below_the_smallest_double():
    from demos.vanishing_gradients import _fmt_ratio

    assert _fmt_ratio(0.0) == "< 1e-300" and _fmt_ratio(2.5e-7) == "2.5e-07"
