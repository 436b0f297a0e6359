"""Activation functions: each function and its derivative, what a non-linearity buys, and ReLUs dying
at a large step size.

1. Curves: every selected function and its derivative on [-5, 5]; the derivative comes from autograd
   and is checked against the closed form.
2. What non-linearity buys: the same 2 -> hidden -> hidden -> 2 network on two noisy concentric circles
   (class 1 inside), once per activation ("none" is the identity, so the whole network is one affine
   map). All variants train together (weights [V, in, out], torch.bmm; the per-variant losses are
   summed, and Adam is element-wise, so the variants stay independent). The best any straight line
   can do is measured with scikit-learn's logistic regression on the same split.
3. Dying ReLUs: a wider ReLU network (2 -> 32 -> 32 -> 2) trained with plain full-batch SGD at a small
   rate (0.05) and at `dying_lr`, side by side; then the fraction of hidden units that are dead
   (pre-activation <= 0 for every training point, so they output 0 and pass back no gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field, field_validator

from demos._data import circles_split
from demos._nn import activation, cpu_generator
from demos.base import Claim, DemoParams, RunContext

Act = Literal["none", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"]

SMALL_LR = 0.05
DYING_WIDTH = 32
DYING_STEPS = 300
CURVE_RANGE = 5.0
N_CURVE = 401
LINEAR_SLACK = 0.05  # "near the best line": within this of logistic regression
NONLINEAR_GAIN = 0.25  # a non-linearity must beat the linear network by this much
DEAD_GAP = 0.2  # dead fraction at the large rate must exceed the small rate's by this much
FORMULA_TOL = 1e-6

_LABELS = {
    "none": "none (identity)",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU (0.01)",
    "gelu": "GELU",
}
_COLOURS = {
    "none": "#7f7f7f",
    "sigmoid": "#d62728",
    "tanh": "#ff7f0e",
    "relu": "#1f77b4",
    "leaky_relu": "#2ca02c",
    "gelu": "#9467bd",
}


class Params(DemoParams):
    activations: list[Act] = Field(
        default=["none", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"],
        min_length=1,
        description="Activations to compare; each is the same network, trained side by side.",
        title="Activation functions",
    )
    hidden: int = Field(
        16, ge=2, le=128, description="Units in each of the two hidden layers.", title="Hidden width (units)"
    )
    steps: int = Field(
        200, ge=10, le=3000, description="Full-batch Adam steps for the comparison on circles.", title="Steps"
    )
    lr: float = Field(
        0.02,
        gt=0.0,
        le=1.0,
        description="Adam learning rate for the comparison on circles.",
        title="Learning rate",
    )
    noise: float = Field(
        0.08,
        ge=0.0,
        le=0.3,
        description="Standard deviation of the noise added to the circles.",
        title="Noise (std. dev.)",
    )
    n_samples: int = Field(
        512,
        ge=64,
        le=4096,
        description="Points in the circles dataset; a quarter is held out.",
        title="Data points",
    )
    dying_lr: float = Field(
        3.0,
        gt=0.0,
        le=20.0,
        description="The large plain-SGD rate at which ReLU units are watched dying.",
        title="Dying-ReLU learning rate",
    )

    @field_validator("activations")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each activation may be listed once")
        return v


def _fn(name: str):
    return activation("identity" if name == "none" else name)


def closed_form_derivative(name: str, x: torch.Tensor) -> torch.Tensor:
    """The textbook derivative of each activation."""
    if name == "none":
        return torch.ones_like(x)
    if name == "sigmoid":
        s = torch.sigmoid(x)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(x) ** 2
    if name == "relu":
        return (x > 0).to(x.dtype)
    if name == "leaky_relu":
        return torch.where(x > 0, 1.0, 0.01).to(x.dtype)
    if name == "gelu":
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return cdf + x * pdf
    raise ValueError(name)


@dataclass
class Result:
    activations: list[str]
    steps_total: int
    dying_lr: float
    curve_x: list[float] = field(default_factory=list)
    curve_y: dict[str, list[float]] = field(default_factory=dict)
    curve_dy: dict[str, list[float]] = field(default_factory=dict)
    derivative_error: dict[str, float] = field(default_factory=dict)  # max |autograd - formula|
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)
    train_loss: list[list[float]] = field(default_factory=list)  # [V][T]
    test_acc: list[list[float]] = field(default_factory=list)  # [V][T]
    linear_baseline_acc: float = math.nan  # logistic regression on the same split
    grid: list[float] = field(default_factory=list)  # axis of the probability maps
    prob_maps: list[list[list[float]]] = field(default_factory=list)  # [V][G][G] P(inside)
    test_points: list[list[float]] = field(default_factory=list)
    test_labels: list[int] = field(default_factory=list)
    dying_steps_done: int = 0
    dying_record_steps: list[int] = field(default_factory=list)
    dying_lrs: list[float] = field(default_factory=list)  # [SMALL_LR, dying_lr]
    dead_fraction: list[list[float]] = field(default_factory=list)  # [2][T]
    dying_train_acc: list[float] = field(default_factory=list)  # [2] at the end
    dead_grad_max: float = math.nan  # largest gradient norm reaching a dead unit's weights, last step

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and self.dying_steps_done >= DYING_STEPS


def _snapshot(r: Result) -> Result:
    return replace(
        r,
        curve_y=dict(r.curve_y),
        curve_dy=dict(r.curve_dy),
        derivative_error=dict(r.derivative_error),
        record_steps=list(r.record_steps),
        train_loss=[list(x) for x in r.train_loss],
        test_acc=[list(x) for x in r.test_acc],
        prob_maps=list(r.prob_maps),
        dying_record_steps=list(r.dying_record_steps),
        dead_fraction=[list(x) for x in r.dead_fraction],
        dying_train_acc=list(r.dying_train_acc),
    )


# ----------------------------------------------------------------------------------------------- run


def _init(
    V: int, fan_in: int, fan_out: int, g: torch.Generator, dev: torch.device, *, shared: bool
) -> torch.Tensor:
    """He-normal weights [V, fan_in, fan_out]; `shared` gives every variant the same draw."""
    shape = (1 if shared else V, fan_in, fan_out)
    w = torch.randn(shape, generator=g) * math.sqrt(2.0 / fan_in)
    return w.expand(V, fan_in, fan_out).clone().to(dev).requires_grad_()


def _curves(res: Result, names: list[str]) -> None:
    x = torch.linspace(-CURVE_RANGE, CURVE_RANGE, N_CURVE, dtype=torch.float64, requires_grad=True)
    res.curve_x = [round(v, 4) for v in x.detach().tolist()]
    for n in names:
        y = _fn(n)(x)
        (dy,) = torch.autograd.grad(y.sum(), x)
        res.curve_y[n] = y.detach().tolist()
        res.curve_dy[n] = dy.tolist()
        off_kink = x.detach().abs() > 1e-9  # ReLU-type derivatives are undefined at exactly 0
        err = (dy - closed_form_derivative(n, x.detach())).abs()[off_kink].max()
        res.derivative_error[n] = float(err)


def _linear_baseline(x_tr: torch.Tensor, y_tr: torch.Tensor, x_te: torch.Tensor, y_te: torch.Tensor) -> float:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(x_tr.cpu().numpy(), y_tr.cpu().numpy())
    return float(clf.score(x_te.cpu().numpy(), y_te.cpu().numpy()))


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    names = list(params.activations)
    V, Hd = len(names), params.hidden
    res = Result(names, params.steps, params.dying_lr)
    res.train_loss = [[] for _ in range(V)]
    res.test_acc = [[] for _ in range(V)]
    _curves(res, names)
    ctx.progress(0.0, _snapshot(res))

    data = circles_split(params.n_samples, noise=params.noise, factor=0.5, seed=ctx.seed, device=dev)
    res.test_points = [[round(a, 3), round(b, 3)] for a, b in data.x_test.cpu().tolist()]
    res.test_labels = [int(v) for v in data.y_test.cpu().tolist()]
    res.linear_baseline_acc = _linear_baseline(data.x_train, data.y_train, data.x_test, data.y_test)
    ctx.check()

    # --- the comparison: every variant starts from the same weights
    W1, W2, W3 = (_init(V, a, b, g, dev, shared=True) for a, b in ((2, Hd), (Hd, Hd), (Hd, 2)))
    bs = [torch.zeros(V, 1, n, device=dev, requires_grad=True) for n in (Hd, Hd, 2)]
    fns = [_fn(n) for n in names]

    def act(z: torch.Tensor) -> torch.Tensor:
        return torch.stack([f(z[v]) for v, f in enumerate(fns)])

    def forward(x: torch.Tensor) -> torch.Tensor:
        h = act(torch.matmul(x, W1) + bs[0])
        h = act(torch.baddbmm(bs[1], h, W2))
        return torch.baddbmm(bs[2], h, W3)

    opt = torch.optim.Adam([W1, W2, W3, *bs], lr=params.lr)
    n_records = 40
    record_every = max(1, params.steps // n_records)
    progress_every = max(1, params.steps // 12)
    for step in range(params.steps + 1):
        if step % record_every == 0 or step == params.steps:
            with torch.no_grad():
                acc = (forward(data.x_test).argmax(-1) == data.y_test).float().mean(1).cpu().tolist()
            for v in range(V):
                res.test_acc[v].append(acc[v])
        if step == params.steps:
            break
        logits = forward(data.x_train)
        loss_v = (
            F.cross_entropy(logits.flatten(0, 1), data.y_train.repeat(V), reduction="none")
            .view(V, -1)
            .mean(1)
        )
        opt.zero_grad(set_to_none=True)
        loss_v.sum().backward()
        opt.step()
        if step % record_every == 0:
            res.record_steps.append(step)
            for v, lv in enumerate(loss_v.detach().cpu().tolist()):
                res.train_loss[v].append(lv)
        res.steps_done = step + 1
        ctx.tick(res.steps_done, 0.7 * res.steps_done / params.steps, lambda: _snapshot(res))
        if res.steps_done % progress_every == 0:
            ctx.progress(0.7 * res.steps_done / params.steps, _snapshot(res))
    res.record_steps.append(params.steps)
    with torch.no_grad():
        final = (
            F.cross_entropy(forward(data.x_train).flatten(0, 1), data.y_train.repeat(V), reduction="none")
            .view(V, -1)
            .mean(1)
        )
    for v, lv in enumerate(final.cpu().tolist()):
        res.train_loss[v].append(lv)
    res.grid, res.prob_maps = _prob_maps(forward, dev)
    ctx.progress(0.72, _snapshot(res))

    _dying(params, ctx, res, data, g, dev)
    return res


def _prob_maps(forward, dev: torch.device, n: int = 61) -> tuple[list[float], list[list[list[float]]]]:
    axis = torch.linspace(-1.6, 1.6, n)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack([xx.flatten(), yy.flatten()], 1).to(dev)
    with torch.no_grad():
        p = torch.softmax(forward(pts), -1)[..., 1].view(-1, n, n)
    return [round(v, 4) for v in axis.tolist()], [
        [[round(v, 3) for v in row] for row in m] for m in p.cpu().tolist()
    ]


def _dying(params: Params, ctx: RunContext, res: Result, data, g: torch.Generator, dev: torch.device) -> None:
    """ReLU network, plain SGD at a small and at a large rate, side by side from the same start."""
    lrs = [SMALL_LR, params.dying_lr]
    res.dying_lrs = lrs
    V, H = 2, DYING_WIDTH
    W1, W2, W3 = (_init(V, a, b, g, dev, shared=True) for a, b in ((2, H), (H, H), (H, 2)))
    b1, b2, b3 = (torch.zeros(V, 1, n, device=dev, requires_grad=True) for n in (H, H, 2))
    ps = [W1, b1, W2, b2, W3, b3]
    lr = torch.tensor(lrs, device=dev)
    x, y = data.x_train, data.y_train
    res.dead_fraction = [[], []]

    def forward() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z1 = torch.matmul(x, W1) + b1
        z2 = torch.baddbmm(b2, F.relu(z1), W2)
        return z1, z2, torch.baddbmm(b3, F.relu(z2), W3)

    def dead_mask(z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (z1 <= 0).all(1), (z2 <= 0).all(1)  # [V, H] each

    every = max(1, DYING_STEPS // 30)
    progress_every = max(1, DYING_STEPS // 6)
    for step in range(DYING_STEPS + 1):
        z1, z2, out = forward()
        d1, d2 = dead_mask(z1.detach(), z2.detach())
        if step % every == 0 or step == DYING_STEPS:
            frac = torch.cat([d1, d2], 1).float().mean(1).cpu().tolist()
            res.dying_record_steps.append(step)
            for v in range(V):
                res.dead_fraction[v].append(frac[v])
        if step == DYING_STEPS:
            with torch.no_grad():
                res.dying_train_acc = (out.argmax(-1) == y).float().mean(1).cpu().tolist()
            # the gradient that reaches the dead units' incoming weights and biases
            loss = F.cross_entropy(out.flatten(0, 1), y.repeat(V), reduction="none").view(V, -1).mean(1)
            for p in ps:
                p.grad = None
            loss.sum().backward()
            g1 = torch.cat([W1.grad, b1.grad], 1).norm(dim=1)  # [V, H]
            g2 = torch.cat([W2.grad, b2.grad], 1).norm(dim=1)
            dead_grads = torch.cat([g1[d1], g2[d2]])
            res.dead_grad_max = float(dead_grads.max()) if dead_grads.numel() else 0.0
            break
        loss = F.cross_entropy(out.flatten(0, 1), y.repeat(V), reduction="none").view(V, -1).mean(1)
        for p in ps:
            p.grad = None
        loss.sum().backward()
        with torch.no_grad():
            for p in ps:
                p.sub_(
                    lr.view(-1, *[1] * (p.dim() - 1))
                    * torch.nan_to_num(p.grad, nan=0.0, posinf=0.0, neginf=0.0)
                )
        res.dying_steps_done = step + 1
        ctx.check()  # the dying-ReLU loop is plain tensor maths: no module or optimiser to hook
        if res.dying_steps_done % progress_every == 0:
            ctx.progress(0.72 + 0.28 * res.dying_steps_done / DYING_STEPS, _snapshot(res))
    res.dying_steps_done = DYING_STEPS


# ------------------------------------------------------------------------------------------- reading


def final_test_acc(r: Result) -> dict[str, float]:
    if not r.done:
        return {}
    return {n: a[-1] for n, a in zip(r.activations, r.test_acc, strict=False) if a}


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"steps": r.steps_done}
    for n, a in final_test_acc(r).items():
        out[f"{n}_test_acc"] = round(a, 4)
    if math.isfinite(r.linear_baseline_acc):
        out["best_line_test_acc"] = round(r.linear_baseline_acc, 4)
    if r.dead_fraction and r.dead_fraction[0]:
        out["dead_relu_fraction_small_lr"] = round(r.dead_fraction[0][-1], 4)
        out["dead_relu_fraction_large_lr"] = round(r.dead_fraction[1][-1], 4)
        out["dying_lr"] = r.dying_lr
    for n, e in r.derivative_error.items():
        out[f"{n}_derivative_max_error"] = float(f"{e:.3g}")
    return out


CLAIMS = {
    "sigmoid-derivative-at-most-a-quarter": "Sigmoid's derivative never exceeds 0.25.",
    "tanh-derivative-peaks-at-one": "Tanh's derivative peaks at 1 at the origin and falls towards 0 in both tails.",
    "relu-derivative-zero-or-one": "ReLU's derivative is exactly 0 for negative inputs and exactly 1 for positive ones.",
    "autograd-matches-derivative-formulas": "Autograd's derivative of every selected activation matches its closed form.",
    "no-activation-is-a-straight-line": "Without an activation the network cannot beat a straight line on the circles.",
    "any-activation-beats-linear": "Every selected non-linearity beats the linear network by a wide margin.",
    "large-step-kills-relus": "A large plain-SGD step leaves far more ReLU units dead than a small one.",
    "dead-relus-get-no-gradient": "A dead ReLU unit receives exactly zero gradient, so it has stopped learning.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    acts = set(params.activations)
    out = [
        f"{n}-{rest}"
        for n, rest in (
            ("sigmoid", "derivative-at-most-a-quarter"),
            ("tanh", "derivative-peaks-at-one"),
            ("relu", "derivative-zero-or-one"),
        )
        if n in acts
    ]
    out.append("autograd-matches-derivative-formulas")
    if "none" in acts:
        out.append("no-activation-is-a-straight-line")
        if acts - {"none"}:
            out.append("any-activation-beats-linear")
    return [*out, "large-step-kills-relus", "dead-relus-get-no-gradient"]


def claims(result: Result) -> list[Claim]:
    r = result
    out: list[Claim] = []
    if "sigmoid" in r.curve_dy:
        peak = max(r.curve_dy["sigmoid"])
        out.append(
            Claim(
                "sigmoid-derivative-at-most-a-quarter",
                f"Sigmoid's derivative never exceeds 0.25 (its peak, at 0, is {peak:.6f}), so every sigmoid layer "
                "shrinks the gradient passing back through it by at least 4x.",
                abs(peak - 0.25) < FORMULA_TOL,
            )
        )
    if "tanh" in r.curve_dy:
        peak = max(r.curve_dy["tanh"])
        out.append(
            Claim(
                "tanh-derivative-peaks-at-one",
                f"Tanh's derivative peaks at 1 at the origin (measured {peak:.6f}) and falls towards 0 in both tails.",
                abs(peak - 1.0) < FORMULA_TOL and r.curve_dy["tanh"][0] < 1e-3,
            )
        )
    if "relu" in r.curve_dy:
        dy = r.curve_dy["relu"]
        neg = [d for x, d in zip(r.curve_x, dy, strict=True) if x < 0]
        pos = [d for x, d in zip(r.curve_x, dy, strict=True) if x > 0]
        out.append(
            Claim(
                "relu-derivative-zero-or-one",
                "ReLU's derivative is exactly 0 for every negative input and exactly 1 for every positive one.",
                all(d == 0 for d in neg) and all(d == 1 for d in pos),
            )
        )
    if r.derivative_error:
        worst = max(r.derivative_error, key=lambda n: r.derivative_error[n])
        out.append(
            Claim(
                "autograd-matches-derivative-formulas",
                "Autograd's derivative of every selected activation matches its closed form "
                f"(largest difference {r.derivative_error[worst]:.1e}, for {_LABELS[worst]}).",
                r.derivative_error[worst] < FORMULA_TOL,
            )
        )
    acc = final_test_acc(r)
    base = r.linear_baseline_acc
    if "none" in acc and math.isfinite(base):
        out.append(
            Claim(
                "no-activation-is-a-straight-line",
                f"Without an activation the network is one affine map and cannot beat a straight line on the "
                f"circles: {acc['none']:.1%} test accuracy against {base:.1%} for logistic regression "
                f"(allowed slack {LINEAR_SLACK:.0%}).",
                acc["none"] <= base + LINEAR_SLACK,
            )
        )
        nonlinear = {n: a for n, a in acc.items() if n != "none"}
        if nonlinear:
            worst = min(nonlinear, key=lambda n: nonlinear[n])
            out.append(
                Claim(
                    "any-activation-beats-linear",
                    f"Every selected non-linearity beats the linear network by over {NONLINEAR_GAIN:.0%}: "
                    f"the weakest, {_LABELS[worst]}, scores {nonlinear[worst]:.1%} against {acc['none']:.1%}.",
                    nonlinear[worst] > acc["none"] + NONLINEAR_GAIN,
                )
            )
    if r.dead_fraction and r.dying_steps_done >= DYING_STEPS and len(r.dead_fraction[1]) > 0:
        small, large = r.dead_fraction[0][-1], r.dead_fraction[1][-1]
        out.append(
            Claim(
                "large-step-kills-relus",
                f"With plain SGD at rate {r.dying_lr:g}, {large:.0%} of the ReLU units end up dead (negative on "
                f"every training point), against {small:.0%} at rate {SMALL_LR:g}.",
                large > small + DEAD_GAP,
            )
        )
        out.append(
            Claim(
                "dead-relus-get-no-gradient",
                "A dead ReLU unit receives exactly zero gradient on its incoming weights and bias, so it has "
                f"stopped learning (largest gradient norm reaching a dead unit: {r.dead_grad_max:.1e}).",
                r.dead_grad_max == 0.0,
            )
        )
    return out


# ------------------------------------------------------------------------------------------- figures


def figures(result: Result) -> list[go.Figure]:
    r = result
    figs: list[go.Figure] = []

    f1 = make_subplots(rows=1, cols=2, subplot_titles=("f(x)", "f′(x) (autograd)"))
    for n in r.activations:
        if n not in r.curve_y:
            continue
        style = {"color": _COLOURS[n]}
        f1.add_trace(
            go.Scatter(x=r.curve_x, y=r.curve_y[n], mode="lines", name=_LABELS[n], line=style, legendgroup=n),
            1,
            1,
        )
        f1.add_trace(
            go.Scatter(
                x=r.curve_x,
                y=r.curve_dy[n],
                mode="lines",
                name=_LABELS[n],
                line=style,
                legendgroup=n,
                showlegend=False,
            ),
            1,
            2,
        )
    f1.update_xaxes(title_text="x")
    f1.update_yaxes(range=[-1.5, 3.0], row=1, col=1)
    f1.update_yaxes(range=[-0.1, 1.2], row=1, col=2)
    f1.update_layout(title="Activation functions and their derivatives")
    figs.append(f1)

    f2 = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "test accuracy"))
    for v, n in enumerate(r.activations):
        style = {"color": _COLOURS[n]}
        loss = r.train_loss[v] if v < len(r.train_loss) else []
        acc = r.test_acc[v] if v < len(r.test_acc) else []
        f2.add_trace(
            go.Scatter(
                x=r.record_steps[: len(loss)],
                y=loss,
                mode="lines",
                name=_LABELS[n],
                line=style,
                legendgroup=n,
            ),
            1,
            1,
        )
        f2.add_trace(
            go.Scatter(
                x=r.record_steps[: len(acc)],
                y=acc,
                mode="lines",
                name=_LABELS[n],
                line=style,
                legendgroup=n,
                showlegend=False,
            ),
            1,
            2,
        )
    if math.isfinite(r.linear_baseline_acc):
        f2.add_hline(
            y=r.linear_baseline_acc,
            line_dash="dot",
            line_color="grey",
            annotation_text="best straight line",
            row=1,
            col=2,
        )
    f2.update_xaxes(title_text="step")
    f2.update_yaxes(range=[0.3, 1.02], row=1, col=2)
    f2.update_layout(
        title=f"The same network on concentric circles, by activation (step {r.steps_done} of {r.steps_total})"
    )
    figs.append(f2)

    if r.prob_maps:
        V = len(r.prob_maps)
        f3 = make_subplots(
            rows=1, cols=V, subplot_titles=[_LABELS[n] for n in r.activations[:V]], horizontal_spacing=0.02
        )
        inside = [p for p, lab in zip(r.test_points, r.test_labels, strict=True) if lab == 1]
        outside = [p for p, lab in zip(r.test_points, r.test_labels, strict=True) if lab == 0]
        for v, m in enumerate(r.prob_maps):
            f3.add_trace(
                go.Heatmap(x=r.grid, y=r.grid, z=m, zmin=0, zmax=1, colorscale="RdBu", showscale=v == V - 1),
                1,
                v + 1,
            )
            for pts, colour, label in ((inside, "#08306b", "inside"), (outside, "#67000d", "outside")):
                f3.add_trace(
                    go.Scatter(
                        x=[p[0] for p in pts],
                        y=[p[1] for p in pts],
                        mode="markers",
                        name=f"test: {label}",
                        marker={"size": 3, "color": colour},
                        showlegend=v == 0,
                    ),
                    1,
                    v + 1,
                )
        f3.update_xaxes(showticklabels=False)
        f3.update_yaxes(showticklabels=False)
        f3.update_layout(title="What each network learned: P(inside circle) over the plane", height=320)
        figs.append(f3)

    f4 = go.Figure()
    for v, lr in enumerate(r.dying_lrs):
        frac = r.dead_fraction[v] if v < len(r.dead_fraction) else []
        f4.add_trace(
            go.Scatter(
                x=r.dying_record_steps[: len(frac)],
                y=frac,
                mode="lines+markers",
                name=f"SGD rate {lr:g}",
                line={"color": "#1f77b4" if v == 0 else "#d62728"},
            )
        )
    f4.update_layout(
        title=f"Dying ReLUs: fraction of hidden units dead on every training point ({DYING_WIDTH}+{DYING_WIDTH} units)",
        xaxis_title="SGD step",
        yaxis_title="dead fraction",
        yaxis_range=[0, 1.02],
    )
    figs.append(f4)
    return figs
