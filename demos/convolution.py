"""Convolution, stride and padding: hand-made kernels on a real photo, a kernel learned from examples,
the output-size formula checked against torch, and the feature maps of a small CNN trained on digits.

- The photo is scikit-learn's bundled 'china.jpg' (427x640), turned grey and shrunk (area averaging)
  to `image_width` pixels wide.
- Kernels of size k: "edges" is a centre-surround detector (every weight -1, the centre k^2 - 1, so
  the weights sum to 0), "blur" a normalised Gaussian (sigma k/4), "sharpen" 2 x identity - blur, and
  "learned" a kernel fitted by L-BFGS, from a random start, to reproduce the photo's response to a
  hidden vertical-edge detector (Sobel for k = 3, a derivative of a Gaussian for larger k).
- Every kernel is applied with the chosen stride and padding; the output size is checked against
  floor((n + 2p - k) / s) + 1 for the height and the width.
- The CNN: conv 3x3 (1 -> 8) -> ReLU -> 2x2 max pool -> conv 3x3 (8 -> 16) -> ReLU -> 2x2 max pool ->
  linear (64 -> 10), trained with Adam on mini-batches of scikit-learn's 8x8 digits.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field, field_validator

from demos._data import digits_split
from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext

Kernel = Literal["edges", "blur", "sharpen", "learned"]

CNN_BATCH = 64
CNN_LR = 0.01
CHANCE = 0.1
WIDE_MARGIN_ACC = 0.8  # 8x chance
LEARN_OUTER_STEPS = 8  # L-BFGS calls, each up to 20 iterations
LEARNED_TOLERANCE = 0.02  # largest weight error, relative to the largest hidden weight
FLAT_TOLERANCE = 1e-5

_LABELS = {"edges": "edges", "blur": "blur", "sharpen": "sharpen", "learned": "learned"}


class Params(DemoParams):
    kernels: list[Kernel] = Field(
        default=["edges", "blur", "sharpen", "learned"],
        min_length=1,
        description="Kernels applied to the photo; 'learned' is fitted by gradient-based optimisation.",
        title="Kernels",
    )
    kernel_size: Literal[3, 5, 7] = Field(
        3, description="Side of every square kernel, in pixels.", title="Kernel size (pixels)"
    )
    stride: int = Field(
        2,
        ge=1,
        le=4,
        description="Step between neighbouring kernel positions, in pixels.",
        title="Stride (pixels)",
    )
    padding: int = Field(
        1,
        ge=0,
        le=4,
        description="Zero pixels added on every side before convolving.",
        title="Padding (pixels)",
    )
    image_width: int = Field(
        160,
        ge=48,
        le=320,
        description="Width the photo is shrunk to (height follows).",
        title="Photo width (pixels)",
    )
    cnn_steps: int = Field(
        150,
        ge=10,
        le=1000,
        description="Training steps of the digits CNN (mini-batches of 64).",
        title="CNN steps",
    )

    @field_validator("kernels")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each kernel may be listed once")
        return v


def output_size(n: int, k: int, s: int, p: int) -> int:
    """The number of positions a k-wide kernel takes along an n-pixel side with stride s, padding p."""
    return (n + 2 * p - k) // s + 1


# ----------------------------------------------------------------------------------------- kernels


def _gaussian(k: int) -> torch.Tensor:
    r = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
    y, x = torch.meshgrid(r, r, indexing="ij")
    g = torch.exp(-(x**2 + y**2) / (2 * (k / 4) ** 2))
    return g / g.sum()


def make_kernel(name: str, k: int) -> torch.Tensor:
    """A hand-made k x k kernel (float64)."""
    if name == "edges":
        w = -torch.ones(k, k, dtype=torch.float64)
        w[k // 2, k // 2] = k * k - 1
        return w
    if name == "blur":
        return _gaussian(k)
    if name == "sharpen":
        ident = torch.zeros(k, k, dtype=torch.float64)
        ident[k // 2, k // 2] = 1.0
        return 2 * ident - _gaussian(k)
    if name == "identity":
        w = torch.zeros(k, k, dtype=torch.float64)
        w[k // 2, k // 2] = 1.0
        return w
    raise ValueError(f"no hand-made kernel {name!r}")


def hidden_kernel(k: int) -> torch.Tensor:
    """The vertical-edge detector the 'learned' kernel has to rediscover."""
    if k == 3:
        return torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=torch.float64)
    r = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
    y, x = torch.meshgrid(r, r, indexing="ij")
    w = x * torch.exp(-(x**2 + y**2) / (2 * (k / 4) ** 2))
    return w / w.abs().sum() * 8  # same total weight as Sobel


@functools.lru_cache(maxsize=1)
def _photo_full() -> np.ndarray:
    from sklearn.datasets import load_sample_image

    rgb = load_sample_image("china.jpg").astype(np.float32) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    grey.setflags(write=False)
    return grey


def photo(width: int) -> torch.Tensor:
    """The grey photo shrunk to `width` pixels wide: [1, 1, H, W] float32 in [0, 1]."""
    full = torch.from_numpy(_photo_full().copy())[None, None]
    h = max(1, round(full.shape[-2] * width / full.shape[-1]))
    return F.interpolate(full, size=(h, width), mode="area")


def _roughness(img: torch.Tensor) -> float:
    """Mean absolute difference between horizontally and vertically neighbouring pixels."""
    dx = (img[..., :, 1:] - img[..., :, :-1]).abs().mean()
    dy = (img[..., 1:, :] - img[..., :-1, :]).abs().mean()
    return float((dx + dy) / 2)


# ------------------------------------------------------------------------------------------ result


@dataclass
class SizeCheck:
    n: int
    k: int
    stride: int
    padding: int
    formula: int
    torch_out: int


@dataclass
class Result:
    kernels: list[str]
    kernel_size: int
    stride: int
    padding: int
    cnn_steps_total: int
    image: list[list[float]] = field(default_factory=list)
    image_shape: list[int] = field(default_factory=list)  # [H, W]
    kernel_weights: dict[str, list[list[float]]] = field(default_factory=dict)
    outputs: dict[str, list[list[float]]] = field(default_factory=dict)
    output_shape: list[int] = field(default_factory=list)  # torch's [H, W]
    formula_shape: list[int] = field(default_factory=list)  # the formula's [H, W]
    size_checks: list[SizeCheck] = field(default_factory=list)  # a table of other settings
    roughness: dict[str, float] = field(default_factory=dict)  # per kernel and "identity"
    flat_response: dict[str, float] = field(default_factory=dict)  # largest |output| on a constant image
    hidden: list[list[float]] = field(default_factory=list)
    learned_loss: list[float] = field(default_factory=list)
    learned_error: float = math.nan  # max |learned - hidden| / max |hidden|
    cnn_steps_done: int = 0
    cnn_loss: list[float] = field(default_factory=list)
    cnn_eval_steps: list[int] = field(default_factory=list)
    cnn_test_acc: list[float] = field(default_factory=list)
    digit: list[list[float]] = field(default_factory=list)
    digit_label: int = -1
    conv1_maps: list[list[list[float]]] = field(default_factory=list)  # 8 maps 8x8
    conv2_maps: list[list[list[float]]] = field(default_factory=list)  # 16 maps 4x4
    conv1_kernels: list[list[list[float]]] = field(default_factory=list)  # 8 kernels 3x3

    @property
    def done(self) -> bool:
        return self.cnn_steps_done >= self.cnn_steps_total


def _grid(t: torch.Tensor, digits: int = 4) -> list[list[float]]:
    return [[round(float(v), digits) for v in row] for row in t.detach().cpu().double().tolist()]


def _snapshot(r: Result) -> Result:
    return replace(
        r,
        kernel_weights=dict(r.kernel_weights),
        outputs=dict(r.outputs),
        size_checks=list(r.size_checks),
        roughness=dict(r.roughness),
        flat_response=dict(r.flat_response),
        learned_loss=list(r.learned_loss),
        cnn_loss=list(r.cnn_loss),
        cnn_eval_steps=list(r.cnn_eval_steps),
        cnn_test_acc=list(r.cnn_test_acc),
        conv1_maps=list(r.conv1_maps),
        conv2_maps=list(r.conv2_maps),
        conv1_kernels=list(r.conv1_kernels),
    )


# --------------------------------------------------------------------------------------------- run


def _learn_kernel(
    x: torch.Tensor, k: int, g: torch.Generator, res: Result, ctx: RunContext, f0: float, f1: float
):
    """Fit a k x k kernel to (photo, hidden-kernel response) pairs with L-BFGS from a random start."""
    target_w = hidden_kernel(k).to(x.device, x.dtype)
    y = F.conv2d(x, target_w[None, None])
    w = (torch.randn(1, 1, k, k, generator=g, dtype=x.dtype) * 0.3).to(x.device).requires_grad_()
    opt = torch.optim.LBFGS(
        [w],
        lr=1.0,
        max_iter=20,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.mse_loss(F.conv2d(x, w), y)
        loss.backward()
        return loss

    res.hidden = _grid(target_w)
    for i in range(LEARN_OUTER_STEPS):
        opt.step(closure)
        with torch.no_grad():
            res.learned_loss.append(float(F.mse_loss(F.conv2d(x, w), y)))
        res.kernel_weights["learned"] = _grid(w.detach()[0, 0])
        ctx.progress(f0 + (f1 - f0) * (i + 1) / LEARN_OUTER_STEPS, _snapshot(res))
    err = (w.detach()[0, 0] - target_w).abs().max() / target_w.abs().max()
    res.learned_error = float(err)
    return w.detach()[0, 0]


class _CNN(torch.nn.Module):
    def __init__(self, g: torch.Generator):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.head = torch.nn.Linear(16 * 2 * 2, 10)
        with torch.no_grad():  # seeded He-style init from our own generator
            for m in (self.conv1, self.conv2, self.head):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / fan_in))
                m.bias.zero_()

    def forward(self, x: torch.Tensor, keep: list[torch.Tensor] | None = None) -> torch.Tensor:
        a1 = F.relu(self.conv1(x))
        a2 = F.relu(self.conv2(F.max_pool2d(a1, 2)))
        if keep is not None:
            keep.extend([a1, a2])
        return self.head(F.max_pool2d(a2, 2).flatten(1))


def total_steps(params: Params) -> int:
    """The small CNN's steps (what "stopped at step N of M" counts)."""
    return params.cnn_steps


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    k, s, p = params.kernel_size, params.stride, params.padding
    res = Result(list(params.kernels), k, s, p, params.cnn_steps)
    ctx.progress(0.0, _snapshot(res))  # before loading the photo

    # --- kernels on the photo (float64 so the flat-image check is exact to rounding)
    x = photo(params.image_width).to(dev, torch.float64)
    H, W = x.shape[-2:]
    res.image, res.image_shape = _grid(x[0, 0], 3), [H, W]
    res.formula_shape = [output_size(H, k, s, p), output_size(W, k, s, p)]

    def apply(w: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, w.to(dev, torch.float64)[None, None], stride=s, padding=p)

    ident = apply(make_kernel("identity", k))
    res.roughness["identity"] = _roughness(ident)
    res.output_shape = list(ident.shape[-2:])
    flat = torch.ones(1, 1, 3 * k, 3 * k, dtype=torch.float64, device=dev)
    for name in params.kernels:
        if name == "learned":
            continue
        w = make_kernel(name, k)
        out = apply(w)
        res.kernel_weights[name] = _grid(w)
        res.outputs[name] = _grid(out[0, 0], 3)
        res.roughness[name] = _roughness(out)
        res.flat_response[name] = float(F.conv2d(flat, w.to(dev)[None, None]).abs().max())
    for n_side, kk, ss, pp in _table_settings(H, k, s, p):
        t = F.conv2d(
            torch.zeros(1, 1, n_side, n_side, device=dev),
            torch.zeros(1, 1, kk, kk, device=dev),
            stride=ss,
            padding=pp,
        )
        res.size_checks.append(
            SizeCheck(n_side, kk, ss, pp, output_size(n_side, kk, ss, pp), int(t.shape[-1]))
        )
    ctx.progress(0.05, _snapshot(res))

    if "learned" in params.kernels:
        w = _learn_kernel(x, k, g, res, ctx, 0.05, 0.3)
        out = apply(w)
        res.outputs["learned"] = _grid(out[0, 0], 3)
        res.roughness["learned"] = _roughness(out)

    _train_cnn(params, ctx, res, g, dev, 0.3, 1.0)
    return res


def _table_settings(n: int, k: int, s: int, p: int) -> list[tuple[int, int, int, int]]:
    """The chosen setting first, then a few others on the same image height and a small even side."""
    rows = [(n, k, s, p)]
    for kk, ss, pp in ((3, 1, 0), (3, 1, 1), (3, 2, 1), (5, 2, 2), (7, 3, 0), (3, 4, 2)):
        for side in (n, 28):
            if (side, kk, ss, pp) not in rows and side + 2 * pp >= kk:
                rows.append((side, kk, ss, pp))
    return rows


def _train_cnn(
    params: Params, ctx: RunContext, res: Result, g: torch.Generator, dev: torch.device, f0: float, f1: float
):
    data = digits_split(seed=ctx.seed, images=True).to(dev)
    net = _CNN(g).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=CNN_LR)
    n = len(data.y_train)
    digit = data.x_test[:1]
    res.digit, res.digit_label = _grid(digit[0, 0], 3), int(data.y_test[0])

    def evaluate() -> None:
        with torch.no_grad():
            keep: list[torch.Tensor] = []
            net(digit, keep)
            res.conv1_maps = [_grid(m, 3) for m in keep[0][0]]
            res.conv2_maps = [_grid(m, 3) for m in keep[1][0]]
            res.conv1_kernels = [_grid(w[0], 3) for w in net.conv1.weight]
            acc = (net(data.x_test).argmax(1) == data.y_test).float().mean()
        res.cnn_eval_steps.append(res.cnn_steps_done)
        res.cnn_test_acc.append(float(acc))

    evaluate()
    steps = params.cnn_steps
    every = max(1, steps // 10)
    for step in range(steps):
        idx = torch.randint(0, n, (CNN_BATCH,), generator=g).to(dev)
        loss = F.cross_entropy(net(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        res.cnn_loss.append(loss.item())
        res.cnn_steps_done = step + 1
        ctx.tick(res.cnn_steps_done, f0 + (f1 - f0) * res.cnn_steps_done / steps, lambda: _snapshot(res))
        if res.cnn_steps_done % every == 0 or res.cnn_steps_done == steps:
            evaluate()
            ctx.progress(f0 + (f1 - f0) * res.cnn_steps_done / steps, _snapshot(res))


# ----------------------------------------------------------------------------------------- reading


def final_accuracy(r: Result) -> float | None:
    return r.cnn_test_acc[-1] if r.cnn_test_acc and r.done else None


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {
        "kernel_size": r.kernel_size,
        "stride": r.stride,
        "padding": r.padding,
    }
    if r.image_shape:
        out["image"] = "x".join(map(str, r.image_shape))
        out["output_torch"] = "x".join(map(str, r.output_shape))
        out["output_formula"] = "x".join(map(str, r.formula_shape))
    for name, v in r.roughness.items():
        out[f"roughness_{name}"] = round(v, 5)
    if math.isfinite(r.learned_error):
        out["learned_kernel_error"] = float(f"{r.learned_error:.3g}")
    if r.cnn_test_acc:
        out["cnn_test_acc"] = round(r.cnn_test_acc[-1], 4)
        out["cnn_steps"] = r.cnn_steps_done
    return out


CLAIMS = {
    "output-size-formula-matches-torch": "The output-size formula floor((n + 2p - k)/s) + 1 gives the size torch's conv2d returns.",
    "output-size-formula-matches-torch-table": "The formula agrees with torch for every setting in the table.",
    "blur-smooths": "Blurring makes neighbouring output pixels more alike.",
    "sharpen-roughens": "Sharpening makes neighbouring output pixels less alike.",
    "edge-kernel-ignores-flat-regions": "The edge kernel outputs zero on a constant image.",
    "learned-kernel-recovers-hidden-edge-detector": "The learned kernel recovers the hidden edge detector from the photo and its response.",
    "cnn-beats-chance": "The small CNN classifies held-out digits far better than chance.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    ks = set(params.kernels)
    out = ["output-size-formula-matches-torch", "output-size-formula-matches-torch-table"]
    out += [
        i
        for k, i in (
            ("blur", "blur-smooths"),
            ("sharpen", "sharpen-roughens"),
            ("edges", "edge-kernel-ignores-flat-regions"),
            ("learned", "learned-kernel-recovers-hidden-edge-detector"),
        )
        if k in ks
    ]
    return [*out, "cnn-beats-chance"]


def claims(result: Result) -> list[Claim]:
    r = result
    out: list[Claim] = []
    if r.output_shape:
        (h, w), (fh, fw) = r.image_shape, r.formula_shape
        out.append(
            Claim(
                "output-size-formula-matches-torch",
                f"With kernel {r.kernel_size}, stride {r.stride} and padding {r.padding}, floor((n + 2p − k)/s) + 1 "
                f"gives {fh}x{fw} for the {h}x{w} photo, and torch's conv2d returns "
                f"{r.output_shape[0]}x{r.output_shape[1]}.",
                [fh, fw] == r.output_shape,
            )
        )
    if r.size_checks:
        bad = [c for c in r.size_checks if c.formula != c.torch_out]
        out.append(
            Claim(
                "output-size-formula-matches-torch-table",
                f"The formula agrees with torch for all {len(r.size_checks)} stride/padding/kernel settings in the "
                f"table ({len(bad)} disagree).",
                not bad,
            )
        )
    rough = r.roughness
    if "blur" in rough and "identity" in rough:
        out.append(
            Claim(
                "blur-smooths",
                f"Blurring makes neighbouring output pixels more alike: mean neighbour difference "
                f"{rough['blur']:.4f} against {rough['identity']:.4f} for the unfiltered photo at the same "
                "stride and padding.",
                rough["blur"] < rough["identity"],
            )
        )
    if "sharpen" in rough and "identity" in rough:
        out.append(
            Claim(
                "sharpen-roughens",
                f"Sharpening does the opposite: mean neighbour difference {rough['sharpen']:.4f} against "
                f"{rough['identity']:.4f} unfiltered.",
                rough["sharpen"] > rough["identity"],
            )
        )
    if "edges" in r.flat_response:
        out.append(
            Claim(
                "edge-kernel-ignores-flat-regions",
                "The edge kernel's weights sum to zero, so on a constant image it outputs zero "
                f"(largest |output| {r.flat_response['edges']:.1e}).",
                r.flat_response["edges"] < FLAT_TOLERANCE,
            )
        )
    if "learned" in r.kernels and math.isfinite(r.learned_error):
        out.append(
            Claim(
                "learned-kernel-recovers-hidden-edge-detector",
                "Fitted from the photo and its response alone, starting from random weights, the learned kernel "
                f"matches the hidden vertical-edge detector to within {LEARNED_TOLERANCE:.0%} of its largest weight "
                f"(worst error {r.learned_error:.2%}).",
                r.learned_error < LEARNED_TOLERANCE,
            )
        )
    acc = final_accuracy(r)
    if acc is not None:
        out.append(
            Claim(
                "cnn-beats-chance",
                f"The small CNN classifies held-out digits far better than chance ({CHANCE:.0%}): "
                f"{acc:.1%} after {r.cnn_steps_done} steps (threshold {WIDE_MARGIN_ACC:.0%}).",
                acc > WIDE_MARGIN_ACC,
            )
        )
    return out


# ----------------------------------------------------------------------------------------- figures


def _grey(z: list[list[float]], **kw) -> go.Heatmap:
    return go.Heatmap(
        z=z,
        colorscale="Greys",
        reversescale=True,
        showscale=False,
        hovertemplate="%{z:.3f}<extra></extra>",
        **kw,
    )


def _diverging(z: list[list[float]]) -> go.Heatmap:
    m = max((abs(v) for row in z for v in row), default=1.0) or 1.0
    return go.Heatmap(
        z=z,
        colorscale="RdBu",
        zmin=-m,
        zmax=m,
        showscale=False,
        texttemplate="%{z:.2f}",
        hovertemplate="%{z:.3f}<extra></extra>",
    )


def figures(result: Result) -> list[go.Figure]:
    r = result
    figs: list[go.Figure] = []

    # 1. The photo and each kernel's output, with the kernels underneath.
    cols = 1 + len(r.kernels)
    out_size = f"{r.output_shape[0]}x{r.output_shape[1]}" if r.output_shape else "…"
    in_size = f"{r.image_shape[0]}x{r.image_shape[1]}" if r.image_shape else "…"
    titles = [f"photo {in_size}"] + [f"{_LABELS[n]} → {out_size}" for n in r.kernels]
    titles += [""] + [f"{_LABELS[n]} kernel" for n in r.kernels]
    f1 = make_subplots(
        rows=2, cols=cols, subplot_titles=titles, row_heights=[0.7, 0.3], vertical_spacing=0.08
    )
    if r.image:
        f1.add_trace(_grey(r.image), 1, 1)
    for j, n in enumerate(r.kernels):
        if n in r.outputs:
            f1.add_trace(_grey(r.outputs[n]), 1, j + 2)
        if n in r.kernel_weights:
            f1.add_trace(_diverging(r.kernel_weights[n]), 2, j + 2)
    f1.update_xaxes(showticklabels=False)
    f1.update_yaxes(showticklabels=False, autorange="reversed")
    f1.update_yaxes(scaleanchor="x", row=1, col=1)
    f1.update_layout(
        title=f"Kernels ({r.kernel_size}x{r.kernel_size}) on a photo, stride {r.stride}, padding {r.padding}",
        height=520,
    )
    figs.append(f1)

    # 2. The output-size formula against torch.
    rows = r.size_checks
    f2 = go.Figure(
        go.Table(
            header={
                "values": ["input side n", "kernel k", "stride s", "padding p", "formula", "torch", "agree"]
            },
            cells={
                "values": [
                    [c.n for c in rows],
                    [c.k for c in rows],
                    [c.stride for c in rows],
                    [c.padding for c in rows],
                    [c.formula for c in rows],
                    [c.torch_out for c in rows],
                    ["yes" if c.formula == c.torch_out else "NO" for c in rows],
                ]
            },
        )
    )
    f2.update_layout(
        title="Output size: floor((n + 2p − k) / s) + 1 against torch's conv2d (first row: your settings)"
    )
    figs.append(f2)

    # 3. The learned kernel.
    if "learned" in r.kernels:
        f3 = make_subplots(
            rows=1,
            cols=3,
            subplot_titles=("hidden kernel", "learned kernel", "fitting loss (log scale)"),
            column_widths=[0.3, 0.3, 0.4],
        )
        if r.hidden:
            f3.add_trace(_diverging(r.hidden), 1, 1)
        if "learned" in r.kernel_weights:
            f3.add_trace(_diverging(r.kernel_weights["learned"]), 1, 2)
        f3.add_trace(
            go.Scatter(
                x=list(range(1, len(r.learned_loss) + 1)),
                y=r.learned_loss,
                mode="lines+markers",
                showlegend=False,
            ),
            1,
            3,
        )
        f3.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=1)
        f3.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=2)
        f3.update_yaxes(type="log", row=1, col=3)
        f3.update_xaxes(title_text="L-BFGS call", row=1, col=3)
        f3.update_layout(title="A kernel learned from the photo and a hidden edge detector's response")
        figs.append(f3)

    # 4. CNN feature maps.
    n1, n2 = len(r.conv1_maps), len(r.conv2_maps)
    f4 = make_subplots(
        rows=3,
        cols=8,
        subplot_titles=[f"label {r.digit_label}"]
        + [""] * 7
        + [f"conv1 #{i}" for i in range(8)]
        + [f"conv2 #{i}" for i in range(8)],
        vertical_spacing=0.1,
    )
    if r.digit:
        f4.add_trace(_grey(r.digit), 1, 1)
    for i, kern in enumerate(r.conv1_kernels[:7]):
        f4.add_trace(_diverging(kern), 1, i + 2)
    for i in range(min(n1, 8)):
        f4.add_trace(go.Heatmap(z=r.conv1_maps[i], colorscale="Viridis", showscale=False), 2, i + 1)
    for i in range(min(n2, 8)):
        f4.add_trace(go.Heatmap(z=r.conv2_maps[i], colorscale="Viridis", showscale=False), 3, i + 1)
    f4.update_xaxes(showticklabels=False)
    f4.update_yaxes(showticklabels=False, autorange="reversed")
    f4.update_layout(
        title=f"CNN on digits, step {r.cnn_steps_done}: a test digit and 7 first-layer kernels (top), "
        "feature maps after conv 1 (8x8) and conv 2 (4x4)",
        height=420,
    )
    figs.append(f4)

    # 5. CNN training.
    f5 = make_subplots(rows=1, cols=2, subplot_titles=("training loss (mini-batch)", "test accuracy"))
    f5.add_trace(
        go.Scatter(x=list(range(1, len(r.cnn_loss) + 1)), y=r.cnn_loss, mode="lines", showlegend=False), 1, 1
    )
    f5.add_trace(
        go.Scatter(x=r.cnn_eval_steps, y=r.cnn_test_acc, mode="lines+markers", showlegend=False), 1, 2
    )
    f5.add_hline(y=CHANCE, line_dash="dot", line_color="grey", row=1, col=2)
    f5.update_yaxes(range=[0, 1.02], row=1, col=2)
    f5.update_xaxes(title_text="step")
    f5.update_layout(title="Training the digits CNN")
    figs.append(f5)
    return figs
