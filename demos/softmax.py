"""Softmax and cross-entropy on logits you set: temperature, probabilities, entropy, and the loss for
one target class. No training; everything is computed exactly (float64) and instantly.

    p_i = exp(z_i / T) / sum_j exp(z_j / T)      H(p) = -sum_i p_i log p_i      CE = -log p_target

The cross-entropy is computed twice: by torch's F.cross_entropy on the scaled logits and as -log
p_target written as logsumexp(z / T) - z_target / T (the form that stays finite when p_target
underflows to 0), and the two are compared. Shift invariance is checked by adding constants
(large ones included) to every logit; a naive exp-then-normalise is shown overflowing where torch's
softmax, which subtracts the largest logit first, does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Annotated

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field, model_validator

from demos.base import Claim, DemoParams, RunContext

T_MIN, T_MAX = 0.05, 20.0
N_SWEEP = 200
SWEEP_CHUNKS = 10
SHIFTS = (-100.0, -3.5, 2.0, 100.0, 1000.0)
SHOWN_TEMPERATURES = (0.5, 1.0, 2.0, 5.0)
TOL = 1e-12

Logit = Annotated[float, Field(ge=-50.0, le=50.0)]


class Params(DemoParams):
    logits: list[Logit] = Field(
        default=[2.0, 1.0, 0.1, -1.0],
        min_length=2,
        max_length=10,
        description="Raw scores (logits), one per class, each between -50 and 50.",
        title="Logits",
    )
    temperature: float = Field(
        1.0, ge=T_MIN, le=T_MAX, description="Divides every logit before the softmax.", title="Temperature"
    )
    target: int = Field(
        0,
        ge=0,
        le=9,
        description="Index of the true class (0 = the first logit) for the cross-entropy.",
        title="True class (index)",
    )

    @model_validator(mode="after")
    def _target_in_range(self) -> Params:
        if self.target >= len(self.logits):
            raise ValueError(f"target must be a class index below {len(self.logits)} (the number of logits)")
        return self


def softmax(z: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    return torch.softmax(z / temperature, dim=-1)


def entropy(p: torch.Tensor) -> torch.Tensor:
    """Natural-log entropy along the last axis (0 log 0 = 0)."""
    return -(torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))).sum(-1)


@dataclass
class Result:
    logits: list[float]
    temperature: float
    target: int
    probs: list[float] = field(default_factory=list)
    entropy: float = math.nan
    max_entropy: float = math.nan
    ce_torch: float = math.nan
    ce_manual: float = math.nan
    shown_temperatures: list[float] = field(default_factory=list)
    shown_probs: list[list[float]] = field(default_factory=list)  # [len(shown)][K]
    sweep_t: list[float] = field(default_factory=list)
    sweep_entropy: list[float] = field(default_factory=list)
    sweep_ce: list[float] = field(default_factory=list)
    shift_error: dict[str, float] = field(default_factory=dict)  # shift -> max |p(z + c) - p(z)|
    probs_plus_1000: list[float] = field(default_factory=list)  # softmax(z + 1000) at T
    naive_at_1000: list[float] = field(default_factory=list)  # exp-normalise with +1000 (NaN: overflow)
    entropy_doubled_t: float = math.nan  # H at 2T (capped at T_MAX)

    @property
    def done(self) -> bool:
        return len(self.sweep_t) == N_SWEEP


def _snapshot(r: Result) -> Result:
    return replace(
        r,
        sweep_t=list(r.sweep_t),
        sweep_entropy=list(r.sweep_entropy),
        sweep_ce=list(r.sweep_ce),
        shift_error=dict(r.shift_error),
    )


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    dtype = torch.float64 if dev.type != "mps" else torch.float32  # MPS has no float64
    torch.manual_seed(ctx.seed)  # nothing here is random; kept for uniformity
    z = torch.tensor(params.logits, dtype=dtype, device=dev)
    T, t = params.temperature, params.target
    res = Result(list(params.logits), T, t)

    p = softmax(z, T)
    res.probs = p.cpu().tolist()
    res.entropy = float(entropy(p))
    res.max_entropy = math.log(len(params.logits))
    res.ce_torch = float(F.cross_entropy((z / T)[None], torch.tensor([t], device=dev)))
    # -log p[target], written as logsumexp(z/T) - z_t/T so it stays finite when p[target] underflows to 0
    res.ce_manual = float(torch.logsumexp(z / T, 0) - z[t] / T)
    res.entropy_doubled_t = float(entropy(softmax(z, min(2 * T, T_MAX))))
    shown = sorted({*SHOWN_TEMPERATURES, T})
    res.shown_temperatures = shown
    res.shown_probs = [softmax(z, s).cpu().tolist() for s in shown]
    for c in SHIFTS:
        res.shift_error[f"{c:g}"] = float((softmax(z + c, T) - p).abs().max())
    res.probs_plus_1000 = softmax(z + 1000.0, T).cpu().tolist()
    naive = torch.exp((z + 1000.0) / T)
    res.naive_at_1000 = (naive / naive.sum()).cpu().tolist()
    ctx.progress(0.0, _snapshot(res))

    temps = torch.logspace(math.log10(T_MIN), math.log10(T_MAX), N_SWEEP, dtype=dtype)
    for chunk in temps.chunk(SWEEP_CHUNKS):
        ps = torch.softmax(z[None, :] / chunk.to(dev)[:, None], dim=-1)
        res.sweep_t.extend(chunk.tolist())
        res.sweep_entropy.extend(entropy(ps).cpu().tolist())
        res.sweep_ce.extend((-torch.log(ps[:, t])).cpu().tolist())
        ctx.progress(len(res.sweep_t) / N_SWEEP, _snapshot(res))
    return res


# ------------------------------------------------------------------------------------------- reading


def _num(x: float) -> float | str:
    return float(f"{x:.6g}") if math.isfinite(x) else str(x)


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"temperature": r.temperature, "target": r.target}
    for i, p in enumerate(r.probs):
        out[f"p{i}"] = _num(p)
    out["entropy"] = _num(r.entropy)
    out["max_entropy"] = _num(r.max_entropy)
    out["cross_entropy"] = _num(r.ce_torch)
    return out


CLAIMS = {
    "probabilities-sum-to-one": "The softmax probabilities lie between 0 and 1 and sum to 1.",
    "cross-entropy-is-minus-log-p-target": "Cross-entropy equals minus the log of the true class's probability.",
    "softmax-shift-invariant": "Adding the same constant to every logit leaves the probabilities unchanged.",
    "higher-temperature-raises-entropy": "Raising the temperature raises the entropy of the probabilities.",
}


def claims(result: Result) -> list[Claim]:
    r = result
    out: list[Claim] = []
    if not r.probs:
        return out
    total = sum(r.probs)
    out.append(
        Claim(
            "probabilities-sum-to-one",
            f"The softmax probabilities all lie between 0 and 1 and sum to 1 (sum − 1 = {total - 1:.1e}).",
            abs(total - 1) < TOL and all(0.0 <= p <= 1.0 for p in r.probs),
        )
    )
    out.append(
        Claim(
            "cross-entropy-is-minus-log-p-target",
            f"Cross-entropy for class {r.target} equals −log p[{r.target}] (p[{r.target}] = {r.probs[r.target]:.6g}): "
            f"torch gives {r.ce_torch:.6f}, −log p[{r.target}] = logsumexp(z/T) − z[{r.target}]/T = {r.ce_manual:.6f}.",
            abs(r.ce_torch - r.ce_manual) < 1e-9 * max(1.0, abs(r.ce_manual)),
        )
    )
    worst = max(r.shift_error.values()) if r.shift_error else math.nan
    out.append(
        Claim(
            "softmax-shift-invariant",
            "Adding the same constant to every logit (tried: "
            + ", ".join(r.shift_error)
            + f") leaves the probabilities unchanged (largest change {worst:.1e}).",
            worst < 1e-9,
        )
    )
    if r.done:
        diffs = [b - a for a, b in zip(r.sweep_entropy, r.sweep_entropy[1:], strict=False)]
        monotone = all(d >= -1e-12 for d in diffs)
        tied = max(r.logits) - min(r.logits) == 0
        t2 = min(2 * r.temperature, T_MAX)
        if tied:
            statement = (
                "All logits are equal, so the distribution is uniform at every temperature and its entropy "
                f"stays at log {len(r.logits)} = {r.max_entropy:.4f}."
            )
            holds = monotone and all(abs(h - r.max_entropy) < 1e-9 for h in r.sweep_entropy)
        else:
            statement = (
                f"Raising the temperature raises the entropy: {r.entropy:.4f} nats at T = {r.temperature:g}, "
                f"{r.entropy_doubled_t:.4f} at T = {t2:g}, never falling anywhere from T = {T_MIN:g} to {T_MAX:g} "
                f"(the ceiling is log {len(r.logits)} = {r.max_entropy:.4f})."
            )
            rises = r.sweep_entropy[-1] > r.sweep_entropy[0]
            holds = monotone and rises and max(r.sweep_entropy) <= r.max_entropy + 1e-12
        out.append(Claim("higher-temperature-raises-entropy", statement, holds))
    return out


# ------------------------------------------------------------------------------------------- figures


def figures(result: Result) -> list[go.Figure]:
    r = result
    figs: list[go.Figure] = []
    classes = [f"{i}{' (target)' if i == r.target else ''}: z={z:g}" for i, z in enumerate(r.logits)]

    f1 = go.Figure()
    for temp, probs in zip(r.shown_temperatures, r.shown_probs, strict=True):
        chosen = temp == r.temperature
        f1.add_trace(
            go.Bar(
                x=classes,
                y=probs,
                name=f"T = {temp:g}{' (yours)' if chosen else ''}",
                marker_line={"width": 2 if chosen else 0, "color": "black"},
                text=[f"{p:.2f}" for p in probs],
                textposition="outside",
            )
        )
    f1.update_layout(
        title="Softmax probabilities at several temperatures (low T sharpens, high T flattens)",
        barmode="group",
        yaxis={"range": [0, 1.1], "title": "probability"},
        xaxis_title="class",
    )
    figs.append(f1)

    f2 = make_subplots(
        rows=1, cols=2, subplot_titles=("entropy H(p) in nats", f"cross-entropy for class {r.target}")
    )
    f2.add_trace(go.Scatter(x=r.sweep_t, y=r.sweep_entropy, mode="lines", name="entropy"), 1, 1)
    f2.add_trace(go.Scatter(x=r.sweep_t, y=r.sweep_ce, mode="lines", name="−log p[target]"), 1, 2)
    if math.isfinite(r.entropy):
        f2.add_trace(
            go.Scatter(
                x=[r.temperature],
                y=[r.entropy],
                mode="markers",
                name="your T",
                marker={"size": 11, "color": "black"},
            ),
            1,
            1,
        )
        f2.add_trace(
            go.Scatter(
                x=[r.temperature],
                y=[r.ce_manual],
                mode="markers",
                name="your T ",
                marker={"size": 11, "color": "black"},
                showlegend=False,
            ),
            1,
            2,
        )
    if math.isfinite(r.max_entropy):
        f2.add_hline(
            y=r.max_entropy,
            line_dash="dot",
            line_color="grey",
            annotation_text=f"log {len(r.logits)} (uniform)",
            row=1,
            col=1,
        )
    f2.update_xaxes(type="log", title_text="temperature T", range=[math.log10(T_MIN), math.log10(T_MAX)])
    f2.update_layout(title="Entropy and cross-entropy against temperature")
    figs.append(f2)

    if r.naive_at_1000:
        f3 = go.Figure(
            go.Table(
                header={
                    "values": [
                        "class",
                        "logit z",
                        "softmax(z/T)",
                        "softmax((z + 1000)/T)",
                        "naive exp((z + 1000)/T) / sum",
                    ]
                },
                cells={
                    "values": [
                        list(range(len(r.logits))),
                        [f"{z:g}" for z in r.logits],
                        [f"{p:.6f}" for p in r.probs],
                        [f"{p:.6f}" for p in r.probs_plus_1000],
                        [f"{p:.6f}" if math.isfinite(p) else "nan (overflow)" for p in r.naive_at_1000],
                    ]
                },
            )
        )
        f3.update_layout(
            title="Shift invariance, and why softmax subtracts the largest logit before exponentiating"
        )
        figs.append(f3)
    return figs
