"""Dropout against overfitting: a wide MLP learns a small digits training set in which some labels
are wrong, with several dropout rates side by side.

Without dropout the network memorises the wrong labels along with the right ones; its training
accuracy (measured against the noisy labels it was given) runs far ahead of its accuracy on clean
held-out digits. Dropout makes memorising single examples harder, so more of what is learnt is
the shared structure. All rates train together: weights [V, in, out], one dropout mask per variant,
identical starting weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from pydantic import Field, field_validator

from demos._data import digits_split
from demos._nn import BatchedLinear, batched_accuracy, batched_cross_entropy, batched_dropout, cpu_generator
from demos.base import Claim, DemoParams, RunContext

Rate = Literal[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]

LR = 1e-3  # Adam


class Params(DemoParams):
    rates: list[Rate] = Field(
        default=[0.0, 0.5],
        min_length=1,
        description="Dropout rates to compare (fraction of hidden units dropped per step); 0 means none.",
        title="Dropout rates",
    )
    n_train: int = Field(
        300,
        ge=50,
        le=1200,
        description="Training images (the rest of the 1797 digits validate).",
        title="Training examples",
    )
    label_noise: float = Field(
        0.3,
        ge=0.0,
        le=0.8,
        description="Fraction of training labels replaced by a wrong class (validation stays clean).",
        title="Wrong labels (fraction)",
    )
    width: int = Field(
        128,
        ge=16,
        le=1024,
        description="Units in each of the two hidden layers.",
        title="Hidden width (units)",
    )
    steps: int = Field(220, ge=10, le=5000, description="Full-batch Adam steps.", title="Steps")

    @field_validator("rates")
    @classmethod
    def _unique(cls, v: list[float]) -> list[float]:
        if len(set(v)) != len(v):
            raise ValueError("each rate may be listed once")
        return v


@dataclass
class Result:
    rates: list[float]
    n_train: int
    n_val: int
    label_noise: float
    steps_total: int
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)  # [T]
    train_acc: list[list[float]] = field(default_factory=list)  # [V][T], against the (noisy) training labels
    val_acc: list[list[float]] = field(default_factory=list)  # [V][T], clean labels
    train_loss: list[list[float]] = field(default_factory=list)  # [V][T]
    val_loss: list[list[float]] = field(default_factory=list)  # [V][T]
    clean_train_acc: list[float] = field(default_factory=list)  # [V], final, against the true labels
    noisy_fit: list[float] = field(default_factory=list)  # [V], final, share of wrong labels reproduced

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total


class _Net(torch.nn.Module):
    def __init__(
        self, n_variants: int, width: int, rates: list[float], g: torch.Generator, dev: torch.device
    ):
        super().__init__()
        kw = dict(init="default", same_init=True, generator=g, device=dev)
        self.l1 = BatchedLinear(n_variants, 64, width, **kw)
        self.l2 = BatchedLinear(n_variants, width, width, **kw)
        self.l3 = BatchedLinear(n_variants, width, 10, **kw)
        self.rates = torch.tensor(rates, dtype=torch.float32)
        self.any_dropout = any(r > 0 for r in rates)

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
        drop = self.training and self.any_dropout
        h = torch.relu(self.l1(x))
        if drop:
            h = batched_dropout(h, self.rates, training=True, generator=g)
        h = torch.relu(self.l2(h))
        if drop:
            h = batched_dropout(h, self.rates, training=True, generator=g)
        return self.l3(h)


def _snapshot(r: Result) -> Result:
    return Result(
        r.rates,
        r.n_train,
        r.n_val,
        r.label_noise,
        r.steps_total,
        r.steps_done,
        list(r.record_steps),
        [list(x) for x in r.train_acc],
        [list(x) for x in r.val_acc],
        [list(x) for x in r.train_loss],
        [list(x) for x in r.val_loss],
        list(r.clean_train_acc),
        list(r.noisy_fit),
    )


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    rates = [float(r) for r in params.rates]
    V = len(rates)
    data = digits_split(params.n_train, seed=ctx.seed, label_noise=params.label_noise, device=dev)
    clean = digits_split(params.n_train, seed=ctx.seed, device=dev).y_train  # same images, true labels
    net = _Net(V, params.width, rates, cpu_generator(ctx.seed), dev)
    g_drop = cpu_generator(ctx.seed + 1)

    res = Result(rates, params.n_train, int(data.x_test.shape[0]), params.label_noise, params.steps)
    for name in ("train_acc", "val_acc", "train_loss", "val_loss"):
        setattr(res, name, [[] for _ in range(V)])

    n_records = 30
    every = max(1, params.steps // n_records)
    record_at = set(range(0, params.steps + 1, every)) | {params.steps}
    progress_every = max(1, params.steps // 20)

    def record(step: int) -> None:
        net.eval()
        with torch.no_grad():
            lt = net(data.x_train)
            lv = net(data.x_test)
            vals = torch.stack(
                [
                    batched_accuracy(lt, data.y_train),
                    batched_accuracy(lv, data.y_test),
                    batched_cross_entropy(lt, data.y_train),
                    batched_cross_entropy(lv, data.y_test),
                ]
            ).tolist()
        res.record_steps.append(step)
        for v in range(V):
            res.train_acc[v].append(vals[0][v])
            res.val_acc[v].append(vals[1][v])
            res.train_loss[v].append(vals[2][v])
            res.val_loss[v].append(vals[3][v])
        if step == params.steps:
            wrong = data.y_train != clean
            pred = lt.argmax(-1)
            res.clean_train_acc = (pred == clean).float().mean(-1).tolist()
            n_wrong = int(wrong.sum())
            res.noisy_fit = (
                ((pred == data.y_train) & wrong).float().sum(-1).div(n_wrong).tolist()
                if n_wrong
                else [0.0] * V
            )

    record(0)
    ctx.progress(0.0, _snapshot(res))
    # Built after the first report: a process's first optimizer imports torch._dynamo (seconds).
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    for step in range(1, params.steps + 1):
        net.train()
        opt.zero_grad(set_to_none=True)
        batched_cross_entropy(net(data.x_train, g_drop), data.y_train).sum().backward()
        opt.step()
        res.steps_done = step
        if step in record_at:
            record(step)
        ctx.tick(step, step / params.steps, lambda: _snapshot(res))
        if step % progress_every == 0 or step == params.steps:
            ctx.progress(step / params.steps, _snapshot(res))
    return res


# -------------------------------------------------------------------------------------- reading


def _final(series: list[list[float]]) -> list[float]:
    return [s[-1] if s else float("nan") for s in series]


def gaps(r: Result) -> list[float]:
    """Final training accuracy (on the labels given) minus final validation accuracy, per rate."""
    return [t - v for t, v in zip(_final(r.train_acc), _final(r.val_acc), strict=True)]


def _rate_key(rate: float) -> str:
    return f"p{rate:g}"


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {
        "steps": result.steps_done,
        "n_train": result.n_train,
        "n_val": result.n_val,
        "label_noise": result.label_noise,
    }
    for i, rate in enumerate(result.rates):
        k = _rate_key(rate)
        for name, series in (("train_acc", result.train_acc), ("val_acc", result.val_acc)):
            if i < len(series) and series[i]:
                out[f"{k}_{name}"] = round(series[i][-1], 4)
        if i < len(result.val_loss) and result.val_loss[i] and math.isfinite(result.val_loss[i][-1]):
            out[f"{k}_val_loss"] = round(result.val_loss[i][-1], 4)
        if i < len(result.train_acc) and result.train_acc[i] and result.val_acc[i]:
            out[f"{k}_gap"] = round(result.train_acc[i][-1] - result.val_acc[i][-1], 4)
        if i < len(result.noisy_fit):
            out[f"{k}_wrong_labels_memorised"] = round(result.noisy_fit[i], 4)
    return out


def _best_dropout(r: Result) -> int | None:
    """Index of the dropout rate (> 0) with the best final validation accuracy."""
    val = _final(r.val_acc)
    idx = [i for i, rate in enumerate(r.rates) if rate > 0]
    return max(idx, key=lambda i: val[i]) if idx else None


CLAIMS = {
    "dropout-raises-validation-accuracy": "The best dropout rate raises validation accuracy above no dropout.",
    "dropout-shrinks-generalisation-gap": "Dropout shrinks the gap between training and validation accuracy.",
    "no-dropout-memorises-wrong-labels": "Without dropout the network reproduces more of the deliberately wrong training labels.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks: a comparison needs rate 0 and a rate above 0."""
    if 0.0 not in params.rates or not any(r > 0 for r in params.rates):
        return []
    ids = list(CLAIMS)
    return ids if params.label_noise > 0 else ids[:2]


def claims(result: Result) -> list[Claim]:
    r = result
    if 0.0 not in r.rates or not r.done or not r.val_acc or not r.val_acc[0]:
        return []
    best = _best_dropout(r)
    if best is None:
        return []
    base = r.rates.index(0.0)
    val, gap = _final(r.val_acc), gaps(r)
    p = r.rates[best]
    out = [
        Claim(
            "dropout-raises-validation-accuracy",
            f"Dropout at p={p:g} raises validation accuracy above no dropout "
            f"({val[best]:.1%} against {val[base]:.1%}).",
            val[best] > val[base],
        ),
        Claim(
            "dropout-shrinks-generalisation-gap",
            f"Dropout at p={p:g} shrinks the gap between training and validation accuracy "
            f"({gap[best]:+.1%} against {gap[base]:+.1%} without dropout).",
            gap[best] < gap[base],
        ),
    ]
    if r.noisy_fit and r.label_noise > 0:
        out.append(
            Claim(
                "no-dropout-memorises-wrong-labels",
                f"Without dropout the network reproduces more of the deliberately wrong training labels "
                f"than with dropout at p={p:g} ({r.noisy_fit[base]:.0%} against {r.noisy_fit[best]:.0%}).",
                r.noisy_fit[base] > r.noisy_fit[best],
            )
        )
    return out


# -------------------------------------------------------------------------------------- figures

_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]


def _name(rate: float) -> str:
    return "no dropout" if rate == 0 else f"dropout {rate:g}"


def figures(result: Result) -> list[go.Figure]:
    r = result
    noise = f"{r.label_noise:.0%} of training labels wrong" if r.label_noise > 0 else "clean labels"
    f1 = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy", "Cross-entropy loss"))
    f2 = go.Figure()
    for i, rate in enumerate(r.rates):
        colour = _PALETTE[i % len(_PALETTE)]
        n = len(r.train_acc[i]) if i < len(r.train_acc) else 0
        if not n:
            continue
        xs = r.record_steps[:n]
        name = _name(rate)
        for row_series, col in ((r.train_acc, 1), (r.train_loss, 2)):
            f1.add_trace(
                go.Scatter(
                    x=xs,
                    y=row_series[i],
                    name=f"{name}, train",
                    legendgroup=name,
                    line={"color": colour, "dash": "dot"},
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        for row_series, col in ((r.val_acc, 1), (r.val_loss, 2)):
            f1.add_trace(
                go.Scatter(
                    x=xs,
                    y=row_series[i],
                    name=f"{name}, validation",
                    legendgroup=name,
                    line={"color": colour},
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        f2.add_trace(
            go.Scatter(
                x=xs,
                y=[t - v for t, v in zip(r.train_acc[i], r.val_acc[i], strict=False)],
                name=name,
                line={"color": colour},
            )
        )
    f1.update_xaxes(title_text="training step")
    f1.update_yaxes(title_text="accuracy", range=[0, 1.02], row=1, col=1)
    f1.update_yaxes(title_text="loss", row=1, col=2)
    f1.update_layout(title=f"Training (dotted) against validation (solid), {r.n_train} images, {noise}")
    f2.add_hline(y=0, line_dash="dot", line_color="grey")
    f2.update_layout(
        title="Generalisation gap: training accuracy minus validation accuracy",
        xaxis_title="training step",
        yaxis_title="gap (accuracy points)",
        yaxis_tickformat=".0%",
    )
    return [f1, f2]
