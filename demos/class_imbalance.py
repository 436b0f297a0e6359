"""Class imbalance: a rare positive class (0.5 % by default), and three ways to find it.

The data is made in code: two overlapping Gaussian clouds in a few dimensions, the positives rare.
Three small networks train side by side in one batched computation, each step on a mini-batch:
- plain: uniform mini-batches, plain cross-entropy (it sees a positive or two per batch);
- class weights: the same batches, each positive's loss weighted by n_negative / n_positive;
- resampling: balanced mini-batches (half positives, drawn with replacement).
Threshold moving needs no training: the plain model's decision threshold is moved from 0.5 to the
one that maximises F1 on a validation split. Everything is scored on a held-out test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field

from demos._nn import BatchedLinear, cpu_generator
from demos.base import Claim, DemoParams, RunContext

VARIANTS = ("plain", "class weights", "resampling")
LR = 1e-2  # Adam


class Params(DemoParams):
    positive_rate: float = Field(
        0.005,
        ge=0.001,
        le=0.2,
        description="Share of examples that are positive.",
        title="Positive share (fraction)",
    )
    n_samples: int = Field(
        60000,
        ge=5000,
        le=200000,
        description="Examples made (split 50/25/25 into train/validation/test).",
        title="Examples",
    )
    separation: float = Field(
        3.0,
        ge=0.5,
        le=6.0,
        description="Distance between the class means, in standard deviations.",
        title="Separation (std. devs)",
    )
    n_features: int = Field(8, ge=2, le=64, description="Input dimensions.", title="Input dimensions")
    hidden: int = Field(
        32, ge=4, le=256, description="Units in the hidden layer.", title="Hidden width (units)"
    )
    batch_size: int = Field(
        512, ge=64, le=4096, description="Examples per mini-batch.", title="Batch size (examples)"
    )
    steps: int = Field(400, ge=20, le=5000, description="Adam steps.", title="Steps")


@dataclass
class Result:
    positive_rate: float
    n_train: int
    n_test: int
    n_test_pos: int
    steps_total: int
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)
    loss: list[list[float]] = field(default_factory=list)  # [V][T], training loss on the batch
    # final, on the test split; key: approach name
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # (recall, precision)
    moved_threshold: float = float("nan")
    baseline_accuracy: float = float("nan")  # always predicting negative

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and bool(self.scores)


def make_data(p: Params, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian clouds: negatives N(0, I), positives N(mu, I) with |mu| = separation."""
    rng = np.random.default_rng(seed)
    n = p.n_samples
    y = np.zeros(n, dtype=np.float32)
    y[: max(8, round(n * p.positive_rate))] = 1.0  # exactly the asked share, never an empty class
    rng.shuffle(y)
    mu = np.ones(p.n_features) * p.separation / math.sqrt(p.n_features)
    x = rng.standard_normal((n, p.n_features)).astype(np.float32) + y[:, None] * mu.astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


# ------------------------------------------------------------------------------------------ scoring


def _confusion(scores: torch.Tensor, y: torch.Tensor, threshold: float) -> dict[str, float]:
    pred = scores >= threshold
    pos = y > 0.5
    tp = int((pred & pos).sum())
    fp = int((pred & ~pos).sum())
    fn = int((~pred & pos).sum())
    tn = int((~pred & ~pos).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / len(y),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "threshold": threshold,
    }


def pr_curve(scores: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recall, precision and thresholds at every distinct score, highest threshold first."""
    order = torch.argsort(scores, descending=True)
    s, t = scores[order].numpy(), y[order].numpy()
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the end of each run of equal scores
    tp, fp = tp[last], fp[last]
    return tp / max(1.0, t.sum()), tp / (tp + fp), s[last]


def average_precision(scores: torch.Tensor, y: torch.Tensor) -> float:
    recall, precision, _ = pr_curve(scores, y)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: torch.Tensor, y: torch.Tensor) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    ranks = torch.from_numpy(
        np.argsort(np.argsort(scores.numpy(), kind="stable"), kind="stable").astype(np.float64) + 1
    )
    pos = y > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _best_f1_threshold(scores: torch.Tensor, y: torch.Tensor) -> float:
    recall, precision, thresholds = pr_curve(scores, y)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1))])


# -------------------------------------------------------------------------------------------- run


def _snapshot(r: Result) -> Result:
    return Result(
        r.positive_rate,
        r.n_train,
        r.n_test,
        r.n_test_pos,
        r.steps_total,
        r.steps_done,
        list(r.record_steps),
        [list(x) for x in r.loss],
    )


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    x, y = make_data(params, ctx.seed)
    n = len(y)
    n_tr, n_va = n // 2, n // 4
    x_tr, y_tr = x[:n_tr], y[:n_tr]
    x_va, y_va = x[n_tr : n_tr + n_va], y[n_tr : n_tr + n_va]
    x_te, y_te = x[n_tr + n_va :], y[n_tr + n_va :]
    pos_idx = torch.nonzero(y_tr > 0.5).flatten()
    neg_idx = torch.nonzero(y_tr < 0.5).flatten()
    pos_weight = len(neg_idx) / max(1, len(pos_idx))

    V = len(VARIANTS)
    g = cpu_generator(ctx.seed)
    kw = dict(same_init=True, generator=g, device=dev)
    l1 = BatchedLinear(V, params.n_features, params.hidden, **kw)
    l2 = BatchedLinear(V, params.hidden, 1, **kw)

    def forward(xb: torch.Tensor) -> torch.Tensor:
        return l2(torch.relu(l1(xb))).squeeze(-1)

    res = Result(params.positive_rate, n_tr, len(y_te), int(y_te.sum()), params.steps)
    res.loss = [[] for _ in range(V)]
    ctx.progress(0.0, _snapshot(res))
    opt = torch.optim.Adam([*l1.parameters(), *l2.parameters()], lr=LR)
    b = params.batch_size
    weights = torch.ones(V, b, device=dev)
    progress_every = max(1, params.steps // 20)
    for step in range(1, params.steps + 1):
        uni = torch.randint(0, n_tr, (b,), generator=g)
        half = b // 2
        bal = torch.cat(
            [
                pos_idx[torch.randint(0, len(pos_idx), (half,), generator=g)],
                neg_idx[torch.randint(0, len(neg_idx), (b - half,), generator=g)],
            ]
        )
        idx = torch.stack([uni, uni, bal])
        xb, yb = x_tr[idx].to(dev), y_tr[idx].to(dev)
        weights[1] = torch.where(yb[1] > 0.5, pos_weight, 1.0)
        loss_each = F.binary_cross_entropy_with_logits(forward(xb), yb, reduction="none")
        loss = (loss_each * weights).sum(1) / weights.sum(1)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        res.steps_done = step
        if step % 10 == 0 or step == params.steps:
            res.record_steps.append(step)
            for v, val in enumerate(loss.tolist()):
                res.loss[v].append(val)
        ctx.tick(step, step / params.steps, lambda: _snapshot(res))
        if step % progress_every == 0 and step < params.steps:
            ctx.progress(step / params.steps, _snapshot(res))

    with torch.no_grad():
        s_va = torch.sigmoid(forward(x_va.to(dev))).cpu()
        s_te = torch.sigmoid(forward(x_te.to(dev))).cpu()
    res.baseline_accuracy = float((y_te < 0.5).float().mean())
    for v, name in enumerate(VARIANTS):
        res.scores[name] = _confusion(s_te[v], y_te, 0.5)
        res.scores[name]["average_precision"] = average_precision(s_te[v], y_te)
        res.scores[name]["roc_auc"] = roc_auc(s_te[v], y_te)
        rec, prec, _ = pr_curve(s_te[v], y_te)
        keep = np.unique(np.linspace(0, len(rec) - 1, min(len(rec), 300)).astype(int))
        res.curves[name] = (rec[keep].tolist(), prec[keep].tolist())
    res.moved_threshold = _best_f1_threshold(s_va[0], y_va)
    res.scores["threshold moving"] = _confusion(s_te[0], y_te, res.moved_threshold)
    ctx.progress(1.0, res)
    return res


# ------------------------------------------------------------------------------------------ reading


def _key(name: str) -> str:
    return name.replace(" ", "_")


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {
        "steps": r.steps_done,
        "positive_rate": r.positive_rate,
        "n_test": r.n_test,
        "n_test_positives": r.n_test_pos,
    }
    if math.isfinite(r.baseline_accuracy):
        out["always_negative_accuracy"] = round(r.baseline_accuracy, 4)
    if math.isfinite(r.moved_threshold):
        out["moved_threshold"] = round(r.moved_threshold, 4)
    for name, s in r.scores.items():
        for k in ("accuracy", "precision", "recall", "f1", "average_precision", "roc_auc"):
            if k in s:
                out[f"{_key(name)}_{k}"] = round(float(s[k]), 4)
    return out


CLAIMS = {
    "accuracy-paradox": "A model that always answers 'negative' is about as accurate as the trained plain model.",
    "plain-model-misses-positives": "At the usual 0.5 threshold the plain model finds few of the positives.",
    "class-weights-raise-recall-lower-precision": "Class weights raise recall but lower precision.",
    "resampling-raises-recall-lower-precision": "Balanced resampling raises recall but lowers precision, like class weights.",
    "threshold-moving-raises-recall": "Moving the plain model's threshold raises recall without retraining.",
    "roc-auc-flatters-pr-does-not": "ROC AUC looks near perfect while average precision shows the false alarms.",
}


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    s = r.scores
    plain, cw, rs, tm = s["plain"], s["class weights"], s["resampling"], s["threshold moving"]
    return [
        Claim(
            "accuracy-paradox",
            f"A model that always answers 'negative' is {r.baseline_accuracy:.2%} accurate and finds no "
            f"positive; the trained plain model is {plain['accuracy']:.2%} accurate, within one point of it, "
            f"so accuracy barely tells a useless model from a useful one.",
            r.baseline_accuracy > 0.98 and abs(plain["accuracy"] - r.baseline_accuracy) < 0.01,
        ),
        Claim(
            "plain-model-misses-positives",
            f"At the usual 0.5 threshold the plain model finds only {plain['recall']:.0%} of the positives.",
            plain["recall"] < 0.6,
        ),
        Claim(
            "class-weights-raise-recall-lower-precision",
            f"Class weights raise recall from {plain['recall']:.0%} to {cw['recall']:.0%}, but only "
            f"{cw['precision']:.0%} of their alarms are real positives (the threshold-moved plain model: "
            f"{tm['precision']:.0%}).",
            cw["recall"] > plain["recall"] + 0.2 and cw["precision"] < tm["precision"],
        ),
        Claim(
            "resampling-raises-recall-lower-precision",
            f"Balanced resampling raises recall to {rs['recall']:.0%}, with precision {rs['precision']:.0%}: "
            f"the same trade as class weights, since both tell the model positives are common.",
            rs["recall"] > plain["recall"] + 0.2 and rs["precision"] < tm["precision"],
        ),
        Claim(
            "threshold-moving-raises-recall",
            f"Moving the plain model's threshold from 0.5 to {r.moved_threshold:.3f} (the best F1 on "
            f"validation data, no retraining) raises test recall from {plain['recall']:.0%} to "
            f"{tm['recall']:.0%}, with F1 {plain['f1']:.2f} -> {tm['f1']:.2f}.",
            tm["recall"] > plain["recall"] and tm["f1"] >= plain["f1"] - 0.02,
        ),
        Claim(
            "roc-auc-flatters-pr-does-not",
            f"ROC AUC looks near perfect ({plain['roc_auc']:.3f}) while average precision, the area under "
            f"the precision-recall curve, is only {plain['average_precision']:.2f}: with rare positives "
            f"the PR curve shows the false alarms that the ROC curve hides.",
            plain["roc_auc"] > 0.9 and plain["average_precision"] < plain["roc_auc"] - 0.2,
        ),
    ]


# ------------------------------------------------------------------------------------------ figures

_COLOURS = {
    "plain": "#1f77b4",
    "class weights": "#d62728",
    "resampling": "#2ca02c",
    "threshold moving": "#ff7f0e",
}


def figures(result: Result) -> list[go.Figure]:
    r = result
    f_loss = go.Figure()
    for v, name in enumerate(VARIANTS):
        if v < len(r.loss) and r.loss[v]:
            f_loss.add_trace(
                go.Scatter(x=r.record_steps, y=r.loss[v], name=name, line={"color": _COLOURS[name]})
            )
    f_loss.update_layout(
        title=f"Training loss on each mini-batch ({r.positive_rate:.1%} positives)",
        xaxis_title="step",
        yaxis_title="loss",
    )
    if not r.scores:
        return [f_loss]
    f_pr = go.Figure()
    for name, (rec, prec) in r.curves.items():
        f_pr.add_trace(
            go.Scatter(
                x=rec,
                y=prec,
                name=f"{name} (AP {r.scores[name]['average_precision']:.2f})",
                line={"color": _COLOURS[name]},
            )
        )
    for name, sc in r.scores.items():
        f_pr.add_trace(
            go.Scatter(
                x=[sc["recall"]],
                y=[sc["precision"]],
                mode="markers",
                marker={"size": 12, "color": _COLOURS[name], "symbol": "diamond"},
                name=f"{name} at threshold {sc['threshold']:.2f}",
            )
        )
    f_pr.add_hline(y=r.positive_rate, line_dash="dot", line_color="grey", annotation_text="chance")
    f_pr.update_layout(
        title="Precision-recall curves on the test split (diamonds: the operating points)",
        xaxis_title="recall",
        yaxis_title="precision",
        xaxis_range=[0, 1.02],
        yaxis_range=[0, 1.02],
    )
    f_bar = make_subplots(rows=1, cols=1)
    names = ["always negative", *r.scores]
    for metric, colour in (("accuracy", "#7f7f7f"), ("precision", "#1f77b4"), ("recall", "#d62728")):
        vals = [r.baseline_accuracy if metric == "accuracy" else 0.0]
        vals += [r.scores[n][metric] for n in r.scores]
        f_bar.add_trace(go.Bar(x=names, y=vals, name=metric, marker_color=colour))
    f_bar.add_trace(
        go.Bar(x=names, y=[0.0, *[r.scores[n]["f1"] for n in r.scores]], name="F1", marker_color="#2ca02c")
    )
    f_bar.update_layout(
        title=f"Test accuracy, precision, recall and F1 ({r.n_test_pos} positives among {r.n_test})",
        barmode="group",
        yaxis_range=[0, 1.05],
        yaxis_tickformat=".0%",
    )
    return [f_loss, f_pr, f_bar]
