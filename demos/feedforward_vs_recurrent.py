"""Feedforward against recurrent on a task that needs memory.

Each sequence holds one marked signal, +1 or -1, followed by `gap` steps of noise; the label is the
signal's sign. Every input step has two channels: the value and a marker that is 1 only on the signal.
A feedforward network sees only the last `window` inputs, so once the gap reaches the window the signal
is out of its sight. A vanilla RNN and an LSTM read the whole sequence. The three models train together,
on the same batches, with one optimizer step on the sum of their losses (each loss touches only its own
model's weights); every gap is mixed into every batch, and accuracy is measured per gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from annotated_types import Ge, Le
from pydantic import Field, field_validator
from torch import nn

from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext

MODELS = ("mlp", "rnn", "lstm")
LABELS = {"mlp": "feedforward (window)", "rnn": "vanilla RNN", "lstm": "LSTM"}
_EVAL_PER_GAP = 1000
_TRACK_PER_GAP = 200


class Params(DemoParams):
    gaps: list[Annotated[int, Ge(1), Le(64)]] = Field(
        default=[2, 4, 8, 16, 32],
        min_length=2,
        max_length=8,
        description="Noise steps between the signal and the end of the sequence (one accuracy per gap)",
        title="Gaps (time steps)",
    )
    window: int = Field(
        4,
        ge=1,
        le=16,
        description="How many of the last inputs the feedforward net sees",
        title="Feedforward window (inputs)",
    )
    hidden: int = Field(
        16, ge=4, le=64, description="Hidden units of the RNN and of the LSTM", title="Hidden width (units)"
    )
    steps: int = Field(
        100, ge=10, le=2000, description="Training steps (shared by all three models)", title="Steps"
    )
    batch_size: int = Field(
        64, ge=8, le=512, description="Sequences per training step", title="Batch size (sequences)"
    )
    lr: float = Field(1e-2, ge=1e-4, le=0.1, description="Adam learning rate", title="Learning rate")
    noise: float = Field(
        1.0, ge=0.0, le=3.0, description="Standard deviation of the noise inputs", title="Noise (std. dev.)"
    )

    @field_validator("gaps")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("each gap may appear only once")
        return sorted(v)


@dataclass
class Result:
    gaps: list[int]
    window: int
    steps: int
    steps_done: int = 0
    loss_steps: list[int] = field(default_factory=list)
    loss: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in MODELS})
    # accuracy per model and gap on the final test set (filled at the end)
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    # accuracy while training on a small fixed set: model -> per checkpoint, per gap
    track_steps: list[int] = field(default_factory=list)
    track_accuracy: dict[str, list[list[float]]] = field(default_factory=lambda: {m: [] for m in MODELS})
    done: bool = False


def _batch(n: int, gaps: torch.Tensor, length: int, noise: float, g: torch.Generator):
    """n sequences [n, length, 2] with the gap of each drawn from `gaps`; labels 0/1 (sign of the signal)."""
    gap = gaps[torch.randint(len(gaps), (n,), generator=g)]
    x = torch.zeros(n, length, 2)
    x[:, :, 0] = noise * torch.randn(n, length, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    pos = length - 1 - gap
    rows = torch.arange(n)
    x[rows, pos, 0] = (2 * y - 1).float()
    x[rows, pos, 1] = 1.0
    return x, y


class _Trio(nn.Module):
    def __init__(self, window: int, hidden: int):
        super().__init__()
        self.window = window
        self.mlp = nn.Sequential(nn.Linear(2 * window, 32), nn.ReLU(), nn.Linear(32, 2))
        self.rnn = nn.RNN(2, hidden, batch_first=True)
        self.rnn_head = nn.Linear(hidden, 2)
        self.lstm = nn.LSTM(2, hidden, batch_first=True)
        self.lstm_head = nn.Linear(hidden, 2)

    def groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            "mlp": list(self.mlp.parameters()),
            "rnn": [*self.rnn.parameters(), *self.rnn_head.parameters()],
            "lstm": [*self.lstm.parameters(), *self.lstm_head.parameters()],
        }

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        w = min(self.window, x.shape[1])
        last = x[:, -w:].reshape(len(x), -1)
        if w < self.window:  # sequence shorter than the window: pad on the left
            last = F.pad(last, (2 * (self.window - w), 0))
        return {
            "mlp": self.mlp(last),
            "rnn": self.rnn_head(self.rnn(x)[0][:, -1]),
            "lstm": self.lstm_head(self.lstm(x)[0][:, -1]),
        }


def _init_(model: _Trio, hidden: int, g: torch.Generator) -> None:
    """PyTorch's default uniform initialisation, drawn from the run's own generator (not the global one)."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Linear):
                bound = mod.in_features**-0.5
            elif isinstance(mod, nn.RNNBase):
                bound = hidden**-0.5
            else:
                continue
            for p in mod.parameters(recurse=False):
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)


def _accuracy_per_gap(model: _Trio, xs: list[torch.Tensor], ys: list[torch.Tensor]) -> dict[str, list[float]]:
    with torch.no_grad():
        x = torch.cat(xs)
        out = model(x)
        y = torch.cat(ys)
        sizes = [len(t) for t in ys]
        acc: dict[str, list[float]] = {}
        for m in MODELS:
            hits = (out[m].argmax(1) == y).float().split(sizes)
            acc[m] = [float(h.mean()) for h in hits]
    return acc


def run(params: Params, ctx: RunContext) -> Result:
    dev = ctx.device
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    gaps = list(params.gaps)
    length = max(gaps) + 1
    res = Result(gaps=gaps, window=params.window, steps=params.steps)
    ctx.progress(0.0, res)

    model = _Trio(params.window, params.hidden)
    _init_(model, params.hidden, g)
    model.to(dev)
    groups = model.groups()
    opt = torch.optim.Adam(model.parameters(), lr=params.lr)
    gap_t = torch.tensor(gaps)

    track = [_batch(_TRACK_PER_GAP, gap_t[i : i + 1], length, params.noise, g) for i in range(len(gaps))]
    track_x = [x.to(dev) for x, _ in track]
    track_y = [y.to(dev) for _, y in track]
    n_checks = 10
    check_at = {round(params.steps * (i + 1) / n_checks) for i in range(n_checks)}
    report_every = max(1, params.steps // 30)

    for step in range(1, params.steps + 1):
        x, y = _batch(params.batch_size, gap_t, length, params.noise, g)
        x, y = x.to(dev), y.to(dev)
        out = model(x)
        losses = {m: F.cross_entropy(out[m], y) for m in MODELS}
        opt.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        for m in MODELS:  # clip each model on its own, so one model's gradients never rescale another's
            nn.utils.clip_grad_norm_(groups[m], 5.0)
        opt.step()
        res.steps_done = step
        if step % report_every == 0 or step == 1:
            res.loss_steps.append(step)
            for m in MODELS:
                res.loss[m].append(float(losses[m].detach()))
        if step in check_at:
            acc = _accuracy_per_gap(model, track_x, track_y)
            res.track_steps.append(step)
            for m in MODELS:
                res.track_accuracy[m].append(acc[m])
        ctx.tick(step, 0.95 * step / params.steps, lambda: res)
        if step % report_every == 0 or step == 1:
            ctx.progress(0.95 * step / params.steps, res)

    test = [_batch(_EVAL_PER_GAP, gap_t[i : i + 1], length, params.noise, g) for i in range(len(gaps))]
    res.accuracy = _accuracy_per_gap(model, [x.to(dev) for x, _ in test], [y.to(dev) for _, y in test])
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def _final_or_tracked(result: Result) -> dict[str, list[float]]:
    if result.accuracy:
        return result.accuracy
    if result.track_steps:
        return {m: result.track_accuracy[m][-1] for m in MODELS}
    return {}


def figures(result: Result) -> list[go.Figure]:
    acc = _final_or_tracked(result)
    fig = go.Figure()
    for m in MODELS:
        if m in acc:
            fig.add_trace(go.Scatter(x=result.gaps, y=acc[m], mode="lines+markers", name=LABELS[m]))
    fig.add_hline(y=0.5, line_dash="dot", annotation_text="chance")
    if result.window > min(result.gaps):
        fig.add_vrect(
            x0=min(result.gaps) - 0.5,
            x1=result.window - 0.5,
            fillcolor="green",
            opacity=0.08,
            line_width=0,
            annotation_text="signal inside the window",
        )
    fig.update_layout(
        title="Accuracy against the gap between the signal and the answer"
        + ("" if result.done else " (so far, small check set)"),
        xaxis_title="gap (noise steps after the signal)",
        yaxis_title="test accuracy",
        yaxis_range=[0.3, 1.02],
    )

    fig_loss = go.Figure()
    for m in MODELS:
        fig_loss.add_trace(go.Scatter(x=result.loss_steps, y=result.loss[m], mode="lines", name=LABELS[m]))
    fig_loss.update_layout(
        title="Training loss (cross-entropy; chance is ln 2 = 0.69)",
        xaxis_title="step",
        yaxis_title="loss",
    )

    fig_long = go.Figure()
    longest = len(result.gaps) - 1
    for m in MODELS:
        ys = [row[longest] for row in result.track_accuracy[m]]
        fig_long.add_trace(go.Scatter(x=result.track_steps, y=ys, mode="lines+markers", name=LABELS[m]))
    fig_long.update_layout(
        title=f"Accuracy at the longest gap ({result.gaps[-1]}) during training",
        xaxis_title="step",
        yaxis_title="accuracy (200 check sequences)",
        yaxis_range=[0.3, 1.02],
    )
    return [fig, fig_loss, fig_long]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"steps_done": result.steps_done, "window": result.window}
    acc = _final_or_tracked(result)
    for m in MODELS:
        if m in acc:
            out[f"{m}_acc_longest_gap"] = round(acc[m][-1], 4)
            out[f"{m}_acc_shortest_gap"] = round(acc[m][0], 4)
    return out


CLAIMS = {
    "mlp-solves-inside-window": "While the signal is inside its window, the feedforward net answers almost perfectly.",
    "mlp-chance-beyond-window": "Once the gap reaches the window, the feedforward net is at chance.",
    "lstm-remembers": "The LSTM stays well above chance at every gap beyond the window.",
    "lstm-beats-rnn-longest-gap": "At the longest gap the LSTM beats the vanilla RNN by a wide margin.",
}


def claims(result: Result) -> list[Claim]:
    if not result.accuracy:
        return []
    acc = result.accuracy
    inside = [i for i, t in enumerate(result.gaps) if t < result.window]
    outside = [i for i, t in enumerate(result.gaps) if t >= result.window]
    out: list[Claim] = []
    if inside:
        worst = min(acc["mlp"][i] for i in inside)
        out.append(
            Claim(
                "mlp-solves-inside-window",
                f"While the signal is inside its window, the feedforward net answers almost perfectly "
                f"(worst {100 * worst:.1f}%, at least 95%).",
                worst >= 0.95,
            )
        )
    if outside:
        far = max(abs(acc["mlp"][i] - 0.5) for i in outside)
        out.append(
            Claim(
                "mlp-chance-beyond-window",
                f"Once the gap reaches the window ({result.window}), the feedforward net is at chance: its "
                f"accuracy stays within {100 * far:.1f} points of 50% (allowed 7).",
                far <= 0.07,
            )
        )
        worst_lstm = min(acc["lstm"][i] for i in outside)
        out.append(
            Claim(
                "lstm-remembers",
                f"The LSTM stays well above chance at every gap beyond the window (worst "
                f"{100 * worst_lstm:.1f}%, at least 90%).",
                worst_lstm >= 0.9,
            )
        )
    diff = acc["lstm"][-1] - acc["rnn"][-1]
    out.append(
        Claim(
            "lstm-beats-rnn-longest-gap",
            f"With the same {result.steps_done} training steps, at the longest gap ({result.gaps[-1]}) the "
            f"LSTM reaches {100 * acc['lstm'][-1]:.1f}% against the vanilla RNN's {100 * acc['rnn'][-1]:.1f}% "
            f"(a lead of at least 20 points).",
            diff >= 0.2,
        )
    )
    return out
