"""Post-training quantization of a small digits MLP to int8 and int4, written out in plain torch.

A 64 -> hidden -> hidden -> 10 ReLU network trains on scikit-learn's 8x8 digits. Its weight matrices
are then quantized after training (biases stay fp32), each at several bit widths, two ways:
- per tensor: one scale (and, for affine, one zero point) for the whole matrix;
- per channel: one scale (and zero point) per output unit, i.e. per row of the matrix.
Symmetric: q = clamp(round(w / s), -(2^(b-1) - 1), 2^(b-1) - 1), s = max|w| / (2^(b-1) - 1).
Affine: q = clamp(round(w / s) + z, 0, 2^b - 1), s = (max - min) / (2^b - 1), z = round(-min / s).
Each quantized copy is dequantized (w ~ s * (q - z)) and scored on the held-out test split.
Optionally the int8 model's activations (each linear layer's input) are quantized to 8 bits too:
dynamically (the range measured for every input at run time) and statically (the range fixed from a
calibration pass over training inputs, so test values outside it are clipped).
Sizes count the packed integer weights (b bits each), fp32 scales, one byte per zero point and fp32
biases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from pydantic import Field, field_validator

from demos._data import digits_split
from demos._nn import cpu_generator, init_weight_
from demos.base import Claim, DemoParams, RunContext

LR = 3e-3  # Adam, written out in _adam_step
BATCH = 128
GRANULARITIES = ("per-tensor", "per-channel")
ACT_MODES = ("dynamic", "static")
ACT_BITS = 8


class Params(DemoParams):
    bits: list[Annotated[int, Field(ge=2, le=8)]] = Field(
        [8, 6, 4, 3, 2],
        min_length=1,
        max_length=7,
        description="Weight bit widths to try (2 to 8).",
        title="Bit widths",
    )
    per_channel: bool = Field(
        True,
        description="Also quantize with one scale per output channel (per-tensor is always shown).",
        title="Per-channel scales",
    )
    scheme: Literal["symmetric", "affine"] = Field(
        "symmetric",
        description="Symmetric (zero maps to 0, no zero point) or affine (scale and zero point).",
        title="Scheme",
    )
    activations: bool = Field(
        True,
        description="Also run the int8 model with int8 activations, dynamic and static (calibrated).",
        title="Quantize activations",
    )
    calibration_samples: int = Field(
        256,
        ge=8,
        le=1257,
        description="Training inputs used to fix the static activation ranges.",
        title="Calibration examples",
    )
    hidden: int = Field(
        64, ge=8, le=512, description="Units in each of the two hidden layers.", title="Hidden width (units)"
    )
    steps: int = Field(
        300, ge=20, le=3000, description="Adam steps of training (mini-batches of 128).", title="Steps"
    )

    @field_validator("bits")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("lists each bit width at most once")
        return sorted(v, reverse=True)


@dataclass
class Variant:
    name: str
    bits: int  # weight bits (32: fp32)
    granularity: str  # 'fp32' | 'per-tensor' | 'per-channel'
    act: str = "fp32"  # activations: 'fp32' | 'dynamic' | 'static'
    accuracy: float = float("nan")
    size_bytes: int = 0
    layer_error: list[float] = field(default_factory=list)  # relative RMS weight error per layer
    output_error: float = 0.0  # relative RMS change of the test logits against fp32's


@dataclass
class Result:
    bits: list[int]
    granularities: list[str]
    scheme: str
    hidden: int
    steps_total: int
    n_test: int
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    layer_names: list[str] = field(default_factory=list)
    layer_shapes: list[tuple[int, int]] = field(default_factory=list)
    hist_layer: int = 0
    hist_weights: list[float] = field(default_factory=list)  # a layer's weights, for the histogram
    hist_grid: dict[int, list[float]] = field(default_factory=dict)  # bits -> per-tensor levels

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and any(v.bits == 32 for v in self.variants)

    def get(self, bits: int, granularity: str, act: str = "fp32") -> Variant | None:
        for v in self.variants:
            if v.bits == bits and v.granularity == granularity and v.act == act:
                return v
        return None


# ------------------------------------------------------------------------------------ quantization


def quant_params(
    w: torch.Tensor, bits: int, per_channel: bool, scheme: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point for a [out, in] weight: shape [out, 1] per channel, [1, 1] per tensor."""
    if per_channel:
        lo, hi = w.amin(dim=1, keepdim=True), w.amax(dim=1, keepdim=True)
    else:
        lo, hi = w.min().reshape(1, 1), w.max().reshape(1, 1)
    if scheme == "symmetric":
        qmax = 2 ** (bits - 1) - 1
        scale = torch.maximum(hi.abs(), lo.abs()) / qmax
        zero = torch.zeros_like(scale)
    else:
        lo, hi = lo.clamp(max=0.0), hi.clamp(min=0.0)  # the range always holds 0 exactly
        scale = (hi - lo) / (2**bits - 1)
        zero = torch.round(-lo / scale.clamp(min=1e-12))
    return scale.clamp(min=1e-12), zero


def quantize(
    w: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor, bits: int, scheme: str
) -> torch.Tensor:
    """Integer codes (held in a float tensor) of w."""
    if scheme == "symmetric":
        qmax = 2 ** (bits - 1) - 1
        return torch.clamp(torch.round(w / scale), -qmax, qmax)
    return torch.clamp(torch.round(w / scale) + zero, 0, 2**bits - 1)


def dequantize(q: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
    return scale * (q - zero)


def fake_quant(w: torch.Tensor, bits: int, per_channel: bool, scheme: str) -> torch.Tensor:
    scale, zero = quant_params(w, bits, per_channel, scheme)
    return dequantize(quantize(w, scale, zero, bits, scheme), scale, zero)


def grid_levels(w: torch.Tensor, bits: int, scheme: str) -> list[float]:
    """The values a per-tensor quantized copy of w can take."""
    scale, zero = quant_params(w, bits, False, scheme)
    if scheme == "symmetric":
        qmax = 2 ** (bits - 1) - 1
        q = torch.arange(-qmax, qmax + 1, dtype=w.dtype, device=w.device)
    else:
        q = torch.arange(0, 2**bits, dtype=w.dtype, device=w.device)
    return (scale.flatten() * (q - zero.flatten())).tolist()


def size_bytes(shapes: list[tuple[int, int]], bits: int, per_channel: bool, scheme: str) -> int:
    """Stored bytes: packed b-bit weights per layer, fp32 scales, 1-byte zero points, fp32 biases."""
    total = 0
    for out_f, in_f in shapes:
        bias = 4 * out_f
        if bits == 32:
            total += 4 * out_f * in_f + bias
            continue
        n_scales = out_f if per_channel else 1
        total += math.ceil(out_f * in_f * bits / 8) + 4 * n_scales + bias
        if scheme == "affine":
            total += n_scales
    return total


def quant_act(x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, bits: int = ACT_BITS) -> torch.Tensor:
    """Affine fake-quantization of activations to `bits` within [lo, hi] (values outside are clipped)."""
    lo, hi = lo.clamp(max=0.0), hi.clamp(min=0.0)
    scale = ((hi - lo) / (2**bits - 1)).clamp(min=1e-12)
    zero = torch.round(-lo / scale)
    q = torch.clamp(torch.round(x / scale) + zero, 0, 2**bits - 1)
    return scale * (q - zero)


# -------------------------------------------------------------------------------------------- model


def forward(
    ws: list[torch.Tensor],
    bs: list[torch.Tensor],
    x: torch.Tensor,
    act: str = "fp32",
    ranges: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    record: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """ws[i] is [out, in]. act: 'dynamic' quantizes each layer's input with that input row's own range,
    'static' with the frozen `ranges`; `record` collects each layer's fp32 input (for calibration)."""
    h = x
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if record is not None:
            record.append(h)
        if act == "dynamic":
            h = quant_act(h, h.amin(dim=1, keepdim=True), h.amax(dim=1, keepdim=True))
        elif act == "static":
            assert ranges is not None
            h = quant_act(h, *ranges[i])
        h = F.linear(h, w, b)
        if i < len(ws) - 1:
            h = torch.relu(h)
    return h


def _adam_step(ps, grads, m1, m2, t: int, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> None:
    """Adam written out (torch.optim's first step imports torch._dynamo, seconds on a small machine)."""
    with torch.no_grad():
        for p, g, m, v in zip(ps, grads, m1, m2, strict=True):
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v / (1 - b2**t)).sqrt_().add_(eps)
            p.addcdiv_(m, denom, value=-LR / (1 - b1**t))


def _accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((logits.argmax(1) == y).float().mean())


# -------------------------------------------------------------------------------------------- run


def _snapshot(r: Result) -> Result:
    return Result(
        list(r.bits),
        list(r.granularities),
        r.scheme,
        r.hidden,
        r.steps_total,
        r.n_test,
        r.steps_done,
        list(r.record_steps),
        list(r.train_loss),
        list(r.test_acc),
        list(r.variants),
        list(r.layer_names),
        list(r.layer_shapes),
    )


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    data = digits_split(seed=ctx.seed, device=dev)
    g = cpu_generator(ctx.seed)
    sizes = [data.n_features, params.hidden, params.hidden, data.n_classes]
    ws, bs = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        w = init_weight_(torch.empty(fan_in, fan_out), "he", g).T.contiguous().to(dev)
        ws.append(w.requires_grad_())
        bs.append(torch.zeros(fan_out, device=dev, requires_grad=True))
    gran = list(GRANULARITIES if params.per_channel else GRANULARITIES[:1])
    res = Result(list(params.bits), gran, params.scheme, params.hidden, params.steps, len(data.y_test))
    res.layer_names = [
        f"layer {i + 1} ({a}->{b})" for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
    ]
    res.layer_shapes = [(b, a) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    ctx.progress(0.0, _snapshot(res))

    params_ = [*ws, *bs]
    m1 = [torch.zeros_like(t) for t in params_]
    m2 = [torch.zeros_like(t) for t in params_]
    n_tr = len(data.y_train)
    progress_every = max(1, params.steps // 15)
    train_share = 0.8
    for step in range(1, params.steps + 1):
        idx = torch.randint(0, n_tr, (BATCH,), generator=g).to(dev)
        loss = F.cross_entropy(forward(ws, bs, data.x_train[idx]), data.y_train[idx])
        grads = torch.autograd.grad(loss, params_)
        _adam_step(params_, grads, m1, m2, step)
        res.steps_done = step
        if step % 10 == 0 or step == params.steps:
            res.record_steps.append(step)
            res.train_loss.append(float(loss.detach()))
            with torch.no_grad():
                res.test_acc.append(_accuracy(forward(ws, bs, data.x_test), data.y_test))
        ctx.tick(step, train_share * step / params.steps, lambda: _snapshot(res))
        if step % progress_every == 0 and step < params.steps:
            ctx.progress(train_share * step / params.steps, _snapshot(res))

    ctx.progress(train_share, _snapshot(res))
    with torch.no_grad():
        ws = [w.detach() for w in ws]
        bs = [b.detach() for b in bs]
        fp32 = Variant("fp32", 32, "fp32")
        ref = forward(ws, bs, data.x_test)
        fp32.accuracy = _accuracy(ref, data.y_test)
        fp32.size_bytes = size_bytes(res.layer_shapes, 32, False, params.scheme)
        fp32.layer_error = [0.0] * len(ws)
        res.variants.append(fp32)
        jobs = [(b, gr) for b in params.bits for gr in gran]
        deq: dict[tuple[int, str], list[torch.Tensor]] = {}
        for j, (bits, gr) in enumerate(jobs):
            qws = [fake_quant(w, bits, gr == "per-channel", params.scheme) for w in ws]
            deq[(bits, gr)] = qws
            v = Variant(f"int{bits} {gr}", bits, gr)
            out = forward(qws, bs, data.x_test)
            v.accuracy = _accuracy(out, data.y_test)
            v.output_error = float((out - ref).norm() / ref.norm())
            v.size_bytes = size_bytes(res.layer_shapes, bits, gr == "per-channel", params.scheme)
            v.layer_error = [float((q - w).norm() / w.norm()) for q, w in zip(qws, ws, strict=True)]
            res.variants.append(v)
            ctx.progress(train_share + (1 - train_share) * 0.8 * (j + 1) / len(jobs), _snapshot(res))
        if params.activations and 8 in params.bits:
            gr = gran[-1]
            qws = deq[(8, gr)]
            calib: list[torch.Tensor] = []
            forward(ws, bs, data.x_train[: params.calibration_samples], record=calib)
            ranges = [(h.min(), h.max()) for h in calib]
            for mode in ACT_MODES:
                v = Variant(f"int8 {gr} + int8 {mode} activations", 8, gr, mode)
                out = forward(qws, bs, data.x_test, act=mode, ranges=ranges)
                v.accuracy = _accuracy(out, data.y_test)
                v.output_error = float((out - ref).norm() / ref.norm())
                v.size_bytes = size_bytes(res.layer_shapes, 8, gr == "per-channel", params.scheme)
                v.layer_error = list(res.get(8, gr).layer_error)  # type: ignore[union-attr]
                res.variants.append(v)
        # the histogram: the first hidden layer's weights and the per-tensor grid of each bit width
        res.hist_layer = 0
        w0 = ws[0]
        res.hist_weights = w0.flatten().cpu().tolist()
        res.hist_grid = {b: grid_levels(w0, b, params.scheme) for b in params.bits}
    ctx.progress(1.0, res)
    return res


# ------------------------------------------------------------------------------------------ reading


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"steps": r.steps_done, "scheme": r.scheme, "n_test": r.n_test}
    if r.test_acc:
        out["last_test_accuracy_during_training"] = round(r.test_acc[-1], 4)
    for v in r.variants:
        key = v.name.replace(" + ", "_").replace(" ", "_").replace("-", "_")
        out[f"{key}_accuracy"] = round(v.accuracy, 4)
        if v.act == "fp32":
            out[f"{key}_bytes"] = v.size_bytes
    return out


CLAIMS = {
    "int8-keeps-accuracy": "int8 weights keep test accuracy within 1 point of fp32.",
    "int8-quarter-size": "int8 weights take about a quarter of fp32's bytes.",
    "int4-about-half-of-int8": "int4 weights take about half of int8's bytes.",
    "int4-per-channel-closer-outputs": "At 4 bits, per-channel scales keep the outputs closer to fp32's than one scale per tensor.",
    "per-channel-smaller-weight-error": "At 4 bits, per-channel scales give a smaller weight error in every layer.",
    "fewer-bits-lose-more": "Accuracy falls as the bits shrink.",
    "int8-activations-keep-accuracy": "Quantizing the activations to int8 as well keeps test accuracy within 1 point of fp32.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    bits, out = set(params.bits), []
    if 8 in bits:
        out += ["int8-keeps-accuracy", "int8-quarter-size"]
    if {8, 4} <= bits:
        out.append("int4-about-half-of-int8")
    if 4 in bits and params.per_channel:
        out += ["int4-per-channel-closer-outputs", "per-channel-smaller-weight-error"]
    if min(bits) <= 3 and 8 in bits:
        out.append("fewer-bits-lose-more")
    if params.activations:
        out.append("int8-activations-keep-accuracy")
    return out


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    fp = r.get(32, "fp32")
    assert fp is not None
    out: list[Claim] = []
    int8 = [v for v in r.variants if v.bits == 8 and v.act == "fp32"]
    if int8:
        worst = min(v.accuracy for v in int8)
        out.append(
            Claim(
                "int8-keeps-accuracy",
                f"int8 weights keep test accuracy within 1 point of fp32: {fp.accuracy:.1%} in fp32, "
                + ", ".join(f"{v.accuracy:.1%} {v.granularity}" for v in int8)
                + " after post-training quantization.",
                fp.accuracy - worst <= 0.01,
            )
        )
        small = min(int8, key=lambda v: v.size_bytes)
        ratio = small.size_bytes / fp.size_bytes
        out.append(
            Claim(
                "int8-quarter-size",
                f"int8 weights take about a quarter of fp32's bytes: {small.size_bytes:,} against "
                f"{fp.size_bytes:,} ({ratio:.0%}; a little over 25% because of the scales and fp32 biases).",
                0.25 <= ratio <= 0.3,
            )
        )
    if 8 in r.bits and 4 in r.bits:
        g = r.granularities[-1]
        v8, v4 = r.get(8, g), r.get(4, g)
        assert v8 is not None and v4 is not None
        out.append(
            Claim(
                "int4-about-half-of-int8",
                f"int4 ({g}) takes {v4.size_bytes:,} bytes, {v4.size_bytes / v8.size_bytes:.0%} of int8's "
                f"{v8.size_bytes:,} and {v4.size_bytes / fp.size_bytes:.0%} of fp32's.",
                0.5 <= v4.size_bytes / v8.size_bytes <= 0.6,
            )
        )
    pt4, pc4 = r.get(4, "per-tensor"), r.get(4, "per-channel")
    if pt4 is not None and pc4 is not None:
        out.append(
            Claim(
                "int4-per-channel-closer-outputs",
                f"int4 per-channel keeps the network's outputs closer to fp32's than int4 per-tensor: the "
                f"test logits move by {pc4.output_error:.1%} against {pt4.output_error:.1%} (test accuracy "
                f"{pc4.accuracy:.1%} against {pt4.accuracy:.1%}; on a model this small the accuracy gap is "
                f"within a few test digits either way).",
                pc4.output_error < pt4.output_error,
            )
        )
        out.append(
            Claim(
                "per-channel-smaller-weight-error",
                "At 4 bits, one scale per output channel gives a smaller weight error than one scale per "
                "tensor in every layer ("
                + ", ".join(
                    f"{a:.1%} vs {b:.1%}" for a, b in zip(pc4.layer_error, pt4.layer_error, strict=True)
                )
                + " relative RMS error).",
                all(a < b for a, b in zip(pc4.layer_error, pt4.layer_error, strict=True)),
            )
        )
    lowest = min(r.bits)
    if lowest <= 3 and 8 in r.bits:
        g = r.granularities[0]
        vl, v8 = r.get(lowest, g), r.get(8, g)
        assert vl is not None and v8 is not None
        out.append(
            Claim(
                "fewer-bits-lose-more",
                f"Accuracy falls as bits shrink: {g} int8 {v8.accuracy:.1%}, int{lowest} {vl.accuracy:.1%} "
                f"(fp32 {fp.accuracy:.1%}).",
                vl.accuracy < v8.accuracy - 0.02,
            )
        )
    acts = [v for v in r.variants if v.act in ACT_MODES]
    if acts:
        out.append(
            Claim(
                "int8-activations-keep-accuracy",
                "Quantizing the activations to int8 as well keeps test accuracy within 1 point of fp32: "
                + ", ".join(f"{v.act} {v.accuracy:.1%}" for v in acts)
                + f" (fp32 {fp.accuracy:.1%}).",
                all(fp.accuracy - v.accuracy <= 0.01 for v in acts),
            )
        )
    return out


# ------------------------------------------------------------------------------------------ figures

_GRAN_COLOURS = {"per-tensor": "#d62728", "per-channel": "#1f77b4"}


def figures(result: Result) -> list[go.Figure]:
    r = result
    f_train = go.Figure()
    if r.record_steps:
        f_train.add_trace(go.Scatter(x=r.record_steps, y=r.train_loss, name="training loss (batch)"))
        f_train.add_trace(go.Scatter(x=r.record_steps, y=r.test_acc, name="test accuracy", yaxis="y2"))
    f_train.update_layout(
        title=f"Training the fp32 model ({r.steps_done}/{r.steps_total} steps)",
        xaxis_title="step",
        yaxis_title="loss",
        yaxis2={"title": "test accuracy", "overlaying": "y", "side": "right", "range": [0, 1]},
    )
    fp = r.get(32, "fp32") if r.variants else None
    if fp is None:
        return [f_train]

    f_acc = go.Figure()
    for g in r.granularities:
        vs = [v for v in r.variants if v.granularity == g and v.act == "fp32"]
        f_acc.add_trace(
            go.Scatter(
                x=[v.bits for v in vs],
                y=[v.accuracy for v in vs],
                mode="lines+markers",
                name=f"weights {g}",
                line={"color": _GRAN_COLOURS[g]},
            )
        )
    for v in r.variants:
        if v.act in ACT_MODES:
            f_acc.add_trace(
                go.Scatter(
                    x=[v.bits],
                    y=[v.accuracy],
                    mode="markers",
                    marker={"size": 11, "symbol": "diamond" if v.act == "dynamic" else "square"},
                    name=f"int8 weights + {v.act} int8 activations",
                )
            )
    f_acc.add_hline(y=fp.accuracy, line_dash="dot", annotation_text=f"fp32 {fp.accuracy:.1%}")
    f_acc.update_layout(
        title=f"Test accuracy against weight bits ({r.scheme}, post-training, {r.n_test} test digits)",
        xaxis_title="bits per weight",
        yaxis_title="test accuracy",
        yaxis_tickformat=".0%",
        xaxis={"dtick": 1},
    )

    figs = [f_train, f_acc]
    if r.hist_weights:
        b = 4 if 4 in r.hist_grid else min(r.hist_grid)
        f_hist = go.Figure()
        f_hist.add_trace(go.Histogram(x=r.hist_weights, nbinsx=120, name="fp32 weights"))
        for level in r.hist_grid[b]:
            f_hist.add_vline(x=level, line_width=1, line_color="#d62728", opacity=0.6)
        f_hist.update_layout(
            title=f"{r.layer_names[r.hist_layer]} weights and the int{b} per-tensor grid "
            f"({len(r.hist_grid[b])} levels, red lines)",
            xaxis_title="weight",
            yaxis_title="count",
            showlegend=False,
        )
        figs.append(f_hist)

    f_err = go.Figure()
    for v in r.variants:
        if v.act == "fp32" and v.bits < 32 and v.bits in (8, 4, min(r.bits)):
            f_err.add_trace(go.Bar(x=r.layer_names, y=v.layer_error, name=v.name))
    f_err.update_layout(
        title="Weight error per layer after quantization (||W_q - W|| / ||W||)",
        barmode="group",
        yaxis_type="log",
        yaxis_title="relative RMS error",
    )
    figs.append(f_err)

    f_size = go.Figure()
    vs = [v for v in r.variants if v.act == "fp32"]
    f_size.add_trace(
        go.Bar(
            x=[v.name for v in vs],
            y=[v.size_bytes for v in vs],
            text=[f"{v.size_bytes / fp.size_bytes:.0%}" for v in vs],
            textposition="outside",
            marker_color=["#7f7f7f" if v.bits == 32 else _GRAN_COLOURS[v.granularity] for v in vs],
        )
    )
    f_size.update_layout(
        title="Model size in bytes (packed weights + scales + zero points + fp32 biases)",
        yaxis_title="bytes",
    )
    figs.append(f_size)
    return figs
