"""Transfer learning: pretrain on some digit classes, learn the others from k examples each.

A small CNN first learns the digits 0-4 from all their training images. Then the digits 5-9 are learned
from only k images per class, three ways: fine-tuning (start from the pretrained convolutions, new output
layer, train everything), a linear probe (keep the pretrained convolutions frozen, train only a new
output layer) and training from scratch (same architecture, random start).

Every image is shifted by up to `jitter` pixels in a random direction, as handwriting is never perfectly
centred. Pretraining sees many shifted versions of 0-4 and learns stroke detectors that tolerate the
shift; a network learning from a handful of images has no way to learn that. (On perfectly centred 8x8
digits, raw pixels are already such a good representation that pretraining on five other classes buys
little: set jitter to 0 to see it.)

The network ends in a cosine classifier: features are scaled to unit length before the output layer,
for every method alike. The pretrained methods start their new output layer at the mean feature of each
new class (weight imprinting), and fine-tuning moves the pretrained convolutions at a tenth of the rate
of the new layer, two common ways to keep what pretraining learned; from scratch starts at random.

Fine-tuning and scratch variants, one per (method, k, repeat), train together as one batched CNN
(grouped convolutions, a batched output layer); each variant draws minibatches from its own k examples
per class. The probe's features are computed once and its output layers train as one batched linear map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from annotated_types import Ge, Le
from pydantic import Field, field_validator
from torch import nn

from demos._data import digits_split
from demos._nn import BatchedLinear, batched_accuracy, batched_cross_entropy, cpu_generator
from demos.base import Claim, DemoParams, RunContext

Method = Literal["finetune", "probe", "scratch"]
METHODS: tuple[str, ...] = ("finetune", "probe", "scratch")
LABELS = {"finetune": "fine-tuning", "probe": "linear probe", "scratch": "from scratch"}
OLD = (0, 1, 2, 3, 4)
NEW = (5, 6, 7, 8, 9)
_COS_SCALE = 10.0


class Params(DemoParams):
    shots: list[Annotated[int, Ge(1), Le(30)]] = Field(
        default=[1, 3, 10],
        min_length=2,
        max_length=6,
        description="Training images per new class (k) to compare",
        title="Images per new class (k)",
    )
    methods: list[Method] = Field(
        default=["finetune", "probe", "scratch"],
        min_length=1,
        description="How to learn the new classes",
        title="Methods",
    )
    repeats: int = Field(
        3, ge=1, le=8, description="Independent draws of the k images, averaged", title="Repeats"
    )
    jitter: int = Field(
        1, ge=0, le=2, description="Largest random shift of every image, in pixels", title="Jitter (pixels)"
    )
    channels: int = Field(
        16,
        ge=2,
        le=32,
        description="Channels of the first convolution (doubled in the second)",
        title="Channels",
    )
    pretrain_steps: int = Field(
        160, ge=10, le=5000, description="Training steps on the digits 0-4", title="Pretraining steps"
    )
    steps: int = Field(
        50, ge=10, le=2000, description="Training steps on the few images of 5-9", title="Steps"
    )
    batch_size: int = Field(
        12,
        ge=4,
        le=128,
        description="Images per step for each new-class variant",
        title="Batch size (images)",
    )
    lr: float = Field(
        3e-3, ge=1e-4, le=0.1, description="Adam learning rate on the new classes", title="Learning rate"
    )
    body_lr_factor: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Fine-tuning moves the pretrained layers at this fraction of the rate",
        title="Body learning-rate factor",
    )

    @field_validator("shots", "methods")
    @classmethod
    def _unique(cls, v: list) -> list:
        if len(set(v)) != len(v):
            raise ValueError("each entry may appear only once")
        return v

    @field_validator("shots")
    @classmethod
    def _sorted(cls, v: list[int]) -> list[int]:
        return sorted(v)


@dataclass
class Result:
    shots: list[int]
    methods: list[str]
    repeats: int
    jitter: int
    pretrain_steps: list[int] = field(default_factory=list)
    pretrain_loss: list[float] = field(default_factory=list)
    pretrain_acc: float = float("nan")  # held-out 0-4 images
    n_test: int = 0
    # method -> mean accuracy per k (over repeats), and the range (min, max) per k
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    acc_min: dict[str, list[float]] = field(default_factory=dict)
    acc_max: dict[str, list[float]] = field(default_factory=dict)
    steps_done: int = 0
    done: bool = False


def _shift(x: torch.Tensor, jitter: int, g: torch.Generator) -> torch.Tensor:
    """Shift each [1, 8, 8] image by a random (dy, dx) in [-jitter, jitter]^2, filling with zeros."""
    if jitter == 0:
        return x
    n = x.shape[0]
    padded = F.pad(x, (jitter,) * 4)
    span = 2 * jitter + 1
    dy = torch.randint(span, (n,), generator=g).to(x.device)
    dx = torch.randint(span, (n,), generator=g).to(x.device)
    out = torch.empty_like(x)
    for oy in range(span):
        for ox in range(span):
            sel = torch.nonzero((dy == oy) & (dx == ox)).flatten()
            if len(sel):
                out[sel] = padded[sel, :, oy : oy + 8, ox : ox + 8]
    return out


def _uniform_(t: torch.Tensor, fan_in: int, g: torch.Generator) -> None:
    bound = 1.0 / math.sqrt(fan_in)
    t.copy_(((torch.rand(t.shape, generator=g) * 2 - 1) * bound).to(t.device))


class _CNN(nn.Module):
    """V CNNs side by side (grouped convolutions); V=1 is an ordinary CNN. Input [V, B, 1, 8, 8]."""

    def __init__(self, v: int, c1: int, n_out: int, g: torch.Generator, dev: torch.device):
        super().__init__()
        self.v, self.c1, self.c2 = v, c1, 2 * c1
        self.conv1 = nn.Conv2d(v, v * c1, 3, padding=1, groups=v, device=dev)
        self.conv2 = nn.Conv2d(v * c1, v * self.c2, 3, padding=1, groups=v, device=dev)
        with torch.no_grad():
            for conv, fan_in in ((self.conv1, 9), (self.conv2, 9 * c1)):
                _uniform_(conv.weight, fan_in, g)
                _uniform_(conv.bias, fan_in, g)
        self.head = BatchedLinear(v, self.c2 * 4, n_out, generator=g, device=dev)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        v, b = x.shape[:2]
        h = x.reshape(v, b, 8, 8).transpose(0, 1)  # [B, V, 8, 8]: one input channel per variant
        h = F.max_pool2d(F.relu(self.conv1(h)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # [B, V*c2, 2, 2]
        h = h.reshape(b, v, self.c2 * 4).transpose(0, 1)  # [V, B, c2*4]
        return F.normalize(h, dim=-1)  # unit length: the output layer compares directions (cosine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def load_body(self, src: _CNN, which: torch.Tensor) -> None:
        """Copy src's (V=1) convolutions into the variants where `which` is True."""
        which = which.to(self.conv1.weight.device)
        with torch.no_grad():
            for mine, theirs in ((self.conv1, src.conv1), (self.conv2, src.conv2)):
                w = mine.weight.view(self.v, -1, *mine.weight.shape[1:])
                b = mine.bias.view(self.v, -1)
                w[which] = theirs.weight.unsqueeze(0)
                b[which] = theirs.bias.unsqueeze(0)


def _class_mean_head(feats: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor):
    """Output weights that start as a nearest-class-mean classifier on unit-length features.

    feats [V, N, F] (unit length), labels [V, N], counts [V] (only the first counts[v] rows are real).
    Row j of the weights is the direction of class j's mean feature, so the largest logit goes to the
    class whose mean is closest in angle ("weight imprinting").
    """
    v, n, _ = feats.shape
    real = (torch.arange(n, device=feats.device) < counts.to(feats.device)[:, None]).float()
    onehot = F.one_hot(labels, 5).float() * real[..., None]  # [V, N, 5]
    means = torch.einsum("vnc,vnf->vcf", onehot, feats) / onehot.sum(1).clamp_min(1)[..., None]
    w = F.normalize(means, dim=-1) * _COS_SCALE
    return w.transpose(1, 2), torch.zeros(v, 1, 5, device=feats.device)  # [V, F, 5], [V, 1, 5]


def total_steps(params: Params) -> int:
    """Pretraining steps, then few-shot steps (what "stopped at step N of M" counts)."""
    return params.pretrain_steps + params.steps


def run(params: Params, ctx: RunContext) -> Result:
    methods = [m for m in METHODS if m in params.methods]
    shots = list(params.shots)
    res = Result(shots=shots, methods=methods, repeats=params.repeats, jitter=params.jitter)
    ctx.progress(0.0, res)
    dev = ctx.device
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    data = digits_split(seed=ctx.seed, test_fraction=0.3, images=True)
    old_tr = torch.isin(data.y_train, torch.tensor(OLD))
    old_te = torch.isin(data.y_test, torch.tensor(OLD))
    x_old, y_old = data.x_train[old_tr].to(dev), data.y_train[old_tr].to(dev)
    xo_te = _shift(data.x_test[old_te], params.jitter, g).to(dev)
    yo_te = data.y_test[old_te].to(dev)
    # the new classes: each image gets one fixed random shift
    x_pool = _shift(data.x_train[~old_tr], params.jitter, g)
    y_pool = data.y_train[~old_tr] - 5
    xn_te = _shift(data.x_test[~old_te], params.jitter, g).to(dev)
    yn_te = (data.y_test[~old_te] - 5).to(dev)
    res.n_test = len(yn_te)
    c1 = params.channels
    share_pre = 0.35

    # 1) pretraining on 0-4, with a fresh random shift every step
    pre = _CNN(1, c1, 5, g, dev)
    opt = torch.optim.Adam(pre.parameters(), lr=3e-3)
    report = max(1, params.pretrain_steps // 10)
    for step in range(1, params.pretrain_steps + 1):
        idx = torch.randint(len(y_old), (64,), generator=g).to(dev)
        xb = _shift(x_old[idx], params.jitter, g)
        loss = F.cross_entropy(pre(xb.unsqueeze(0))[0], y_old[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ctx.tick(step, share_pre * step / params.pretrain_steps, lambda: res)
        if step % report == 0:
            res.pretrain_steps.append(step)
            res.pretrain_loss.append(float(loss.detach()))
            ctx.progress(share_pre * step / params.pretrain_steps, res)
    pre.requires_grad_(False)
    with torch.no_grad():
        res.pretrain_acc = float(batched_accuracy(pre(xo_te.unsqueeze(0)), yo_te)[0])

    # 2) the few-shot sets: one draw per (k, repeat), shared by every method
    per_class = [torch.nonzero(y_pool == c).flatten() for c in range(5)]
    draws = {
        (k, r): torch.cat([p[torch.randperm(len(p), generator=g)[:k]] for p in per_class])
        for k in shots
        for r in range(params.repeats)
    }
    combos = [(m, k, r) for m in methods for k in shots for r in range(params.repeats)]
    trained = [c for c in combos if c[0] != "probe"]
    probed = [c for c in combos if c[0] == "probe"]

    def sets(group):
        n_max = 5 * max(k for _, k, _ in group)
        xs = torch.zeros(len(group), n_max, 1, 8, 8)
        ys = torch.zeros(len(group), n_max, dtype=torch.long)
        counts = torch.zeros(len(group))
        for v, (_, k, r) in enumerate(group):
            idx = draws[(k, r)]
            xs[v, : len(idx)], ys[v, : len(idx)], counts[v] = x_pool[idx], y_pool[idx], len(idx)
        return xs.to(dev), ys.to(dev), counts

    acc: dict[tuple[str, int, int], float] = {}
    probe_head = None
    if probed:
        xs_p, ys_p, counts_p = sets(probed)
        with torch.no_grad():
            feats = pre.features(xs_p.reshape(1, -1, 1, 8, 8))[0].view(len(probed), xs_p.shape[1], -1)
            feats_te = pre.features(xn_te.unsqueeze(0))[0]  # [N, c2*4]
        mask_p = (torch.arange(xs_p.shape[1]) < counts_p[:, None]).float().to(dev)
        probe_head = BatchedLinear(len(probed), feats.shape[-1], 5, generator=g, device=dev)
        with torch.no_grad():  # start from the nearest-class-mean classifier on the pretrained features
            w, b = _class_mean_head(feats, ys_p, counts_p)
            probe_head.weight.copy_(w)
            probe_head.bias.copy_(b)
        opt_p = torch.optim.Adam(probe_head.parameters(), lr=params.lr)
    if trained:
        xs_t, ys_t, counts_t = sets(trained)
        net = _CNN(len(trained), c1, 5, g, dev)
        is_ft = torch.tensor([m == "finetune" for m, _, _ in trained], device=dev)
        net.load_body(pre, is_ft)
        if bool(is_ft.any()):
            with torch.no_grad():  # fine-tuning's new output layer also starts from the class means
                w, b = _class_mean_head(
                    pre.features(xs_t.reshape(1, -1, 1, 8, 8))[0].view(len(trained), xs_t.shape[1], -1),
                    ys_t,
                    counts_t,
                )
                net.head.weight[is_ft] = w[is_ft]
                net.head.bias[is_ft] = b[is_ft]
        opt_t = torch.optim.Adam(net.parameters(), lr=params.lr)
        rows = torch.arange(len(trained), device=dev)[:, None]
        # per-variant step size on the convolutions: fine-tuning moves them by body_lr_factor of a full step
        body = [net.conv1.weight, net.conv1.bias, net.conv2.weight, net.conv2.bias]
        step_scale = torch.where(is_ft, params.body_lr_factor, 1.0)

    def score() -> None:
        with torch.no_grad():
            if trained:
                a = batched_accuracy(net(xn_te.expand(len(trained), *xn_te.shape)), yn_te).cpu()
                acc.update({c: float(a[v]) for v, c in enumerate(trained)})
            if probed:
                a = batched_accuracy(probe_head(feats_te), yn_te).cpu()
                acc.update({c: float(a[v]) for v, c in enumerate(probed)})
        for m in methods:
            means, lo, hi = [], [], []
            for k in shots:
                vals = [acc[(m, k, r)] for r in range(params.repeats)]
                means.append(sum(vals) / len(vals))
                lo.append(min(vals))
                hi.append(max(vals))
            res.accuracy[m], res.acc_min[m], res.acc_max[m] = means, lo, hi

    report = max(1, params.steps // 15)
    score_every = max(1, params.steps // 2)  # scoring every variant on the test set is not free
    for step in range(1, params.steps + 1):
        if trained:
            pick = (torch.rand(len(trained), params.batch_size, generator=g) * counts_t[:, None]).long()
            loss = batched_cross_entropy(net(xs_t[rows, pick.to(dev)]), ys_t[rows, pick.to(dev)]).sum()
            opt_t.zero_grad(set_to_none=True)
            loss.backward()
            before = [p.detach().clone() for p in body]
            opt_t.step()
            with torch.no_grad():
                for p, old in zip(body, before, strict=True):
                    scale = step_scale.repeat_interleave(p.shape[0] // len(trained)).view(
                        -1, *([1] * (p.dim() - 1))
                    )
                    p.copy_(old + scale * (p - old))
        if probed:
            ce = F.cross_entropy(probe_head(feats).reshape(-1, 5), ys_p.reshape(-1), reduction="none").view(
                len(probed), -1
            )
            loss_p = ((ce * mask_p).sum(1) / mask_p.sum(1)).sum()
            opt_p.zero_grad(set_to_none=True)
            loss_p.backward()
            opt_p.step()
        res.steps_done = step
        ctx.tick(
            params.pretrain_steps + step,
            share_pre + (1 - share_pre) * 0.98 * step / params.steps,
            lambda: res,
        )
        if step % score_every == 0 and step < params.steps:
            score()
        if step % report == 0:
            ctx.progress(share_pre + (1 - share_pre) * 0.98 * step / params.steps, res)
    score()
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def figures(result: Result) -> list[go.Figure]:
    fig = go.Figure()
    for m in result.methods:
        acc = result.accuracy.get(m)
        if not acc:
            continue
        fig.add_trace(
            go.Scatter(
                x=result.shots,
                y=acc,
                mode="lines+markers",
                name=LABELS[m],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - a for h, a in zip(result.acc_max[m], acc, strict=True)],
                    "arrayminus": [a - lo for lo, a in zip(result.acc_min[m], acc, strict=True)],
                },
            )
        )
    fig.add_hline(y=0.2, line_dash="dot", annotation_text="chance (5 classes)")
    fig.update_layout(
        title=f"New classes 5-9 from k images each (mean of {result.repeats} draws; bars: lowest to highest)"
        + ("" if result.done else " - training"),
        xaxis_title="training images per new class (k, log scale)",
        xaxis_type="log",
        yaxis_title="test accuracy on 5-9",
    )
    fig_pre = go.Figure(go.Scatter(x=result.pretrain_steps, y=result.pretrain_loss, mode="lines+markers"))
    held = "" if math.isnan(result.pretrain_acc) else f" (held-out accuracy {100 * result.pretrain_acc:.1f}%)"
    fig_pre.update_layout(
        title=f"Pretraining on the digits 0-4, images shifted by up to {result.jitter} px{held}",
        xaxis_title="step",
        yaxis_title="minibatch cross-entropy",
    )
    return [fig, fig_pre]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"n_test_new": result.n_test, "steps_done": result.steps_done}
    if not math.isnan(result.pretrain_acc):
        out["pretrain_acc_0_4"] = round(result.pretrain_acc, 4)
    for m, acc in result.accuracy.items():
        out[f"{m}_acc_k{result.shots[0]}"] = round(acc[0], 4)
        out[f"{m}_acc_k{result.shots[-1]}"] = round(acc[-1], 4)
    return out


CLAIMS = {
    "finetune-beats-scratch-few-shot": "With the fewest images, fine-tuning beats training from scratch.",
    "probe-beats-scratch-few-shot": "With the fewest images, a linear probe beats training from scratch.",
    "finetune-gains-with-k": "Fine-tuning improves with more images per class.",
    "probe-gains-with-k": "A linear probe improves with more images per class.",
    "scratch-gains-with-k": "Training from scratch improves with more images per class.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    ms, out = list(params.methods), []
    if "scratch" in ms:
        out += [f"{m}-beats-scratch-few-shot" for m in ("finetune", "probe") if m in ms]
    return [*out, *(f"{m}-gains-with-k" for m in ms)]


def claims(result: Result) -> list[Claim]:
    if not result.done:
        return []
    acc = result.accuracy
    k0, k1 = result.shots[0], result.shots[-1]
    out: list[Claim] = []
    if "scratch" in acc:
        for m in ("finetune", "probe"):
            if m in acc:
                lead = acc[m][0] - acc["scratch"][0]
                out.append(
                    Claim(
                        f"{m}-beats-scratch-few-shot",
                        f"With {k0} image(s) per new class, {LABELS[m]} reaches {100 * acc[m][0]:.1f}% against "
                        f"{100 * acc['scratch'][0]:.1f}% from scratch (ahead by {100 * lead:.1f} points; at least 5).",
                        lead >= 0.05,
                    )
                )
    for m in acc:
        out.append(
            Claim(
                f"{m}-gains-with-k",
                f"{LABELS[m].capitalize()} improves with more images: {100 * acc[m][0]:.1f}% at k={k0}, "
                f"{100 * acc[m][-1]:.1f}% at k={k1}.",
                acc[m][-1] > acc[m][0],
            )
        )
    return out
