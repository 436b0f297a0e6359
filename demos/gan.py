"""A GAN on a 2-D distribution.

A generator turns random noise into 2-D points; a discriminator learns to tell them from samples of the
target distribution (a ring, two moons or a single stretched Gaussian blob). They take turns: one
discriminator step on a batch of real and generated points, then one generator step that tries to make
the discriminator call its points real (the non-saturating loss). The demo keeps snapshots of the
generated points, both losses, and the discriminator's verdicts, and measures how far the generated
points are from the data with the maximum mean discrepancy (MMD) and with their mean and covariance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from plotly.subplots import make_subplots
from pydantic import Field
from torch import nn

from demos._data import moons
from demos._nn import cpu_generator
from demos.base import Claim, DemoParams, RunContext

_EVAL_N = 500  # points per side for MMD, moments and the final discriminator accuracy
_SHOW_N = 400  # points per snapshot


class Params(DemoParams):
    target: Literal["ring", "moons", "blob"] = Field(
        "ring", description="The 2-D distribution to learn", title="Target distribution"
    )
    steps: int = Field(
        450,
        ge=50,
        le=20000,
        description="Training steps (one discriminator + one generator update)",
        title="Steps",
    )
    batch_size: int = Field(
        128, ge=16, le=1024, description="Real and generated points per step", title="Batch size (points)"
    )
    lr: float = Field(
        1e-3, ge=1e-5, le=0.05, description="Adam learning rate for both networks", title="Learning rate"
    )
    hidden: int = Field(
        64, ge=8, le=256, description="Hidden units per layer in both networks", title="Hidden width (units)"
    )
    latent_dim: int = Field(
        4, ge=1, le=32, description="Size of the generator's noise input", title="Noise size (dimensions)"
    )
    snapshots: int = Field(
        6, ge=2, le=12, description="How many moments of training to show samples from", title="Snapshots"
    )


@dataclass
class Result:
    target: str
    steps: int
    data_sample: list[list[float]] = field(default_factory=list)  # [[x...], [y...]]
    snap_steps: list[int] = field(default_factory=list)
    snap_points: list[list[list[float]]] = field(default_factory=list)  # per snapshot: [[x...], [y...]]
    loss_steps: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)  # mean D(x) on real points, per logged step
    d_fake: list[float] = field(default_factory=list)  # mean D(G(z)), per logged step
    mmd_steps: list[int] = field(default_factory=list)
    mmd: list[float] = field(default_factory=list)
    moment_gap: list[float] = field(default_factory=list)  # |mean gap| + |cov gap| (Frobenius)
    final_d_accuracy: float = float("nan")
    final_d_real: float = float("nan")
    final_d_fake: float = float("nan")
    steps_done: int = 0
    done: bool = False


def _sample_target(name: str, n: int, g: torch.Generator) -> torch.Tensor:
    if name == "ring":
        t = torch.rand(n, generator=g) * 2 * math.pi
        r = 1.0 + 0.08 * torch.randn(n, generator=g)
        return torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
    if name == "moons":
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
        return moons(n, noise=0.08, seed=seed)[0]
    # a single Gaussian, stretched and tilted, away from the origin
    z = torch.randn(n, 2, generator=g)
    a = torch.tensor([[0.9, 0.0], [0.5, 0.3]])
    return z @ a.T + torch.tensor([1.0, -0.5])


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, d_out),
    )


def _init_(net: nn.Module, g: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, drawn from the run's own generator."""
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, nn.Linear):
                bound = mod.in_features**-0.5
                mod.weight.copy_((torch.rand(mod.weight.shape, generator=g) * 2 - 1) * bound)
                mod.bias.copy_((torch.rand(mod.bias.shape, generator=g) * 2 - 1) * bound)


def _mmd(x: torch.Tensor, y: torch.Tensor) -> float:
    """Squared MMD with a sum of Gaussian kernels at three widths (biased estimate, always >= 0)."""
    xy = torch.cat([x, y])
    d2 = torch.cdist(xy, xy).pow(2)
    k = sum(torch.exp(-d2 / (2 * s * s)) for s in (0.1, 0.3, 1.0))
    n = len(x)
    return float(k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean())


def _moment_gap(x: torch.Tensor, y: torch.Tensor) -> float:
    mean_gap = (x.mean(0) - y.mean(0)).norm()
    cov_gap = (torch.cov(x.T) - torch.cov(y.T)).norm()
    return float(mean_gap + cov_gap)


def _xy(p: torch.Tensor) -> list[list[float]]:
    p = p.detach().cpu()
    return [p[:, 0].tolist(), p[:, 1].tolist()]


def run(params: Params, ctx: RunContext) -> Result:
    res = Result(target=params.target, steps=params.steps)
    ctx.progress(0.0, res)
    dev = ctx.device
    torch.manual_seed(ctx.seed)
    g = cpu_generator(ctx.seed)
    G = _mlp(params.latent_dim, params.hidden, 2)
    D = _mlp(2, params.hidden, 1)
    _init_(G, g)
    _init_(D, g)
    G.to(dev)
    D.to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=params.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=params.lr, betas=(0.5, 0.999))

    eval_real = _sample_target(params.target, _EVAL_N, g).to(dev)
    eval_z = torch.randn(_EVAL_N, params.latent_dim, generator=g).to(dev)
    res.data_sample = _xy(eval_real[:_SHOW_N])
    snap_at = {round(i * params.steps / (params.snapshots - 1)) for i in range(params.snapshots)}
    n_checks = 12
    check_at = {round(i * params.steps / n_checks) for i in range(n_checks + 1)}
    log_every = max(1, params.steps // 100)
    B = params.batch_size
    ones = torch.ones(B, 1, device=dev)
    zeros = torch.zeros(B, 1, device=dev)

    def checkpoint(step: int) -> None:
        if step not in snap_at and step not in check_at:
            return
        with torch.no_grad():
            fake = G(eval_z)
        if step in snap_at:
            res.snap_steps.append(step)
            res.snap_points.append(_xy(fake[:_SHOW_N]))
        if step in check_at:
            res.mmd_steps.append(step)
            res.mmd.append(_mmd(fake.float(), eval_real.float()))
            res.moment_gap.append(_moment_gap(fake.float(), eval_real.float()))

    checkpoint(0)
    for step in range(1, params.steps + 1):
        real = _sample_target(params.target, B, g).to(dev)
        z = torch.randn(B, params.latent_dim, generator=g).to(dev)
        fake = G(z)
        d_real_logit, d_fake_logit = D(torch.cat([real, fake.detach()])).split(B)  # one pass for both
        d_loss = F.binary_cross_entropy_with_logits(d_real_logit, ones) + F.binary_cross_entropy_with_logits(
            d_fake_logit, zeros
        )
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)  # non-saturating generator loss
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

        res.steps_done = step
        if step % log_every == 0:
            res.loss_steps.append(step)
            res.d_loss.append(float(d_loss.detach()))
            res.g_loss.append(float(g_loss.detach()))
            res.d_real.append(float(torch.sigmoid(d_real_logit.detach()).mean()))
            res.d_fake.append(float(torch.sigmoid(d_fake_logit.detach()).mean()))
        checkpoint(step)
        ctx.tick(step, 0.97 * step / params.steps, lambda: res)
        if step % log_every == 0 and step % (log_every * 4) == 0:
            ctx.progress(0.97 * step / params.steps, res)

    with torch.no_grad():
        p_real = torch.sigmoid(D(eval_real))
        p_fake = torch.sigmoid(D(G(eval_z)))
    res.final_d_real = float(p_real.mean())
    res.final_d_fake = float(p_fake.mean())
    res.final_d_accuracy = float(((p_real > 0.5).float().mean() + (p_fake <= 0.5).float().mean()) / 2)
    res.done = True
    ctx.progress(1.0, res)
    return res


# ---------------------------------------------------------------- reading the result


def figures(result: Result) -> list[go.Figure]:
    n = max(len(result.snap_steps), 1)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"step {s}" for s in result.snap_steps] or ["waiting"],
        horizontal_spacing=0.04,
        vertical_spacing=0.08,
    )
    for i, pts in enumerate(result.snap_points):
        r, c = i // cols + 1, i % cols + 1
        if result.data_sample:
            fig.add_trace(
                go.Scattergl(
                    x=result.data_sample[0],
                    y=result.data_sample[1],
                    mode="markers",
                    marker={"size": 3, "color": "lightgray"},
                    name="data",
                    showlegend=i == 0,
                ),
                row=r,
                col=c,
            )
        fig.add_trace(
            go.Scattergl(
                x=pts[0],
                y=pts[1],
                mode="markers",
                marker={"size": 3, "color": "crimson"},
                name="generated",
                showlegend=i == 0,
            ),
            row=r,
            col=c,
        )
    fig.update_xaxes(range=[-2.5, 2.5])
    fig.update_yaxes(range=[-2.5, 2.5])
    fig.update_layout(
        title=f"Generated points (red) against the data (grey): {result.target}", height=300 * rows
    )

    fig_loss = go.Figure()
    fig_loss.add_trace(
        go.Scatter(x=result.loss_steps, y=result.d_loss, mode="lines", name="discriminator loss")
    )
    fig_loss.add_trace(go.Scatter(x=result.loss_steps, y=result.g_loss, mode="lines", name="generator loss"))
    fig_loss.add_hline(y=2 * math.log(2), line_dash="dot", annotation_text="D loss at chance (2 ln 2)")
    fig_loss.add_hline(y=math.log(2), line_dash="dash", annotation_text="G loss at chance (ln 2)")
    fig_loss.update_layout(
        title="Losses during training", xaxis_title="step", yaxis_title="binary cross-entropy"
    )

    fig_d = go.Figure()
    fig_d.add_trace(go.Scatter(x=result.loss_steps, y=result.d_real, mode="lines", name="D(real)"))
    fig_d.add_trace(go.Scatter(x=result.loss_steps, y=result.d_fake, mode="lines", name="D(generated)"))
    fig_d.add_hline(y=0.5, line_dash="dot", annotation_text="can't tell (0.5)")
    fig_d.update_layout(
        title="The discriminator's average verdict: probability that a point is real",
        xaxis_title="step",
        yaxis_title="mean D output",
        yaxis_range=[0, 1],
    )

    fig_dist = make_subplots(specs=[[{"secondary_y": True}]])
    fig_dist.add_trace(go.Scatter(x=result.mmd_steps, y=result.mmd, mode="lines+markers", name="MMD^2"))
    fig_dist.add_trace(
        go.Scatter(
            x=result.mmd_steps, y=result.moment_gap, mode="lines+markers", name="mean + covariance gap"
        ),
        secondary_y=True,
    )
    fig_dist.update_layout(title="Distance from the generated points to the data (lower is closer)")
    fig_dist.update_xaxes(title_text="step")
    fig_dist.update_yaxes(title_text="MMD^2 (log scale)", type="log", secondary_y=False)
    fig_dist.update_yaxes(title_text="|mean gap| + |covariance gap|", secondary_y=True)
    return [fig, fig_loss, fig_d, fig_dist]


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"steps_done": result.steps_done}
    if result.mmd:
        out["mmd2_start"] = round(result.mmd[0], 5)
        out["mmd2_end"] = round(result.mmd[-1], 5)
        out["moment_gap_start"] = round(result.moment_gap[0], 4)
        out["moment_gap_end"] = round(result.moment_gap[-1], 4)
    if result.done:
        out["final_d_accuracy"] = round(result.final_d_accuracy, 4)
        out["final_mean_d_real"] = round(result.final_d_real, 4)
        out["final_mean_d_generated"] = round(result.final_d_fake, 4)
    return out


CLAIMS = {
    "samples-closer-mmd": "The generated points end much closer to the data than they started (MMD).",
    "samples-closer-moments": "Their mean and covariance move towards the data's.",
    "discriminator-near-chance": "At the end the discriminator can barely tell real from generated points.",
    "discriminator-output-near-half": "Its average output is near 0.5 on both real and generated points.",
}


def claims(result: Result) -> list[Claim]:
    if not result.done or len(result.mmd) < 2:
        return []
    m0, m1 = result.mmd[0], result.mmd[-1]
    g0, g1 = result.moment_gap[0], result.moment_gap[-1]
    acc = result.final_d_accuracy
    return [
        Claim(
            "samples-closer-mmd",
            f"The generated points end much closer to the data than they started: MMD^2 fell from {m0:.4f} to "
            f"{m1:.4f} (at least 5 times lower).",
            m1 * 5 <= m0,
        ),
        Claim(
            "samples-closer-moments",
            f"Their mean and covariance moved towards the data's: the combined gap fell from {g0:.3f} to {g1:.3f}.",
            g1 < g0,
        ),
        Claim(
            "discriminator-near-chance",
            f"At the end the discriminator can barely tell real from generated points: {100 * acc:.1f}% accuracy "
            f"on fresh samples (between 35% and 65%; 50% is a coin flip).",
            0.35 <= acc <= 0.65,
        ),
        Claim(
            "discriminator-output-near-half",
            f"Its average output is near 0.5 on both kinds of points: {result.final_d_real:.2f} on real ones, "
            f"{result.final_d_fake:.2f} on generated ones (both between 0.3 and 0.7).",
            0.3 <= result.final_d_real <= 0.7 and 0.3 <= result.final_d_fake <= 0.7,
        ),
    ]
