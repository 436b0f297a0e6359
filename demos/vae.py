"""A variational autoencoder on the 8x8 digits, with the KL weight (beta) as the knob.

Each variant is the same small VAE (encoder 64 -> hidden -> mean and log-variance of z; decoder
z -> hidden -> 64 pixel logits) with its own weight on the KL term of the loss:
    loss = reconstruction (Bernoulli cross-entropy over pixels) + beta * KL(q(z|x) || N(0, I)).
beta = 0 is an autoencoder whose encoder soon learns to switch its noise off: it reconstructs best,
but its codes wander far from N(0, I), so nothing makes a z drawn from the prior land where digits
were encoded. beta = 1 is the usual VAE. All variants train together (weights [V, in, out]) from the same starting weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field, field_validator

from demos._data import digits_split
from demos._nn import BatchedLinear, cpu_generator
from demos.base import Claim, DemoParams, RunContext

Beta = Literal[0.0, 0.1, 0.5, 1.0, 2.0, 4.0]
LR = 3e-3  # Adam
N_PRIOR = 400  # prior samples decoded for the sample-quality check


class Params(DemoParams):
    kl_weights: list[Beta] = Field(
        default=[0.0, 1.0],
        min_length=1,
        description="KL weights (beta) to compare; 0 drops the KL term.",
        title="KL weights (beta)",
    )
    latent_dim: int = Field(
        2,
        ge=1,
        le=16,
        description="Size of the latent code z (2 can be drawn as is).",
        title="Latent size (dimensions)",
    )
    hidden: int = Field(
        64,
        ge=16,
        le=512,
        description="Units in the encoder's and decoder's hidden layer.",
        title="Hidden width (units)",
    )
    n_train: int = Field(
        1200,
        ge=200,
        le=1500,
        description="Training digits (the rest are held out).",
        title="Training examples",
    )
    batch_size: int = Field(
        128, ge=16, le=1500, description="Digits per mini-batch.", title="Batch size (digits)"
    )
    steps: int = Field(500, ge=20, le=10000, description="Adam steps.", title="Steps")

    @field_validator("kl_weights")
    @classmethod
    def _unique(cls, v: list[float]) -> list[float]:
        if len(set(v)) != len(v):
            raise ValueError("each KL weight may be listed once")
        return v


@dataclass
class Result:
    kl_weights: list[float]
    latent_dim: int
    steps_total: int
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)
    recon: list[list[float]] = field(default_factory=list)  # [V][T], per digit, training batch
    kl: list[list[float]] = field(default_factory=list)  # [V][T], per digit, training batch
    # final, on held-out digits
    test_recon: list[float] = field(default_factory=list)  # [V]
    test_kl: list[float] = field(default_factory=list)  # [V]
    latent_knn_acc: list[float] = field(default_factory=list)  # [V]
    prior_sample_dist: list[float] = field(default_factory=list)  # [V], to the nearest real digit
    posterior_sigma: list[float] = field(default_factory=list)  # [V], mean sigma of q(z|x), held out
    data_nn_dist: float = float("nan")  # a held-out digit to its nearest training digit, for scale
    codes: list[list[list[float]]] = field(default_factory=list)  # [V][N][<=2], held-out means
    code_labels: list[int] = field(default_factory=list)
    originals: list[list[float]] = field(default_factory=list)  # [K][64]
    reconstructions: list[list[list[float]]] = field(default_factory=list)  # [V][K][64]
    samples: list[list[list[float]]] = field(default_factory=list)  # [V][K][64], decoded from N(0, I)

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and bool(self.test_recon)


class _VAE(torch.nn.Module):
    def __init__(self, V: int, z: int, h: int, g: torch.Generator, dev: torch.device):
        super().__init__()
        kw = dict(same_init=True, generator=g, device=dev)
        self.e1 = BatchedLinear(V, 64, h, **kw)
        self.e2 = BatchedLinear(V, h, 2 * z, **kw)
        self.d1 = BatchedLinear(V, z, h, **kw)
        self.d2 = BatchedLinear(V, h, 64, **kw)
        self.z = z

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.e2(torch.relu(self.e1(x)))
        return out[..., : self.z], out[..., self.z :].clamp(-10, 10)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.d2(torch.relu(self.d1(z)))


def _terms(model: _VAE, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-variant mean reconstruction loss and KL per digit. x [B, 64], eps [V, B, z]."""
    mu, logvar = model.encode(x)
    z = mu + eps * torch.exp(0.5 * logvar)
    logits = model.decode(z)
    recon = F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1).mean(-1)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean(-1)
    return recon, kl


def _snapshot(r: Result) -> Result:
    return Result(
        r.kl_weights,
        r.latent_dim,
        r.steps_total,
        r.steps_done,
        list(r.record_steps),
        [list(x) for x in r.recon],
        [list(x) for x in r.kl],
    )


def _knn_accuracy(
    train_codes: torch.Tensor, y_train: torch.Tensor, codes: torch.Tensor, y: torch.Tensor
) -> float:
    d = torch.cdist(codes, train_codes)
    nearest = d.topk(5, largest=False).indices
    votes = F.one_hot(y_train[nearest], 10).sum(1)
    return float((votes.argmax(-1) == y).float().mean())


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    betas = [float(b) for b in params.kl_weights]
    V, Z = len(betas), params.latent_dim
    data = digits_split(params.n_train, seed=ctx.seed, device=dev)
    g = cpu_generator(ctx.seed)
    model = _VAE(V, Z, params.hidden, g, dev)
    beta_t = torch.tensor(betas, device=dev)
    res = Result(betas, Z, params.steps)
    res.recon, res.kl = [[] for _ in range(V)], [[] for _ in range(V)]
    ctx.progress(0.0, _snapshot(res))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    n, b = data.x_train.shape[0], min(params.batch_size, data.x_train.shape[0])
    progress_every = max(1, params.steps // 20)
    for step in range(1, params.steps + 1):
        idx = torch.randint(0, n, (b,), generator=g)
        eps = torch.randn(V, b, Z, generator=g).to(dev)
        recon, kl = _terms(model, data.x_train[idx.to(dev)], eps)
        opt.zero_grad(set_to_none=True)
        (recon + beta_t * kl).sum().backward()
        opt.step()
        res.steps_done = step
        if step % 10 == 0 or step == params.steps:
            res.record_steps.append(step)
            for v, (rv, kv) in enumerate(zip(recon.tolist(), kl.tolist(), strict=True)):
                res.recon[v].append(rv)
                res.kl[v].append(kv)
        ctx.tick(step, step / params.steps, lambda: _snapshot(res))
        if step % progress_every == 0 and step < params.steps:
            ctx.progress(step / params.steps, _snapshot(res))

    with torch.no_grad():
        x_te, y_te = data.x_test, data.y_test
        recon, kl = _terms(model, x_te, torch.randn(V, x_te.shape[0], Z, generator=g).to(dev))
        res.test_recon, res.test_kl = recon.tolist(), kl.tolist()
        mu_tr, _ = model.encode(data.x_train)
        mu_te, logvar_te = model.encode(x_te)
        res.posterior_sigma = torch.exp(0.5 * logvar_te).mean((1, 2)).tolist()
        res.latent_knn_acc = [_knn_accuracy(mu_tr[v], data.y_train, mu_te[v], y_te) for v in range(V)]
        z_prior = torch.randn(V, N_PRIOR, Z, generator=g).to(dev)
        samples = torch.sigmoid(model.decode(z_prior))
        res.prior_sample_dist = [
            float(torch.cdist(samples[v], data.x_train).min(1).values.mean()) for v in range(V)
        ]
        res.data_nn_dist = float(torch.cdist(x_te, data.x_train).min(1).values.mean())
        k = 10
        pick = torch.stack([torch.nonzero(y_te == c)[0, 0] for c in range(10)])[:k]
        res.originals = x_te[pick].cpu().tolist()
        res.reconstructions = torch.sigmoid(model.decode(mu_te[:, pick])).cpu().tolist()
        res.samples = samples[:, :k].cpu().tolist()
        res.codes = mu_te[..., :2].cpu().tolist()
        res.code_labels = y_te.cpu().tolist()
    ctx.progress(1.0, res)
    return res


# ------------------------------------------------------------------------------------------ reading


def _key(beta: float) -> str:
    return f"beta{beta:g}"


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"steps": r.steps_done, "latent_dim": r.latent_dim}
    for v, beta in enumerate(r.kl_weights):
        k = _key(beta)
        for name, series in (
            ("test_recon", r.test_recon),
            ("test_kl", r.test_kl),
            ("latent_knn_acc", r.latent_knn_acc),
            ("prior_sample_nn_dist", r.prior_sample_dist),
            ("posterior_sigma", r.posterior_sigma),
        ):
            if v < len(series) and math.isfinite(series[v]):
                out[f"{k}_{name}"] = round(series[v], 4)
    if math.isfinite(r.data_nn_dist):
        out["heldout_digit_nn_dist"] = round(r.data_nn_dist, 4)
    return out


CLAIMS = {
    "latent-space-groups-digits": "The codes group by digit although no label was used in training.",
    "kl-term-pulls-codes-to-prior": "With the KL term the codes stay close to N(0, I).",
    "kl-term-costs-reconstruction": "The KL term costs some reconstruction quality.",
    "no-kl-term-collapses-the-noise": "Without the KL term the encoder shrinks its noise to nearly nothing.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks: the KL comparisons need beta 0 and another beta."""
    ids = list(CLAIMS)
    return ids if 0.0 in params.kl_weights and len(params.kl_weights) > 1 else ids[:1]


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    out: list[Claim] = []
    best = max(range(len(r.kl_weights)), key=lambda v: r.latent_knn_acc[v])
    out.append(
        Claim(
            "latent-space-groups-digits",
            f"The codes group by digit although no label was used in training: 5 nearest neighbours in "
            f"the latent space (beta={r.kl_weights[best]:g}) classify {r.latent_knn_acc[best]:.0%} of "
            f"held-out digits correctly (chance: 10%).",
            r.latent_knn_acc[best] > 0.5,
        )
    )
    if 0.0 in r.kl_weights and len(r.kl_weights) > 1:
        a = r.kl_weights.index(0.0)
        v = max(range(len(r.kl_weights)), key=lambda i: r.kl_weights[i])
        hi = r.kl_weights[v]
        out += [
            Claim(
                "kl-term-pulls-codes-to-prior",
                f"With the KL term (beta={hi:g}) the codes stay close to N(0, I): KL of {r.test_kl[v]:.1f} "
                f"nats per digit against {r.test_kl[a]:.1f} without it.",
                r.test_kl[v] < r.test_kl[a] / 3,
            ),
            Claim(
                "kl-term-costs-reconstruction",
                f"The price is blurrier reconstructions: held-out reconstruction loss {r.test_recon[v]:.1f} "
                f"with beta={hi:g} against {r.test_recon[a]:.1f} without the KL term.",
                r.test_recon[v] > r.test_recon[a],
            ),
            Claim(
                "no-kl-term-collapses-the-noise",
                f"Without the KL term the encoder shrinks its noise until z is nearly a fixed code (mean "
                f"sigma {r.posterior_sigma[a]:.3f}, a plain autoencoder); with beta={hi:g} it keeps sigma at "
                f"{r.posterior_sigma[v]:.2f}, so nearby codes must decode to similar digits.",
                r.posterior_sigma[v] > 5 * r.posterior_sigma[a],
            ),
        ]
    return out


# ------------------------------------------------------------------------------------------ figures

_PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _images(rows: list[tuple[str, list[list[float]]]], title: str) -> go.Figure:
    """A grid of 8x8 images: one row per (label, images)."""
    k = max(len(imgs) for _, imgs in rows)
    grid = np.full((len(rows) * 9, k * 9), np.nan)
    for i, (_, imgs) in enumerate(rows):
        for j, img in enumerate(imgs):
            grid[i * 9 : i * 9 + 8, j * 9 : j * 9 + 8] = np.asarray(img).reshape(8, 8)
    fig = go.Figure(go.Heatmap(z=grid, colorscale="Greys", showscale=False, zmin=0, zmax=1))
    fig.update_yaxes(
        autorange="reversed",
        tickvals=[i * 9 + 3.5 for i in range(len(rows))],
        ticktext=[name for name, _ in rows],
        scaleanchor="x",
    )
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(title=title)
    return fig


def figures(result: Result) -> list[go.Figure]:
    r = result
    f_loss = make_subplots(rows=1, cols=2, subplot_titles=("Reconstruction loss", "KL per digit (nats)"))
    for v, beta in enumerate(r.kl_weights):
        if v >= len(r.recon) or not r.recon[v]:
            continue
        c = _PALETTE[v % len(_PALETTE)]
        f_loss.add_trace(
            go.Scatter(x=r.record_steps, y=r.recon[v], name=f"beta {beta:g}", line={"color": c}), row=1, col=1
        )
        f_loss.add_trace(
            go.Scatter(
                x=r.record_steps, y=r.kl[v], name=f"beta {beta:g}", line={"color": c}, showlegend=False
            ),
            row=1,
            col=2,
        )
    f_loss.update_xaxes(title_text="step")
    f_loss.update_layout(title="Training: the two terms of the loss, per KL weight")
    if not r.done:
        return [f_loss]
    n = len(r.kl_weights)
    f_lat = make_subplots(rows=1, cols=n, subplot_titles=[f"beta {b:g}" for b in r.kl_weights])
    for v in range(n):
        pts = np.asarray(r.codes[v])
        labels = np.asarray(r.code_labels)
        for d in range(10):
            sel = labels == d
            f_lat.add_trace(
                go.Scatter(
                    x=pts[sel, 0],
                    y=pts[sel, 1] if pts.shape[1] > 1 else np.zeros(sel.sum()),
                    mode="markers",
                    marker={"size": 5, "color": d, "colorscale": "Turbo", "cmin": 0, "cmax": 9},
                    name=str(d),
                    legendgroup=str(d),
                    showlegend=v == 0,
                ),
                row=1,
                col=v + 1,
            )
    f_lat.update_layout(title="Held-out digits' latent means (first two dimensions), coloured by digit")
    rows = [("original", r.originals)] + [
        (f"beta {b:g}", r.reconstructions[v]) for v, b in enumerate(r.kl_weights)
    ]
    f_rec = _images(rows, "Reconstructions of held-out digits")
    f_smp = _images(
        [(f"beta {b:g}", r.samples[v]) for v, b in enumerate(r.kl_weights)],
        "Decoded samples of z ~ N(0, I): new digits only where the KL term shaped the codes",
    )
    return [f_loss, f_lat, f_rec, f_smp]
