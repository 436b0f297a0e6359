"""Pooling and shift tolerance: what max, average and global pooling do to feature maps, parameter
counts and accuracy when the test digits are moved a few pixels.

Every variant is the same small CNN on scikit-learn's 8x8 digits, each placed on a 12x12 canvas (a
2-pixel empty border, so small shifts lose no ink):

    conv 3x3 (1 -> 8) -> ReLU -> [pool] -> conv 3x3 (8 -> 8) -> ReLU -> [pool] -> linear -> 10 classes

where [pool] is a 2x2 max pool ("max"), a 2x2 average pool ("avg") or nothing ("none"); "global_max"
has no pooling after the first conv and takes the maximum of each channel over the whole map after
the second. The variants train together: the first conv of all variants is one convolution with
V x 8 output channels, the later layers run per variant (their maps differ in size), the per-variant
losses are summed and one Adam step updates everything (Adam is element-wise, so the variants stay
independent).

Training sees unshifted digits only. Testing moves each test digit by 0..4 pixels in one of the four
directions (picked at random once per digit, the same direction at every distance), filling with
zeros. The `shift` knob picks the distance the headline numbers and claims use.
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

from demos._data import digits_split
from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext

Pool = Literal["max", "avg", "none", "global_max"]

CANVAS_PAD = 2  # empty pixels around each 8x8 digit
SIDE = 8 + 2 * CANVAS_PAD  # 12
CHANNELS = 8
STEPS = 90
BATCH = 64
LR = 0.015
MAX_SHIFT = 4
SHIFTS = list(range(MAX_SHIFT + 1))
N_PROGRESS = 15

_LABELS = {
    "max": "2x2 max pool",
    "avg": "2x2 average pool",
    "none": "no pooling",
    "global_max": "global max pool",
}
_COLOURS = {"max": "#1f77b4", "avg": "#2ca02c", "none": "#d62728", "global_max": "#9467bd"}


class Params(DemoParams):
    pools: list[Pool] = Field(
        default=["max", "avg", "none", "global_max"],
        min_length=1,
        description="Pooling variants of the same small CNN, trained side by side in one computation.",
        title="Pooling variants",
    )
    n_train: int = Field(
        1000,
        ge=100,
        le=1500,
        description="Training digits (stratified); the remaining digits are the test set.",
        title="Training examples",
    )
    shift: int = Field(
        2,
        ge=0,
        le=MAX_SHIFT,
        description="Pixels the test digits are moved by for the headline numbers and claims.",
        title="Test shift (pixels)",
    )

    @field_validator("pools")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each pooling type may be listed once")
        return v


@dataclass
class Result:
    pools: list[str]
    shift: int
    n_train: int
    n_test: int
    steps_total: int
    steps_done: int = 0
    loss_steps: list[int] = field(default_factory=list)
    train_loss: list[list[float]] = field(default_factory=list)  # [V][T]
    shifts: list[int] = field(default_factory=list)  # filled at the end
    shift_acc: list[list[float]] = field(default_factory=list)  # [V][len(shifts)]
    # One test digit traced through every variant: input and a channel's map at each stage.
    sample_input: list[list[float]] = field(default_factory=list)
    sample_label: int = -1
    sample_channels: list[list[int]] = field(default_factory=list)  # [V] (conv1 channel, conv2 channel)
    sample_maps: list[dict[str, list[list[float]]]] = field(default_factory=list)  # [V] stage -> map
    # Shapes [C, H, W] at each stage, per variant, measured from real tensors.
    stage_shapes: list[dict[str, list[int]]] = field(default_factory=list)
    feature_size: list[int] = field(default_factory=list)  # [V] values entering the classifier
    param_count: list[int] = field(default_factory=list)  # [V]
    head_params: list[int] = field(default_factory=list)  # [V]

    @property
    def done(self) -> bool:
        return bool(self.shift_acc) and self.steps_done >= self.steps_total


# ----------------------------------------------------------------------------------------- model

_STAGES = ("conv1", "pool1", "conv2", "pool2")


class _Net(torch.nn.Module):
    def __init__(self, pools: list[str], g: torch.Generator, device: torch.device):
        super().__init__()
        self.pools = pools
        V, C = len(pools), CHANNELS

        def he(*shape: int, fan_in: int) -> torch.nn.Parameter:
            return torch.nn.Parameter((torch.randn(shape, generator=g) * math.sqrt(2.0 / fan_in)).to(device))

        self.w1 = he(V * C, 1, 3, 3, fan_in=9)
        self.b1 = torch.nn.Parameter(torch.zeros(V * C, device=device))
        self.w2 = he(V, C, C, 3, 3, fan_in=9 * C)
        self.b2 = torch.nn.Parameter(torch.zeros(V, C, device=device))
        self.heads = torch.nn.ParameterList()
        for p in pools:
            d = _feature_size(p)
            w = torch.randn(d, 10, generator=g) / math.sqrt(d)
            self.heads.append(torch.nn.Parameter(w.to(device)))
        self.hb = torch.nn.Parameter(torch.zeros(V, 10, device=device))

    @staticmethod
    def _pool(h: torch.Tensor, p: str) -> torch.Tensor:
        if p == "max":
            return F.max_pool2d(h, 2)
        if p == "avg":
            return F.avg_pool2d(h, 2)
        return h

    def forward(self, x: torch.Tensor, keep: list[dict[str, torch.Tensor]] | None = None) -> torch.Tensor:
        """x [B, 1, 12, 12] -> logits [V, B, 10]. `keep` collects each variant's stage tensors."""
        B, C = x.shape[0], CHANNELS
        h1 = F.relu(F.conv2d(x, self.w1, self.b1, padding=1)).view(B, len(self.pools), C, SIDE, SIDE)
        outs = []
        for v, p in enumerate(self.pools):
            a = h1[:, v]
            b = self._pool(a, p)
            c = F.relu(F.conv2d(b, self.w2[v], self.b2[v], padding=1))
            d = c.amax(dim=(2, 3), keepdim=True) if p == "global_max" else self._pool(c, p)
            if keep is not None:
                keep.append(dict(zip(_STAGES, (a, b, c, d), strict=True)))
            outs.append(d.flatten(1) @ self.heads[v] + self.hb[v])
        return torch.stack(outs)


def _feature_size(p: str) -> int:
    if p == "global_max":
        return CHANNELS
    side = SIDE // 4 if p in ("max", "avg") else SIDE
    return CHANNELS * side * side


def _param_counts(p: str) -> tuple[int, int]:
    conv = (CHANNELS * 9 + CHANNELS) + (CHANNELS * CHANNELS * 9 + CHANNELS)
    head = _feature_size(p) * 10 + 10
    return conv + head, head


def shift_images(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Move images [..., H, W] right by dx and down by dy pixels (negative: left/up), zero-filled."""
    H, W = x.shape[-2], x.shape[-1]
    out = torch.zeros_like(x)
    if abs(dx) >= W or abs(dy) >= H:
        return out
    out[..., max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = x[
        ..., max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
    ]
    return out


_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _shifted(x: torch.Tensor, directions: torch.Tensor, s: int) -> torch.Tensor:
    out = x.clone()
    for k, (ux, uy) in enumerate(_DIRECTIONS):
        m = directions == k
        if bool(m.any()):
            out[m] = shift_images(x[m], ux * s, uy * s)
    return out


def _to_list(t: torch.Tensor) -> list[list[float]]:
    return [[round(float(v), 4) for v in row] for row in t.detach().cpu().tolist()]


def _trace_sample(net: _Net, x: torch.Tensor, res: Result) -> None:
    """Record stage shapes and, per variant, the most active channel of each conv through its pooling."""
    keep: list[dict[str, torch.Tensor]] = []
    with torch.no_grad():
        net(x, keep)
    res.stage_shapes = [{k: list(t.shape[1:]) for k, t in stages.items()} for stages in keep]
    res.sample_channels, res.sample_maps = [], []
    for stages in keep:
        c1 = int(torch.argmax(stages["conv1"][0].flatten(1).sum(1)))
        c2 = int(torch.argmax(stages["conv2"][0].flatten(1).sum(1)))
        res.sample_channels.append([c1, c2])
        chans = {"conv1": c1, "pool1": c1, "conv2": c2, "pool2": c2}
        res.sample_maps.append({k: _to_list(t[0, chans[k]]) for k, t in stages.items()})


def _snapshot(r: Result) -> Result:
    return replace(
        r,
        loss_steps=list(r.loss_steps),
        train_loss=[list(x) for x in r.train_loss],
        shifts=list(r.shifts),
        shift_acc=[list(x) for x in r.shift_acc],
        sample_maps=list(r.sample_maps),
        sample_channels=list(r.sample_channels),
        stage_shapes=list(r.stage_shapes),
    )


def total_steps(params: Params) -> int:
    return STEPS


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    pools = list(params.pools)
    V = len(pools)
    res = Result(pools, params.shift, params.n_train, 0, STEPS)
    res.train_loss = [[] for _ in range(V)]
    ctx.progress(0.0, _snapshot(res))  # before any slow work (loading the digits, first convolutions)

    data = digits_split(params.n_train, seed=ctx.seed, images=True)
    pad = (CANVAS_PAD,) * 4
    x_tr = F.pad(data.x_train, pad).to(dev)
    y_tr = data.y_train.to(dev)
    x_te = F.pad(data.x_test, pad).to(dev)
    y_te = data.y_test.to(dev)

    net = _Net(pools, g, dev)
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    res.n_train, res.n_test = len(y_tr), len(y_te)
    res.sample_input = _to_list(x_te[0, 0])
    res.sample_label = int(y_te[0])
    res.param_count = [_param_counts(p)[0] for p in pools]
    res.head_params = [_param_counts(p)[1] for p in pools]
    res.feature_size = [_feature_size(p) for p in pools]
    _trace_sample(net, x_te[:1], res)
    ctx.progress(0.01, _snapshot(res))

    every = max(1, STEPS // N_PROGRESS)
    for step in range(STEPS):
        idx = torch.randint(0, len(y_tr), (BATCH,), generator=g).to(dev)
        logits = net(x_tr[idx])
        loss_v = (
            F.cross_entropy(logits.reshape(V * BATCH, 10), y_tr[idx].repeat(V), reduction="none")
            .view(V, BATCH)
            .mean(1)
        )
        opt.zero_grad(set_to_none=True)
        loss_v.sum().backward()
        opt.step()
        res.steps_done = step + 1
        res.loss_steps.append(step + 1)
        for v, lv in enumerate(loss_v.detach().cpu().tolist()):
            res.train_loss[v].append(lv)
        ctx.tick(res.steps_done, 0.9 * res.steps_done / STEPS, lambda: _snapshot(res))
        if res.steps_done % every == 0 or res.steps_done == STEPS:
            _trace_sample(net, x_te[:1], res)
            ctx.progress(0.9 * res.steps_done / STEPS, _snapshot(res))

    directions = torch.randint(0, 4, (len(y_te),), generator=g).to(dev)
    acc: list[list[float]] = [[] for _ in range(V)]
    with torch.no_grad():
        for s in SHIFTS:
            a = (net(_shifted(x_te, directions, s)).argmax(-1) == y_te).float().mean(1)
            for v, av in enumerate(a.cpu().tolist()):
                acc[v].append(av)
            res.shifts = SHIFTS[: s + 1]
            res.shift_acc = [list(x) for x in acc]
            ctx.progress(0.9 + 0.1 * (s + 1) / len(SHIFTS), _snapshot(res))
    return res


# -------------------------------------------------------------------------------------- reading


def accuracy_at(r: Result, shift: int) -> dict[str, float]:
    """Test accuracy per pooling type at a shift, once measured."""
    if shift not in r.shifts:
        return {}
    i = r.shifts.index(shift)
    return {p: a[i] for p, a in zip(r.pools, r.shift_acc, strict=False) if len(a) > i}


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"steps": r.steps_done, "shift": r.shift, "n_test": r.n_test}
    clean, moved = accuracy_at(r, 0), accuracy_at(r, r.shift)
    for v, p in enumerate(r.pools):
        out[f"{p}_params"] = r.param_count[v] if v < len(r.param_count) else 0
        out[f"{p}_features"] = r.feature_size[v] if v < len(r.feature_size) else 0
        if p in clean:
            out[f"{p}_test_acc"] = round(clean[p], 4)
        if p in moved:
            out[f"{p}_test_acc_shift_{r.shift}"] = round(moved[p], 4)
            if clean.get(p, 0) > 0:
                out[f"{p}_kept_fraction"] = round(moved[p] / clean[p], 4)
    return out


def _fmt_shape(s: list[int]) -> str:
    return "x".join(str(v) for v in s)


CLAIMS = {
    "pooling-quarters-feature-map": "Each 2x2 pooling step (stride 2) keeps a quarter of the feature map's values.",
    "global-max-tolerates-shift-better-than-max": "On shifted test digits, global max pooling scores higher than 2x2 max pooling.",
    "max-pool-tolerates-shift-better-than-none": "On shifted test digits, 2x2 max pooling scores higher than no pooling.",
    "all-variants-learn-unshifted-digits": "Every variant beats chance by far on unshifted test digits.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    pools, out = set(params.pools), []
    if pools & {"max", "avg"}:
        out.append("pooling-quarters-feature-map")
    if params.shift >= 1 and {"global_max", "max"} <= pools:
        out.append("global-max-tolerates-shift-better-than-max")
    if params.shift >= 1 and {"max", "none"} <= pools:
        out.append("max-pool-tolerates-shift-better-than-none")
    return [*out, "all-variants-learn-unshifted-digits"]


def claims(result: Result) -> list[Claim]:
    r = result
    out: list[Claim] = []
    quartered, details = [], []
    for p, shapes in zip(r.pools, r.stage_shapes, strict=False):
        if p not in ("max", "avg"):
            continue
        for before, after in (("conv1", "pool1"), ("conv2", "pool2")):
            n_in, n_out = math.prod(shapes[before]), math.prod(shapes[after])
            quartered.append(n_in == 4 * n_out)
            details.append(f"{p}: {_fmt_shape(shapes[before])} -> {_fmt_shape(shapes[after])}")
    if quartered:
        out.append(
            Claim(
                "pooling-quarters-feature-map",
                "Each 2x2 pooling step (stride 2) keeps a quarter of the feature map's values: "
                + "; ".join(details)
                + ".",
                all(quartered),
            )
        )
    s = r.shift
    acc = accuracy_at(r, s)
    if s >= 1 and "global_max" in acc and "max" in acc:
        out.append(
            Claim(
                "global-max-tolerates-shift-better-than-max",
                f"On test digits moved by {s} pixels, global max pooling scores higher than 2x2 max pooling "
                f"({acc['global_max']:.1%} against {acc['max']:.1%}).",
                acc["global_max"] > acc["max"],
            )
        )
    if s >= 1 and "max" in acc and "none" in acc:
        out.append(
            Claim(
                "max-pool-tolerates-shift-better-than-none",
                f"On test digits moved by {s} pixels, 2x2 max pooling scores higher than no pooling "
                f"({acc['max']:.1%} against {acc['none']:.1%}).",
                acc["max"] > acc["none"],
            )
        )
    clean = accuracy_at(r, 0)
    if clean:
        worst_p = min(clean, key=lambda p: clean[p])
        out.append(
            Claim(
                "all-variants-learn-unshifted-digits",
                f"Every variant beats chance (10%) by far on unshifted test digits: the lowest is "
                f"{_LABELS[worst_p]} at {clean[worst_p]:.1%} (above 50%).",
                clean[worst_p] > 0.5,
            )
        )
    return out


# ------------------------------------------------------------------------------------- figures


def _heatmap(z: list[list[float]], zmax: float) -> go.Heatmap:
    return go.Heatmap(
        z=z,
        colorscale="Viridis",
        zmin=0.0,
        zmax=max(zmax, 1e-6),
        showscale=False,
        hovertemplate="%{z:.3f}<extra></extra>",
    )


def figures(result: Result) -> list[go.Figure]:
    r = result
    figs: list[go.Figure] = []

    # 1. One test digit traced through each variant.
    titles = ["input digit (12x12 canvas)"] + [""] * 3
    rows = max(len(r.sample_maps), 1)
    stage_names = ("after conv 1", "after pooling 1", "after conv 2", "after pooling 2")
    sub_titles = []
    for v in range(rows):
        p = r.pools[v] if v < len(r.pools) else ""
        shapes = r.stage_shapes[v] if v < len(r.stage_shapes) else {}
        sub_titles.append(titles[0] if v == 0 else "")
        for k, name in zip(_STAGES, stage_names, strict=True):
            shape = shapes.get(k)
            size = f" {shape[1]}x{shape[2]}" if shape else ""
            sub_titles.append(f"{p}: {name}{size}")
    f1 = make_subplots(
        rows=rows, cols=5, subplot_titles=sub_titles, horizontal_spacing=0.03, vertical_spacing=0.08
    )
    if r.sample_input:
        f1.add_trace(_heatmap(r.sample_input, 1.0), row=1, col=1)
    for v, maps in enumerate(r.sample_maps):
        zmax = max((max(max(row) for row in m) for m in maps.values() if m), default=1.0)
        for j, k in enumerate(_STAGES):
            if k in maps:
                f1.add_trace(_heatmap(maps[k], zmax), row=v + 1, col=j + 2)
    f1.update_xaxes(showticklabels=False)
    f1.update_yaxes(showticklabels=False, autorange="reversed")
    f1.update_layout(
        title=f"A test digit (label {r.sample_label}) through each variant: the most active channel of "
        f"each conv, step {r.steps_done}",
        height=max(260, 190 * rows),
        margin={"t": 90},
    )
    f1.update_annotations(font_size=11)
    figs.append(f1)

    # 2. Test accuracy against shift.
    f2 = go.Figure()
    for p, accs in zip(r.pools, r.shift_acc, strict=False):
        f2.add_trace(
            go.Scatter(
                x=r.shifts[: len(accs)],
                y=accs,
                mode="lines+markers",
                name=_LABELS.get(p, p),
                line={"color": _COLOURS.get(p)},
            )
        )
    f2.add_hline(y=0.1, line_dash="dot", annotation_text="chance", line_color="grey")
    f2.add_vline(x=r.shift, line_dash="dash", line_color="grey", annotation_text="headline shift")
    f2.update_layout(
        title="Test accuracy when the test digits are moved (trained on unmoved digits)",
        xaxis_title="shift (pixels)",
        yaxis_title="test accuracy",
        yaxis_range=[0, 1.02],
        xaxis_range=[-0.2, MAX_SHIFT + 0.2],
    )
    figs.append(f2)

    # 3. Feature sizes and parameter counts.
    names = [_LABELS.get(p, p) for p in r.pools]
    colours = [_COLOURS.get(p) for p in r.pools]
    f3 = make_subplots(
        rows=1, cols=2, subplot_titles=("Values entering the classifier", "Trainable parameters (all layers)")
    )
    f3.add_trace(
        go.Bar(x=names, y=r.feature_size, marker_color=colours, text=r.feature_size, showlegend=False), 1, 1
    )
    f3.add_trace(
        go.Bar(x=names, y=r.param_count, marker_color=colours, text=r.param_count, showlegend=False), 1, 2
    )
    f3.update_yaxes(type="log")
    f3.update_layout(title="Feature-map size and parameter count per pooling type")
    figs.append(f3)

    # 4. Training loss.
    f4 = go.Figure()
    for p, losses in zip(r.pools, r.train_loss, strict=False):
        f4.add_trace(
            go.Scatter(
                x=r.loss_steps[: len(losses)],
                y=losses,
                mode="lines",
                name=_LABELS.get(p, p),
                line={"color": _COLOURS.get(p)},
            )
        )
    f4.update_layout(
        title=f"Training loss (mini-batches of {BATCH}, Adam, step {r.steps_done} of {r.steps_total})",
        xaxis_title="step",
        yaxis_title="cross-entropy",
    )
    figs.append(f4)
    return figs
