"""Attention, seen working: a one-layer transformer learns to copy, reverse or sort a short sequence.

Each variant is the same tiny transformer block (token and position embeddings, multi-head
self-attention, an MLP, residual connections and layer norm before each part), trained on random
digit sequences to output, at every position, the digit the task puts there. Two variants train
together from the same weights: attention logits scaled by 1/sqrt(d_k), as in the paper, and not
scaled. The maps show, per head, how much each output position attends to each input position,
averaged over fresh test sequences.
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
from pydantic import Field, model_validator

from demos._nn import BatchedLinear, cpu_generator
from demos.base import Claim, DemoParams, RunContext

VOCAB = 10  # digits
LR = 3e-3  # Adam
N_TEST = 512


class Params(DemoParams):
    task: Literal["reverse", "copy", "sort"] = Field(
        "reverse", description="What the output sequence is.", title="Task"
    )
    seq_len: int = Field(8, ge=3, le=16, description="Digits per sequence.", title="Sequence length (digits)")
    d_model: int = Field(
        32, ge=8, le=256, description="Width of the token vectors.", title="Model width (units)"
    )
    heads: int = Field(
        2, ge=1, le=8, description="Attention heads (d_k = d_model / heads).", title="Attention heads"
    )
    compare_scaling: bool = Field(
        True,
        description="Also train a copy without the 1/sqrt(d_k) scaling.",
        title="Compare without scaling",
    )
    batch_size: int = Field(
        32, ge=8, le=512, description="Sequences per step.", title="Batch size (sequences)"
    )
    steps: int = Field(200, ge=20, le=5000, description="Adam steps.", title="Steps")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Params:
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")
        return self


@dataclass
class Result:
    task: str
    seq_len: int
    heads: int
    d_k: int
    variants: list[str]  # 'scaled', 'unscaled'
    steps_total: int
    steps_done: int = 0
    record_steps: list[int] = field(default_factory=list)
    loss: list[list[float]] = field(default_factory=list)  # [V][T]
    acc: list[list[float]] = field(default_factory=list)  # [V][T], token accuracy on a test batch
    init_logit_std: list[float] = field(default_factory=list)  # [V]
    init_entropy: list[float] = field(default_factory=list)  # [V], nats per attention row
    maps: list[list[list[list[float]]]] = field(default_factory=list)  # [V][H][L][L], final, averaged
    source_mass: list[list[float]] = field(default_factory=list)  # [V][H], attention on the source digit
    uniform_mass: float = float("nan")  # what attending evenly would put there

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total and bool(self.maps)


def targets(x: torch.Tensor, task: str) -> torch.Tensor:
    if task == "reverse":
        return x.flip(-1)
    if task == "sort":
        return x.sort(-1).values
    return x.clone()


class _Block(torch.nn.Module):
    def __init__(self, p: Params, scales: list[float], g: torch.Generator, dev: torch.device):
        super().__init__()
        V, D = len(scales), p.d_model
        kw = dict(same_init=True, generator=g, device=dev)
        self.tok = torch.nn.Parameter(
            (torch.randn(1, VOCAB, D, generator=g)).expand(V, -1, -1).clone().to(dev)
        )
        self.pos = torch.nn.Parameter(
            (torch.randn(1, p.seq_len, D, generator=g)).expand(V, -1, -1).clone().to(dev)
        )
        self.qkv = BatchedLinear(V, D, 3 * D, **kw)
        self.proj = BatchedLinear(V, D, D, **kw)
        self.fc1 = BatchedLinear(V, D, 2 * D, **kw)
        self.fc2 = BatchedLinear(V, 2 * D, D, **kw)
        self.out = BatchedLinear(V, D, VOCAB, **kw)
        self.scale = torch.tensor(scales, device=dev).view(V, 1, 1, 1, 1)
        self.H, self.D = p.heads, D

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [B, L] digits -> logits [V, B, L, VOCAB], attention [V, B, H, L, L], raw scores."""
        V, (B, L), H, D = self.tok.shape[0], x.shape, self.H, self.D
        # a one-hot product, not indexing: its backward is a matmul, not a slow scatter-add
        h = (F.one_hot(x, VOCAB).float().view(1, B * L, VOCAB) @ self.tok).view(V, B, L, D) + self.pos[
            :, None, :L
        ]
        q, k, v = self.qkv(F.layer_norm(h, (D,)).reshape(V, B * L, D)).chunk(3, dim=-1)
        q, k, v = (t.reshape(V, B, L, H, D // H).transpose(2, 3) for t in (q, k, v))  # [V, B, H, L, dk]
        scores = q @ k.transpose(-1, -2)
        att = torch.softmax(scores * self.scale, dim=-1)
        mixed = (att @ v).transpose(2, 3).reshape(V, B * L, D)
        h = h + self.proj(mixed).view(V, B, L, D)
        h = h + self.fc2(torch.relu(self.fc1(F.layer_norm(h, (D,)).reshape(V, B * L, D)))).view(V, B, L, D)
        logits = self.out(F.layer_norm(h, (D,)).reshape(V, B * L, D)).view(V, B, L, VOCAB)
        return logits, att, scores * self.scale


def _snapshot(r: Result) -> Result:
    return Result(
        r.task,
        r.seq_len,
        r.heads,
        r.d_k,
        r.variants,
        r.steps_total,
        r.steps_done,
        list(r.record_steps),
        [list(x) for x in r.loss],
        [list(x) for x in r.acc],
        list(r.init_logit_std),
        list(r.init_entropy),
    )


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    d_k = params.d_model // params.heads
    variants = ["scaled", "unscaled"] if params.compare_scaling else ["scaled"]
    scales = [1 / math.sqrt(d_k) if v == "scaled" else 1.0 for v in variants]
    V, L = len(variants), params.seq_len
    g = cpu_generator(ctx.seed)
    net = _Block(params, scales, g, dev)
    x_test = torch.randint(0, VOCAB, (N_TEST, L), generator=g).to(dev)
    y_test = targets(x_test, params.task)
    res = Result(params.task, L, params.heads, d_k, variants, params.steps)
    res.loss, res.acc = [[] for _ in range(V)], [[] for _ in range(V)]
    with torch.no_grad():
        _, att, s = net(x_test)
        res.init_logit_std = s.std(dim=(1, 2, 3, 4)).tolist()
        res.init_entropy = (-(att * att.clamp_min(1e-12).log()).sum(-1)).mean(dim=(1, 2, 3)).tolist()
    ctx.progress(0.0, _snapshot(res))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    progress_every = max(1, params.steps // 20)
    for step in range(1, params.steps + 1):
        xb = torch.randint(0, VOCAB, (params.batch_size, L), generator=g).to(dev)
        logits, _, _ = net(xb)
        yb = targets(xb, params.task).expand(V, -1, -1)
        loss = (
            F.cross_entropy(logits.reshape(-1, VOCAB), yb.reshape(-1), reduction="none").view(V, -1).mean(1)
        )
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        res.steps_done = step
        if step % 10 == 0 or step == params.steps:
            with torch.no_grad():  # a small test batch: the full one is scored at the end
                acc = (net(x_test[:128])[0].argmax(-1) == y_test[:128]).float().mean((1, 2)).tolist()
            res.record_steps.append(step)
            for v in range(V):
                res.loss[v].append(loss[v].item())
                res.acc[v].append(acc[v])
        ctx.tick(step, step / params.steps, lambda: _snapshot(res))
        if step % progress_every == 0 and step < params.steps:
            ctx.progress(step / params.steps, _snapshot(res))

    with torch.no_grad():
        logits, att, _ = net(x_test)
        acc = (logits.argmax(-1) == y_test).float().mean((1, 2)).tolist()
        for v in range(V):
            res.acc[v][-1] = acc[v]
        res.maps = att.mean(1).cpu().tolist()
        # attention on input positions holding the digit this position must output
        match = (x_test[:, None, :] == y_test[:, :, None]).float()  # [B, L_out, L_in]
        res.source_mass = (att * match[None, :, None]).sum(-1).mean((1, 3)).cpu().tolist()
        res.uniform_mass = float(match.mean())
    ctx.progress(1.0, res)
    return res


# ------------------------------------------------------------------------------------------ reading


def metrics(result: Result) -> dict[str, float | int | str]:
    r = result
    out: dict[str, float | int | str] = {"steps": r.steps_done, "task": r.task, "d_k": r.d_k}
    for v, name in enumerate(r.variants):
        if v < len(r.acc) and r.acc[v]:
            out[f"{name}_test_accuracy"] = round(r.acc[v][-1], 4)
        if v < len(r.init_logit_std):
            out[f"{name}_init_logit_std"] = round(r.init_logit_std[v], 4)
            out[f"{name}_init_entropy"] = round(r.init_entropy[v], 4)
        if v < len(r.source_mass):
            out[f"{name}_best_head_source_attention"] = round(max(r.source_mass[v]), 4)
    return out


CLAIMS = {
    "transformer-learns-the-task": "One attention layer learns the task.",
    "a-head-attends-to-the-source": "A head puts most of its attention on the input position each output needs.",
    "unscaled-logits-saturate-softmax": "Without the 1/sqrt(d_k) scaling the attention softmax starts peaked.",
}


def checked_claims(params: Params) -> list[str]:
    """The CLAIMS a run of `params` checks."""
    ids = list(CLAIMS)
    return ids if params.compare_scaling else ids[:2]


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    acc = r.acc[0][-1]
    best = int(np.argmax(r.source_mass[0]))
    chance = r.uniform_mass
    out = [
        Claim(
            "transformer-learns-the-task",
            f"One attention layer learns to {r.task} {r.seq_len} digits: {acc:.0%} of test digits right.",
            acc > 0.9,
        ),
        Claim(
            "a-head-attends-to-the-source",
            f"Head {best + 1} puts {r.source_mass[0][best]:.0%} of its attention on the input positions "
            f"holding the digit each position must output (a head attending evenly would put about "
            f"{chance:.0%} there): it has learnt where to look.",
            r.source_mass[0][best] > 0.5,
        ),
    ]
    if "unscaled" in r.variants:
        u = r.variants.index("unscaled")
        out.append(
            Claim(
                "unscaled-logits-saturate-softmax",
                f"Before training, attention logits without the 1/sqrt(d_k) scaling have a standard deviation "
                f"{r.init_logit_std[u] / r.init_logit_std[0]:.1f} times larger (sqrt(d_k) = "
                f"{math.sqrt(r.d_k):.1f}), so the softmax starts peaked: {r.init_entropy[u]:.2f} nats of "
                f"entropy per row against {r.init_entropy[0]:.2f} scaled (uniform: {math.log(r.seq_len):.2f}).",
                r.init_entropy[u] < r.init_entropy[0] - 0.2
                and abs(r.init_logit_std[u] / r.init_logit_std[0] - math.sqrt(r.d_k))
                < 0.01 * math.sqrt(r.d_k),
            )
        )
    return out


# ------------------------------------------------------------------------------------------ figures

_PALETTE = ["#1f77b4", "#d62728"]


def figures(result: Result) -> list[go.Figure]:
    r = result
    f = make_subplots(rows=1, cols=2, subplot_titles=("Training loss", "Test accuracy per digit"))
    for v, name in enumerate(r.variants):
        if v >= len(r.loss) or not r.loss[v]:
            continue
        c = _PALETTE[v % 2]
        f.add_trace(go.Scatter(x=r.record_steps, y=r.loss[v], name=name, line={"color": c}), row=1, col=1)
        f.add_trace(
            go.Scatter(x=r.record_steps, y=r.acc[v], name=name, line={"color": c}, showlegend=False),
            row=1,
            col=2,
        )
    f.update_xaxes(title_text="step")
    f.update_layout(title=f"Learning to {r.task} {r.seq_len} digits, with and without 1/sqrt(d_k)")
    if not r.done:
        return [f]
    maps = make_subplots(
        rows=len(r.variants),
        cols=r.heads,
        subplot_titles=[f"{name}, head {h + 1}" for name in r.variants for h in range(r.heads)],
    )
    for v in range(len(r.variants)):
        for h in range(r.heads):
            maps.add_trace(
                go.Heatmap(z=r.maps[v][h], colorscale="Blues", zmin=0, zmax=1, showscale=v == 0 and h == 0),
                row=v + 1,
                col=h + 1,
            )
    maps.update_yaxes(autorange="reversed", title_text="output position")
    maps.update_xaxes(title_text="input position")
    maps.update_layout(title="Attention per head, averaged over test sequences (rows sum to 1)")
    return [f, maps]
