"""Limitations: adversarial examples and failure to extrapolate.

Part 1: a small digits classifier is attacked with the fast gradient sign method (FGSM): every pixel moves
by epsilon in the direction that raises the loss. For comparison the same images get random noise of
exactly the same size (every pixel moves by +epsilon or -epsilon at random). Both stay inside the valid
pixel range. Accuracy is measured against epsilon for both.

Part 2: a network is fit to y = sin(x) (or x^2) on an interval and then evaluated on an interval twice as
wide. Inside the training range the fit is close; outside it the network has no data to go on and its
error is many times larger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from demos._data import digits_split
from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext


class Params(DemoParams):
    epsilon: float = Field(
        0.1,
        ge=0.01,
        le=0.5,
        description="Perturbation size (L-infinity, pixels in [0, 1]) that the claims compare",
        title="Perturbation size (epsilon)",
    )
    eps_max: float = Field(
        0.3,
        ge=0.02,
        le=1.0,
        description="Largest perturbation size on the accuracy curve",
        title="Largest epsilon",
    )
    n_eps: int = Field(
        7,
        ge=3,
        le=21,
        description="Points on the accuracy-against-epsilon curve",
        title="Points on the curve",
    )
    clf_steps: int = Field(
        300, ge=20, le=5000, description="Training steps for the digits classifier", title="Classifier steps"
    )
    clf_hidden: int = Field(
        128,
        ge=8,
        le=512,
        description="Hidden units of the digits classifier",
        title="Classifier width (units)",
    )
    function: Literal["sin", "square"] = Field(
        "sin", description="The function the regression net learns", title="Function"
    )
    fit_range: float = Field(
        3.0,
        ge=0.5,
        le=10.0,
        description="Training inputs lie in [-fit_range, fit_range]",
        title="Training range (+/-)",
    )
    activation: Literal["relu", "tanh"] = Field(
        "relu", description="Activation of the regression net", title="Activation"
    )
    fit_steps: int = Field(
        1000,
        ge=50,
        le=20000,
        description="Full-batch training steps for the regression net",
        title="Regression steps",
    )

    @model_validator(mode="after")
    def _eps_in_range(self) -> Params:
        if self.epsilon > self.eps_max:
            raise ValueError("epsilon must not exceed eps_max")
        return self


@dataclass
class Result:
    epsilon: float
    function: str
    fit_range: float
    clean_accuracy: float = float("nan")
    eps: list[float] = field(default_factory=list)
    fgsm_accuracy: list[float] = field(default_factory=list)
    noise_accuracy: list[float] = field(default_factory=list)
    # an example image: clean, attacked, and the predictions
    example_clean: list[list[float]] = field(default_factory=list)
    example_adv: list[list[float]] = field(default_factory=list)
    example_labels: list[int] = field(default_factory=list)  # true, clean prediction, attacked prediction
    fit_loss: list[float] = field(default_factory=list)
    grid_x: list[float] = field(default_factory=list)
    grid_true: list[float] = field(default_factory=list)
    grid_pred: list[float] = field(default_factory=list)
    rmse_inside: float = float("nan")
    rmse_outside: float = float("nan")
    done: bool = False


def _init_(net: nn.Module, g: torch.Generator) -> None:
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, nn.Linear):
                bound = mod.in_features**-0.5
                mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * bound)
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * bound)


def _target(name: str, x: torch.Tensor) -> torch.Tensor:
    return torch.sin(x) if name == "sin" else x**2


def _eps_grid(params: Params) -> list[float]:
    grid = [params.eps_max * i / (params.n_eps - 1) for i in range(params.n_eps)]
    if not any(math.isclose(e, params.epsilon) for e in grid):
        grid.append(params.epsilon)
    return sorted(grid)


def total_steps(params: Params) -> int:
    """Classifier steps, then curve-fitting steps (what "stopped at step N of M" counts)."""
    return params.clf_steps + params.fit_steps


def run(params: Params, ctx: RunContext) -> Result:
    res = Result(epsilon=params.epsilon, function=params.function, fit_range=params.fit_range)
    ctx.progress(0.0, res)
    dev = ctx.device
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)

    # ---- part 1: a digits classifier, then FGSM against random sign noise
    data = digits_split(seed=ctx.seed, test_fraction=0.3, device=dev)
    clf = nn.Sequential(nn.Linear(64, params.clf_hidden), nn.ReLU(), nn.Linear(params.clf_hidden, 10))
    _init_(clf, g)
    clf.to(dev)
    opt = torch.optim.Adam(clf.parameters(), lr=3e-3)
    report = max(1, params.clf_steps // 10)
    for step in range(1, params.clf_steps + 1):
        idx = torch.randint(len(data.y_train), (64,), generator=g).to(dev)
        loss = F.cross_entropy(clf(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ctx.tick(step, 0.35 * step / params.clf_steps, lambda: res)
        if step % report == 0:
            ctx.progress(0.35 * step / params.clf_steps, res)
    clf.eval()
    for p in clf.parameters():
        p.requires_grad_(False)
    x, y = data.x_test, data.y_test
    xg = x.clone().requires_grad_(True)
    F.cross_entropy(clf(xg), y).backward()
    direction = xg.grad.sign()  # FGSM: the sign of the loss gradient, per pixel
    random_sign = (torch.randint(0, 2, x.shape, generator=g) * 2 - 1).to(dev, x.dtype)
    with torch.no_grad():
        res.clean_accuracy = float((clf(x).argmax(1) == y).float().mean())
        for e in _eps_grid(params):
            adv = (x + e * direction).clamp(0, 1)
            noisy = (x + e * random_sign).clamp(0, 1)
            res.eps.append(e)
            res.fgsm_accuracy.append(float((clf(adv).argmax(1) == y).float().mean()))
            res.noise_accuracy.append(float((clf(noisy).argmax(1) == y).float().mean()))
        adv = (x + params.epsilon * direction).clamp(0, 1)
        pred_clean, pred_adv = clf(x).argmax(1), clf(adv).argmax(1)
        flipped = torch.nonzero((pred_clean == y) & (pred_adv != y)).flatten()
        i = int(flipped[0]) if len(flipped) else 0
        res.example_clean = x[i].view(8, 8).cpu().tolist()
        res.example_adv = adv[i].view(8, 8).cpu().tolist()
        res.example_labels = [int(y[i]), int(pred_clean[i]), int(pred_adv[i])]
    ctx.progress(0.4, res)

    # ---- part 2: fit a function on [-r, r], evaluate on [-2r, 2r]
    r = params.fit_range
    act = nn.ReLU() if params.activation == "relu" else nn.Tanh()
    reg = nn.Sequential(nn.Linear(1, 64), act, nn.Linear(64, 64), act, nn.Linear(64, 1))
    _init_(reg, g)
    reg.to(dev)
    x_fit = (torch.rand(256, 1, generator=g) * 2 - 1).mul(r).to(dev)
    y_fit = _target(params.function, x_fit)
    scale = float(y_fit.abs().max().clamp_min(1e-6))  # learn y / scale, so x^2 and sin train alike
    xin = x_fit / r
    opt = torch.optim.Adam(reg.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0 - 0.9 * i / params.fit_steps)
    report = max(1, params.fit_steps // 20)
    for step in range(1, params.fit_steps + 1):
        loss = F.mse_loss(reg(xin), y_fit / scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        ctx.tick(params.clf_steps + step, 0.4 + 0.58 * step / params.fit_steps, lambda: res)
        if step % report == 0:
            res.fit_loss.append(float(loss.detach()))
            ctx.progress(0.4 + 0.58 * step / params.fit_steps, res)
    with torch.no_grad():
        grid = torch.linspace(-2 * r, 2 * r, 401, device=dev).unsqueeze(1)
        pred = reg(grid / r) * scale
        true = _target(params.function, grid)
        inside = grid.abs() <= r
        err = (pred - true) ** 2
        res.rmse_inside = float(err[inside].mean().sqrt())
        res.rmse_outside = float(err[~inside].mean().sqrt())
        res.grid_x = grid.flatten().cpu().tolist()
        res.grid_true = true.flatten().cpu().tolist()
        res.grid_pred = pred.flatten().cpu().tolist()
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def _acc_at(result: Result, series: list[float], e: float) -> float | None:
    for i, x in enumerate(result.eps):
        if math.isclose(x, e) and i < len(series):
            return series[i]
    return None


def figures(result: Result) -> list[go.Figure]:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=result.eps, y=result.fgsm_accuracy, mode="lines+markers", name="FGSM (gradient sign)")
    )
    fig.add_trace(
        go.Scatter(
            x=result.eps, y=result.noise_accuracy, mode="lines+markers", name="random signs, same size"
        )
    )
    fig.add_vline(x=result.epsilon, line_dash="dot", annotation_text="epsilon in the claims")
    fig.update_layout(
        title="Digits accuracy under perturbations of the same L-infinity size",
        xaxis_title="epsilon (largest change per pixel; pixels lie in [0, 1])",
        yaxis_title="test accuracy",
        yaxis_range=[0, 1.02],
    )

    fig_img = go.Figure()
    if result.example_clean:
        t, pc, pa = result.example_labels
        blank = [[None] * 2 for _ in range(8)]
        z = [a + b + c for a, b, c in zip(result.example_clean, blank, result.example_adv, strict=True)]
        fig_img.add_trace(go.Heatmap(z=z[::-1], colorscale="Greys", showscale=False))
        fig_img.update_layout(
            title=f"One test digit (true {t}): clean, predicted {pc} | attacked at epsilon {result.epsilon:g}, "
            f"predicted {pa}",
            xaxis={"visible": False},
            yaxis={"visible": False, "scaleanchor": "x"},
        )
    else:
        fig_img.update_layout(title="An attacked example (after the classifier is trained)")

    fig_fit = go.Figure()
    if result.grid_x:
        fig_fit.add_trace(
            go.Scatter(x=result.grid_x, y=result.grid_true, mode="lines", name=f"true {result.function}")
        )
        fig_fit.add_trace(go.Scatter(x=result.grid_x, y=result.grid_pred, mode="lines", name="network"))
        fig_fit.add_vrect(
            x0=-result.fit_range,
            x1=result.fit_range,
            fillcolor="green",
            opacity=0.08,
            line_width=0,
            annotation_text="training range",
        )
    fig_fit.update_layout(
        title=f"Fit inside the training range, guesswork outside (RMSE inside {result.rmse_inside:.3g}, "
        f"outside {result.rmse_outside:.3g})"
        if result.done
        else "Fitting the function (training)",
        xaxis_title="x",
        yaxis_title="y",
    )
    return [fig, fig_img, fig_fit]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {}
    if result.clean_accuracy == result.clean_accuracy:
        out["clean_accuracy"] = round(result.clean_accuracy, 4)
    fg = _acc_at(result, result.fgsm_accuracy, result.epsilon)
    nz = _acc_at(result, result.noise_accuracy, result.epsilon)
    if fg is not None and nz is not None:
        out["fgsm_accuracy_at_epsilon"] = round(fg, 4)
        out["noise_accuracy_at_epsilon"] = round(nz, 4)
    if result.done:
        out["rmse_inside"] = round(result.rmse_inside, 5)
        out["rmse_outside"] = round(result.rmse_outside, 5)
        out["outside_over_inside"] = round(result.rmse_outside / max(result.rmse_inside, 1e-12), 2)
    return out


CLAIMS = {
    "fgsm-beats-noise": "FGSM cuts accuracy far more than random noise of the same size.",
    "noise-barely-hurts": "Random noise of that size barely costs accuracy.",
    "extrapolation-fails": "Outside its training range the regression net's error is many times its error inside.",
}


def claims(result: Result) -> list[Claim]:
    if not result.done:
        return []
    e = result.epsilon
    clean = result.clean_accuracy
    fg = _acc_at(result, result.fgsm_accuracy, e)
    nz = _acc_at(result, result.noise_accuracy, e)
    out: list[Claim] = []
    if fg is not None and nz is not None:
        drop_fg, drop_nz = clean - fg, clean - nz
        out.append(
            Claim(
                "fgsm-beats-noise",
                f"At epsilon {e:g}, FGSM cuts accuracy from {100 * clean:.1f}% to {100 * fg:.1f}%, while random "
                f"noise of the same size leaves {100 * nz:.1f}%: a drop of {100 * drop_fg:.1f} points against "
                f"{100 * drop_nz:.1f} (at least 5 times larger and at least 20 points).",
                drop_fg >= 0.2 and drop_fg >= 5 * max(drop_nz, 0.0),
            )
        )
        out.append(
            Claim(
                "noise-barely-hurts",
                f"Random noise of that size costs only {100 * (clean - nz):.1f} points of accuracy (under 5).",
                clean - nz < 0.05,
            )
        )
    ratio = result.rmse_outside / max(result.rmse_inside, 1e-12)
    out.append(
        Claim(
            "extrapolation-fails",
            f"Fit to {result.function} on [-{result.fit_range:g}, {result.fit_range:g}], the network's error on "
            f"the rest of [-{2 * result.fit_range:g}, {2 * result.fit_range:g}] (RMSE {result.rmse_outside:.3g}) "
            f"is {ratio:.0f}x its error inside (RMSE {result.rmse_inside:.3g}); at least 10x.",
            ratio >= 10,
        )
    )
    return out
