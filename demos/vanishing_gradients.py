"""Vanishing gradients: how much gradient reaches the first layer of a deep MLP, by activation,
initialisation, batch norm and residual connections.

The task is two noisy concentric circles (a linear model scores ~50%, so a pass above 85% means the
network really used its depth). Every activation in `activations` is a variant of the same network;
the variants train together in one batched computation (weights [V, in, out], torch.baddbmm).

"Gradient at layer l" is the norm of d(loss)/d(h_l), the gradient that backpropagation delivers to
the output of hidden layer l (all hidden layers have the same width, so the norms compare directly).
The headline ratio is first hidden layer / last hidden layer, measured at initialisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from pydantic import Field, field_validator

from demos._data import circles_split
from demos._nn import (
    BatchedBatchNorm,
    BatchedLinear,
    batched_accuracy,
    batched_cross_entropy,
    cpu_generator,
    mlp_forward,
    per_variant_activation,
)
from demos.base import Claim, DemoParams, RunContext

Activation = Literal["sigmoid", "tanh", "relu", "leaky_relu", "gelu"]

VANISH_RATIO = 1e-3  # first/last below this: vanished
BALANCED = (0.1, 10.0)  # first/last inside this: healthy
LEARNED_ACC = 0.85
NEAR_CHANCE_ACC = 0.60  # binary task: chance is 0.5
BATCH_SIZE: int | None = 128  # None: full batch
EVAL_CAP = 2048  # accuracy is measured on at most this many train / test points
INIT_CAP = 1024  # the at-initialisation gradient uses at most this many training points


class Params(DemoParams):
    activations: list[Activation] = Field(
        default=["sigmoid", "relu"],
        min_length=1,
        description="Activation functions to compare; each one is a separate network, trained side by side.",
        title="Activation functions",
    )
    depth: int = Field(
        20,
        ge=3,
        le=60,
        description="Number of linear layers, input and output layers included.",
        title="Depth (layers)",
    )
    width: int = Field(
        32, ge=4, le=256, description="Units in every hidden layer.", title="Hidden width (units)"
    )
    init: Literal["default", "xavier", "he"] = Field(
        "he",
        description="Weight initialisation: PyTorch's default uniform, Xavier/Glorot, or He/Kaiming.",
        title="Weight initialisation",
    )
    batchnorm: bool = Field(
        False,
        description="Batch-normalise every hidden layer before its activation.",
        title="Batch normalisation",
    )
    residual: bool = Field(
        False,
        description="Add a skip connection around every hidden layer (branch scaled by 1/sqrt(blocks)).",
        title="Residual connections",
    )
    lr: float = Field(
        0.005,
        gt=0.0,
        le=1.0,
        description="Learning rate of SGD with momentum 0.9 (minibatches of 128).",
        title="Learning rate",
    )
    steps: int = Field(
        220, ge=10, le=5000, description="Training steps (minibatches of 128 points).", title="Steps"
    )
    n_samples: int = Field(
        1024,
        ge=64,
        le=20000,
        description="Points in the dataset; a quarter is held out for testing.",
        title="Data points",
    )

    @field_validator("activations")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each activation may be listed once")
        return v


@dataclass
class Result:
    activations: list[str]
    depth: int
    init: str
    batchnorm: bool
    residual: bool
    steps_total: int
    steps_done: int = 0
    layer_grad_init: list[list[float]] = field(default_factory=list)  # [V][hidden layers]
    record_steps: list[int] = field(default_factory=list)  # [T]
    layer_grad: list[list[list[float]]] = field(default_factory=list)  # [V][T][hidden layers]
    train_loss: list[list[float]] = field(default_factory=list)  # [V][T]
    train_acc: list[list[float]] = field(default_factory=list)  # [V][T]
    test_acc: list[list[float]] = field(default_factory=list)  # [V][T]
    chance: float = 0.5

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total


# ----------------------------------------------------------------------------------------- model


class _Net(torch.nn.Module):
    """V deep MLPs with per-variant activations: 2 -> width x (depth-1 hidden) -> 2."""

    def __init__(self, p: Params, n_variants: int, g: torch.Generator, device: torch.device):
        super().__init__()
        w, d = p.width, p.depth
        dims = [2] + [w] * (d - 1) + [2]
        self.linears = torch.nn.ModuleList(
            BatchedLinear(n_variants, dims[i], dims[i + 1], init=p.init, generator=g, device=device)
            for i in range(d)
        )
        self.norms = (
            torch.nn.ModuleList(BatchedBatchNorm(n_variants, w, device=device) for _ in range(d - 1))
            if p.batchnorm
            else None
        )
        self.acts = tuple(p.activations)
        self.residual = p.residual
        self.branch_scale = 1.0 / math.sqrt(max(1, d - 2))

    def forward(self, x: torch.Tensor, grads: list | None = None) -> torch.Tensor:
        """Logits [V, B, 2]. If `grads` is a list, backward fills it with d loss / d h for every hidden
        layer's output h (read it after calling backward)."""
        scale = self.branch_scale if self.residual else None
        if self.norms is None:  # one hand-written autograd node for the whole network (demos._nn)
            return mlp_forward(x, self.linears, self.acts, residual_scale=scale, grad_sink=grads)
        if grads is not None:
            grads[:] = [None] * (len(self.linears) - 1)  # one slot per hidden layer, filled by hooks
        h = x
        for i, lin in enumerate(self.linears[:-1]):
            a = per_variant_activation(self.norms[i](lin(h)), self.acts)
            h = h + scale * a if (scale is not None and i > 0) else a
            if grads is not None and h.requires_grad:
                h.register_hook(_GradInto(grads, i))
        return self.linears[-1](h)


class _GradInto:
    """A tensor hook that stores the gradient it sees at grads[i]."""

    def __init__(self, grads: list, i: int):
        self.grads, self.i = grads, i

    def __call__(self, grad: torch.Tensor) -> None:
        self.grads[self.i] = grad


def _snapshot(r: Result) -> Result:
    """A copy whose lists are not appended to any more (safe to draw while training continues)."""
    return Result(
        r.activations,
        r.depth,
        r.init,
        r.batchnorm,
        r.residual,
        r.steps_total,
        r.steps_done,
        [list(x) for x in r.layer_grad_init],
        list(r.record_steps),
        [list(x) for x in r.layer_grad],
        [list(x) for x in r.train_loss],
        [list(x) for x in r.train_acc],
        [list(x) for x in r.test_acc],
        r.chance,
    )


def _layer_grads(grads: list[torch.Tensor]) -> torch.Tensor:
    """[V, hidden layers]: per-example RMS of ||d loss_i / d h_l,i||, whatever the batch size.
    (grads[l] holds d(mean loss)/dh_l = (1/B) d loss_i/dh_l,i, hence the factor sqrt(B).)"""
    b = grads[0].shape[1]
    return torch.stack([g.flatten(1).norm(dim=1) for g in grads], 1) * math.sqrt(b)


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    V = len(params.activations)
    data = circles_split(params.n_samples, noise=0.08, factor=0.5, seed=ctx.seed, device=dev)
    net = _Net(params, V, cpu_generator(ctx.seed), dev)

    res = Result(
        list(params.activations), params.depth, params.init, params.batchnorm, params.residual, params.steps
    )
    res.layer_grad = [[] for _ in range(V)]
    res.train_loss = [[] for _ in range(V)]
    res.train_acc = [[] for _ in range(V)]
    res.test_acc = [[] for _ in range(V)]

    n_train = data.x_train.shape[0]
    batch = n_train if BATCH_SIZE is None else min(BATCH_SIZE, n_train)
    g_batches = cpu_generator(ctx.seed + 1)
    order = torch.empty(0, dtype=torch.long)
    n_records = 30
    every = max(1, params.steps // n_records)
    record_at = set(range(0, params.steps, every)) | {params.steps - 1}
    progress_every = max(1, params.steps // 20)

    x_tr_eval, y_tr_eval = data.x_train[:EVAL_CAP], data.y_train[:EVAL_CAP]
    x_te_eval, y_te_eval = data.x_test[:EVAL_CAP], data.y_test[:EVAL_CAP]

    # Gradient at initialisation, on the training set (up to INIT_CAP points).
    layer_g: list[torch.Tensor] = []
    net.train()
    batched_cross_entropy(net(data.x_train[:INIT_CAP], layer_g), data.y_train[:INIT_CAP]).sum().backward()
    res.layer_grad_init = _layer_grads(layer_g).tolist()
    del layer_g
    net.zero_grad(set_to_none=True)
    ctx.progress(0.0, _snapshot(res))
    # Built after the first report: a process's first optimizer imports torch._dynamo (seconds).
    opt = torch.optim.SGD(net.parameters(), lr=params.lr, momentum=0.9)

    pos = n_train
    for step in range(params.steps):
        if pos + batch > n_train:
            order, pos = torch.randperm(n_train, generator=g_batches).to(dev), 0
        idx = order[pos : pos + batch]
        pos += batch
        xb, yb = data.x_train[idx], data.y_train[idx]
        recording = step in record_at
        layer_g = [] if recording else None
        net.train()
        opt.zero_grad(set_to_none=True)
        logits = net(xb, layer_g)
        loss_v = batched_cross_entropy(logits, yb)
        loss_v.sum().backward()
        if recording:
            with torch.no_grad():
                grads = _layer_grads(layer_g)
                net.eval()
                train_acc = batched_accuracy(net(x_tr_eval), y_tr_eval)
                test_acc = batched_accuracy(net(x_te_eval), y_te_eval)
            grads_l, loss_l = grads.tolist(), loss_v.detach().tolist()
            tr_l, te_l = train_acc.tolist(), test_acc.tolist()
            res.record_steps.append(step)
            for v in range(V):
                res.layer_grad[v].append(grads_l[v])
                res.train_loss[v].append(loss_l[v])
                res.train_acc[v].append(tr_l[v])
                res.test_acc[v].append(te_l[v])
        opt.step()
        res.steps_done = step + 1
        ctx.tick(res.steps_done, res.steps_done / params.steps, lambda: _snapshot(res))
        if res.steps_done % progress_every == 0 or res.steps_done == params.steps:
            ctx.progress(res.steps_done / params.steps, _snapshot(res))
    return res


# -------------------------------------------------------------------------------------- reading


def _ratio(grads: list[float]) -> float:
    """First hidden layer's gradient norm over the last one's."""
    if not grads:
        return float("nan")
    first, last = grads[0], grads[-1]
    if last <= 0 or not math.isfinite(last) or not math.isfinite(first):
        return float("nan") if not (math.isfinite(first) and math.isfinite(last)) else math.inf
    return first / last


def ratios(r: Result) -> dict[str, float]:
    return {a: _ratio(g) for a, g in zip(r.activations, r.layer_grad_init, strict=False)}


def final_test_acc(r: Result) -> dict[str, float]:
    return {a: acc[-1] for a, acc in zip(r.activations, r.test_acc, strict=False) if acc}


def _json_num(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"steps": result.steps_done}
    acc = final_test_acc(result)
    for a, q in ratios(result).items():
        out[f"{a}_grad_ratio_first_to_last"] = _json_num(float(f"{q:.3g}")) if math.isfinite(q) else str(q)
    for a, v in acc.items():
        out[f"{a}_test_acc"] = round(v, 4)
    for a, losses in zip(result.activations, result.train_loss, strict=False):
        if losses:
            out[f"{a}_train_loss"] = _json_num(round(losses[-1], 4))
    return out


def _fmt_ratio(q: float) -> str:
    if q == 0:
        return "< 1e-300"  # underflowed: smaller than a double can show
    return f"{q:.2g}" if math.isfinite(q) else str(q)


CLAIMS = {
    "sigmoid-first-layer-gradient-vanishes": "With sigmoid in a deep plain network, the gradient reaching the first hidden layer is over 1000x smaller than at the last one.",
    "sigmoid-stays-near-chance": "With sigmoid in a deep plain network, test accuracy stays near chance.",
    "relu-he-gradients-balanced": "With ReLU and He init, the first/last gradient ratio stays between 0.1 and 10.",
    "relu-he-learns": "With ReLU and He init, the network learns (test accuracy above 85%).",
    "batchnorm-gradients-do-not-vanish": "With batch normalisation, the gradient does not vanish on its way to the first layer.",
    "residual-gradients-balanced": "With residual connections, the first/last gradient ratio stays balanced.",
    "residual-learns": "With residual connections, the network learns where the plain one does not.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    acts, plain = set(params.activations), not params.batchnorm and not params.residual
    out = []
    if plain and "sigmoid" in acts:
        out += ["sigmoid-first-layer-gradient-vanishes", "sigmoid-stays-near-chance"]
    if plain and params.init == "he" and "relu" in acts:
        out += ["relu-he-gradients-balanced", "relu-he-learns"]
    if params.batchnorm:
        out.append("batchnorm-gradients-do-not-vanish")
    if params.residual:
        out += ["residual-gradients-balanced", "residual-learns"]
    return out


def claims(result: Result) -> list[Claim]:
    q, acc = ratios(result), final_test_acc(result)
    plain = not result.batchnorm and not result.residual
    out: list[Claim] = []
    if not result.layer_grad_init:
        return out
    depth = result.depth
    if plain and "sigmoid" in q:
        out.append(
            Claim(
                "sigmoid-first-layer-gradient-vanishes",
                f"With sigmoid at depth {depth}, the gradient reaching the first hidden layer is over "
                f"{1 / VANISH_RATIO:.0f}x smaller than at the last one (ratio {_fmt_ratio(q['sigmoid'])}).",
                q["sigmoid"] < VANISH_RATIO,
            )
        )
        if "sigmoid" in acc:
            out.append(
                Claim(
                    "sigmoid-stays-near-chance",
                    f"With sigmoid at depth {depth}, test accuracy stays near chance: below "
                    f"{NEAR_CHANCE_ACC:.0%} (got {acc['sigmoid']:.1%}).",
                    acc["sigmoid"] < NEAR_CHANCE_ACC,
                )
            )
    if plain and result.init == "he" and "relu" in q:
        lo, hi = BALANCED
        out.append(
            Claim(
                "relu-he-gradients-balanced",
                f"With ReLU and He init, the first/last gradient ratio stays between {lo:g} and {hi:g} "
                f"(got {_fmt_ratio(q['relu'])}).",
                lo <= q["relu"] <= hi,
            )
        )
        if "relu" in acc:
            out.append(
                Claim(
                    "relu-he-learns",
                    f"With ReLU and He init, test accuracy passes {LEARNED_ACC:.0%} (got {acc['relu']:.1%}).",
                    acc["relu"] > LEARNED_ACC,
                )
            )
    names = ", ".join(result.activations)
    lo, hi = BALANCED
    if result.batchnorm:
        worst = min(q.values())
        out.append(
            Claim(
                "batchnorm-gradients-do-not-vanish",
                f"With batch norm, no activation's first-layer gradient is over {1 / lo:g}x smaller than its "
                f"last layer's ({names}; smallest ratio {_fmt_ratio(worst)}).",
                worst >= lo,
            )
        )
    if result.residual:
        out.append(
            Claim(
                "residual-gradients-balanced",
                f"With residual connections, every activation's first/last gradient ratio stays between "
                f"{lo:g} and {hi:g} ({names}; range {_fmt_ratio(min(q.values()))} to "
                f"{_fmt_ratio(max(q.values()))}).",
                all(lo <= x <= hi for x in q.values()),
            )
        )
    if acc and result.done:
        if result.batchnorm:
            slug = "batchnorm-residual-learns" if result.residual else "batchnorm-learns"
            what = "batch norm and residual connections" if result.residual else "batch norm"
            worst_a = min(acc, key=acc.get)
            out.append(
                Claim(
                    slug,
                    f"With {what}, every activation's test accuracy passes {LEARNED_ACC:.0%} "
                    f"({names}; lowest {acc[worst_a]:.1%}, {worst_a}).",
                    acc[worst_a] > LEARNED_ACC,
                )
            )
        elif result.residual:
            # Sigmoid's slope (at most 0.25) keeps its residual branches weak, so it still learns slowly
            # even though its gradient no longer vanishes; the accuracy claim covers the others.
            others = {a: x for a, x in acc.items() if a != "sigmoid"}
            if others:
                worst_a = min(others, key=others.get)
                out.append(
                    Claim(
                        "residual-learns",
                        f"With residual connections, every activation other than sigmoid passes "
                        f"{LEARNED_ACC:.0%} test accuracy ({', '.join(others)}; lowest "
                        f"{others[worst_a]:.1%}, {worst_a}).",
                        others[worst_a] > LEARNED_ACC,
                    )
                )
    return out


# ------------------------------------------------------------------------------------- figures

_COLOURS = {
    "sigmoid": "#d62728",
    "tanh": "#ff7f0e",
    "relu": "#1f77b4",
    "leaky_relu": "#2ca02c",
    "gelu": "#9467bd",
}


def _variant_label(r: Result) -> str:
    bits = [f"{r.init} init"]
    if r.batchnorm:
        bits.append("batch norm")
    if r.residual:
        bits.append("residual")
    return ", ".join(bits)


def figures(result: Result) -> list[go.Figure]:
    r = result
    label = _variant_label(r)
    figs: list[go.Figure] = []

    f1 = go.Figure()
    for a, g in zip(r.activations, r.layer_grad_init, strict=False):
        f1.add_trace(
            go.Scatter(
                x=list(range(1, len(g) + 1)),
                y=[max(x, 1e-30) for x in g],
                mode="lines+markers",
                name=a,
                line={"color": _COLOURS.get(a)},
            )
        )
    f1.update_layout(
        title=f"Gradient reaching each hidden layer at initialisation ({label})",
        xaxis_title="hidden layer (1 = nearest the input)",
        yaxis_title="‖∂loss/∂h‖ (log scale)",
        yaxis_type="log",
    )
    figs.append(f1)

    V = len(r.activations)
    f2 = make_subplots(rows=1, cols=max(V, 1), subplot_titles=r.activations or [""], shared_yaxes=True)
    for v, a in enumerate(r.activations):
        hist = r.layer_grad[v] if v < len(r.layer_grad) else []
        if not hist:
            continue
        z = [
            [math.log10(max(hist[t][layer], 1e-30)) for t in range(len(hist))]
            for layer in range(len(hist[0]))
        ]
        f2.add_trace(
            go.Heatmap(
                z=z,
                x=r.record_steps[: len(hist)],
                y=list(range(1, len(hist[0]) + 1)),
                coloraxis="coloraxis",
                name=a,
                hovertemplate="step %{x}<br>layer %{y}<br>log10 ‖grad‖ %{z:.2f}<extra>" + a + "</extra>",
            ),
            row=1,
            col=v + 1,
        )
        f2.update_xaxes(title_text="training step", row=1, col=v + 1)
    f2.update_yaxes(title_text="hidden layer", row=1, col=1)
    f2.update_layout(
        title="Gradient size by layer during training (log10 ‖∂loss/∂h‖)",
        coloraxis={"colorscale": "Viridis", "colorbar": {"title": "log10"}},
    )
    figs.append(f2)

    f3 = make_subplots(rows=1, cols=2, subplot_titles=("Training loss (minibatch)", "Test accuracy"))
    for v, a in enumerate(r.activations):
        colour = _COLOURS.get(a)
        n = len(r.train_loss[v]) if v < len(r.train_loss) else 0
        xs = r.record_steps[:n]
        if n:
            f3.add_trace(
                go.Scatter(x=xs, y=r.train_loss[v], name=a, legendgroup=a, line={"color": colour}),
                row=1,
                col=1,
            )
            f3.add_trace(
                go.Scatter(
                    x=xs, y=r.test_acc[v], name=a, legendgroup=a, showlegend=False, line={"color": colour}
                ),
                row=1,
                col=2,
            )
    f3.add_hline(y=r.chance, line_dash="dot", line_color="grey", row=1, col=2)
    f3.update_xaxes(title_text="training step")
    f3.update_yaxes(title_text="cross-entropy", row=1, col=1)
    f3.update_yaxes(title_text="accuracy", range=[0, 1.02], row=1, col=2)
    f3.update_layout(title=f"Loss and test accuracy per activation ({label})")
    figs.append(f3)
    return figs
