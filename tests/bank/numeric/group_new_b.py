"""Computed answers for numeric questions in the 2026 topic files self-supervised.yaml,
vision-tasks.yaml, compression.yaml, calibration.yaml, rag.yaml, long-context.yaml,
interpretability.yaml and hyperparameters.yaml, and the additions to initialization-normalization.yaml
(group new B).

Losses and probabilities go through torch's own softmax and cross-entropy; box, mask and ranking
metrics are computed from their definitions; integrated gradients are integrated numerically with
autograd; the constant-initialisation check trains a real network.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

# ---- self-supervised ----------------------------------------------------------------------


def _infonce(sims: list[float], tau: float) -> float:
    """InfoNCE for one anchor: the positive's similarity first, then the negatives'."""
    logits = torch.tensor(sims, dtype=torch.float64) / tau
    return F.cross_entropy(logits.unsqueeze(0), torch.tensor([0])).item()


def _ssl_infonce_loss():
    return _infonce([0.8, 0.2, 0.0, -0.2], tau=0.5)


def _ssl_simclr_negatives():
    n = 256
    views = torch.arange(2 * n)
    anchor = 0
    positive = n  # view i and view i + n come from the same image
    return int(((views != anchor) & (views != positive)).sum())


def _ssl_mae_visible_tokens():
    image, patch, mask_ratio = 224, 16, 0.75
    n_patches = (image // patch) ** 2
    n_masked = int(round(mask_ratio * n_patches))
    return n_patches - n_masked


CHECKS = {
    "ssl-infonce-loss-value": _ssl_infonce_loss,
    "ssl-simclr-negatives-per-anchor": _ssl_simclr_negatives,
    "ssl-mae-visible-tokens": _ssl_mae_visible_tokens,
}


# ---- vision-tasks -------------------------------------------------------------------------


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _vision_iou():
    return _iou((0, 0, 10, 10), (5, 5, 15, 15))


def _vision_nms_survivors():
    boxes = [((0, 0, 10, 10), 0.9), ((1, 1, 11, 11), 0.8), ((20, 20, 30, 30), 0.7), ((6, 0, 16, 10), 0.6)]
    remaining = sorted(boxes, key=lambda b: -b[1])
    kept = []
    while remaining:
        best = remaining.pop(0)
        kept.append(best)
        remaining = [b for b in remaining if _iou(best[0], b[0]) <= 0.5]
    return len(kept)


def _vision_dice():
    pred = torch.zeros(100, dtype=torch.bool)
    truth = torch.zeros(100, dtype=torch.bool)
    pred[:60] = True  # 60 predicted pixels
    truth[30:70] = True  # 40 true pixels, 30 of them shared with the prediction
    assert int((pred & truth).sum()) == 30
    return 2 * int((pred & truth).sum()) / (int(pred.sum()) + int(truth.sum()))


CHECKS |= {
    "vision-iou-two-boxes": _vision_iou,
    "vision-nms-survivors": _vision_nms_survivors,
    "vision-dice-from-counts": _vision_dice,
}


# ---- compression --------------------------------------------------------------------------


def _compression_softened_probability():
    return torch.softmax(torch.tensor([4.0, 2.0, 0.0], dtype=torch.float64) / 2.0, dim=0)[1].item()


def _compression_iterative_pruning_remaining():
    # Real magnitude pruning on a layer whose weights are all distinct, 20% of the survivors per round.
    weight = torch.randperm(100_000, generator=torch.Generator().manual_seed(0)).double() + 1
    mask = torch.ones_like(weight, dtype=torch.bool)
    for _ in range(5):
        alive = weight[mask]
        k = round(0.2 * alive.numel())
        threshold = alive.kthvalue(k).values
        mask &= weight > threshold
    return 100 * mask.sum().item() / weight.numel()


def _compression_csr_break_even():
    dense = torch.finfo(torch.float32).bits // 8  # bytes per entry, zero or not
    per_nonzero = torch.finfo(torch.float32).bits // 8 + torch.iinfo(torch.int32).bits // 8
    # sparse bytes (1 - s) * per_nonzero equal dense bytes at s = 1 - dense / per_nonzero
    return 100 * (1 - dense / per_nonzero)


CHECKS |= {
    "compression-softened-probability": _compression_softened_probability,
    "compression-iterative-pruning-remaining": _compression_iterative_pruning_remaining,
    "compression-csr-break-even-sparsity": _compression_csr_break_even,
}


# ---- calibration --------------------------------------------------------------------------


def _calibration_ece():
    # Build the 100 predictions themselves, then bin them by confidence as ECE does.
    conf, correct = [], []
    for n, c, acc in ((50, 0.95, 0.80), (30, 0.75, 0.70), (20, 0.55, 0.60)):
        conf += [c] * n
        correct += [1.0] * round(acc * n) + [0.0] * (n - round(acc * n))
    conf_t, correct_t = torch.tensor(conf, dtype=torch.float64), torch.tensor(correct, dtype=torch.float64)
    edges = torch.tensor([0.5, 0.6, 0.8, 1.0], dtype=torch.float64)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf_t > lo) & (conf_t <= hi)
        if in_bin.any():
            gap = (conf_t[in_bin].mean() - correct_t[in_bin].mean()).abs()
            ece += in_bin.double().mean().item() * gap.item()
    return ece


def _calibration_temperature_max_probability():
    return torch.softmax(torch.tensor([4.0, 0.0, 0.0], dtype=torch.float64) / 2.0, dim=0).max().item()


CHECKS |= {
    "calibration-ece-from-bins": _calibration_ece,
    "calibration-temperature-max-probability": _calibration_temperature_max_probability,
}


# ---- rag ----------------------------------------------------------------------------------


def _rag_mrr():
    first_relevant = [1, 3, None, 2]  # None: nothing relevant in the top 10
    return sum(0.0 if r is None else 1 / r for r in first_relevant) / len(first_relevant)


def _rag_recall_at_10():
    # (relevant passage ids, top-10 retrieved ids) per question
    queries = [
        ({"a", "b", "c", "d"}, ["a", "x1", "b", "x2", "x3", "c", "x4", "x5", "x6", "x7", "d"]),
        ({"e", "f"}, ["f", "y1", "e", "y2", "y3", "y4", "y5", "y6", "y7", "y8"]),
    ]
    recalls = [len(relevant & set(ranked[:10])) / len(relevant) for relevant, ranked in queries]
    return sum(recalls) / len(recalls)


CHECKS |= {
    "rag-mean-reciprocal-rank": _rag_mrr,
    "rag-recall-at-k": _rag_recall_at_10,
}


# ---- long-context -------------------------------------------------------------------------


def _long_context_window_ratio():
    n, w = 32_768, 4_096
    i = torch.arange(1, n + 1, dtype=torch.float64)  # token i sees i keys causally
    full = i.sum()
    windowed = torch.minimum(i, torch.tensor(float(w), dtype=torch.float64)).sum()
    return (full / windowed).item()


def _long_context_rope_interpolated_position():
    trained, target, position = 4_096, 16_384, 10_000
    return position * trained / target


CHECKS |= {
    "long-context-sliding-window-savings": _long_context_window_ratio,
    "long-context-rope-interpolation-position": _long_context_rope_interpolated_position,
}


# ---- interpretability ---------------------------------------------------------------------


def _integrated_gradients(f, x: torch.Tensor, baseline: torch.Tensor, steps: int = 2000) -> torch.Tensor:
    """Integrated gradients by the midpoint rule along the straight path, gradients from autograd."""
    alphas = (torch.arange(steps, dtype=torch.float64) + 0.5) / steps
    path = (baseline + alphas[:, None] * (x - baseline)).requires_grad_(True)
    (grads,) = torch.autograd.grad(f(path).sum(), path)
    return (x - baseline) * grads.mean(dim=0)


def _interp_ig_linear():
    w, b = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64), 1.0
    x = torch.tensor([1.0, 3.0, 4.0], dtype=torch.float64)
    attributions = _integrated_gradients(lambda z: z @ w + b, x, torch.zeros(3, dtype=torch.float64))
    assert math.isclose(attributions.sum().item(), (x @ w).item(), abs_tol=1e-9)  # completeness
    return attributions[1].item()


def _interp_ig_product():
    x = torch.tensor([2.0, 3.0], dtype=torch.float64)
    attributions = _integrated_gradients(lambda z: z[:, 0] * z[:, 1], x, torch.zeros(2, dtype=torch.float64))
    assert math.isclose(attributions.sum().item(), 6.0, abs_tol=1e-6)
    return attributions[0].item()


CHECKS |= {
    "interp-integrated-gradients-linear": _interp_ig_linear,
    "interp-integrated-gradients-product": _interp_ig_product,
}


# ---- hyperparameters ----------------------------------------------------------------------


def _hparams_random_search_hit():
    p_top, trials = 0.05, 60
    return 1 - (1 - p_top) ** trials


def _hparams_successive_halving_epochs():
    n, budget, eta, total = 81, 1, 3, 0
    while n >= 1:
        total += n * budget
        n, budget = n // eta, budget * eta
    return total


CHECKS |= {
    "hparams-random-search-top-fraction": _hparams_random_search_hit,
    "hparams-successive-halving-budget": _hparams_successive_halving_epochs,
}


# ---- initialization-normalization (additions) ---------------------------------------------


def _initnorm_constant_init_distinct_units():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(256, 10, generator=gen), torch.randint(0, 3, (256,), generator=gen)
    model = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), nn.Linear(64, 3))
    for p in model.parameters():
        nn.init.constant_(p, 0.5)
    start = model[0].weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(100):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    hidden = model[0].weight.detach()
    assert not torch.allclose(hidden, start)  # the weights did move, just not apart
    # rows equal up to float rounding count as one unit
    return len({tuple(row) for row in torch.round(hidden, decimals=5).tolist()})


CHECKS |= {
    "initnorm-constant-init-distinct-units": _initnorm_constant_init_distinct_units,
}
