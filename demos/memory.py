"""Where training memory goes: activations saved for the backward pass, measured, not estimated.

An MLP (width x depth) does one forward and backward pass per configuration. Autograd's
saved-tensor hooks see every tensor the forward pass keeps for the backward pass; the demo counts
each storage once, adds it when saved and removes it when autograd frees it, so the peak is the
activation memory that pass really held (on CUDA the allocator's own peak is reported as well).
Sweeps: batch size, depth, gradient checkpointing (torch.utils.checkpoint, sqrt(depth) segments:
the forward pass is recomputed during backward) and bfloat16 autocast on the CPU.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from pydantic import Field
from torch.utils.checkpoint import checkpoint_sequential

from demos.base import Claim, DemoParams, RunContext

BATCHES = (32, 64, 128, 256, 512)
DEPTHS = (4, 8, 16, 32)


class Params(DemoParams):
    width: int = Field(
        256, ge=32, le=1024, description="Units per hidden layer.", title="Hidden width (units)"
    )
    batch_size: int = Field(
        256,
        ge=16,
        le=2048,
        description="Batch size for the depth sweep and the bf16 pair.",
        title="Batch size (examples)",
    )
    depth: int = Field(
        16,
        ge=4,
        le=64,
        description="Hidden layers for the batch sweep and the bf16 pair.",
        title="Depth (hidden layers)",
    )


class _Meter:
    """Live bytes of tensors saved for backward (each storage once), and their peak."""

    def __init__(self, params: list[torch.Tensor]) -> None:
        self.live: dict[int, list[int]] = {}  # storage pointer -> [bytes, references]
        self.now = self.peak = self.param_copies = 0
        self.param_storages = {p.untyped_storage().data_ptr() for p in params}

    def pack(self, t: torch.Tensor):  # noqa: ANN201
        if t.untyped_storage().data_ptr() in self.param_storages:
            return t  # a weight (or a view of one, e.g. its transpose) lives anyway: not activation memory
        if _is_param_copy(t):
            self.param_copies += t.untyped_storage().nbytes()
            return t
        key = t.untyped_storage().data_ptr()
        entry = self.live.get(key)
        if entry is None:
            entry = self.live[key] = [t.untyped_storage().nbytes(), 0]
            self.now += entry[0]
            self.peak = max(self.peak, self.now)
        entry[1] += 1
        holder = _Held(t)
        weakref.finalize(holder, self._release, key)
        return holder

    def _release(self, key: int) -> None:
        entry = self.live[key]
        entry[1] -= 1
        if entry[1] == 0:
            self.now -= entry[0]
            del self.live[key]

    @staticmethod
    def unpack(x):  # noqa: ANN001, ANN205
        return x.t if isinstance(x, _Held) else x


_VIEWS = {"TBackward0", "TransposeBackward0", "PermuteBackward0", "ViewBackward0", "ExpandBackward0"}


def _is_param_copy(t: torch.Tensor) -> bool:
    """A cast copy of a weight (autocast's bf16 weights), possibly seen through a view."""
    fn = t.grad_fn
    for _ in range(4):
        if fn is None or not fn.next_functions:
            return False
        name = type(fn).__name__
        nxt = fn.next_functions[0][0]
        if name.startswith("ToCopyBackward"):
            return nxt is not None and type(nxt).__name__ == "AccumulateGrad"
        if name not in _VIEWS:
            return False
        fn = nxt
    return False


class _Held:
    __slots__ = ("t", "__weakref__")

    def __init__(self, t: torch.Tensor) -> None:
        self.t = t


@dataclass
class Measure:
    batch: int
    depth: int
    checkpointed: bool
    bf16: bool
    peak_bytes: int
    forward_calls: int  # Linear forward calls in forward + backward (recomputation shows here)
    cuda_peak_bytes: int = 0
    param_copy_bytes: int = 0  # autocast's bf16 copies of the weights, counted apart


@dataclass
class Result:
    width: int
    batch: int
    depth: int
    steps_total: int
    steps_done: int = 0
    rows: list[Measure] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.steps_done >= self.steps_total

    def pick(self, **kw) -> list[Measure]:
        return [m for m in self.rows if all(getattr(m, k) == v for k, v in kw.items())]


def _plan(p: Params) -> list[tuple[int, int, bool, bool]]:
    plan = [(b, p.depth, False, False) for b in BATCHES]
    plan += [(p.batch_size, d, c, False) for d in DEPTHS for c in (False, True)]
    plan += [(p.batch_size, p.depth, False, False), (p.batch_size, p.depth, False, True)]
    return list(dict.fromkeys(plan))


def total_steps(p: Params) -> int:
    return len(_plan(p))


def _measure(width: int, batch: int, depth: int, ckpt: bool, bf16: bool, dev: torch.device, g) -> Measure:  # noqa: ANN001
    layers: list[torch.nn.Module] = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    net = torch.nn.Sequential(
        torch.nn.Linear(64, width), torch.nn.ReLU(), *layers, torch.nn.Linear(width, 10)
    ).to(dev)
    calls = [0]
    hooks = [
        m.register_forward_hook(lambda *a: calls.__setitem__(0, calls[0] + 1))
        for m in net
        if isinstance(m, torch.nn.Linear)
    ]
    x = torch.randn(batch, 64, generator=g).to(dev)
    y = torch.randint(0, 10, (batch,), generator=g).to(dev)
    meter = _Meter(list(net.parameters()))
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
    with torch.autograd.graph.saved_tensors_hooks(meter.pack, meter.unpack):
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            if ckpt:
                out = checkpoint_sequential(net, max(1, round(math.sqrt(depth))), x, use_reentrant=False)
            else:
                out = net(x)
            loss = torch.nn.functional.cross_entropy(out.float(), y)
        loss.backward()
    cuda_peak = torch.cuda.max_memory_allocated(dev) - base if dev.type == "cuda" else 0
    for h in hooks:
        h.remove()
    return Measure(batch, depth, ckpt, bf16, meter.peak, calls[0], int(cuda_peak), meter.param_copies)


def run(params: Params, ctx: RunContext) -> Result:
    dev = torch.device(ctx.device)
    g = torch.Generator().manual_seed(ctx.seed)
    torch.manual_seed(ctx.seed)
    plan = _plan(params)
    res = Result(params.width, params.batch_size, params.depth, len(plan))
    ctx.progress(0.0, Result(res.width, res.batch, res.depth, res.steps_total))
    for i, (b, d, c, bf) in enumerate(plan):
        res.rows.append(_measure(params.width, b, d, c, bf, dev, g))
        res.steps_done = i + 1
        ctx.progress(
            (i + 1) / len(plan),
            Result(res.width, res.batch, res.depth, res.steps_total, i + 1, list(res.rows)),
        )
    return res


# ------------------------------------------------------------------------------------------ reading

MB = 1024 * 1024


def metrics(result: Result) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {"configurations": len(result.rows), "width": result.width}
    for m in result.rows:
        tag = f"b{m.batch}_d{m.depth}{'_ckpt' if m.checkpointed else ''}{'_bf16' if m.bf16 else ''}"
        out[f"{tag}_peak_mb"] = round(m.peak_bytes / MB, 3)
        if m.cuda_peak_bytes:
            out[f"{tag}_cuda_peak_mb"] = round(m.cuda_peak_bytes / MB, 3)
    return out


CLAIMS = {
    "activation-memory-grows-with-batch": "Activation memory grows in proportion to batch size.",
    "activation-memory-grows-with-depth": "Activation memory grows with depth.",
    "checkpointing-trades-compute-for-memory": "Gradient checkpointing cuts peak memory and pays with recomputation.",
    "bfloat16-halves-activations": "bfloat16 autocast stores activations in half the bytes.",
}


def claims(result: Result) -> list[Claim]:
    r = result
    if not r.done:
        return []
    bs = sorted(r.pick(depth=r.depth, checkpointed=False, bf16=False), key=lambda m: m.batch)
    b_ratio = bs[-1].peak_bytes / bs[0].peak_bytes
    b_want = bs[-1].batch / bs[0].batch
    ds = sorted(r.pick(batch=r.batch, checkpointed=False, bf16=False), key=lambda m: m.depth)
    d_ratio = ds[-1].peak_bytes / ds[0].peak_bytes
    deep = max(DEPTHS)
    plain = r.pick(batch=r.batch, depth=deep, checkpointed=False, bf16=False)[0]
    ck = r.pick(batch=r.batch, depth=deep, checkpointed=True)[0]
    fp32 = r.pick(batch=r.batch, depth=r.depth, checkpointed=False, bf16=False)[0]
    bf = r.pick(batch=r.batch, depth=r.depth, bf16=True)[0]
    return [
        Claim(
            "activation-memory-grows-with-batch",
            f"Activation memory grows in proportion to batch size: {bs[0].batch} -> {bs[-1].batch} "
            f"({b_want:.0f}x) took {bs[0].peak_bytes / MB:.1f} -> {bs[-1].peak_bytes / MB:.1f} MB ({b_ratio:.1f}x).",
            abs(b_ratio / b_want - 1) < 0.15,
        ),
        Claim(
            "activation-memory-grows-with-depth",
            f"It grows with depth too: {ds[0].depth} -> {ds[-1].depth} layers took {d_ratio:.1f}x the memory.",
            d_ratio > 0.6 * ds[-1].depth / ds[0].depth,
        ),
        Claim(
            "checkpointing-trades-compute-for-memory",
            f"Gradient checkpointing at depth {deep} cut the peak from {plain.peak_bytes / MB:.1f} to "
            f"{ck.peak_bytes / MB:.1f} MB, and paid with recomputation: {ck.forward_calls} layer forward calls "
            f"against {plain.forward_calls}.",
            ck.peak_bytes < 0.5 * plain.peak_bytes and ck.forward_calls > plain.forward_calls,
        ),
        Claim(
            "bfloat16-halves-activations",
            f"bfloat16 autocast stores activations in 2 bytes instead of 4: {fp32.peak_bytes / MB:.1f} -> "
            f"{bf.peak_bytes / MB:.1f} MB (plus {bf.param_copy_bytes / MB:.1f} MB of bf16 "
            f"weight copies, counted apart).",
            0.4 < bf.peak_bytes / fp32.peak_bytes < 0.65,
        ),
    ]


# ------------------------------------------------------------------------------------------ figures


def figures(result: Result) -> list[go.Figure]:
    r = result
    f = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(f"By batch size (depth {r.depth})", f"By depth (batch {r.batch})"),
    )
    bs = sorted(r.pick(depth=r.depth, checkpointed=False, bf16=False), key=lambda m: m.batch)
    f.add_trace(
        go.Scatter(
            x=[m.batch for m in bs], y=[m.peak_bytes / MB for m in bs], name="fp32", mode="lines+markers"
        ),
        row=1,
        col=1,
    )
    for ck, name in ((False, "fp32"), (True, "checkpointed")):
        ds = sorted(r.pick(batch=r.batch, checkpointed=ck, bf16=False), key=lambda m: m.depth)
        f.add_trace(
            go.Scatter(
                x=[m.depth for m in ds],
                y=[m.peak_bytes / MB for m in ds],
                name=f"{name}, by depth",
                mode="lines+markers",
            ),
            row=1,
            col=2,
        )
    bf = r.pick(batch=r.batch, depth=r.depth, bf16=True)
    if bf:
        f.add_trace(
            go.Scatter(
                x=[r.depth], y=[bf[0].peak_bytes / MB], name="bfloat16", mode="markers", marker={"size": 12}
            ),
            row=1,
            col=2,
        )
    f.update_xaxes(title_text="batch size", row=1, col=1)
    f.update_xaxes(title_text="hidden layers", row=1, col=2)
    f.update_yaxes(title_text="peak saved activations (MB)")
    f.update_layout(
        title=f"Peak activation memory of one forward and backward pass, measured (width {r.width})"
    )
    return [f]
