"""How a network learns: a small fully connected network fitting a 2-D, two-class dataset, in the
spirit of TensorFlow Playground.

- Datasets (made here, points in roughly [-1, 1]^2, half for training and half for testing): "circle"
  (a disc inside a ring), "xor" (the four quadrants, opposite ones alike), "gauss" (two Gaussian
  clouds) and "spiral" (two interleaved spiral arms). `noise` is the standard deviation of Gaussian
  noise added to every point.
- The network: `layers` hidden layers of `neurons` units with the chosen activation, one output logit
  (binary cross-entropy). `l1` and `l2` add l1 * sum|w| and l2 * sum w^2 over the weights (not the
  biases) to the training loss. Training is full-batch Adam at rate `lr`.
- Decision-boundary snapshots are taken at a handful of steps, closer together early on, when the
  boundary moves most.
- The gradient check compares backpropagation's gradient of the full training loss (regularisation
  included) with central finite differences, in float64, at the starting weights, on up to
  `GRADCHECK_PARAMS` parameters chosen at random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field

from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext

Dataset = Literal["circle", "xor", "gauss", "spiral"]
Activation = Literal["relu", "tanh", "sigmoid", "linear"]

N_POINTS = 400
GRID = 61
EXTENT = 1.5
SNAPSHOT_FRACTIONS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.6, 1.0)
GRADCHECK_PARAMS = 200
GRADCHECK_EPS = 1e-6
GRADCHECK_TOL = 1e-4
ACC_THRESHOLD = 0.9
N_LOSS_POINTS = 60


class Params(DemoParams):
    dataset: Dataset = Field(
        "circle",
        description="The 2-D problem: disc in a ring, XOR quadrants, two clouds, or two spirals.",
        title="Dataset",
    )
    noise: float = Field(
        0.1,
        ge=0.0,
        le=0.5,
        description="Standard deviation of the noise added to every point.",
        title="Noise (std. dev.)",
    )
    layers: int = Field(
        2,
        ge=0,
        le=6,
        description="Hidden layers (0 gives logistic regression: a straight boundary).",
        title="Hidden layers",
    )
    neurons: int = Field(
        6, ge=1, le=16, description="Units in every hidden layer.", title="Hidden width (units)"
    )
    activation: Activation = Field(
        "tanh", description="Non-linearity of the hidden units ('linear' means none).", title="Activation"
    )
    lr: float = Field(
        0.03, gt=0.0, le=1.0, description="Adam learning rate (full-batch).", title="Learning rate"
    )
    l1: float = Field(
        0.0,
        ge=0.0,
        le=0.1,
        description="L1 penalty: adds l1 x sum of |weights| to the loss.",
        title="L1 penalty",
    )
    l2: float = Field(
        0.0,
        ge=0.0,
        le=0.1,
        description="L2 penalty: adds l2 x sum of squared weights to the loss.",
        title="L2 penalty",
    )
    steps: int = Field(500, ge=10, le=5000, description="Training steps.", title="Steps")


# --------------------------------------------------------------------------------------------- data


def make_dataset(name: str, n: int, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n points [n, 2] and labels [n] (0/1), classes balanced, order shuffled."""
    half = n // 2
    if name == "circle":
        r_in = torch.rand(half, generator=g).sqrt() * 0.5  # class 1: a disc of radius 0.5
        r_out = 0.7 + 0.3 * torch.rand(n - half, generator=g)  # class 0: a ring from 0.7 to 1
        t = torch.rand(n, generator=g) * 2 * math.pi
        r = torch.cat([r_in, r_out])
        x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
        y = torch.cat([torch.ones(half), torch.zeros(n - half)])
    elif name == "xor":
        u = torch.rand(n, 2, generator=g) * 0.9 + 0.1  # keep a margin off the axes
        signs = torch.randint(0, 2, (n, 2), generator=g) * 2 - 1
        x = u * signs
        y = ((x[:, 0] * x[:, 1]) > 0).float()
    elif name == "gauss":
        centres = torch.tensor([[0.5, 0.5], [-0.5, -0.5]])
        y = torch.cat([torch.ones(half), torch.zeros(n - half)])
        x = centres[(1 - y).long()] + 0.2 * torch.randn(n, 2, generator=g)
    elif name == "spiral":
        i = torch.arange(half, dtype=torch.float32) / half
        r = 0.05 + 0.95 * i
        t = 1.75 * 2 * math.pi * i
        a = torch.stack([r * torch.sin(t), r * torch.cos(t)], 1)
        i2 = torch.arange(n - half, dtype=torch.float32) / (n - half)
        r2 = 0.05 + 0.95 * i2
        t2 = 1.75 * 2 * math.pi * i2 + math.pi
        b = torch.stack([r2 * torch.sin(t2), r2 * torch.cos(t2)], 1)
        x = torch.cat([a, b])
        y = torch.cat([torch.ones(half), torch.zeros(n - half)])
    else:
        raise ValueError(f"unknown dataset {name!r}")
    x = x + noise * torch.randn(n, 2, generator=g)
    p = torch.randperm(n, generator=g)
    return x[p].contiguous(), y[p].contiguous()


# ------------------------------------------------------------------------------------------- network


def _act(name: str):
    return {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}[name]


def init_params(layers: int, neurons: int, g: torch.Generator) -> list[torch.Tensor]:
    """[W1, b1, W2, b2, ...]: Xavier-normal weights [in, out], zero biases."""
    dims = [2] + [neurons] * layers + [1]
    out: list[torch.Tensor] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        out.append(torch.randn(a, b, generator=g) * math.sqrt(2.0 / (a + b)))
        out.append(torch.zeros(b))
    return out


def forward(ps: list[torch.Tensor], x: torch.Tensor, activation: str) -> torch.Tensor:
    """Logits [n]."""
    f = _act(activation)
    h = x
    n_layers = len(ps) // 2
    for i in range(n_layers):
        h = h @ ps[2 * i] + ps[2 * i + 1]
        if i < n_layers - 1:
            h = f(h)
    return h[:, 0]


def data_loss(ps: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, activation: str) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(forward(ps, x, activation), y)


def total_loss(ps: list[torch.Tensor], x, y, activation: str, l1: float, l2: float) -> torch.Tensor:
    loss = data_loss(ps, x, y, activation)
    weights = ps[0::2]
    if l1:
        loss = loss + l1 * sum(w.abs().sum() for w in weights)
    if l2:
        loss = loss + l2 * sum((w * w).sum() for w in weights)
    return loss


def gradient_check(
    ps: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, p: Params, g: torch.Generator
) -> tuple[float, int]:
    """Relative error ||g_bp - g_fd|| / (||g_bp|| + ||g_fd||) in float64 on sampled parameters."""
    ps64 = [t.detach().double().cpu().clone().requires_grad_() for t in ps]
    x64, y64 = x.double().cpu(), y.double().cpu()

    def loss_fn() -> torch.Tensor:
        return total_loss(ps64, x64, y64, p.activation, p.l1, p.l2)

    grads = torch.autograd.grad(loss_fn(), ps64)
    index = [(i, j) for i, t in enumerate(ps64) for j in range(t.numel())]
    if len(index) > GRADCHECK_PARAMS:
        pick = torch.randperm(len(index), generator=g)[:GRADCHECK_PARAMS].tolist()
        index = [index[k] for k in sorted(pick)]
    bp, fd = [], []
    with torch.no_grad():
        for i, j in index:
            flat = ps64[i].view(-1)
            old = float(flat[j])
            flat[j] = old + GRADCHECK_EPS
            up = float(loss_fn())
            flat[j] = old - GRADCHECK_EPS
            down = float(loss_fn())
            flat[j] = old
            fd.append((up - down) / (2 * GRADCHECK_EPS))
            bp.append(float(grads[i].view(-1)[j]))
    a, b = torch.tensor(bp, dtype=torch.float64), torch.tensor(fd, dtype=torch.float64)
    denom = float(a.norm() + b.norm())
    return (float((a - b).norm()) / denom if denom > 0 else 0.0), len(index)


# -------------------------------------------------------------------------------------------- result


@dataclass
class Result:
    dataset: str
    activation: str
    layers: int
    neurons: int
    steps_total: int
    n_params: int = 0
    steps_done: int = 0
    train_x: list[list[float]] = field(default_factory=list)
    train_y: list[int] = field(default_factory=list)
    test_x: list[list[float]] = field(default_factory=list)
    test_y: list[int] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)
    snapshot_steps: list[int] = field(default_factory=list)
    snapshots: list[list[list[float]]] = field(default_factory=list)  # [S][G][G] P(class 1)
    loss_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)  # data loss only (no penalty)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    gradcheck_error: float = math.nan
    gradcheck_count: int = 0

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and math.isfinite(self.gradcheck_error)


def _snapshot(r: Result) -> Result:
    return replace(
        r,
        snapshot_steps=list(r.snapshot_steps),
        snapshots=list(r.snapshots),
        loss_steps=list(r.loss_steps),
        train_loss=list(r.train_loss),
        test_loss=list(r.test_loss),
        train_acc=list(r.train_acc),
        test_acc=list(r.test_acc),
    )


def _points(x: torch.Tensor) -> list[list[float]]:
    return [[round(a, 4), round(b, 4)] for a, b in x.cpu().tolist()]


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    p = params
    res = Result(p.dataset, p.activation, p.layers, p.neurons, p.steps)
    ctx.progress(0.0, _snapshot(res))

    x, y = make_dataset(p.dataset, N_POINTS, p.noise, g)
    n_tr = N_POINTS // 2
    x_tr, y_tr, x_te, y_te = (t.to(dev) for t in (x[:n_tr], y[:n_tr], x[n_tr:], y[n_tr:]))
    res.train_x, res.train_y = _points(x_tr), [int(v) for v in y_tr.tolist()]
    res.test_x, res.test_y = _points(x_te), [int(v) for v in y_te.tolist()]

    initial = init_params(p.layers, p.neurons, g)
    ps = [t.clone().to(dev).requires_grad_() for t in initial]
    res.n_params = sum(t.numel() for t in ps)
    opt = torch.optim.Adam(ps, lr=p.lr)

    axis = torch.linspace(-EXTENT, EXTENT, GRID)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    grid_pts = torch.stack([xx.flatten(), yy.flatten()], 1).to(dev)
    res.grid = [round(v, 4) for v in axis.tolist()]
    snap_at = sorted({round(p.steps * f) for f in SNAPSHOT_FRACTIONS})
    record_every = max(1, p.steps // N_LOSS_POINTS)
    progress_every = max(1, p.steps // 15)

    for step in range(p.steps + 1):
        if step % record_every == 0 or step == p.steps:
            with torch.no_grad():
                lt, lv = data_loss(ps, x_tr, y_tr, p.activation), data_loss(ps, x_te, y_te, p.activation)
                at = ((forward(ps, x_tr, p.activation) > 0).float() == y_tr).float().mean()
                av = ((forward(ps, x_te, p.activation) > 0).float() == y_te).float().mean()
            res.loss_steps.append(step)
            res.train_loss.append(float(lt))
            res.test_loss.append(float(lv))
            res.train_acc.append(float(at))
            res.test_acc.append(float(av))
        if step in snap_at:
            with torch.no_grad():
                prob = torch.sigmoid(forward(ps, grid_pts, p.activation)).view(GRID, GRID)
            res.snapshot_steps.append(step)
            res.snapshots.append([[round(v, 3) for v in row] for row in prob.cpu().tolist()])
        if step == p.steps:
            break
        loss = total_loss(ps, x_tr, y_tr, p.activation, p.l1, p.l2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        res.steps_done = step + 1
        ctx.tick(res.steps_done, 0.9 * res.steps_done / p.steps, lambda: _snapshot(res))
        if res.steps_done % progress_every == 0 and res.steps_done < p.steps:
            ctx.progress(0.9 * res.steps_done / p.steps, _snapshot(res))
    ctx.progress(0.9, _snapshot(res))

    # At the starting weights, where the gradient is far from zero (near a minimum it shrinks towards
    # the finite differences' rounding noise and a relative error means little).
    res.gradcheck_error, res.gradcheck_count = gradient_check(initial, x_tr, y_tr, p, g)
    ctx.progress(1.0, _snapshot(res))
    return res


# ------------------------------------------------------------------------------------------- reading


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"steps": r.steps_done, "parameters": r.n_params}
    if r.test_loss:
        out["train_loss"] = round(r.train_loss[-1], 5)
        out["test_loss"] = round(r.test_loss[-1], 5)
        out["initial_test_loss"] = round(r.test_loss[0], 5)
        out["train_acc"] = round(r.train_acc[-1], 4)
        out["test_acc"] = round(r.test_acc[-1], 4)
    if math.isfinite(r.gradcheck_error):
        out["gradcheck_relative_error"] = float(f"{r.gradcheck_error:.3g}")
        out["gradcheck_parameters"] = r.gradcheck_count
    return out


CLAIMS = {
    "backprop-matches-finite-differences": "Backpropagation's gradient matches central finite differences at the starting weights.",
    "test-loss-falls": "Training lowers the loss on held-out points too.",
    "test-accuracy-above-threshold": "The trained network classifies at least 90% of the held-out points correctly.",
}


def claims(result: Result) -> list[Claim]:
    r = result
    out: list[Claim] = []
    if math.isfinite(r.gradcheck_error):
        out.append(
            Claim(
                "backprop-matches-finite-differences",
                f"At the starting weights, backpropagation's gradient matches central finite differences in float64 "
                f"on {r.gradcheck_count} parameters: relative error {r.gradcheck_error:.1e} (must be below {GRADCHECK_TOL:g}).",
                r.gradcheck_error < GRADCHECK_TOL,
            )
        )
    if r.steps_done >= r.steps_total and len(r.test_loss) >= 2:
        first, last = r.test_loss[0], r.test_loss[-1]
        out.append(
            Claim(
                "test-loss-falls",
                f"Training lowers the loss on held-out points too: test loss {first:.3f} at the start, "
                f"{last:.3f} after {r.steps_done} steps.",
                last < first,
            )
        )
        acc = r.test_acc[-1]
        out.append(
            Claim(
                "test-accuracy-above-threshold",
                f"The trained network classifies {acc:.1%} of the held-out points correctly "
                f"(threshold {ACC_THRESHOLD:.0%}) on the {r.dataset} data.",
                acc > ACC_THRESHOLD,
            )
        )
    return out


# ------------------------------------------------------------------------------------------- figures


def _scatter(
    points: list[list[float]], labels: list[int], name: str, symbol: str, show: bool
) -> list[go.Scatter]:
    out = []
    for cls, colour in ((1, "#08519c"), (0, "#e6550d")):
        pts = [pt for pt, lab in zip(points, labels, strict=True) if lab == cls]
        out.append(
            go.Scatter(
                x=[pt[0] for pt in pts],
                y=[pt[1] for pt in pts],
                mode="markers",
                name=f"{name}, class {cls}",
                marker={
                    "color": colour,
                    "size": 5,
                    "symbol": symbol,
                    "line": {"width": 0.5, "color": "white"},
                },
                showlegend=show,
            )
        )
    return out


def figures(result: Result) -> list[go.Figure]:
    r = result
    figs: list[go.Figure] = []

    f1 = go.Figure()
    n_snap = len(r.snapshots)
    for i, (step, z) in enumerate(zip(r.snapshot_steps, r.snapshots, strict=True)):
        f1.add_trace(
            go.Contour(
                x=r.grid,
                y=r.grid,
                z=z,
                zmin=0,
                zmax=1,
                colorscale="RdBu",
                reversescale=True,
                contours={"start": 0.0, "end": 1.0, "size": 0.1},
                colorbar={"title": "P(class 1)"},
                visible=i == n_snap - 1,
                name=f"step {step}",
                hovertemplate="x %{x:.2f}, y %{y:.2f}: P %{z:.2f}<extra></extra>",
            )
        )
    for tr in _scatter(r.train_x, r.train_y, "train", "circle", True):
        f1.add_trace(tr)
    for tr in _scatter(r.test_x, r.test_y, "test", "x", True):
        tr.visible = "legendonly"
        f1.add_trace(tr)
    n_traces = len(f1.data)
    if n_snap:
        steps = []
        for i, step in enumerate(r.snapshot_steps):
            visible = [j == i for j in range(n_snap)] + [True] * (n_traces - n_snap)
            steps.append({"method": "restyle", "args": [{"visible": visible}], "label": str(step)})
        f1.update_layout(
            sliders=[{"active": n_snap - 1, "currentvalue": {"prefix": "step "}, "steps": steps}]
        )
    f1.update_layout(
        title=f"Decision boundary as it moves ({r.dataset}, {r.layers} x {r.neurons} {r.activation}); drag the slider",
        xaxis={"range": [-EXTENT, EXTENT], "title": "x₁"},
        yaxis={"range": [-EXTENT, EXTENT], "title": "x₂", "scaleanchor": "x"},
        height=560,
    )
    figs.append(f1)

    f2 = make_subplots(rows=1, cols=2, subplot_titles=("loss (cross-entropy, no penalty)", "accuracy"))
    for series, name, colour, dash in (
        (r.train_loss, "train", "#1f77b4", None),
        (r.test_loss, "test", "#d62728", "dash"),
    ):
        f2.add_trace(
            go.Scatter(
                x=r.loss_steps,
                y=series,
                mode="lines",
                name=f"{name} loss",
                line={"color": colour, "dash": dash},
            ),
            1,
            1,
        )
    for series, name, colour, dash in (
        (r.train_acc, "train", "#1f77b4", None),
        (r.test_acc, "test", "#d62728", "dash"),
    ):
        f2.add_trace(
            go.Scatter(
                x=r.loss_steps,
                y=series,
                mode="lines",
                name=f"{name} accuracy",
                line={"color": colour, "dash": dash},
            ),
            1,
            2,
        )
    f2.update_xaxes(title_text="step")
    f2.update_yaxes(range=[0, 1.02], row=1, col=2)
    f2.update_layout(title=f"Training and test loss (step {r.steps_done} of {r.steps_total})")
    figs.append(f2)
    return figs
