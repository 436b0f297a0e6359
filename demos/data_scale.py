"""How much data: deep models against classical ones as the training set grows.

On scikit-learn's 8x8 digits, four models learn from nested, class-balanced training sets of growing
size and are scored on the same held-out test set: logistic regression and a random forest from
scikit-learn, and an MLP and a small CNN in torch. The torch models for every training-set size train
together: each size is one variant with its own weights (batched linear layers; grouped convolutions
for the CNN), every step draws a minibatch for each variant from that variant's own training set, and
one optimizer step covers them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from annotated_types import Ge, Le
from pydantic import Field, field_validator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits
from torch import nn

from demos._data import digits_split
from demos._nn import BatchedLinear, batched_accuracy, batched_cross_entropy, cpu_generator
from demos.base import Claim, DemoParams, RunContext

MODELS = ("logreg", "forest", "mlp", "cnn")
LABELS = {"logreg": "logistic regression", "forest": "random forest", "mlp": "MLP", "cnn": "small CNN"}
CLASSICAL = ("logreg", "forest")
DEEP = ("mlp", "cnn")
_MAX_TRAIN = 1300  # the rest of the 1797 digits (497) is the test set


class Params(DemoParams):
    sizes: list[Annotated[int, Ge(10), Le(_MAX_TRAIN)]] = Field(
        default=[20, 60, 200, 600, 1300],
        min_length=2,
        max_length=8,
        description="Training-set sizes to compare (nested, balanced across the ten classes)",
        title="Training-set sizes (examples)",
    )
    steps: int = Field(
        220, ge=20, le=3000, description="Training steps for the MLP and the CNN", title="Steps"
    )
    batch_size: int = Field(
        32, ge=8, le=256, description="Minibatch size for the MLP and the CNN", title="Batch size (examples)"
    )
    lr: float = Field(
        5e-3, ge=1e-4, le=0.1, description="Adam learning rate for the MLP and the CNN", title="Learning rate"
    )
    hidden: int = Field(
        128, ge=8, le=512, description="Hidden units of the MLP", title="Hidden width (units)"
    )
    channels: int = Field(
        16,
        ge=2,
        le=64,
        description="Channels of the CNN's first convolution (doubled in the second)",
        title="CNN channels",
    )
    trees: int = Field(20, ge=5, le=500, description="Trees in the random forest", title="Trees")

    @field_validator("sizes")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("each size may appear only once")
        return sorted(v)


@dataclass
class Result:
    sizes: list[int]
    n_test: int = 0
    # model -> accuracy per size (filled as each model finishes; missing sizes are absent)
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    steps_done: int = 0
    steps: int = 0
    done: bool = False


def _balanced_order(y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """An order of the indices of y whose every prefix is as balanced across classes as possible."""
    classes = torch.unique(y)
    per_class = [torch.nonzero(y == c).flatten() for c in classes]
    per_class = [p[torch.randperm(len(p), generator=g)] for p in per_class]
    order: list[int] = []
    for i in range(max(len(p) for p in per_class)):
        for c in torch.randperm(len(classes), generator=g).tolist():
            if i < len(per_class[c]):
                order.append(int(per_class[c][i]))
    return torch.tensor(order, dtype=torch.long)


class _BatchedCNN(nn.Module):
    """V small CNNs side by side: grouped convolutions keep each variant's channels separate."""

    def __init__(self, n_variants: int, channels: int, g: torch.Generator):
        super().__init__()
        v, c1, c2 = n_variants, channels, 2 * channels
        self.v, self.c2 = v, c2
        self.conv1 = nn.Conv2d(v, v * c1, 3, padding=1, groups=v)
        self.conv2 = nn.Conv2d(v * c1, v * c2, 3, padding=1, groups=v)
        with torch.no_grad():
            for conv, fan_in in ((self.conv1, 9), (self.conv2, 9 * c1)):
                bound = 1.0 / math.sqrt(fan_in)
                conv.weight.copy_((torch.rand(conv.weight.shape, generator=g) * 2 - 1) * bound)
                conv.bias.copy_((torch.rand(conv.bias.shape, generator=g) * 2 - 1) * bound)
        self.head = BatchedLinear(v, c2 * 4, 10, generator=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x [V, B, 64] -> logits [V, B, 10]
        v, b = x.shape[:2]
        h = x.reshape(v, b, 8, 8).transpose(0, 1)  # [B, V, 8, 8]: one input channel per variant
        h = F.max_pool2d(F.relu(self.conv1(h)), 2)  # [B, V*c1, 4, 4]
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # [B, V*c2, 2, 2]
        h = h.reshape(b, v, self.c2 * 4).transpose(0, 1)
        return self.head(h)


class _BatchedMLP(nn.Module):
    def __init__(self, n_variants: int, hidden: int, g: torch.Generator):
        super().__init__()
        self.l1 = BatchedLinear(n_variants, 64, hidden, generator=g)
        self.l2 = BatchedLinear(n_variants, hidden, 10, generator=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.l2(F.relu(self.l1(x)))


TREE_CHUNK = 25


def run(params: Params, ctx: RunContext) -> Result:
    sizes = list(params.sizes)
    res = Result(sizes=sizes, steps=params.steps)
    ctx.progress(0.0, res)
    dev = ctx.device
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    data = digits_split(n_train=_MAX_TRAIN, seed=ctx.seed)  # on the CPU; moved below
    order = _balanced_order(data.y_train, g)
    x_pool, y_pool = data.x_train[order], data.y_train[order]
    res.n_test = len(data.y_test)

    # classical models (scikit-learn, CPU), one fit per size; BLAS limited to one thread
    x_np, y_np = x_pool.numpy(), y_pool.numpy()
    xte_np, yte_np = data.x_test.numpy(), data.y_test.numpy()
    n_fits = 2 * len(sizes)
    classical_share = 0.3
    with threadpool_limits(limits=1, user_api="blas"):
        for k, name in enumerate(CLASSICAL):
            res.accuracy[name] = []
            for i, n in enumerate(sizes):
                if name == "logreg":
                    model = LogisticRegression(C=1.0, max_iter=500)
                    model.fit(x_np[:n], y_np[:n])
                else:
                    # grown TREE_CHUNK trees at a time (warm start gives the very trees one fit would),
                    # so a stop lands between chunks rather than after a forest of 500
                    model = RandomForestClassifier(
                        n_estimators=0, random_state=ctx.seed, n_jobs=1, warm_start=True
                    )
                    while model.n_estimators < params.trees:
                        ctx.check()
                        model.n_estimators = min(params.trees, model.n_estimators + TREE_CHUNK)
                        model.fit(x_np[:n], y_np[:n])
                res.accuracy[name].append(float(np.mean(model.predict(xte_np) == yte_np)))
                ctx.progress(classical_share * (k * len(sizes) + i + 1) / n_fits, res)

    # torch models: one variant per size, all trained together
    V = len(sizes)
    mlp = _BatchedMLP(V, params.hidden, g).to(dev)
    cnn = _BatchedCNN(V, params.channels, g).to(dev)
    opt = torch.optim.Adam([*mlp.parameters(), *cnn.parameters()], lr=params.lr)
    x_pool_d, y_pool_d = x_pool.to(dev), y_pool.to(dev)
    n_per_variant = torch.tensor(sizes, dtype=torch.float32)
    # the rate decays linearly to zero, so the final weights do not jitter with the last minibatches
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0 - i / params.steps)
    report_every = max(1, params.steps // 25)
    for step in range(1, params.steps + 1):
        idx = (torch.rand(V, params.batch_size, generator=g) * n_per_variant[:, None]).long().to(dev)
        xb, yb = x_pool_d[idx], y_pool_d[idx]  # [V, B, 64], [V, B]
        loss = batched_cross_entropy(mlp(xb), yb).sum() + batched_cross_entropy(cnn(xb), yb).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        res.steps_done = step
        ctx.tick(step, classical_share + (1 - classical_share) * 0.97 * step / params.steps, lambda: res)
        if step % report_every == 0:
            ctx.progress(classical_share + (1 - classical_share) * 0.97 * step / params.steps, res)

    with torch.no_grad():
        xte = data.x_test.to(dev).expand(V, -1, -1)
        yte = data.y_test.to(dev)
        res.accuracy["mlp"] = [float(a) for a in batched_accuracy(mlp(xte), yte)]
        res.accuracy["cnn"] = [float(a) for a in batched_accuracy(cnn(xte), yte)]
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def _complete(result: Result, name: str) -> bool:
    return len(result.accuracy.get(name, [])) == len(result.sizes)


def figures(result: Result) -> list[go.Figure]:
    fig = go.Figure()
    for m in MODELS:
        acc = result.accuracy.get(m, [])
        if acc:
            fig.add_trace(
                go.Scatter(
                    x=result.sizes[: len(acc)],
                    y=acc,
                    mode="lines+markers",
                    name=LABELS[m],
                    line={"dash": "dot" if m in CLASSICAL else "solid"},
                )
            )
    fig.update_layout(
        title=f"Test accuracy against training-set size (digits, {result.n_test} test images)",
        xaxis_title="training examples (log scale)",
        xaxis_type="log",
        yaxis_title="test accuracy",
    )

    fig_gap = go.Figure()
    if all(_complete(result, m) for m in MODELS):
        best_classical = [max(result.accuracy[m][i] for m in CLASSICAL) for i in range(len(result.sizes))]
        for m in DEEP:
            fig_gap.add_trace(
                go.Bar(
                    x=[str(s) for s in result.sizes],
                    y=[100 * (a - b) for a, b in zip(result.accuracy[m], best_classical, strict=True)],
                    name=LABELS[m],
                )
            )
    fig_gap.add_hline(y=0, line_dash="dot")
    fig_gap.update_layout(
        title="Deep model minus the better classical model, per training-set size",
        xaxis_title="training examples",
        yaxis_title="accuracy difference (points)",
        barmode="group",
    )
    return [fig, fig_gap]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"n_test": result.n_test, "steps_done": result.steps_done}
    for m in MODELS:
        acc = result.accuracy.get(m, [])
        if acc:
            out[f"{m}_acc_smallest"] = round(acc[0], 4)
        if len(acc) == len(result.sizes):
            out[f"{m}_acc_largest"] = round(acc[-1], 4)
    if all(_complete(result, m) for m in MODELS):
        out["best_at_largest"] = max(MODELS, key=lambda m: result.accuracy[m][-1])
        out["best_at_smallest"] = max(MODELS, key=lambda m: result.accuracy[m][0])
    return out


CLAIMS = {
    "every-model-gains": "Every model is more accurate with the largest training set than with the smallest.",
    "classical-competitive-small": "With the fewest examples the classical models hold their own against the deep ones.",
    "cnn-near-top-large": "With the most examples the CNN is at or near the top.",
    "models-converge-with-data": "More data narrows the differences between models.",
}


def claims(result: Result) -> list[Claim]:
    if not all(_complete(result, m) for m in MODELS):
        return []
    acc = result.accuracy
    small, large = result.sizes[0], result.sizes[-1]
    out: list[Claim] = []
    gains = {m: acc[m][-1] - acc[m][0] for m in MODELS}
    least = min(gains, key=lambda m: gains[m])
    out.append(
        Claim(
            "every-model-gains",
            f"Every model is more accurate with {large} training examples than with {small}; the smallest gain "
            f"({LABELS[least]}) is {100 * gains[least]:.1f} points (at least 5).",
            gains[least] >= 0.05,
        )
    )
    best_classical = max(acc[m][0] for m in CLASSICAL)
    best_deep = max(acc[m][0] for m in DEEP)
    out.append(
        Claim(
            "classical-competitive-small",
            f"With only {small} examples the classical models hold their own: the better one scores "
            f"{100 * best_classical:.1f}% against the better deep model's {100 * best_deep:.1f}% "
            f"(no more than 3 points behind).",
            best_classical >= best_deep - 0.03,
        )
    )
    top = max(acc[m][-1] for m in MODELS)
    leader = max(MODELS, key=lambda m: acc[m][-1])
    out.append(
        Claim(
            "cnn-near-top-large",
            f"With {large} examples the CNN ({100 * acc['cnn'][-1]:.1f}%) is at or near the top: within 2 points "
            f"of the best model ({LABELS[leader]}, {100 * top:.1f}%).",
            acc["cnn"][-1] >= top - 0.02,
        )
    )
    spread_small = max(acc[m][0] for m in MODELS) - min(acc[m][0] for m in MODELS)
    spread_large = max(acc[m][-1] for m in MODELS) - min(acc[m][-1] for m in MODELS)
    out.append(
        Claim(
            "models-converge-with-data",
            f"More data narrows the differences between models: the spread from worst to best is "
            f"{100 * spread_small:.1f} points at {small} examples and {100 * spread_large:.1f} at {large}.",
            spread_large < spread_small,
        )
    )
    return out
