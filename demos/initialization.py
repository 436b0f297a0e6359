"""Weight initialisation: why the starting weights must be random, and why their scale matters.

The same MLP (ReLU or tanh hidden layers of one width) is trained on scikit-learn's 8x8 digits from
several initial weight schemes, side by side in one batched computation (mini-batch SGD with
momentum, every bias starting at zero):
- zero: every weight 0;
- constant: every weight the same non-zero value;
- small normal: N(0, 0.01^2), random but tiny;
- xavier: N(0, 2 / (fan_in + fan_out)) (Glorot);
- he: N(0, 2 / fan_in) (Kaiming).
Symmetry is measured on the hidden layers' weights: how many distinct hidden units each layer has
(units whose incoming weight vectors agree within 1e-6 count once) and the mean pairwise cosine
similarity of the first layer's units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import plotly.graph_objects as go
import torch
from pydantic import Field, field_validator

from demos._data import digits_split
from demos._nn import BatchedLinear, batched_accuracy, batched_cross_entropy, cpu_generator, mlp_forward
from demos.base import Claim, DemoParams, RunContext

Init = Literal["zero", "constant", "small_normal", "xavier", "he"]
INITS: tuple[str, ...] = ("zero", "constant", "small_normal", "xavier", "he")
SMALL_STD = 0.01
MOMENTUM = 0.9
SAME_TOL = 1e-6
N_CLASSES = 10
LOG10 = math.log(N_CLASSES)


class Params(DemoParams):
    inits: list[Init] = Field(
        default=list(INITS),
        min_length=1,
        description="Initial weight schemes to compare; each trains the same network side by side.",
        title="Initialisations",
    )
    depth: int = Field(3, ge=1, le=6, description="Hidden layers.", title="Depth (hidden layers)")
    width: int = Field(
        64, ge=4, le=256, description="Units in each hidden layer.", title="Hidden width (units)"
    )
    activation: Literal["relu", "tanh"] = Field(
        "relu", description="Activation of the hidden layers.", title="Activation"
    )
    constant: float = Field(
        0.02,
        ge=-1.0,
        le=1.0,
        description="The value of every weight under the constant init (not 0).",
        title="Constant weight",
    )
    steps: int = Field(200, ge=10, le=3000, description="Mini-batch SGD steps (momentum 0.9).", title="Steps")
    batch_size: int = Field(
        128, ge=16, le=1024, description="Training examples per mini-batch.", title="Batch size (examples)"
    )
    lr: float = Field(0.1, gt=0.0, le=2.0, description="SGD learning rate.", title="Learning rate")

    @field_validator("inits")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each init may be listed once")
        return v

    @field_validator("constant")
    @classmethod
    def _nonzero(cls, v: float) -> float:
        if v == 0.0:
            raise ValueError("must not be 0 (that is the zero init)")
        return v


@dataclass
class Result:
    inits: list[str]
    depth: int
    width: int
    activation: str
    steps_total: int
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)
    loss: list[list[float]] = field(default_factory=list)  # [V][T] training loss
    distinct: list[list[int]] = field(default_factory=list)  # [V][T] distinct units, first hidden layer
    cosine: list[list[float | None]] = field(default_factory=list)  # [V][T] mean pairwise cosine
    # final values per variant
    distinct_per_layer: list[list[int]] = field(default_factory=list)  # [V][depth]
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    hidden_all_zero: list[bool] = field(default_factory=list)  # every hidden weight still exactly 0
    hidden_moved: list[float] = field(default_factory=list)  # max |w - w0| over the hidden layers

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and bool(self.test_loss)


# ------------------------------------------------------------------------------------- symmetry


def distinct_units(w: torch.Tensor, tol: float = SAME_TOL) -> int:
    """Distinct hidden units of a [fan_in, units] weight: units whose weight vectors (columns) agree
    within tol (max abs difference) count once."""
    cols = w.detach().double().t()  # [units, fan_in]
    same = torch.cdist(cols, cols, p=float("inf")) <= tol
    copies = torch.triu(same, diagonal=1).any(0)  # units equal to an earlier unit
    return int(cols.shape[0] - copies.sum())


def mean_cosine(w: torch.Tensor) -> float | None:
    """Mean cosine similarity over all pairs of distinct units (columns); None when a unit is all zero."""
    cols = w.detach().double().t()
    norms = cols.norm(dim=1)
    if bool((norms < 1e-12).any()):
        return None
    u = cols / norms[:, None]
    sim = u @ u.t()
    n = sim.shape[0]
    return float((sim.sum() - sim.diagonal().sum()) / (n * (n - 1)))


# ------------------------------------------------------------------------------------------ run


def _init_(w: torch.Tensor, scheme: str, constant: float, g: torch.Generator) -> None:
    fan_in, fan_out = w.shape
    if scheme == "zero":
        t = torch.zeros(w.shape)
    elif scheme == "constant":
        t = torch.full(w.shape, float(constant))
    else:
        std = {
            "small_normal": SMALL_STD,
            "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
            "he": math.sqrt(2.0 / fan_in),
        }[scheme]
        t = torch.randn(w.shape, generator=g) * std
    with torch.no_grad():
        w.copy_(t.to(w.device, w.dtype))


def _snapshot(r: Result) -> Result:
    return Result(
        list(r.inits),
        r.depth,
        r.width,
        r.activation,
        r.steps_total,
        r.steps_done,
        list(r.record_steps),
        [list(x) for x in r.loss],
        [list(x) for x in r.distinct],
        [list(x) for x in r.cosine],
    )


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    inits = list(params.inits)
    V = len(inits)
    res = Result(inits, params.depth, params.width, params.activation, params.steps)
    res.loss = [[] for _ in range(V)]
    res.distinct = [[] for _ in range(V)]
    res.cosine = [[] for _ in range(V)]
    ctx.progress(0.0, _snapshot(res))
    data = digits_split(seed=ctx.seed, device=dev)
    g = cpu_generator(ctx.seed)
    sizes = [data.n_features] + [params.width] * params.depth + [N_CLASSES]
    layers = [
        BatchedLinear(V, a, b, bias=True, device=dev) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    for lin in layers:
        with torch.no_grad():
            lin.bias.zero_()
        for v, scheme in enumerate(inits):
            _init_(lin.weight.data[v], scheme, params.constant, g)
    w0 = [lin.weight.detach().clone() for lin in layers[:-1]]
    names = [params.activation] * V
    n_train = len(data.y_train)
    params_list = [p for lin in layers for p in lin.parameters()]
    opt = torch.optim.SGD(params_list, lr=params.lr, momentum=MOMENTUM)

    def record(step: int, loss: list[float]) -> None:
        res.record_steps.append(step)
        w = layers[0].weight.detach().cpu()
        for v in range(V):
            res.loss[v].append(loss[v] if math.isfinite(loss[v]) else float("nan"))
            res.distinct[v].append(distinct_units(w[v]))
            res.cosine[v].append(mean_cosine(w[v]))

    progress_every = max(1, params.steps // 20)
    record_every = max(1, params.steps // 40)
    for step in range(1, params.steps + 1):
        idx = torch.randint(0, n_train, (params.batch_size,), generator=g).to(dev)
        loss = batched_cross_entropy(mlp_forward(data.x_train[idx], layers, names), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        res.steps_done = step
        if step == 1 or step % record_every == 0 or step == params.steps:
            record(step, loss.tolist())
        ctx.tick(step, step / params.steps, lambda: _snapshot(res))
        if step % progress_every == 0 and step < params.steps:
            ctx.progress(step / params.steps, _snapshot(res))

    with torch.no_grad():
        logits = mlp_forward(data.x_test, layers, names)
        res.test_loss = [float(x) for x in batched_cross_entropy(logits, data.y_test).cpu()]
        res.test_acc = [float(x) for x in batched_accuracy(logits, data.y_test).cpu()]
        ws = [lin.weight.detach().cpu() for lin in layers[:-1]]
        for v in range(V):
            res.distinct_per_layer.append([distinct_units(w[v]) for w in ws])
            res.hidden_all_zero.append(all(bool((w[v] == 0).all()) for w in ws))
            res.hidden_moved.append(
                max(float((w[v] - w0_[v].cpu()).abs().max()) for w, w0_ in zip(ws, w0, strict=True))
            )
    ctx.progress(1.0, res)
    return res


# -------------------------------------------------------------------------------------- reading


def _finite(x: float) -> float | None:
    return round(x, 4) if math.isfinite(x) else None


def metrics(result: Result) -> dict[str, float | int | str | None]:
    r = result
    out: dict[str, float | int | str | None] = {"steps": r.steps_done, "depth": r.depth, "width": r.width}
    for v, name in enumerate(r.inits):
        if v < len(r.test_loss):
            out[f"{name}_test_loss"] = _finite(r.test_loss[v])
            out[f"{name}_test_accuracy"] = _finite(r.test_acc[v])
            out[f"{name}_distinct_units_first_layer"] = r.distinct_per_layer[v][0]
            out[f"{name}_distinct_units_min_layer"] = min(r.distinct_per_layer[v])
        if v < len(r.loss) and r.loss[v]:
            out[f"{name}_final_train_loss"] = _finite(r.loss[v][-1])
    return out


def _ok(x: float) -> bool:
    return math.isfinite(x)


CLAIMS = {
    "zero-init-cannot-learn": "With every weight at zero, no gradient reaches the hidden weights and the network stays at chance.",
    "constant-init-symmetry-never-breaks": "With every weight the same constant, the units of a layer stay identical.",
    "random-init-breaks-symmetry": "With random initial weights every hidden unit is different.",
    "he-beats-constant": "He init trains to a lower loss than constant init.",
    "small-init-learns-slowly": "Tiny random weights learn far more slowly than He init.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    ix, out = set(params.inits), []
    if "zero" in ix:
        out.append("zero-init-cannot-learn")
    if "constant" in ix:
        out.append("constant-init-symmetry-never-breaks")
    if ix & {"small_normal", "xavier", "he"}:
        out.append("random-init-breaks-symmetry")
    if {"he", "constant"} <= ix:
        out.append("he-beats-constant")
    if {"he", "small_normal"} <= ix:
        out.append("small-init-learns-slowly")
    return out


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    ix = {name: v for v, name in enumerate(r.inits)}
    out: list[Claim] = []
    if "zero" in ix:
        z = ix["zero"]
        out.append(
            Claim(
                "zero-init-cannot-learn",
                f"With every weight at zero the hidden layers output zero, so no gradient reaches any "
                f"hidden or output weight: after {r.steps_done} steps every hidden weight is still exactly 0 "
                f"and the test loss is {r.test_loss[z]:.3f}, about log(10) = {LOG10:.3f} (chance; "
                f"accuracy {r.test_acc[z]:.0%}). Only the output biases move.",
                r.hidden_all_zero[z] and abs(r.test_loss[z] - LOG10) < 0.05 and r.test_acc[z] < 0.2,
            )
        )
    if "constant" in ix:
        c = ix["constant"]
        layers = r.distinct_per_layer[c]
        out.append(
            Claim(
                "constant-init-symmetry-never-breaks",
                f"With every weight the same constant, all {r.width} units in each hidden layer stay identical "
                f"for the whole run ({', '.join(map(str, layers))} distinct unit(s) per layer after "
                f"{r.steps_done} steps), although the weights did change (by up to {r.hidden_moved[c]:.3g}): "
                f"the layer acts like a single unit.",
                all(n == 1 for n in layers) and r.hidden_moved[c] > 1e-4,
            )
        )
    randoms = [n for n in ("small_normal", "xavier", "he") if n in ix]
    if randoms:
        counts = {n: r.distinct_per_layer[ix[n]] for n in randoms}
        out.append(
            Claim(
                "random-init-breaks-symmetry",
                "With random initial weights every hidden unit is different: "
                + "; ".join(
                    f"{n}: {min(c)} of {r.width} distinct in the least varied layer"
                    for n, c in counts.items()
                )
                + ".",
                all(min(c) == r.width for c in counts.values()),
            )
        )
    if "he" in ix and "constant" in ix:
        h, c = ix["he"], ix["constant"]
        out.append(
            Claim(
                "he-beats-constant",
                f"He init trains to a lower loss than constant init: test loss {r.test_loss[h]:.3f} vs "
                f"{r.test_loss[c]:.3f}, accuracy {r.test_acc[h]:.0%} vs {r.test_acc[c]:.0%}.",
                _ok(r.test_loss[h])
                and (not _ok(r.test_loss[c]) or r.test_loss[h] < r.test_loss[c] - 0.1)
                and r.test_acc[h] > r.test_acc[c] + 0.1,
            )
        )
    if "he" in ix and "small_normal" in ix:
        h, s = ix["he"], ix["small_normal"]
        lh, ls = r.loss[h][-1], r.loss[s][-1]
        out.append(
            Claim(
                "small-init-learns-slowly",
                f"Tiny random weights (std {SMALL_STD}) do break the symmetry, but the signal shrinks through "
                f"each of the {r.depth} layers, and so do the gradients: after {r.steps_done} steps the "
                f"training loss is {ls:.3f}, against {lh:.3f} for He init.",
                _ok(lh) and (not _ok(ls) or ls > lh + 0.1),
            )
        )
    return out


# -------------------------------------------------------------------------------------- figures

_COLOURS = {
    "zero": "#7f7f7f",
    "constant": "#d62728",
    "small_normal": "#ff7f0e",
    "xavier": "#2ca02c",
    "he": "#1f77b4",
}


def figures(result: Result) -> list[go.Figure]:
    r = result
    f_loss = go.Figure()
    f_units = go.Figure()
    f_cos = go.Figure()
    for v, name in enumerate(r.inits):
        if v >= len(r.loss) or not r.loss[v]:
            continue
        line = {"color": _COLOURS[name]}
        f_loss.add_trace(go.Scatter(x=r.record_steps, y=r.loss[v], name=name, line=line))
        f_units.add_trace(go.Scatter(x=r.record_steps, y=r.distinct[v], name=name, line=line))
        f_cos.add_trace(go.Scatter(x=r.record_steps, y=r.cosine[v], name=name, line=line))
    f_loss.add_hline(y=LOG10, line_dash="dot", line_color="grey", annotation_text="log(10): chance")
    f_loss.update_layout(
        title=f"Training loss ({r.depth} hidden layers of {r.width} {r.activation} units, digits)",
        xaxis_title="step",
        yaxis_title="cross-entropy on the mini-batch",
    )
    f_units.update_layout(
        title="Distinct hidden units in the first layer (weights equal within 1e-6 count once)",
        xaxis_title="step",
        yaxis_title="distinct units",
        yaxis_range=[0, r.width * 1.05],
    )
    f_cos.update_layout(
        title="Mean pairwise cosine similarity of the first layer's units (1: all the same; zero init: none)",
        xaxis_title="step",
        yaxis_title="cosine similarity",
    )
    figs = [f_loss, f_units, f_cos]
    if r.test_acc:
        f_acc = go.Figure(
            go.Bar(
                x=r.inits,
                y=r.test_acc,
                marker_color=[_COLOURS[n] for n in r.inits],
                text=[f"{a:.0%}" for a in r.test_acc],
            )
        )
        f_acc.update_layout(
            title="Test accuracy after training", yaxis_range=[0, 1.05], yaxis_tickformat=".0%"
        )
        figs.append(f_acc)
    return figs
