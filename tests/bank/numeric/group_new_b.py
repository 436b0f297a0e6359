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
