"""Learning-rate sweep with early stopping.

Several copies of one small network (same initial weights) learn the digits with plain minibatch SGD,
each at its own learning rate, log-spaced from too small to divergent. All copies train together in
one batched computation: the weights carry a leading "rate" dimension, every step is an einsum over
that dimension, and each copy's update is scaled by its own rate. Validation loss is tracked each
epoch; early stopping keeps the weights from the best epoch and marks where a patience rule would stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import plotly.graph_objects as go
import torch
from pydantic import Field, model_validator

from demos._data import digits_split
from demos._nn import BatchedLinear, batched_accuracy, batched_cross_entropy, cpu_generator
from demos.base import Claim, DemoParams, RunContext

# A copy whose training loss passes this is treated as diverged and frozen.
_DIVERGED_LOSS = 1e4


class Params(DemoParams):
    lr_min: float = Field(
        1e-3,
        ge=1e-5,
        le=1.0,
        description="Smallest learning rate in the sweep",
        title="Smallest learning rate",
    )
    lr_max: float = Field(
        10.0,
        ge=1e-3,
        le=100.0,
        description="Largest learning rate in the sweep",
        title="Largest learning rate",
    )
    n_rates: int = Field(
        5,
        ge=3,
        le=9,
        description="How many rates, log-spaced between the two ends",
        title="Rates in the sweep",
    )
    epochs: int = Field(40, ge=5, le=200, description="Passes over the training set", title="Epochs")
    patience: int = Field(
        10,
        ge=1,
        le=100,
        description="Epochs without a new best validation loss before stopping",
        title="Patience (epochs)",
    )
    train_size: int = Field(
        300, ge=50, le=1000, description="Training examples drawn from the digits", title="Training examples"
    )
    hidden: int = Field(
        64,
        ge=4,
        le=256,
        description="Hidden units of the one-hidden-layer network",
        title="Hidden width (units)",
    )
    batch_size: int = Field(
        32, ge=4, le=512, description="Examples per SGD step", title="Batch size (examples)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Params:
        if self.lr_max <= self.lr_min:
            raise ValueError("lr_max must be larger than lr_min")
        return self


@dataclass
class Result:
    rates: list[float]
    epochs: int
    patience: int
    initial_val_loss: float = float("nan")
    epochs_done: int = 0
    # per rate, per finished epoch; None where the loss was not finite
    train_loss: list[list[float | None]] = field(default_factory=list)
    val_loss: list[list[float | None]] = field(default_factory=list)
    val_acc: list[list[float | None]] = field(default_factory=list)
    diverged: list[bool] = field(default_factory=list)
    best_epoch: list[int] = field(default_factory=list)  # 1-based; 0 = no finite epoch yet
    stop_epoch: list[int | None] = field(default_factory=list)  # where patience ran out, if it did
    kept_val_loss: list[float | None] = field(default_factory=list)
    kept_test_acc: list[float | None] = field(default_factory=list)
    final_test_acc: list[float | None] = field(default_factory=list)
    done: bool = False


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def total_steps(params: Params) -> int:
    """Minibatch steps in the whole run (what "stopped at step N of M" counts)."""
    return math.ceil(params.train_size / params.batch_size) * params.epochs


def run(params: Params, ctx: RunContext) -> Result:
    dev = ctx.device
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    rates = [
        math.exp(
            math.log(params.lr_min) + i * (math.log(params.lr_max / params.lr_min)) / (params.n_rates - 1)
        )
        for i in range(params.n_rates)
    ]
    res = Result(rates=rates, epochs=params.epochs, patience=params.patience)
    ctx.progress(0.0, res)
    V = len(rates)

    data = digits_split(n_train=params.train_size, seed=ctx.seed, device=dev)
    n_tr = params.train_size
    half = len(data.y_test) // 2  # the held-out part: half validation (for stopping), half test
    xtr, ytr = data.x_train, data.y_train
    xva, yva = data.x_test[:half], data.y_test[:half]
    xte, yte = data.x_test[half:], data.y_test[half:]

    layers = [
        BatchedLinear(V, data.n_features, params.hidden, init="lecun", generator=g, device=dev),
        BatchedLinear(V, params.hidden, data.n_classes, init="lecun", generator=g, device=dev),
    ]
    weights: list[torch.Tensor] = []
    for layer in layers:
        with torch.no_grad():
            layer.weight[:] = layer.weight[0].clone()  # one initial network, copied for every rate
            layer.bias.zero_()
        weights += [layer.weight, layer.bias]
    kept = [w.detach().clone() for w in weights]
    lr = torch.tensor(rates, device=dev)

    def logits(x: torch.Tensor, ws: list[torch.Tensor]) -> torch.Tensor:
        a, b, c, d = ws
        h = torch.tanh(torch.matmul(x, a) + b)
        return torch.baddbmm(d, h, c)

    def losses(x: torch.Tensor, y: torch.Tensor, ws: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        out = logits(x, ws)
        return batched_cross_entropy(out, y), batched_accuracy(out, y)

    with torch.no_grad():
        v0, _ = losses(xva, yva, weights)
    res.initial_val_loss = float(v0[0])
    res.train_loss = [[] for _ in range(V)]
    res.val_loss = [[] for _ in range(V)]
    res.val_acc = [[] for _ in range(V)]
    res.best_epoch = [0] * V
    res.stop_epoch = [None] * V
    res.kept_val_loss = [None] * V
    res.diverged = [False] * V
    best = torch.full((V,), float("inf"), device=dev)
    since_best = [0] * V
    alive = torch.ones(V, dtype=torch.bool, device=dev)

    steps_per_epoch = math.ceil(n_tr / params.batch_size)
    total_steps = steps_per_epoch * params.epochs
    report_every = max(1, total_steps // 40)
    step = 0
    for epoch in range(1, params.epochs + 1):
        order = torch.randperm(n_tr, generator=g).to(dev)
        for i in range(0, n_tr, params.batch_size):
            idx = order[i : i + params.batch_size]
            ce, _ = losses(xtr[idx], ytr[idx], weights)
            alive &= torch.isfinite(ce) & (ce < _DIVERGED_LOSS)
            for w in weights:
                w.grad = None
            if bool(alive.any()):
                ce[alive].sum().backward()  # copies are independent: each gets its own gradient
                with torch.no_grad():
                    scale = lr * alive
                    for w in weights:
                        w -= scale.view(V, *([1] * (w.dim() - 1))) * torch.nan_to_num(w.grad)
            step += 1
            ctx.tick(step, 0.95 * step / total_steps, lambda: res)
            if step % report_every == 0:
                ctx.progress(0.95 * step / total_steps, res)

        with torch.no_grad():
            tl, _ = losses(xtr, ytr, weights)
            vl, va_acc = losses(xva, yva, weights)
            for v in range(V):
                dead = not bool(alive[v])
                res.diverged[v] = res.diverged[v] or dead or not math.isfinite(float(tl[v]))
                res.train_loss[v].append(_finite(float(tl[v])))
                res.val_loss[v].append(_finite(float(vl[v])))
                res.val_acc[v].append(_finite(float(va_acc[v])))
                if res.stop_epoch[v] is not None:
                    continue  # patience already ran out; later epochs are shown but not kept
                if math.isfinite(float(vl[v])) and float(vl[v]) < float(best[v]):
                    best[v] = vl[v]
                    res.best_epoch[v] = epoch
                    res.kept_val_loss[v] = float(vl[v])
                    since_best[v] = 0
                    for k, w in zip(kept, weights, strict=True):
                        k[v] = w[v]
                else:
                    since_best[v] += 1
                    if since_best[v] >= params.patience:
                        res.stop_epoch[v] = epoch
        res.epochs_done = epoch
        ctx.progress(0.95 * step / total_steps, res)

    with torch.no_grad():
        _, acc_final = losses(xte, yte, weights)
        _, acc_kept = losses(xte, yte, kept)
    res.final_test_acc = [_finite(float(a)) for a in acc_final]
    res.kept_test_acc = [_finite(float(a)) if res.best_epoch[v] else None for v, a in enumerate(acc_kept)]
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def _best_index(res: Result) -> int | None:
    cands = [(v, lv) for v, lv in enumerate(res.kept_val_loss) if lv is not None and not res.diverged[v]]
    if not cands:
        return None
    return min(cands, key=lambda t: t[1])[0]


def _fmt_rate(r: float) -> str:
    return f"{r:.3g}"


def figures(result: Result) -> list[go.Figure]:
    epochs = list(range(1, result.epochs_done + 1))
    fig_val = go.Figure()
    for v, r in enumerate(result.rates):
        if v >= len(result.val_loss):
            break
        fig_val.add_trace(go.Scatter(x=epochs, y=result.val_loss[v], mode="lines", name=f"lr {_fmt_rate(r)}"))
        be = result.best_epoch[v] if v < len(result.best_epoch) else 0
        if be:
            fig_val.add_trace(
                go.Scatter(
                    x=[be],
                    y=[result.kept_val_loss[v]],
                    mode="markers",
                    marker={"symbol": "star", "size": 11},
                    name=f"kept (lr {_fmt_rate(r)})",
                    showlegend=False,
                )
            )
    fig_val.update_layout(
        title="Validation loss per epoch (star: the epoch whose weights early stopping keeps)",
        xaxis_title="epoch",
        yaxis_title="validation cross-entropy (log scale)",
        yaxis_type="log",
    )

    fig_tr = go.Figure()
    for v, r in enumerate(result.rates):
        if v >= len(result.train_loss):
            break
        fig_tr.add_trace(
            go.Scatter(x=epochs, y=result.train_loss[v], mode="lines", name=f"lr {_fmt_rate(r)}")
        )
    fig_tr.update_layout(
        title="Training loss per epoch (gaps: the loss stopped being a finite number)",
        xaxis_title="epoch",
        yaxis_title="training cross-entropy (log scale)",
        yaxis_type="log",
    )

    labels = [_fmt_rate(r) for r in result.rates]
    final_vl = [(vl[-1] if vl else None) for vl in result.val_loss] or [None] * len(labels)
    fig_bar = go.Figure(
        [
            go.Bar(x=labels, y=result.kept_val_loss or [None] * len(labels), name="kept (best epoch)"),
            go.Bar(x=labels, y=final_vl, name="after the last epoch"),
        ]
    )
    fig_bar.update_layout(
        title="Validation loss by learning rate: early-stopped weights against the last ones",
        xaxis_title="learning rate",
        yaxis_title="validation cross-entropy (log scale)",
        yaxis_type="log",
        barmode="group",
    )
    return [fig_val, fig_tr, fig_bar]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {
        "epochs_done": result.epochs_done,
        "initial_val_loss": round(result.initial_val_loss, 4)
        if math.isfinite(result.initial_val_loss)
        else "n/a",
    }
    b = _best_index(result)
    if b is not None:
        out["best_rate"] = float(f"{result.rates[b]:.4g}")
        out["best_rate_kept_val_loss"] = round(result.kept_val_loss[b] or 0.0, 4)
        out["best_rate_best_epoch"] = result.best_epoch[b]
        se = result.stop_epoch[b]
        out["best_rate_stop_epoch"] = se if se is not None else "did not stop"
        if result.val_loss[b] and result.val_loss[b][-1] is not None:
            out["best_rate_final_val_loss"] = round(result.val_loss[b][-1], 4)
        if result.done:
            out["best_rate_kept_test_acc"] = round(result.kept_test_acc[b] or 0.0, 4)
            out["best_rate_final_test_acc"] = round(result.final_test_acc[b] or 0.0, 4)
    if result.train_loss:
        last = result.train_loss[-1]
        out["largest_rate_outcome"] = (
            "diverged" if result.diverged[-1] else f"final training loss {last[-1]:.3g}" if last else "n/a"
        )
    return out


CLAIMS = {
    "smallest-rate-barely-moves": "At the smallest rate the validation loss barely falls.",
    "largest-rate-diverges": "At the largest rate training diverges.",
    "middle-rate-best": "The lowest validation loss comes from a rate in the middle of the sweep.",
    "early-stopping-keeps-better": "At the best rate, early stopping keeps weights no worse than training to the end.",
}


def claims(result: Result) -> list[Claim]:
    if not result.val_loss or not result.val_loss[0]:
        return []
    out: list[Claim] = []
    v0 = result.initial_val_loss
    small_last = result.val_loss[0][-1]
    if small_last is not None and math.isfinite(v0):
        drop = (v0 - small_last) / v0
        out.append(
            Claim(
                "smallest-rate-barely-moves",
                f"At the smallest rate ({_fmt_rate(result.rates[0])}) the validation loss fell by only "
                f"{100 * drop:.1f}% of its starting value in {result.epochs_done} epochs (under 15%).",
                drop < 0.15,
            )
        )
    last_tl = result.train_loss[-1]
    finite = [t for t in last_tl if t is not None]
    grew = (last_tl[-1] is None) or (finite and finite[-1] > v0)
    out.append(
        Claim(
            "largest-rate-diverges",
            f"At the largest rate ({_fmt_rate(result.rates[-1])}) training diverged: the training loss "
            + (
                "stopped being finite or blew past the divergence limit."
                if result.diverged[-1]
                else f"ended at {finite[-1]:.3g}, above the starting {v0:.3g}."
                if finite
                else "was never finite."
            ),
            bool(result.diverged[-1] or grew),
        )
    )
    b = _best_index(result)
    if b is not None:
        out.append(
            Claim(
                "middle-rate-best",
                f"The lowest validation loss ({result.kept_val_loss[b]:.3f}) came from a rate in the middle "
                f"of the sweep ({_fmt_rate(result.rates[b])}), neither the smallest nor the largest.",
                0 < b < len(result.rates) - 1,
            )
        )
        final = result.val_loss[b][-1]
        kept = result.kept_val_loss[b]
        if final is not None and kept is not None:
            out.append(
                Claim(
                    "early-stopping-keeps-better",
                    f"At the best rate, early stopping (patience {result.patience}) kept the weights from epoch "
                    f"{result.best_epoch[b]} with validation loss {kept:.4f}, no worse than the {final:.4f} "
                    f"after all {result.epochs_done} epochs.",
                    kept <= final,
                )
            )
    return out
