"""Batched building blocks: V independent variants of a network trained in one computation.

Every tensor carries a leading variant dimension V: activations are [V, B, F], weights [V, in, out].
Summing the per-variant losses (`loss_v.sum().backward()`) gives each variant exactly its own
gradient, and element-wise optimizers (SGD, momentum, Adam, AdamW, RMSprop, Adagrad) then update the
variants independently. Do not clip the global gradient norm across variants: that couples them.

Randomness goes through explicit `torch.Generator`s (never the global RNG), so concurrent runs in
one process stay reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from demos.base import checkpoint

__all__ = [
    "ACTIVATIONS",
    "BatchedBatchNorm",
    "BatchedLinear",
    "activation",
    "apply_per_variant",
    "batched_accuracy",
    "batched_cross_entropy",
    "batched_dropout",
    "cpu_generator",
    "init_weight_",
    "mlp_forward",
    "per_variant_activation",
]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda x: x,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "gelu": F.gelu,
    "elu": F.elu,
    "silu": F.silu,
}


def activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


def cpu_generator(seed: int) -> torch.Generator:
    """A CPU generator; draw on CPU and move with `.to(device)` so results match across devices."""
    return torch.Generator().manual_seed(int(seed))


def init_weight_(w: torch.Tensor, scheme: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill a [V, fan_in, fan_out] (or [fan_in, fan_out]) weight in place.

    'default': PyTorch nn.Linear's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    'xavier': N(0, 2 / (fan_in + fan_out)); 'he': N(0, 2 / fan_in); 'lecun': N(0, 1 / fan_in).
    """
    fan_in, fan_out = w.shape[-2], w.shape[-1]
    with torch.no_grad():
        if scheme == "default":
            bound = 1.0 / math.sqrt(fan_in)
            t = torch.rand(w.shape, generator=generator) * (2 * bound) - bound
        else:
            var = {"xavier": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in, "lecun": 1.0 / fan_in}.get(scheme)
            if var is None:
                raise ValueError(f"unknown init {scheme!r}; known: default, xavier, he, lecun")
            t = torch.randn(w.shape, generator=generator) * math.sqrt(var)
        w.copy_(t.to(w.device, w.dtype))
    return w


class BatchedLinear(nn.Module):
    """V independent linear layers. x [V, B, in] (or a shared [B, in]) -> [V, B, out]."""

    def __init__(
        self,
        n_variants: int,
        in_features: int,
        out_features: int,
        *,
        init: str | Sequence[str] = "default",
        bias: bool = True,
        same_init: bool = False,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ):
        """init: one scheme for all variants or one per variant (see init_weight_). same_init=True starts
        every variant from identical weights (needs a single scheme), so only what the variants vary
        differs between them."""
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_variants, in_features, out_features, device=device))
        inits = [init] * n_variants if isinstance(init, str) else list(init)
        if len(inits) != n_variants:
            raise ValueError("one init scheme per variant, or a single one for all")
        if same_init and len(set(inits)) > 1:
            raise ValueError("same_init needs a single init scheme")
        drawn = 1 if same_init else n_variants
        for v in range(drawn):
            init_weight_(self.weight.data[v], inits[v], generator)
        if same_init:
            self.weight.data[1:] = self.weight.data[:1]
        if bias:
            self.bias = nn.Parameter(torch.zeros(n_variants, 1, out_features, device=device))
            if all(s == "default" for s in inits):  # nn.Linear's default bias init
                bound = 1.0 / math.sqrt(in_features)
                b = torch.rand((drawn, 1, out_features), generator=generator) * (2 * bound) - bound
                self.bias.data.copy_(b.expand(n_variants, 1, out_features).to(self.bias.device))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # one input shared by every variant
            out = torch.matmul(x, self.weight)
            return out if self.bias is None else out + self.bias
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight)


class BatchedBatchNorm(nn.Module):
    """Batch norm over the batch dimension of [V, B, F], separately per variant, with running stats."""

    def __init__(
        self,
        n_variants: int,
        features: int,
        *,
        eps: float = 1e-5,
        momentum: float = 0.1,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(n_variants, 1, features, device=device))
        self.bias = nn.Parameter(torch.zeros(n_variants, 1, features, device=device))
        self.register_buffer("running_mean", torch.zeros(n_variants, 1, features, device=device))
        self.register_buffer("running_var", torch.ones(n_variants, 1, features, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # [V, B, F] -> [B, V*F]: one fused batch-norm call normalises every (variant, feature) column
        # over the batch; the [V, 1, F] parameters and buffers are viewed flat (updated in place).
        v, b, f = x.shape
        y = F.batch_norm(
            x.transpose(0, 1).reshape(b, v * f),
            self.running_mean.view(-1),
            self.running_var.view(-1),
            self.weight.view(-1),
            self.bias.view(-1),
            self.training,
            self.momentum,
            self.eps,
        )
        return y.view(b, v, f).transpose(0, 1)


def apply_per_variant(x: torch.Tensor, fns: Sequence[Callable[[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
    """Apply fns[v] to x[v] (x is [V, ...]). One call when every variant uses the same function."""
    if all(f is fns[0] for f in fns):
        return fns[0](x)
    return torch.stack([f(xv) for xv, f in zip(x.unbind(0), fns, strict=True)])


_aten = torch.ops.aten


def _fwd_out(name: str, x: torch.Tensor, out: torch.Tensor) -> None:
    if name == "sigmoid":
        torch.sigmoid(x, out=out)
    elif name == "tanh":
        torch.tanh(x, out=out)
    elif name == "relu":
        torch.clamp_min(x, 0.0, out=out)
    elif name == "leaky_relu":
        _aten.leaky_relu.out(x, 0.01, out=out)
    elif name == "gelu":
        _aten.gelu.out(x, approximate="none", out=out)
    elif name == "elu":
        _aten.elu.out(x, 1.0, 1, 1, out=out)
    elif name == "silu":
        _aten.silu.out(x, out=out)
    else:  # identity
        out.copy_(x)


def _bwd_out(name: str, g: torch.Tensor, x: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> None:
    if name == "sigmoid":
        _aten.sigmoid_backward.grad_input(g, y, grad_input=out)
    elif name == "tanh":
        _aten.tanh_backward.grad_input(g, y, grad_input=out)
    elif name == "relu":
        _aten.threshold_backward.grad_input(g, y, 0.0, grad_input=out)
    elif name == "leaky_relu":
        _aten.leaky_relu_backward.grad_input(g, x, 0.01, False, grad_input=out)
    elif name == "gelu":
        _aten.gelu_backward.grad_input(g, x, approximate="none", grad_input=out)
    elif name == "elu":
        _aten.elu_backward.grad_input(g, 1.0, 1, 1, False, x, grad_input=out)
    elif name == "silu":
        _aten.silu_backward.grad_input(g, x, grad_input=out)
    else:
        out.copy_(g)


class _PerVariantActivation(torch.autograd.Function):
    """y[v] = act_v(x[v]) as one autograd node: one kernel per variant each way, no stacking copies."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        for name, xv, yv in zip(names, x.unbind(0), y.unbind(0), strict=True):
            _fwd_out(name, xv, yv)
        ctx.names = names
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, y = ctx.saved_tensors
        gx = torch.empty(g.shape, dtype=g.dtype, device=g.device)
        views = zip(ctx.names, g.unbind(0), x.unbind(0), y.unbind(0), gx.unbind(0), strict=True)
        for name, gv, xv, yv, out in views:
            _bwd_out(name, gv, xv, yv, out)
        return gx, None


def per_variant_activation(x: torch.Tensor, names: Sequence[str]) -> torch.Tensor:
    """Apply ACTIVATIONS[names[v]] to x[v] (x is [V, ...]), differentiably.

    One call when all variants share the function; otherwise a single fused autograd node, which is
    markedly cheaper than slicing, applying and re-stacking (see apply_per_variant).
    """
    names = tuple(names)
    if len(names) != x.shape[0]:
        raise ValueError(f"{len(names)} activation names for {x.shape[0]} variants")
    for n in names:
        activation(n)  # validates
    if all(n == names[0] for n in names):
        return ACTIVATIONS[names[0]](x)
    return _PerVariantActivation.apply(x, names)


class _FusedMLP(torch.autograd.Function):
    """V plain MLPs (linear, per-variant activation, optional residual add, ..., linear) as a single
    autograd node, with the backward pass written out by hand.

    Autograd would record 2-3 nodes per layer, and a per-variant activation costs a Python node of its
    own; on the small networks the demos train, that bookkeeping, not arithmetic, dominates a step.
    Here the whole network is one node and per-variant kernels write straight into views of each
    layer's output. Every intermediate is its own small tensor, as autograd's would be: one large
    buffer for all layers is measurably slower (cold memory on every step). The gradients are those
    autograd computes (tested against it).
    """

    @staticmethod
    def forward(ctx, x, names, residual_scale, grad_sink, *params):
        ws, bs = params[0::2], params[1::2]
        n_hidden = len(ws) - 1
        same = all(n == names[0] for n in names)
        zs: list[torch.Tensor] = []  # pre-activations
        acts: list[torch.Tensor] = []  # activations
        hs: list[torch.Tensor] = []  # hidden outputs: the activations, or running residual sums
        h = x
        for i in range(n_hidden):
            checkpoint()  # a deep, wide network: let a stop land between layers
            if i == 0 and x.dim() == 2:  # one input shared by every variant
                z = torch.matmul(x, ws[0]).add_(bs[0])
            else:
                z = torch.baddbmm(bs[i], h, ws[i])
            a = torch.empty_like(z)
            if same:
                _fwd_out(names[0], z, a)
            else:
                for name, z_v, a_v in zip(names, z.unbind(0), a.unbind(0), strict=True):
                    _fwd_out(name, z_v, a_v)
            h = torch.add(h, a, alpha=residual_scale) if residual_scale is not None and i > 0 else a
            zs.append(z)
            acts.append(a)
            hs.append(h)
        out = torch.baddbmm(bs[-1], h, ws[-1])
        ctx.names, ctx.same, ctx.residual_scale, ctx.grad_sink = names, same, residual_scale, grad_sink
        ctx.n_hidden = n_hidden
        # residual sums are needed for the weight gradients; plain hidden outputs are the activations
        saved_h = hs if residual_scale is not None else []
        ctx.save_for_backward(x, *ws, *zs, *acts, *saved_h)
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.n_hidden
        x, *rest = ctx.saved_tensors
        ws, zs, acts = rest[: n + 1], rest[n + 1 : 2 * n + 1], rest[2 * n + 1 : 3 * n + 1]
        hs = rest[3 * n + 1 :] or acts
        names, same, scale, sink = ctx.names, ctx.same, ctx.residual_scale, ctx.grad_sink
        grads: list[torch.Tensor | None] = [None] * (2 * (n + 1))
        grads[2 * n] = torch.bmm(hs[-1].transpose(1, 2), g)
        grads[2 * n + 1] = g.sum(1, keepdim=True)
        gh = torch.bmm(g, ws[-1].transpose(1, 2))  # d loss / d h, last hidden layer
        if sink is not None:
            sink[:] = [None] * n
        for i in range(n - 1, -1, -1):
            checkpoint()
            if sink is not None:
                sink[i] = gh
            residual = scale is not None and i > 0
            ga = gh * scale if residual else gh  # d loss / d activation
            gz = torch.empty_like(ga)
            if same:
                _bwd_out(names[0], ga, zs[i], acts[i], gz)
            else:
                views = zip(
                    names, ga.unbind(0), zs[i].unbind(0), acts[i].unbind(0), gz.unbind(0), strict=True
                )
                for name, g_v, z_v, a_v, out in views:
                    _bwd_out(name, g_v, z_v, a_v, out)
            if i == 0:
                grads[0] = torch.matmul(x.t(), gz) if x.dim() == 2 else torch.bmm(x.transpose(1, 2), gz)
                grads[1] = gz.sum(1, keepdim=True)
                break
            grads[2 * i] = torch.bmm(hs[i - 1].transpose(1, 2), gz)
            grads[2 * i + 1] = gz.sum(1, keepdim=True)
            w_t = ws[i].transpose(1, 2)
            # the residual path hands gh straight to the layer below, plus what flows through the branch
            gh = torch.baddbmm(gh, gz, w_t) if residual else torch.bmm(gz, w_t)
        return (None, None, None, None, *grads)


def mlp_forward(
    x: torch.Tensor,
    layers: Sequence[BatchedLinear],
    names: Sequence[str],
    *,
    residual_scale: float | None = None,
    grad_sink: list | None = None,
) -> torch.Tensor:
    """Logits [V, B, out] of V MLPs: every layer but the last is followed by activation names[v].

    x: [B, in] (shared) or [V, B, in]; every hidden layer must have the same width. With
    residual_scale, hidden layer i > 0 outputs h_{i-1} + residual_scale * act(z_i). If grad_sink is a
    list, the backward pass fills it with d loss / d h_i per hidden layer ([V, B, width] each), which
    is what `h.retain_grad()` would give, without the cost of keeping every intermediate alive.
    """
    names = tuple(names)
    if len(names) != layers[0].weight.shape[0]:
        raise ValueError(f"{len(names)} activation names for {layers[0].weight.shape[0]} variants")
    for n in names:
        activation(n)  # validates
    widths = {lin.weight.shape[-1] for lin in layers[:-1]}
    if len(widths) != 1 or any(lin.bias is None for lin in layers):
        raise ValueError("mlp_forward needs hidden layers of one width, each with a bias")
    params = [p for lin in layers for p in (lin.weight, lin.bias)]
    return _FusedMLP.apply(x, names, residual_scale, grad_sink, *params)


def batched_dropout(
    x: torch.Tensor, rates: torch.Tensor, *, training: bool, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Inverted dropout with a per-variant rate. x [V, ...], rates [V] in [0, 1).

    The mask is drawn on the CPU generator and moved, so a run is reproducible on any device.
    """
    if not training:
        return x
    shape = [-1] + [1] * (x.dim() - 1)
    keep = (1.0 - rates).to(x.device, x.dtype).reshape(shape)
    u = torch.rand(x.shape, generator=generator).to(x.device, x.dtype)
    return x * (u < keep).to(x.dtype) / keep.clamp_min(1e-6)


def batched_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per variant. logits [V, B, C], y [B] (shared) or [V, B] -> [V]."""
    v, b, c = logits.shape
    target = y.expand(v, b) if y.dim() == 1 else y
    return (
        F.cross_entropy(logits.reshape(v * b, c), target.reshape(v * b), reduction="none").view(v, b).mean(1)
    )


def batched_accuracy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Accuracy per variant. logits [V, B, C], y [B] or [V, B] -> [V] (float)."""
    return (logits.argmax(-1) == y).float().mean(-1)
