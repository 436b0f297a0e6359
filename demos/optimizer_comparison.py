"""Optimizers compared: SGD, momentum, Nesterov, RMSprop, Adagrad, Adam and AdamW on the same problem.

Problems:
- "rosenbrock": f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1); a curved, narrow valley whose
  minimum is (1, 1).
- "quadratic": f(x, y) = (x^2 + 100 y^2) / 2 from (-4, 1); curvature 100x larger across the valley
  than along it (condition number 100), minimum at the origin.
- "mlp": a 64-32-10 tanh network on scikit-learn's digits, mini-batches of 64 (the same batches for
  every optimizer), cross-entropy.

All selected optimizers run together: their parameters are stacked with a leading variant dimension,
one forward and one backward pass give every variant its own gradient, and one vectorised update
applies each variant's rule (`StackedOptimizer`, which reproduces torch.optim's SGD, RMSprop,
Adagrad, Adam and AdamW with their default betas/eps; momentum and Nesterov use 0.9; AdamW uses
weight decay 0.01).

Learning rates: a knob left at 0 takes a rate tuned for the chosen problem (`TUNED_LR`), so every
problem works out of the box; any positive value is used as given.

The contract asks for a claim about the ill-conditioned quadratic even though the default problem is
Rosenbrock. So every run that includes both SGD and momentum also runs a small side experiment: SGD
and momentum on the quadratic at the *same* learning rate (SGD's rate for the quadratic), which is
cheap (two 2-D variants). Its claim therefore appears whatever the problem; the Rosenbrock claims
appear only when the problem is Rosenbrock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator

from demos._data import digits_split
from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext

Optimizer = Literal["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"]
Problem = Literal["rosenbrock", "quadratic", "mlp"]

ALL_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw")
MOMENTUM = 0.9
ADAMW_DECAY = 0.01
REACH_RADIUS = 0.1  # "the minimum region": within this distance of the minimiser
MLP_HIDDEN = 32
MLP_BATCH = 64
N_PROGRESS = 20
N_LOSS_POINTS = 60  # full-training-set loss evaluations for the mlp

TUNED_LR: dict[str, dict[str, float]] = {
    "rosenbrock": {
        "sgd": 1e-3,
        "momentum": 1e-3,
        "nesterov": 1e-3,
        "rmsprop": 3e-3,
        "adagrad": 0.5,
        "adam": 0.1,
        "adamw": 0.1,
    },
    "quadratic": {
        "sgd": 0.018,
        "momentum": 0.018,
        "nesterov": 0.012,  # Nesterov's stability limit is lower: lr x 100 must stay below 3.8 / 2.8
        "rmsprop": 0.05,
        "adagrad": 1.0,
        "adam": 0.1,
        "adamw": 0.1,
    },
    "mlp": {
        "sgd": 0.5,
        "momentum": 0.05,
        "nesterov": 0.05,
        "rmsprop": 1e-3,
        "adagrad": 0.05,
        "adam": 3e-3,
        "adamw": 3e-3,
    },
}

_START = {"rosenbrock": (-1.2, 1.0), "quadratic": (-4.0, 1.0)}
_MINIMUM = {"rosenbrock": (1.0, 1.0), "quadratic": (0.0, 0.0)}
_VIEW = {"rosenbrock": ((-2.0, 2.0), (-1.0, 3.0)), "quadratic": ((-5.0, 5.0), (-2.0, 2.0))}
_LABELS = {
    "sgd": "SGD",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adam": "Adam",
    "adamw": "AdamW",
}
_COLOURS = {
    "sgd": "#d62728",
    "momentum": "#1f77b4",
    "nesterov": "#17becf",
    "rmsprop": "#ff7f0e",
    "adagrad": "#8c564b",
    "adam": "#2ca02c",
    "adamw": "#9467bd",
}


def _lr_field(name: str, short: str) -> float:
    return Field(
        0.0,
        ge=0.0,
        le=10.0,
        description=f"{name} learning rate; 0 uses a rate tuned for the chosen problem.",
        title=f"{short} learning rate (0 = tuned)",
    )


class Params(DemoParams):
    optimizers: list[Optimizer] = Field(
        default=list(ALL_OPTIMIZERS),
        min_length=1,
        description="Optimizers to compare; all run side by side in one batched computation.",
        title="Optimizers",
    )
    lr_sgd: float = _lr_field("SGD", "SGD")
    lr_momentum: float = _lr_field("SGD with momentum 0.9", "Momentum")
    lr_nesterov: float = _lr_field("Nesterov momentum 0.9", "Nesterov")
    lr_rmsprop: float = _lr_field("RMSprop", "RMSprop")
    lr_adagrad: float = _lr_field("Adagrad", "Adagrad")
    lr_adam: float = _lr_field("Adam", "Adam")
    lr_adamw: float = _lr_field("AdamW (weight decay 0.01)", "AdamW")
    problem: Problem = Field(
        "rosenbrock",
        description="Rosenbrock's curved valley, an ill-conditioned quadratic bowl, or a small MLP on digits.",
        title="Problem",
    )
    steps: int = Field(
        1500, ge=10, le=5000, description="Optimisation steps for every optimizer.", title="Steps"
    )

    @field_validator("optimizers")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each optimizer may be listed once")
        return v


def learning_rate(params: Params, name: str, problem: str | None = None) -> float:
    """The rate an optimizer uses: its knob if positive, else the rate tuned for the problem."""
    v = float(getattr(params, f"lr_{name}"))
    return v if v > 0 else TUNED_LR[problem or params.problem][name]


# ---------------------------------------------------------------------------------- the optimizers


class StackedOptimizer:
    """Each variant v updates its slice [v] of every parameter with its own rule and learning rate.

    All rules are one vectorised update with per-variant coefficients:
      m <- b1 m + c1 g                 (SGD family: b1 = momentum, c1 = 1; Adam: 0.9, 0.1; else m = g)
      s <- b2 s + c2 g^2               (Adam: 0.999, 0.001; RMSprop: 0.99, 0.01; Adagrad: 1, 1)
      d <- (g + b1 m if Nesterov else m) / (1 - b1^t if Adam)
      p <- p (1 - lr wd) - lr d / (sqrt(s / (1 - b2^t if Adam)) + eps if adaptive else 1)
    """

    _RULES = {  # b1, c1, b2, c2, nesterov, adaptive, bias_correct, eps, wd
        "sgd": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        "momentum": (MOMENTUM, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        "nesterov": (MOMENTUM, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0),
        "rmsprop": (0.0, 1.0, 0.99, 0.01, 0.0, 1.0, 0.0, 1e-8, 0.0),
        "adagrad": (0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1e-10, 0.0),
        "adam": (0.9, 0.1, 0.999, 0.001, 0.0, 1.0, 1.0, 1e-8, 0.0),
        "adamw": (0.9, 0.1, 0.999, 0.001, 0.0, 1.0, 1.0, 1e-8, ADAMW_DECAY),
    }

    def __init__(self, params: list[torch.Tensor], names: list[str], lrs: list[float]):
        self.params = params
        p0 = params[0]
        cols = list(zip(*(self._RULES[n] for n in names), strict=True))
        t = [torch.tensor(c, dtype=p0.dtype, device=p0.device) for c in cols]
        (self.b1, self.c1, self.b2, self.c2, self.nesterov, self.adaptive, self.bias, self.eps, self.wd) = t
        self.lr = torch.tensor(lrs, dtype=p0.dtype, device=p0.device)
        self.m = [torch.zeros_like(p) for p in params]
        self.s = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None) -> None:
        """One update; `active` [V] bool freezes the variants that are False (e.g. diverged ones)."""
        self.t += 1
        b1t = 1 - self.bias * self.b1**self.t  # 1 where no bias correction
        b2t = 1 - self.bias * self.b2**self.t
        for p, m, s in zip(self.params, self.m, self.s, strict=True):
            g = p.grad
            if g is None:
                continue
            shape = (-1,) + (1,) * (p.dim() - 1)

            def r(x: torch.Tensor, shape: tuple[int, ...] = shape) -> torch.Tensor:
                return x.view(shape)

            m.mul_(r(self.b1)).add_(g * r(self.c1))
            s.mul_(r(self.b2)).add_(g * g * r(self.c2))
            d = torch.where(r(self.nesterov) > 0, g + r(self.b1) * m, m) / r(b1t)
            denom = torch.where(r(self.adaptive) > 0, (s / r(b2t)).sqrt() + r(self.eps), torch.ones_like(s))
            new = p * (1 - r(self.lr * self.wd)) - r(self.lr) * d / denom
            if active is not None:
                new = torch.where(r(active), new, p)
            p.copy_(new)


# -------------------------------------------------------------------------------------- problems


def rosenbrock(P: torch.Tensor) -> torch.Tensor:
    """P [V, 2] -> [V]."""
    x, y = P[:, 0], P[:, 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def quadratic(P: torch.Tensor) -> torch.Tensor:
    x, y = P[:, 0], P[:, 1]
    return 0.5 * (x * x + 100 * y * y)


_FUNCS = {"rosenbrock": rosenbrock, "quadratic": quadratic}
_FORMULAS = {
    "rosenbrock": "f(x, y) = (1 − x)² + 100 (y − x²)²",
    "quadratic": "f(x, y) = (x² + 100 y²) / 2",
}


@dataclass
class SideCheck:
    """SGD against momentum on the quadratic at one shared learning rate."""

    lr: float
    steps_total: int
    loss: list[list[float]] = field(default_factory=list)  # [2][t] (sgd, momentum)
    reach: list[int | None] = field(default_factory=lambda: [None, None])
    final_distance: list[float] = field(default_factory=list)


@dataclass
class Result:
    problem: str
    optimizers: list[str]
    lrs: list[float]
    steps_total: int
    steps_done: int = 0
    loss_steps: list[int] = field(default_factory=list)  # [T]
    loss: list[list[float]] = field(default_factory=list)  # [V][T]
    path: list[list[list[float]]] = field(default_factory=list)  # [V][t][2], 2-D problems only
    reach: list[int | None] = field(default_factory=list)  # [V] step from which it stays within REACH_RADIUS
    diverged_at: list[int | None] = field(default_factory=list)  # [V]
    test_acc: list[float] = field(default_factory=list)  # [V], mlp only, at the end
    side: SideCheck | None = None

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total


def _snapshot(r: Result) -> Result:
    side = None
    if r.side is not None:
        side = replace(r.side, loss=[list(x) for x in r.side.loss], reach=list(r.side.reach))
    return replace(
        r,
        loss_steps=list(r.loss_steps),
        loss=[list(x) for x in r.loss],
        path=[list(x) for x in r.path],
        reach=list(r.reach),
        diverged_at=list(r.diverged_at),
        test_acc=list(r.test_acc),
        side=side,
    )


_BLOW_UP = 1e6


def settle_step(dist: list[float], radius: float = REACH_RADIUS) -> int | None:
    """The first step from which the distance to the minimum stays within `radius` (None if it ends
    outside). Passing through the region while overshooting does not count."""
    if not dist or not dist[-1] <= radius:
        return None
    k = len(dist)
    while k > 0 and dist[k - 1] <= radius:
        k -= 1
    return k


def _reach_and_divergence(
    paths: torch.Tensor, alive: torch.Tensor, target: tuple[float, float], upto: int
) -> tuple[list[list[list[float]]], list[int | None], list[int | None]]:
    """From recorded tensors (paths [T, V, 2], alive [T, V]) up to step `upto`: paths as lists (cut
    where a variant diverged), settle steps and divergence steps."""
    pts = paths[: upto + 1]
    ok = alive[: upto + 1]
    dist = (pts - torch.tensor(target, dtype=pts.dtype, device=pts.device)).norm(dim=2)
    pts_l, ok_l, dist_l = pts.cpu().tolist(), ok.cpu().tolist(), dist.cpu().tolist()
    V = pts.shape[1]
    out_paths, reach, diverged = [], [], []
    for v in range(V):
        n_ok = next((t for t in range(len(ok_l)) if not ok_l[t][v]), len(ok_l))
        diverged.append(n_ok if n_ok < len(ok_l) else None)
        out_paths.append([pts_l[t][v] for t in range(n_ok)])
        reach.append(settle_step([dist_l[t][v] for t in range(n_ok)]) if n_ok == len(ok_l) else None)
    return out_paths, reach, diverged


def _run_2d(
    problem: str,
    names: list[str],
    lrs: list[float],
    steps: int,
    dev: torch.device,
    on_progress=None,
    every: int = 0,
    tick=None,
) -> tuple[list[list[float]], list[list[list[float]]], list[int | None], list[int | None]]:
    """Run the optimizers on a 2-D problem in float64, without a host sync per step.
    Returns losses [V][steps+1] (NaN after divergence), paths [V][t][2], settle steps, divergence steps."""
    f = _FUNCS[problem]
    V = len(names)
    P = torch.tensor([_START[problem]] * V, dtype=torch.float64, device=dev, requires_grad=True)
    opt = StackedOptimizer([P], names, lrs)
    active = torch.ones(V, dtype=torch.bool, device=dev)
    paths = torch.empty(steps + 1, V, 2, dtype=torch.float64, device=dev)
    alive = torch.ones(steps + 1, V, dtype=torch.bool, device=dev)
    losses = torch.empty(steps + 1, V, dtype=torch.float64, device=dev)
    paths[0] = P.detach()

    def lists(upto: int):
        ps, reach, diverged = _reach_and_divergence(paths, alive, _MINIMUM[problem], upto)
        lv = torch.where(alive[: upto + 1], losses[: upto + 1], torch.nan).T.cpu().tolist()
        return lv, ps, reach, diverged

    for step in range(steps + 1):
        loss_v = f(P)
        losses[step] = loss_v.detach()
        if step == steps:
            break
        P.grad = None
        loss_v.sum().backward()
        opt.step(active)
        with torch.no_grad():
            bad = ~torch.isfinite(P).all(1) | (P.abs().amax(1) > _BLOW_UP)
            active &= ~bad
            alive[step + 1] = active
            paths[step + 1] = P
        if tick is not None:
            tick(step + 1)
        if on_progress is not None and every and (step + 1) % every == 0 and step + 1 < steps:
            on_progress(step + 1, *lists(step + 1))
    return lists(steps)


SIDE_STEPS = 400


def _side_check(params: Params, dev: torch.device) -> SideCheck:
    lr = learning_rate(params, "sgd", "quadratic")
    n = min(params.steps, SIDE_STEPS)
    losses, paths, reach, _ = _run_2d("quadratic", ["sgd", "momentum"], [lr, lr], n, dev)
    final = [math.dist(p[-1], _MINIMUM["quadratic"]) if len(p) == n + 1 else math.inf for p in paths]
    return SideCheck(lr, n, losses, reach, final)


def _run_mlp(params: Params, ctx: RunContext, res: Result, names: list[str], lrs: list[float]) -> None:
    dev = torch.device(ctx.device)
    g = cpu_generator(ctx.seed)
    data = digits_split(seed=ctx.seed).to(dev)
    V, D, H = len(names), data.x_train.shape[1], MLP_HIDDEN

    def init(fan_in: int, fan_out: int) -> torch.Tensor:
        bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default, one draw shared by every variant
        w = (torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound
        return w.expand(V, fan_in, fan_out).clone().to(dev)

    W1, W2 = init(D, H), init(H, 10)
    b1 = torch.zeros(V, 1, H, device=dev)
    b2 = torch.zeros(V, 1, 10, device=dev)
    ps = [t.requires_grad_() for t in (W1, b1, W2, b2)]
    opt = StackedOptimizer(ps, names, lrs)
    active = torch.ones(V, dtype=torch.bool, device=dev)

    def forward(x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(torch.matmul(x, W1) + b1)
        return torch.baddbmm(b2, h, W2)

    def per_variant_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = forward(x)
        return F.cross_entropy(logits.flatten(0, 1), y.repeat(V), reduction="none").view(V, -1).mean(1)

    n = len(data.y_train)
    res.loss = [[] for _ in range(V)]
    record_every = max(1, params.steps // N_LOSS_POINTS)
    progress_every = max(1, params.steps // N_PROGRESS)
    for step in range(params.steps + 1):
        if step % record_every == 0 or step == params.steps:
            with torch.no_grad():
                full = per_variant_loss(data.x_train, data.y_train).cpu().tolist()
            res.loss_steps.append(step)
            for v in range(V):
                res.loss[v].append(full[v] if res.diverged_at[v] is None else math.nan)
        if step == params.steps:
            break
        idx = torch.randint(0, n, (MLP_BATCH,), generator=g).to(dev)
        for p in ps:
            p.grad = None
        per_variant_loss(data.x_train[idx], data.y_train[idx]).sum().backward()
        opt.step(active)
        with torch.no_grad():
            bad = torch.stack([~torch.isfinite(p).flatten(1).all(1) for p in ps]).any(0)
        if bool((bad & active).any()):
            for v in torch.nonzero(bad & active).flatten().tolist():
                res.diverged_at[v] = step + 1
            active &= ~bad
        res.steps_done = step + 1
        ctx.tick(res.steps_done, 0.95 * res.steps_done / params.steps, lambda: _snapshot(res))
        if res.steps_done % progress_every == 0:
            ctx.progress(0.95 * res.steps_done / params.steps, _snapshot(res))
    with torch.no_grad():
        acc = (forward(data.x_test).argmax(-1) == data.y_test).float().mean(1).cpu().tolist()
    res.test_acc = [a if res.diverged_at[v] is None else math.nan for v, a in enumerate(acc)]


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)  # nothing below draws from it; kept so direct calls stay deterministic
    names = list(params.optimizers)
    lrs = [learning_rate(params, n) for n in names]
    V = len(names)
    res = Result(params.problem, names, lrs, params.steps)
    res.reach = [None] * V
    res.diverged_at = [None] * V
    ctx.progress(0.0, _snapshot(res))

    if params.problem == "mlp":
        _run_mlp(params, ctx, res, names, lrs)
    else:
        every = max(1, params.steps // N_PROGRESS)

        def on_progress(step, losses, paths, reach, diverged):
            res.steps_done = step
            res.loss_steps = list(range(step + 1))
            res.loss, res.path, res.reach, res.diverged_at = losses, paths, reach, diverged
            ctx.progress(0.9 * step / params.steps, _snapshot(res))

        losses, paths, reach, diverged = _run_2d(
            params.problem,
            names,
            lrs,
            params.steps,
            dev,
            on_progress,
            every,
            tick=lambda s: ctx.tick(s, 0.9 * s / params.steps),
        )
        res.loss_steps = list(range(params.steps + 1))
        res.loss, res.path, res.reach, res.diverged_at = losses, paths, reach, diverged
        res.steps_done = params.steps

    if "sgd" in names and "momentum" in names:
        res.side = _side_check(params, dev)
    ctx.progress(1.0, _snapshot(res))
    return res


# -------------------------------------------------------------------------------------- reading


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _num(x: float | None, digits: int = 5) -> float | str:
    if x is None:
        return "n/a"
    return float(f"{x:.{digits}g}") if math.isfinite(x) else "diverged"


def final_loss(r: Result) -> dict[str, float]:
    out = {}
    for n, curve in zip(r.optimizers, r.loss, strict=False):
        if curve:
            out[n] = curve[-1]
    return out


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"problem": r.problem, "steps": r.steps_done}
    fl = final_loss(r)
    for v, n in enumerate(r.optimizers):
        out[f"{n}_lr"] = r.lrs[v]
        if n in fl:
            out[f"{n}_final_loss"] = _num(fl[n])
        if r.problem != "mlp" and v < len(r.reach):
            out[f"{n}_steps_to_minimum"] = r.reach[v] if r.reach[v] is not None else "not reached"
        if v < len(r.test_acc):
            out[f"{n}_test_acc"] = _num(r.test_acc[v], 4)
        if v < len(r.diverged_at) and r.diverged_at[v] is not None:
            out[f"{n}_diverged_at_step"] = r.diverged_at[v]
    if r.side is not None and r.side.loss:
        out["quadratic_same_lr"] = r.side.lr
        for i, n in enumerate(("sgd", "momentum")):
            reach = r.side.reach[i]
            out[f"quadratic_same_lr_{n}_steps_to_minimum"] = reach if reach is not None else "not reached"
    return out


def _reach_text(reach: int | None, steps: int) -> str:
    return f"{reach} steps" if reach is not None else f"not within {steps} steps"


def _faster(reach_a: int | None, reach_b: int | None, dist_a: float, dist_b: float) -> bool:
    """Did a settle in the minimum region sooner than b (or, if neither got there, end closer)?"""
    if reach_a is not None:
        return reach_b is None or reach_a < reach_b
    if reach_b is not None:
        return False
    return _finite(dist_a) and (not _finite(dist_b) or dist_a < dist_b)


def _final_distance(r: Result, v: int) -> float:
    if v >= len(r.path) or not r.path[v] or (v < len(r.diverged_at) and r.diverged_at[v] is not None):
        return math.inf
    return math.dist(r.path[v][-1], _MINIMUM[r.problem])


CLAIMS = {
    "rosenbrock-momentum-beats-sgd": "On Rosenbrock's valley, momentum reaches the minimum in fewer steps than plain SGD.",
    "rosenbrock-nesterov-beats-sgd": "On Rosenbrock's valley, Nesterov reaches the minimum in fewer steps than plain SGD.",
    "rosenbrock-adam-beats-sgd": "On Rosenbrock's valley, Adam reaches the minimum in fewer steps than plain SGD.",
    "quadratic-momentum-beats-sgd-same-lr": "On an ill-conditioned quadratic, momentum settles sooner than plain SGD at the same learning rate.",
    "mlp-every-optimizer-lowers-loss": "On the small MLP, every optimizer lowers the training loss.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    opts, out = set(params.optimizers), []
    if params.problem == "rosenbrock" and "sgd" in opts:
        out += [f"rosenbrock-{n}-beats-sgd" for n in ("momentum", "nesterov", "adam") if n in opts]
    if {"sgd", "momentum"} <= opts:
        out.append("quadratic-momentum-beats-sgd-same-lr")
    if params.problem == "mlp":
        out.append("mlp-every-optimizer-lowers-loss")
    return out


def claims(result: Result) -> list[Claim]:
    r = result
    out: list[Claim] = []
    if r.problem == "rosenbrock" and r.done and "sgd" in r.optimizers:
        s = r.optimizers.index("sgd")
        for name in ("momentum", "nesterov", "adam"):
            if name not in r.optimizers:
                continue
            v = r.optimizers.index(name)
            out.append(
                Claim(
                    f"rosenbrock-{name}-beats-sgd",
                    f"On Rosenbrock's valley, {_LABELS[name]} (lr {r.lrs[v]:g}) settles within {REACH_RADIUS:g} "
                    f"of the minimum (1, 1) in fewer steps than plain SGD (lr {r.lrs[s]:g}): "
                    f"{_reach_text(r.reach[v], r.steps_total)} against {_reach_text(r.reach[s], r.steps_total)}.",
                    _faster(r.reach[v], r.reach[s], _final_distance(r, v), _final_distance(r, s)),
                )
            )
    side = r.side
    if side is not None and side.loss and len(side.final_distance) == 2:
        out.append(
            Claim(
                "quadratic-momentum-beats-sgd-same-lr",
                f"On the ill-conditioned quadratic (condition number 100), momentum 0.9 settles within "
                f"{REACH_RADIUS:g} of the minimum sooner than plain SGD at the same learning rate ({side.lr:g}): "
                f"{_reach_text(side.reach[1], side.steps_total)} against "
                f"{_reach_text(side.reach[0], side.steps_total)}.",
                _faster(side.reach[1], side.reach[0], side.final_distance[1], side.final_distance[0]),
            )
        )
    if r.problem == "mlp" and r.done and r.loss and all(r.loss):
        drops = {n: c[-1] < c[0] for n, c in zip(r.optimizers, r.loss, strict=True)}
        out.append(
            Claim(
                "mlp-every-optimizer-lowers-loss",
                "On the digits MLP, every selected optimizer ends with a lower training loss than it started with "
                f"({', '.join(f'{_LABELS[n]} {c[0]:.2f} → {_num(c[-1], 3)}' for n, c in zip(r.optimizers, r.loss, strict=True))}).",
                all(drops.values()),
            )
        )
    return out


# -------------------------------------------------------------------------------------- figures


def _contour(problem: str) -> go.Contour:
    (x0, x1), (y0, y1) = _VIEW[problem]
    n = 120
    xs = torch.linspace(x0, x1, n, dtype=torch.float64)
    ys = torch.linspace(y0, y1, n, dtype=torch.float64)
    Y, X = torch.meshgrid(ys, xs, indexing="ij")
    Z = _FUNCS[problem](torch.stack([X.flatten(), Y.flatten()], 1)).view(n, n)
    Z = torch.log10(Z + 1e-3)
    return go.Contour(
        x=xs.tolist(),
        y=ys.tolist(),
        z=Z.tolist(),
        colorscale="Greys",
        reversescale=True,
        ncontours=30,
        showscale=False,
        contours={"coloring": "lines"},
        hoverinfo="skip",
        name="log10 loss",
    )


def _thin(seq: list, limit: int = 800) -> list:
    if len(seq) <= limit:
        return seq
    k = math.ceil(len(seq) / limit)
    return seq[::k] + ([seq[-1]] if (len(seq) - 1) % k else [])


def figures(result: Result) -> list[go.Figure]:
    r = result
    figs: list[go.Figure] = []
    labels = [f"{_LABELS[n]} (lr {lr:g})" for n, lr in zip(r.optimizers, r.lrs, strict=True)]

    if r.problem in _FUNCS:
        f1 = go.Figure(_contour(r.problem))
        for v, n in enumerate(r.optimizers):
            pts = _thin(r.path[v]) if v < len(r.path) else []
            f1.add_trace(
                go.Scatter(
                    x=[p[0] for p in pts],
                    y=[p[1] for p in pts],
                    mode="lines",
                    name=labels[v],
                    line={"color": _COLOURS[n], "width": 2},
                )
            )
        sx, sy = _START[r.problem]
        mx, my = _MINIMUM[r.problem]
        f1.add_trace(
            go.Scatter(
                x=[sx],
                y=[sy],
                mode="markers",
                name="start",
                marker={"symbol": "circle", "size": 10, "color": "black"},
            )
        )
        f1.add_trace(
            go.Scatter(
                x=[mx],
                y=[my],
                mode="markers",
                name="minimum",
                marker={"symbol": "star", "size": 14, "color": "gold"},
            )
        )
        (x0, x1), (y0, y1) = _VIEW[r.problem]
        f1.update_layout(
            title=f"Paths over the loss contours: {_FORMULAS[r.problem]} (step {r.steps_done} of {r.steps_total})",
            xaxis={"range": [x0, x1], "title": "x"},
            yaxis={"range": [y0, y1], "title": "y"},
        )
        figs.append(f1)

    f2 = go.Figure()
    for v, n in enumerate(r.optimizers):
        curve = r.loss[v] if v < len(r.loss) else []
        steps = r.loss_steps[: len(curve)]
        pairs = _thin(list(zip(steps, curve, strict=True)))
        f2.add_trace(
            go.Scatter(
                x=[s for s, _ in pairs],
                y=[c if math.isfinite(c) else None for _, c in pairs],
                mode="lines",
                name=labels[v],
                line={"color": _COLOURS[n]},
            )
        )
    what = "training loss on the full training set" if r.problem == "mlp" else "loss"
    f2.update_layout(
        title=f"Loss against step ({r.problem}; {what}, log scale)",
        xaxis_title="step",
        yaxis_title="loss",
        yaxis_type="log",
    )
    figs.append(f2)

    if r.side is not None and r.side.loss:
        f3 = go.Figure()
        for i, n in enumerate(("sgd", "momentum")):
            pairs = _thin(list(enumerate(r.side.loss[i])))
            f3.add_trace(
                go.Scatter(
                    x=[s for s, _ in pairs],
                    y=[c if math.isfinite(c) else None for _, c in pairs],
                    mode="lines",
                    name=_LABELS[n],
                    line={"color": _COLOURS[n]},
                )
            )
        f3.update_layout(
            title=f"Same learning rate ({r.side.lr:g}) on the ill-conditioned quadratic: SGD against momentum",
            xaxis_title="step",
            yaxis_title="loss (log scale)",
            yaxis_type="log",
        )
        figs.append(f3)

    if r.problem == "mlp" and r.test_acc:
        f4 = go.Figure(
            go.Bar(
                x=labels,
                y=[a if math.isfinite(a) else 0.0 for a in r.test_acc],
                marker_color=[_COLOURS[n] for n in r.optimizers],
                text=[f"{a:.1%}" if math.isfinite(a) else "diverged" for a in r.test_acc],
            )
        )
        f4.update_layout(
            title="Test accuracy of the digits MLP after training", yaxis_range=[0, 1], yaxis_title="accuracy"
        )
        figs.append(f4)
    return figs
